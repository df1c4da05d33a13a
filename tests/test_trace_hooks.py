"""``KEHU_TRACE_HOOKS=1`` prints every hook call, its arguments and its result to standard error."""

from __future__ import annotations

import pytest

from kehu_core.app import Kehu
from kehu_core.customers import add_customer
from kehu_core.plugins import discover


@pytest.mark.parametrize("value, traced", [("1", True), ("", False)])
def test_hook_calls_are_traced_only_when_asked(kehu_db_url, monkeypatch, capsys, value, traced):
    monkeypatch.setenv("KEHU_TRACE_HOOKS", value)
    app = Kehu(kehu_db_url, plugins=discover(allow=set()))
    try:
        with app.session() as session:
            add_customer(app, session, {"code": "C1", "name": "华为"})
        err = capsys.readouterr().err
    finally:
        app.dispose()
    assert ("kehu_customers_changed [hook]" in err) is traced
    assert ("finish kehu_customers_changed" in err) is traced
