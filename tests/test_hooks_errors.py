"""A hook that raises rolls the whole command back and the error names the plugin."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from kehu_core import customers, hookimpl
from kehu_core.errors import HookError
from kehu_core.models import Customer
from kehu_core.plugins import discover


@pytest.fixture
def kehu_plugins():
    return discover(strict=False, allow=set())


class Grudge:
    """A plugin object (not a module) whose hook fails after writing through the session."""

    @hookimpl
    def kehu_customers_changed(self, session, changes):
        session.execute(text("UPDATE customers SET name = 'changed by plugin'"))
        raise LookupError("CRM sync: no such account 账户不存在")


class BadSql:
    """A plugin whose error is raised deep inside SQLAlchemy, not in its own frame."""

    @hookimpl
    def kehu_customers_changed(self, session, changes):
        session.execute(text("SELECT * FROM no_such_table"))


def count(app) -> int:
    with app.session() as s:
        return s.scalar(select(func.count()).select_from(Customer))


def test_object_plugin_raising_is_named_and_rolled_back(kehu_app, kehu_cli, kehu_register_plugin):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C0", "name": "原名"})
    kehu_register_plugin(Grudge(), "grudge")
    result = kehu_cli("customer", "add", "C1", "华为")
    assert result.exit_code == 1, (result, result.exception)
    assert (
        "plugin 'grudge' failed in hook kehu_customers_changed: "
        "LookupError: CRM sync: no such account 账户不存在" in result.output
    )
    assert "Traceback" not in result.output
    assert count(kehu_app) == 1
    with kehu_app.session() as s:
        assert s.scalar(select(Customer.name)) == "原名"


def test_error_raised_inside_a_library_still_names_the_plugin(kehu_app, kehu_register_plugin):
    kehu_register_plugin(BadSql(), "badsql")
    with pytest.raises(HookError) as err, kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "小米"})
    assert err.value.plugin == "badsql" and err.value.hook == "kehu_customers_changed"
    assert count(kehu_app) == 0


def test_uninstalled_plugin_hooks_are_not_called(kehu_app, kehu_register_plugin):
    kehu_register_plugin(Grudge(), "grudge", install=False)
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "小米"})
    assert count(kehu_app) == 1
