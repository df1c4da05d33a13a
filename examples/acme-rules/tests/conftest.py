"""Only acme_rules and what it depends on (tiering, complaints) are loaded in these tests (strictly)."""

from __future__ import annotations

import pytest

from kehu_core.plugins import discover


@pytest.fixture
def kehu_plugins():
    return discover(strict=True, allow={"acme_rules", "tiering", "complaints"})
