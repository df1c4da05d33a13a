"""The core's permissions and record rules, through the CLI and the Python API.

The staff: boss (admin); li and wang (sales, team 华东), zhao (sales, team 华南); mgr
(manager); svc (service, team 华东); gu (guest, a company role holding nothing). Customers:
C1 is li's, C2 wang's, C3 zhao's; each has one visit done and one visit planned in 2030.

Each permission: one role that holds it does the thing, one that does not gets the one-line
refusal, exit code 1, and the database is exactly as before. Each read path as li: only C1
shows, and C2's code is "not found", never "forbidden".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from kehu_core import access, audit, installer, roles, settings, users
from kehu_core.access import Forbidden
from kehu_core.app import Kehu
from kehu_core.customers import (
    CustomerQuery,
    add_customer,
    archive_customer,
    edit_customer,
    get_customer,
    list_customers,
)
from kehu_core.errors import NotFound, ValidationError
from kehu_core.hooktypes import ListFilter
from kehu_core.importing import import_customers
from kehu_core.interactions import InteractionQuery, due_interactions, list_interactions, log_interaction
from kehu_core.markers import hookimpl
from kehu_core.models import Base, Customer, Setting
from kehu_core.plugins import Plugins, discover
from kehu_core.privacy import forget_customer
from kehu_core.profile import profile_card

#: No $KEHU_USER, no OS login: every command names who acts.
pytestmark = pytest.mark.usefixtures("kehu_nobody")

PLANNED_AT = "2030-01-02T10:00:00+08:00"
DUE_BY = "2030-12-31"
CORE_PERMISSIONS = {
    "customer.read",
    "customer.write",
    "customer.import",
    "interaction.write",
    "privacy.manage",
    "audit.read",
    "users.manage",
    "settings.manage",
    "plugins.manage",
    "jobs.run",
}


@pytest.fixture
def kehu_plugins() -> Plugins:
    """The core alone: its permissions and rules do not depend on any plugin."""
    return discover(strict=False, allow=set())


@pytest.fixture
def world(kehu_app: Kehu) -> Kehu:
    """The staff and their customers (see the module's docstring), set up by kehu itself."""
    app = kehu_app
    with app.session() as s:
        users.add_user(app, s, "boss", roles=["admin"])
        users.add_user(app, s, "li", roles=["sales"], team="华东")
        users.add_user(app, s, "wang", roles=["sales"], team="华东")
        users.add_user(app, s, "zhao", roles=["sales"], team="华南")
        users.add_user(app, s, "mgr", roles=["manager"])
        users.add_user(app, s, "svc", roles=["service"], team="华东")
        roles.add_role(app, s, "guest", "may look at nothing")
        users.add_user(app, s, "gu", roles=["guest"])
        for code, name, owner in (
            ("C1", "李的客户", "li"),
            ("C2", "王的客户", "wang"),
            ("C3", "赵的客户", "zhao"),
        ):
            add_customer(app, s, {"code": code, "name": name, "owner": owner, "region": "华东"})
            log_interaction(
                app,
                s,
                {"customer_code": code, "kind": "visit", "occurred_at": datetime(2026, 3, 1, tzinfo=UTC)},
            )
            log_interaction(
                app,
                s,
                {"customer_code": code, "kind": "visit", "status": "planned", "occurred_at": PLANNED_AT},
            )
    return app


def _snapshot(app: Kehu) -> dict[str, Any]:
    """Every core table's row count, and the customers' and settings' contents."""
    with app.session() as s:
        counts = {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
        customers = s.execute(
            select(Customer.code, Customer.name, Customer.owner, Customer.region, Customer.active).order_by(
                Customer.code
            )
        ).all()
        stored = s.execute(select(Setting.key, Setting.value)).all()
    return {"counts": counts, "customers": customers, "settings": stored}


def _not_found(result: Any, code: str = "C2") -> None:
    line = _error_line(result, f"no customer with code '{code}'")
    assert "permission" not in line and "may not" not in line


def _codes(result: Any) -> list[str]:
    assert result.exit_code == 0, result
    return [row["code"] for row in result.json]


def _customer_codes(result: Any) -> set[str]:
    assert result.exit_code == 0, result
    return {row["customer_code"] for row in result.json}


class Noop:
    """A plugin with nothing in it, for ``kehu plugins install``."""


class NameFilter:
    """A plugin adding ``--filter named=TEXT`` to ``customer list``."""

    @hookimpl
    def kehu_customer_list_filters(self) -> list[ListFilter]:
        return [
            ListFilter("named", "name contains TEXT", lambda stmt, v: stmt.where(Customer.name.contains(v)))
        ]


# -- every core permission: one role allowed, one refused -------------------------------------

#: permission -> (allowed login, refused login, CLI arguments, the refusal's words)
CLI_CASES: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "customer.read": ("svc", "gu", ("customer", "list", "--json"), "gu (guest) may not see customers"),
    "customer.write": (
        "li",
        "svc",
        ("customer", "add", "C9", "新客户"),
        "svc (service) may not add customers",
    ),
    "customer.import": ("mgr", "li", ("customer", "import", "{csv}"), "li (sales) may not import customers"),
    "interaction.write": (
        "svc",
        "gu",
        ("interaction", "log", "C1", "call"),
        "gu (guest) may not log interactions",
    ),
    "privacy.manage": ("boss", "mgr", ("customer", "forget", "C3", "--yes"), "mgr (manager) may not forget"),
    "audit.read": ("mgr", "li", ("audit", "--entity", "customer"), "li (sales) may not read the audit trail"),
    "users.manage": (
        "boss",
        "mgr",
        ("user", "add", "zz", "--role", "sales"),
        "mgr (manager) may not add users",
    ),
    "settings.manage": (
        "boss",
        "mgr",
        ("settings", "set", "sales_scope", "team"),
        "mgr (manager) may not change settings",
    ),
    "plugins.manage": (
        "boss",
        "mgr",
        ("plugins", "install", "noop"),
        "mgr (manager) may not install plugins",
    ),
    "jobs.run": ("mgr", "li", ("jobs", "run-due"), "li (sales) may not run scheduled jobs"),
}
#: The reads: the allowed run changes nothing either (the access log aside).
READS = {"customer.read", "audit.read", "jobs.run"}


@pytest.fixture
def import_file(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text("code,name,region\nC8,导入客户,华北\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("permission", sorted(CLI_CASES))
def test_each_permission_on_the_cli(
    world: Kehu, kehu_cli: Any, kehu_register_plugin: Any, import_file: Path, permission: str
) -> None:
    kehu_register_plugin(Noop(), "noop", install=False)
    allowed, refused, args, words = CLI_CASES[permission]
    args = tuple(str(import_file) if a == "{csv}" else a for a in args)
    before = _snapshot(world)
    _error_line(
        kehu_cli("--as", refused, *args),
        words,
        f"it needs permission {permission}",
        "nothing was done",
    )
    assert _snapshot(world) == before
    done = kehu_cli("--as", allowed, *args)
    assert done.exit_code == 0, done
    if permission not in READS:
        assert _snapshot(world) != before


def _install(app: Kehu, s: Any) -> None:
    installer.install(app, s, ["noop"])


#: permission -> (allowed login, refused login, the call)
API_CASES: dict[str, tuple[str, str, Callable[[Kehu, Any, Path], Any]]] = {
    "customer.read": ("svc", "gu", lambda app, s, _f: list_customers(app, s, CustomerQuery())),
    "customer.write": (
        "li",
        "svc",
        lambda app, s, _f: add_customer(app, s, {"code": "C9", "name": "新客户"}),
    ),
    "customer.import": ("mgr", "li", lambda app, s, f: import_customers(app, s, f)),
    "interaction.write": (
        "svc",
        "gu",
        lambda app, s, _f: log_interaction(
            app, s, {"customer_code": "C1", "kind": "call", "occurred_at": PLANNED_AT}
        ),
    ),
    "privacy.manage": ("boss", "mgr", lambda app, s, _f: forget_customer(app, s, "C3")),
    "audit.read": ("mgr", "li", lambda app, s, _f: audit.trail(s, entity="customer")),
    "users.manage": ("boss", "mgr", lambda app, s, _f: users.add_user(app, s, "zz", roles=["sales"])),
    "settings.manage": ("boss", "mgr", lambda app, s, _f: settings.set_setting(s, "sales_scope", "team")),
    "plugins.manage": ("boss", "mgr", lambda app, s, _f: installer.install(app, s, ["noop"])),
    # The jobs API runs as kehu itself; the permission is the CLI's `jobs run-due` (above).
    "jobs.run": ("mgr", "li", lambda app, s, _f: access.require(s, "jobs.run", "run scheduled jobs")),
}


@pytest.mark.parametrize("permission", sorted(API_CASES))
def test_each_permission_through_the_api(
    world: Kehu, kehu_register_plugin: Any, import_file: Path, permission: str
) -> None:
    kehu_register_plugin(Noop(), "noop", install=False)
    allowed, refused, call = API_CASES[permission]
    before = _snapshot(world)
    with (
        pytest.raises(Forbidden, match=rf"^{refused} \(\w+\) may not .*: it needs permission {permission};"),
        world.session(as_user=refused) as s,
    ):
        call(world, s, import_file)
    assert _snapshot(world) == before
    with world.session(as_user=allowed) as s:
        assert access.acting(s).can(permission)
        call(world, s, import_file)
    if permission not in READS:
        assert _snapshot(world) != before


def test_an_import_needs_a_user_who_sees_every_customer(
    world: Kehu, kehu_cli: Any, import_file: Path
) -> None:
    """customer.import granted to sales is still refused: a file's rows are not checked one by one."""
    assert kehu_cli("--as", "boss", "roles", "grant", "sales", "customer.import").exit_code == 0
    before = _snapshot(world)
    _error_line(
        kehu_cli("--as", "li", "customer", "import", str(import_file)),
        "li may not import customers: imports need a user who sees every customer",
    )
    assert _snapshot(world) == before


# -- company roles and grants ------------------------------------------------------------------


def test_a_company_role_granted_audit_read_reads_the_audit_trail(world: Kehu, kehu_cli: Any) -> None:
    added = kehu_cli("--as", "boss", "roles", "add", "auditor", "--description", "reads the audit trail")
    assert added.exit_code == 0 and added.stdout == "added role auditor\n"
    assert kehu_cli("--as", "boss", "user", "add", "aud", "--role", "auditor").exit_code == 0
    _error_line(kehu_cli("--as", "aud", "audit", "C1"), "aud (auditor) may not read the audit trail")
    granted = kehu_cli("--as", "boss", "roles", "grant", "auditor", "audit.read")
    assert granted.exit_code == 0 and granted.stdout == "auditor now holds audit.read\n"
    trail = kehu_cli("--as", "aud", "audit", "C1", "--json")
    assert trail.exit_code == 0, trail
    assert [(e["actor"], e["key"], e["action"]) for e in trail.json] == [("system", "C1", "created")]
    users_trail = kehu_cli("--as", "aud", "audit", "--entity", "user", "--key", "aud", "--json")
    assert [(e["actor"], e["action"]) for e in users_trail.json] == [("boss", "created")]
    # audit.read alone: no customer cards.
    _error_line(kehu_cli("--as", "aud", "customer", "show", "C1"), "aud (auditor) may not see customers")
    _error_line(kehu_cli("--as", "boss", "roles", "add", "auditor"), "role 'auditor' exists already")
    _error_line(
        kehu_cli("--as", "boss", "roles", "grant", "auditor", "audit.nope"), "no permission 'audit.nope'"
    )
    _error_line(kehu_cli("--as", "boss", "roles", "grant", "nobody", "audit.read"), "no role 'nobody'")
    _error_line(
        kehu_cli("--as", "mgr", "roles", "add", "x"),
        "mgr (manager) may not add roles: it needs permission users.manage",
    )


def test_revoking_customer_write_from_sales_stops_them_and_granting_restores(
    world: Kehu, kehu_cli: Any
) -> None:
    revoked = kehu_cli("--as", "boss", "roles", "revoke", "sales", "customer.write")
    assert revoked.exit_code == 0 and revoked.stdout == "sales no longer holds customer.write\n"
    before = _snapshot(world)
    _error_line(
        kehu_cli("--as", "li", "customer", "add", "C7", "新"),
        "li (sales) may not add customers: it needs permission customer.write",
    )
    with pytest.raises(Forbidden), world.session(as_user="li") as s:
        edit_customer(world, s, "C1", {"region": "华北"})
    assert _snapshot(world) == before
    # A manager keeps it: the revocation is the sales role's only.
    assert kehu_cli("--as", "mgr", "customer", "add", "C6", "经理的").exit_code == 0
    assert kehu_cli("--as", "boss", "roles", "grant", "sales", "customer.write").exit_code == 0
    assert kehu_cli("--as", "li", "customer", "add", "C7", "新").exit_code == 0
    # A user with two roles keeps a permission one of them still holds.
    assert kehu_cli("--as", "boss", "roles", "revoke", "sales", "customer.write").exit_code == 0
    assert kehu_cli("--as", "boss", "user", "roles", "wang", "--add", "manager").exit_code == 0
    assert kehu_cli("--as", "wang", "customer", "add", "C5", "王的新").exit_code == 0


def test_roles_lists_every_permission_with_the_plugin_that_declared_it(world: Kehu, kehu_cli: Any) -> None:
    listed = kehu_cli("--as", "boss", "roles", "--json")
    assert listed.exit_code == 0, listed
    table = listed.json
    assert {(r["name"], r["plugin"]) for r in table["roles"]} == {
        ("admin", "core"),
        ("manager", "core"),
        ("sales", "core"),
        ("service", "core"),
        ("guest", "company"),
    }
    assert {p["name"]: p["plugin"] for p in table["permissions"]} == dict.fromkeys(CORE_PERMISSIONS, "core")
    holders = {p["name"]: p["roles"] for p in table["permissions"]}
    assert holders["customer.read"] == ["admin", "manager", "sales", "service"]
    assert holders["customer.write"] == ["admin", "manager", "sales"]
    assert holders["customer.import"] == ["admin", "manager"]
    assert holders["interaction.write"] == ["admin", "manager", "sales", "service"]
    assert holders["audit.read"] == ["admin", "manager"]
    assert holders["jobs.run"] == ["admin", "manager"]
    for name in ("privacy.manage", "users.manage", "settings.manage", "plugins.manage"):
        assert holders[name] == ["admin"], name
    by_role = {r["name"]: set(r["permissions"]) for r in table["roles"]}
    assert by_role["admin"] == CORE_PERMISSIONS and by_role["guest"] == set()
    assert by_role["sales"] == {"customer.read", "customer.write", "interaction.write"}
    text = kehu_cli("--as", "li", "roles")
    assert text.exit_code == 0, text
    lines = text.stdout.splitlines()
    for name in CORE_PERMISSIONS:
        assert any(line.split()[:2] == [name, "core"] for line in lines), name


# -- record rules on every core read path -------------------------------------------------------


def test_li_sees_only_his_customer_in_every_customer_list(
    world: Kehu, kehu_cli: Any, kehu_register_plugin: Any
) -> None:
    kehu_register_plugin(NameFilter(), "namefilter")
    assert _codes(kehu_cli("--as", "li", "customer", "list", "--json")) == ["C1"]
    for extra in (
        ("--search", "C"),
        ("--search", "客户"),
        ("--region", "华东"),
        ("--sort", "name", "--desc"),
        ("--sort", "owner"),
        ("--archived",),
        ("--filter", "named=客户"),
        ("--columns", "code,owner,region", "--limit", "10"),
    ):
        assert _codes(kehu_cli("--as", "li", "customer", "list", *extra, "--json")) == ["C1"], extra
    assert _codes(kehu_cli("--as", "li", "customer", "list", "--owner", "wang", "--json")) == []
    assert _codes(kehu_cli("--as", "li", "customer", "list", "--search", "王", "--json")) == []
    csv_out = kehu_cli("--as", "li", "customer", "list", "--csv")
    assert csv_out.exit_code == 0, csv_out
    assert [row["code"] for row in csv.DictReader(io.StringIO(csv_out.stdout))] == ["C1"]
    table = kehu_cli("--as", "li", "customer", "list")
    assert table.exit_code == 0 and table.stdout.splitlines()[-1] == "1 customer(s)"
    assert "C2" not in table.stdout and "C3" not in table.stdout
    # Whoever sees every customer: all three.
    for login in ("mgr", "svc", "boss"):
        assert _codes(kehu_cli("--as", login, "customer", "list", "--json")) == ["C1", "C2", "C3"], login
    assert _codes(kehu_cli("--as", "mgr", "customer", "list", "--owner", "wang", "--json")) == ["C2"]


def test_another_owners_customer_is_not_found_on_every_command(world: Kehu, kehu_cli: Any) -> None:
    # So that the rule, not the permission, is what stops li: sales may export and read the trail here.
    assert kehu_cli("--as", "boss", "roles", "grant", "sales", "privacy.manage").exit_code == 0
    assert kehu_cli("--as", "boss", "roles", "grant", "sales", "audit.read").exit_code == 0
    before = _snapshot(world)
    _not_found(kehu_cli("--as", "li", "customer", "show", "C2"))
    _not_found(kehu_cli("--as", "li", "customer", "show", "C2", "--json"))
    _not_found(kehu_cli("--as", "li", "customer", "export", "C2"))
    _not_found(kehu_cli("--as", "li", "customer", "edit", "C2", "--region", "华北"))
    _not_found(kehu_cli("--as", "li", "customer", "archive", "C2"))
    _not_found(kehu_cli("--as", "li", "customer", "archive", "C2", "--restore"))
    _not_found(kehu_cli("--as", "li", "customer", "forget", "C2", "--yes"))
    _not_found(kehu_cli("--as", "li", "interaction", "list", "--customer", "C2"))
    _not_found(kehu_cli("--as", "li", "audit", "C2"))
    for args in (("log", "C2", "call"), ("plan", "C2", "--at", PLANNED_AT)):
        refused = kehu_cli("--as", "li", "interaction", *args)
        assert refused.exit_code == 1 and "no customer with this code" in refused.stderr, refused
        assert "permission" not in refused.stderr and "forbidden" not in refused.stderr.lower()
    assert _snapshot(world) == before
    # The same commands on li's own customer work.
    for args in (
        ("customer", "show", "C1"),
        ("customer", "export", "C1"),
        ("interaction", "list", "--customer", "C1"),
        ("audit", "C1"),
        ("interaction", "log", "C1", "call"),
        ("customer", "edit", "C1", "--region", "华北"),
        ("customer", "archive", "C1"),
    ):
        assert kehu_cli("--as", "li", *args).exit_code == 0, args


def test_interaction_lists_and_the_visit_plan_hold_only_lis_customer(world: Kehu, kehu_cli: Any) -> None:
    assert _customer_codes(kehu_cli("--as", "li", "interaction", "list", "--json")) == {"C1"}
    for extra in (("--kind", "visit"), ("--status", "planned"), ("--limit", "0"), ("--oldest-first",)):
        assert _customer_codes(kehu_cli("--as", "li", "interaction", "list", *extra, "--json")) == {"C1"}
    listed = kehu_cli("--as", "li", "interaction", "list", "--json")
    assert len(listed.json) == 2
    csv_out = kehu_cli("--as", "li", "interaction", "list", "--csv")
    assert {row["customer_code"] for row in csv.DictReader(io.StringIO(csv_out.stdout))} == {"C1"}
    due = kehu_cli("--as", "li", "interaction", "due", "--as-of", DUE_BY, "--json")
    assert _customer_codes(due) == {"C1"} and len(due.json) == 1
    assert (
        _customer_codes(
            kehu_cli("--as", "li", "interaction", "due", "--as-of", DUE_BY, "--owner", "wang", "--json")
        )
        == set()
    )
    for login in ("mgr", "svc"):
        assert _customer_codes(kehu_cli("--as", login, "interaction", "list", "--json")) == {"C1", "C2", "C3"}
        assert _customer_codes(
            kehu_cli("--as", login, "interaction", "due", "--as-of", DUE_BY, "--json")
        ) == {
            "C1",
            "C2",
            "C3",
        }


def test_every_read_through_the_api_holds_only_lis_customer(world: Kehu) -> None:
    with world.session(as_user="li") as s:
        assert get_customer(s, "C1").code == "C1"
        for call in (
            lambda: get_customer(s, "C2"),
            lambda: profile_card(world, s, "C2"),
            lambda: edit_customer(world, s, "C2", {"region": "华北"}),
            lambda: archive_customer(world, s, "C2"),
            lambda: list_interactions(s, InteractionQuery(customer_code="C2")),
        ):
            with pytest.raises(NotFound, match="no customer with code 'C2'"):
                call()
        with pytest.raises(ValidationError, match="no customer with this code"):
            log_interaction(world, s, {"customer_code": "C2", "kind": "call", "occurred_at": PLANNED_AT})
        assert [r["code"] for r in list_customers(world, s, CustomerQuery()).rows] == ["C1"]
        assert list_customers(world, s, CustomerQuery()).total == 1
        assert list_customers(world, s, CustomerQuery(owner="wang")).rows == ()
        assert {r.customer_code for r in list_interactions(s, InteractionQuery(limit=None))} == {"C1"}
        assert {r.customer_code for r in due_interactions(s, date(2030, 12, 31))} == {"C1"}
    with world.session(as_user="mgr") as s:
        assert [r["code"] for r in list_customers(world, s, CustomerQuery()).rows] == ["C1", "C2", "C3"]
        assert profile_card(world, s, "C2").customer.code == "C2"


def test_the_audit_listing_leaves_out_customers_li_does_not_see(world: Kehu, kehu_cli: Any) -> None:
    assert kehu_cli("--as", "boss", "roles", "grant", "sales", "audit.read").exit_code == 0
    assert kehu_cli("--as", "boss", "settings", "set", "sales_scope", "own").exit_code == 0
    keys = {
        (e["entity"], e["key"])
        for e in kehu_cli("--as", "li", "audit", "--entity", "customer", "--json").json
    }
    assert keys == {("customer", "C1")}
    # Entries under no customer (settings) stay readable.
    assert kehu_cli("--as", "li", "audit", "--entity", "setting", "--json").json == []
    with world.session(as_user="li") as s:
        assert {e.key for e in audit.trail(s, entity="customer")} == {"C1"}
        assert {e.key for e in audit.trail(s, entity="user")} == {
            "boss",
            "li",
            "wang",
            "zhao",
            "mgr",
            "svc",
            "gu",
        }
        with pytest.raises(NotFound, match="no customer with code 'C2'"):
            audit.customer_trail(s, "C2")
    manager_keys = {e["key"] for e in kehu_cli("--as", "mgr", "audit", "--entity", "customer", "--json").json}
    assert manager_keys == {"C1", "C2", "C3"}


def test_team_scope_lets_li_see_his_teams_customers_only(world: Kehu, kehu_cli: Any) -> None:
    assert kehu_cli("--as", "boss", "settings", "set", "sales_scope", "team").exit_code == 0
    assert _codes(kehu_cli("--as", "li", "customer", "list", "--json")) == ["C1", "C2"]
    assert _codes(kehu_cli("--as", "li", "customer", "list", "--owner", "wang", "--json")) == ["C2"]
    assert _codes(kehu_cli("--as", "zhao", "customer", "list", "--json")) == ["C3"]
    assert kehu_cli("--as", "li", "customer", "show", "C2").exit_code == 0
    _not_found(kehu_cli("--as", "li", "customer", "show", "C3"), "C3")
    assert _customer_codes(kehu_cli("--as", "li", "interaction", "list", "--json")) == {"C1", "C2"}
    due = kehu_cli("--as", "li", "interaction", "due", "--as-of", DUE_BY, "--json")
    assert _customer_codes(due) == {"C1", "C2"}
    # A salesperson without a team sees their own customers only.
    assert kehu_cli("--as", "boss", "user", "edit", "li", "--team", "").exit_code == 0
    assert _codes(kehu_cli("--as", "li", "customer", "list", "--json")) == ["C1"]
    # Back to own.
    assert kehu_cli("--as", "boss", "settings", "set", "sales_scope", "own").exit_code == 0
    assert _codes(kehu_cli("--as", "wang", "customer", "list", "--json")) == ["C2"]


def test_giving_a_customer_to_another_owner_follows_the_scope(world: Kehu, kehu_cli: Any) -> None:
    before = _snapshot(world)
    _error_line(
        kehu_cli("--as", "li", "customer", "edit", "C1", "--owner", "wang"),
        "li may not move customer 'C1' for another owner (wang)",
        "nothing was saved",
    )
    assert _snapshot(world) == before
    assert kehu_cli("--as", "boss", "settings", "set", "sales_scope", "team").exit_code == 0
    moved = kehu_cli("--as", "li", "customer", "edit", "C1", "--owner", "wang", "--json")
    assert moved.exit_code == 0 and moved.json["owner"] == "wang"
    # zhao is in 华南: out of li's team, refused even now.
    _error_line(
        kehu_cli("--as", "li", "customer", "edit", "C1", "--owner", "zhao"),
        "li may not move customer 'C1' for another owner (zhao)",
    )
    assert _codes(kehu_cli("--as", "mgr", "customer", "list", "--owner", "wang", "--json")) == ["C1", "C2"]
    # A manager moves anything.
    assert kehu_cli("--as", "mgr", "customer", "edit", "C1", "--owner", "zhao").exit_code == 0


def test_a_salesperson_owns_the_customers_they_add(world: Kehu, kehu_cli: Any) -> None:
    added = kehu_cli("--as", "li", "customer", "add", "C7", "李的新客户", "--json")
    assert added.exit_code == 0 and added.json["owner"] == "li"
    by_manager = kehu_cli("--as", "mgr", "customer", "add", "C8", "经理的新客户", "--json")
    assert by_manager.exit_code == 0 and by_manager.json["owner"] is None
    before = _snapshot(world)
    _error_line(
        kehu_cli("--as", "li", "customer", "add", "C9", "给王的", "--owner", "wang"),
        "li may not add customer 'C9' for another owner (wang)",
    )
    assert _snapshot(world) == before
    assert _codes(kehu_cli("--as", "li", "customer", "list", "--json")) == ["C1", "C7"]


def _error_line(result: Any, *words: str) -> str:
    """The refusal's one line, holding ``words`` (never "forbidden": outside the rules is "not found")."""
    line = result.error_line(*words)
    assert "forbidden" not in line.lower()
    return line
