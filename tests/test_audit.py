"""The audit trail and the access log: who changed and who opened a customer, and settings.

boss (admin), li (sales) and mgr (manager) act; the core alone is loaded. Personal values
(a name, a phone) never reach ``kehu_audit``: only the field's name, as "changed". The
database itself refuses to rewrite or delete the trail, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from kehu_core import audit, settings, users
from kehu_core.app import Kehu
from kehu_core.errors import KehuError
from kehu_core.models import AuditEntry, Setting
from kehu_core.plugins import Plugins, discover
from kehu_core.privacy import export_customer
from kehu_core.testing import CliResult

#: No $KEHU_USER, no OS login: every command names who acts.
pytestmark = pytest.mark.usefixtures("kehu_nobody")

PHONE = "13812345678"
NEW_PHONE = "13987654321"
NAME = "李明贸易"
NEW_NAME = "李明国际贸易"


@pytest.fixture
def kehu_plugins() -> Plugins:
    """The core alone."""
    return discover(strict=False, allow=set())


@pytest.fixture
def staff(kehu_app: Kehu) -> Kehu:
    with kehu_app.session() as s:
        users.add_user(kehu_app, s, "boss", roles=["admin"])
        users.add_user(kehu_app, s, "li", roles=["sales"], team="华东")
        users.add_user(kehu_app, s, "mgr", roles=["manager"])
    return kehu_app


def _dump(app: Kehu) -> str:
    """Every value of every row of ``kehu_audit``, as text."""
    with app.engine.connect() as conn:
        return "\n".join(repr(tuple(row)) for row in conn.execute(text("SELECT * FROM kehu_audit")))


def _audit_count(app: Kehu) -> int:
    with app.session() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_a_customers_life_is_in_kehu_audit_with_who_did_it(staff: Kehu, kehu_cli: Any) -> None:
    steps = [
        ("li", "customer", "add", "C1", NAME, "--phone", PHONE, "--region", "华东"),
        ("li", "customer", "edit", "C1", "--phone", NEW_PHONE, "--name", NEW_NAME, "--industry", "贸易"),
        ("mgr", "customer", "archive", "C1"),
        ("mgr", "customer", "archive", "C1", "--restore"),
        ("boss", "customer", "forget", "C1", "--yes"),
    ]
    for login, *args in steps:
        assert kehu_cli("--as", login, *args).exit_code == 0, args
    trail = kehu_cli("--as", "mgr", "audit", "C1", "--json")
    assert trail.exit_code == 0, trail
    assert [(e["actor"], e["entity"], e["key"], e["action"]) for e in trail.json] == [
        ("li", "customer", "C1", "created"),
        ("li", "customer", "C1", "edited"),
        ("mgr", "customer", "C1", "archived"),
        ("mgr", "customer", "C1", "restored"),
        ("boss", "customer", "C1", "forgotten"),
    ]
    created, edited = trail.json[0]["changes"], trail.json[1]["changes"]
    # The owner li got by adding it, the region: plain values. Name and phone: only "changed".
    assert created == {
        "code": [None, "C1"],
        "name": "changed",
        "kind": [None, "company"],
        "region": [None, "华东"],
        "owner": [None, "li"],
        "phone": "changed",
        "marketing_consent": [None, False],
    }
    assert edited == {"phone": "changed", "name": "changed", "industry": [None, "贸易"]}
    table = kehu_cli("--as", "mgr", "audit", "C1", "--csv")
    assert table.exit_code == 0
    for shown in ("phone: changed", "name: changed", "industry: None -> 贸易"):
        assert shown in table.stdout.splitlines()[2], shown
    dumped = _dump(staff)
    for value in (PHONE, NEW_PHONE, NAME, NEW_NAME):
        assert value not in dumped, value
    # The forgotten customer's trail is still there and still holds nothing personal.
    assert [e["action"] for e in kehu_cli("--as", "boss", "audit", "C1", "--json").json][-1] == "forgotten"


def test_settings_changes_are_audited_with_the_actor(staff: Kehu, kehu_cli: Any) -> None:
    assert kehu_cli("--as", "boss", "settings", "set", "sales_scope", "team").exit_code == 0
    assert kehu_cli("--as", "boss", "settings", "set", "sales_scope", "team").exit_code == 0  # no change
    assert kehu_cli("--as", "boss", "settings", "set", "sales_scope", " OWN ").exit_code == 0
    trail = kehu_cli("--as", "mgr", "audit", "--entity", "setting", "--json")
    assert trail.exit_code == 0, trail
    assert [(e["actor"], e["key"], e["action"], e["changes"]) for e in trail.json] == [
        ("boss", "core.sales_scope", "set", {"sales_scope": ["own", "team"]}),
        ("boss", "core.sales_scope", "set", {"sales_scope": ["team", "own"]}),
    ]
    keyed = kehu_cli(
        "--as", "mgr", "audit", "--entity", "setting", "--key", "core.sales_scope", "--limit", "1"
    )
    assert keyed.exit_code == 0 and "sales_scope: own -> team" in keyed.stdout
    listed = kehu_cli("--as", "li", "settings", "list", "--json")
    assert listed.exit_code == 0 and [(s["key"], s["value"], s["default"]) for s in listed.json] == [
        ("sales_scope", "own", "own")
    ]


def test_users_and_roles_changes_are_audited(staff: Kehu, kehu_cli: Any) -> None:
    assert kehu_cli("--as", "boss", "user", "roles", "li", "--add", "manager").exit_code == 0
    assert kehu_cli("--as", "boss", "user", "deactivate", "li").exit_code == 0
    assert kehu_cli("--as", "boss", "roles", "revoke", "sales", "customer.write").exit_code == 0
    li = kehu_cli("--as", "mgr", "audit", "--entity", "user", "--key", "li", "--json").json
    assert [(e["actor"], e["action"]) for e in li] == [
        ("system", "created"),
        ("boss", "roles"),
        ("boss", "deactivated"),
    ]
    assert li[1]["changes"] == {"roles": [["sales"], ["manager", "sales"]]}
    sales = kehu_cli("--as", "mgr", "audit", "--entity", "role", "--key", "sales", "--json").json
    assert [(e["actor"], e["action"], e["changes"]) for e in sales] == [
        ("boss", "revoked", {"permission": "customer.write"})
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE kehu_audit SET actor = 'nobody'",
        "DELETE FROM kehu_audit",
        "UPDATE kehu_audit SET changes = NULL",
    ],
)
def test_the_database_refuses_to_rewrite_or_delete_the_trail(staff: Kehu, statement: str) -> None:
    before = _dump(staff)
    assert before  # the users' creation is there
    with pytest.raises(DBAPIError, match="append-only"), staff.engine.begin() as conn:
        conn.execute(text(statement))
    assert _dump(staff) == before


def test_postgresql_refuses_truncate_too(staff: Kehu) -> None:
    if staff.dialect != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    before = _dump(staff)
    with pytest.raises(DBAPIError, match="append-only"), staff.engine.begin() as conn:
        conn.execute(text("TRUNCATE kehu_audit"))
    assert _dump(staff) == before


def test_the_export_lists_who_opened_the_customer(staff: Kehu, kehu_cli: Any) -> None:
    assert kehu_cli("--as", "boss", "roles", "grant", "sales", "privacy.manage").exit_code == 0
    assert kehu_cli("--as", "li", "customer", "add", "C1", NAME, "--phone", PHONE).exit_code == 0
    assert kehu_cli("--as", "li", "customer", "show", "C1").exit_code == 0
    assert kehu_cli("--as", "mgr", "customer", "show", "C1", "--json").exit_code == 0
    assert kehu_cli("--as", "li", "customer", "list").exit_code == 0  # a list opens no card
    exported = kehu_cli("--as", "li", "customer", "export", "C1")
    assert exported.exit_code == 0, exported
    assert [(a["user"], a["what"]) for a in exported.json["accessed_by"]] == [
        ("li", "card"),
        ("mgr", "card"),
        ("li", "export"),
    ]
    again = kehu_cli("--as", "boss", "customer", "export", "C1").json["accessed_by"]
    assert [(a["user"], a["what"]) for a in again] == [
        ("li", "card"),
        ("mgr", "card"),
        ("li", "export"),
        ("boss", "export"),
    ]
    # A refused or not-found open is not an access.
    assert kehu_cli("--as", "mgr", "customer", "export", "C1").exit_code == 1
    with staff.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM kehu_access_log")).scalar() == 4
    # kehu itself (scripts, jobs) is not a person whose access a customer asks about.
    with staff.session() as s:
        assert audit.trail(s, entity="customer")  # kehu itself reads everything
    with staff.session() as s:
        assert len(export_customer(staff, s, "C1")["accessed_by"]) == 4


def test_a_sales_scope_that_is_neither_own_nor_team_is_refused(staff: Kehu, kehu_cli: Any) -> None:
    before = _audit_count(staff)
    _error_line(
        kehu_cli("--as", "boss", "settings", "set", "sales_scope", "maybe"),
        "setting sales_scope: must be one of own, team, not 'maybe'",
        "nothing was saved",
    )
    _error_line(
        kehu_cli("--as", "boss", "settings", "set", "colour", "red"),
        "no setting 'colour'; settings: sales_scope",
        "nothing was saved",
    )
    _error_line(kehu_cli("--as", "boss", "settings", "set", "sales_scope", ""), "must be one of own, team")
    # A value that looks like an option reaches the check, which names it.
    _error_line(
        kehu_cli("--as", "boss", "settings", "set", "sales_scope", "-1"),
        "setting sales_scope: must be one of own, team, not '-1'",
        "nothing was saved",
    )
    with staff.session(as_user="boss") as s:
        with pytest.raises(KehuError, match="must be one of own, team"):
            settings.set_setting(s, "sales_scope", "teams")
        with pytest.raises(KehuError, match="no setting 'Sales_Scope'"):
            settings.set_setting(s, "Sales_Scope", "team")
    with staff.session() as s:
        assert s.scalar(select(func.count()).select_from(Setting)) == 0
    assert _audit_count(staff) == before
    assert kehu_cli("--as", "li", "settings", "list", "--json").json[0]["value"] == "own"


#: The refusal's one line, holding the given words.
_error_line = CliResult.error_line
