"""The worked example of docs/loyalty.md runs as written: double points on 11-11 every year."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest

from kehu_core import Manifest
from kehu_core.testing import module_from_file
from kehu_loyalty.api import statement

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "loyalty.md"
EXAMPLE = Path(__file__).with_name("example_double_11.py")


def _example() -> ModuleType:
    """The example as a plugin module of its own (a fresh one per test: it keeps what it heard)."""
    return module_from_file(EXAMPLE, "kehu_acme_double_11.hooks")


def test_the_example_is_the_guides_code():
    text = GUIDE.read_text(encoding="utf-8")
    found = re.search(r"## Worked example.*?```python\n(.*?)```", text, re.S)
    assert found, "docs/loyalty.md has no worked example"
    assert found.group(1) == EXAMPLE.read_text(encoding="utf-8")


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/Los_Angeles"])
def test_double_points_on_11_11_every_year(shop, kehu_app, kehu_register_plugin, company_zone, zone):
    company_zone(zone)
    example = _example()
    kehu_register_plugin(example, "acme", manifest=Manifest(after=("loyalty",)))
    code = shop.customer()
    moments = [
        "2024-11-10T23:59:00",  # company time (the log command's times without offset)
        "2024-11-11T00:00:00",
        "2024-11-11T23:59:00",
        "2024-11-12T00:00:00",
        "2031-11-11T09:30:00",
    ]
    for at in moments:
        shop.log(code, amount="100", at=at)
    with kehu_app.session() as s:
        earned = [(e["points"], e["rule"]) for e in statement(s, code) if e["kind"] == "earn"]
    assert earned == [
        (100, "base"),
        (200, "base+acme.double_11"),
        (200, "base+acme.double_11"),
        (100, "base"),
        (200, "base+acme.double_11"),
    ]
    heard = example.HEARD  # inside the earning transactions
    assert heard == [(code, 200, "base+acme.double_11")] * 3
