"""Fixtures for the tiering tests; the helper modules next to this file are importable by name."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from kehu_core.plugins import discover

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def kehu_plugins() -> Any:
    """Only this plugin, strictly: another plugin's state cannot change these tests."""

    return discover(strict=True, allow={"tiering"})


@pytest.fixture
def shanghai(monkeypatch: pytest.MonkeyPatch) -> None:
    """The company's time zone is Asia/Shanghai (``KEHU_TIMEZONE``); use it as
    ``pytestmark = pytest.mark.usefixtures("shanghai")``."""
    monkeypatch.setenv("KEHU_TIMEZONE", "Asia/Shanghai")


@pytest.fixture
def tiering_app(kehu_app: Any, kehu_install: Any) -> Any:
    """An app on a fresh database (each backend) with the tiering plugin installed."""
    kehu_install("tiering")
    return kehu_app
