"""Only acme_rules is loaded in these tests (strictly), whatever else is pip-installed."""

from __future__ import annotations

import pytest


@pytest.fixture
def kehu_plugins():
    from kehu_core.plugins import discover

    return discover(strict=True, allow={"acme_rules"})
