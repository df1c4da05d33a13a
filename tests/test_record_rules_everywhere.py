"""Every read command of the ``kehu`` tree, run as a salesperson, shows no other owner's customer.

One world per database backend, with every plugin installed: li (sales, team 华东) owns LI1,
wang (sales, team 华北) owns WANGONLY (旺旺保密客户), whose data carries markers found nowhere
else: the code, the character 旺 in its name, product, category, complaint and notes, the
purchase amount 98765.43, the phone 13999887766. zhao is a manager, boss the administrator.

* :func:`test_every_command_is_classified`: each command of the tree is in exactly one of
  :data:`READS` and :data:`WRITES`, so a new command fails until someone says which it is.
* :func:`test_a_salesperson_sees_no_other_owners_customer`: each read invocation as li either
  succeeds or is refused for a permission, and shows none of the markers; an invocation naming
  wang's customer, complaint or opportunity answers exactly as for one that does not exist.
* :func:`test_a_manager_sees_the_markers`: the same commands as zhao show WANGONLY, so the
  salesperson's test cannot pass by showing nothing.
* :func:`test_aggregates_count_only_the_customers_the_user_sees`: reports that name no customer
  (complaint report, tier report, SLA counts, loyalty ladder, forecast totals) count LI1 alone
  for li and both customers for zhao (the tier report's revenue differs by wang's exactly).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import click
import pytest
from click.testing import CliRunner

from kehu_core import installer
from kehu_core.app import Kehu
from kehu_core.cli import create_cli
from kehu_core.customers import add_customer
from kehu_core.interactions import write_interactions
from kehu_core.plugins import discover
from kehu_core.testing import CliResult
from kehu_core.users import add_user

PLUGINS = ("tiering", "loyalty", "complaints", "forecast", "acme_rules")
AS_OF = "2026-11-30"
#: The rebate programme and the reward the world makes.
REBATE = "Q-REB"
REWARD = "GIFT"
#: Stand-ins for wang's records in the invocations, and for records that do not exist.
WANG_CODE, NO_CODE = "WANGONLY", "NOSUCH"
WANG_COMPLAINT, NO_COMPLAINT = "{wang_complaint}", "999999"
WANG_OPP, NO_OPP = "OPP-WANG", "OPP-NOSUCH"
WANG_PLAN, NO_PLAN = "{wang_plan}", "999998"

#: What must never reach li: wang's customer code, the character of every free text of his
#: customer (name, product, category, notes, complaint), the unique purchase amount however
#: formatted, his customer's phone and e-mail.
MARKERS = re.compile(r"WANGONLY|旺|98765\.4|98,765|98765|13999887766|wangwang-secret")
#: wang's login as a word, checked where customers or their records are listed (owner,
#: salesperson and handler columns); user administration lists wang legitimately.
WANG_LOGIN = re.compile(r"(?<![\w-])wang(?![\w-])")
#: Commands whose output may name wang as a user (not as a customer's owner).
LISTS_USERS = {("user", "list"), ("user", "token", "list"), ("complaint", "team", "list"), ("roles",)}

NOT_FOUND = re.compile(r"no customer with code|no complaint|not found|no opportunity|no sales plan", re.I)
REFUSED = re.compile(r"may not .*needs? permission", re.S)

# --------------------------------------------------------------------------------------------
# The classification. READS: path -> argument lists (each run as li and as zhao; --json/--csv
# are given explicitly). WRITES: paths that change data, or administer kehu itself.

READS: dict[tuple[str, ...], list[list[str]]] = {
    ("acme", "manager"): [["--json"]],
    ("acme", "reviews"): [["--json"]],
    ("acme", "show"): [["LI1", "--json"], [WANG_CODE, "--json"]],
    ("audit",): [
        ["LI1", "--json"],
        [WANG_CODE, "--json"],
        ["--entity", "customer", "--json"],
        ["--entity", "complaint", "--json"],
        ["--entity", "points", "--csv"],
        ["--entity", "customer", "--key", WANG_CODE, "--json"],
    ],
    ("complaint", "calendar", "show"): [["--json"]],
    ("complaint", "list"): [
        ["--json"],
        ["--csv"],
        ["--open", "--json"],
        ["--handler", "wang", "--json"],
        ["--customer", WANG_CODE, "--json"],
    ],
    ("complaint", "report"): [["--json"], ["--since", "2024-01-01", "--json"]],
    ("complaint", "show"): [["{li_complaint}", "--json"], [WANG_COMPLAINT, "--json"]],
    ("complaint", "sla", "list"): [["--json"], ["--csv"]],
    ("complaint", "team", "list"): [["--json"], ["--csv"]],
    ("complaint", "workflow"): [["--json"]],
    ("customer", "export"): [["LI1", "--json"], [WANG_CODE, "--json"]],
    ("customer", "list"): [
        ["--json"],
        ["--csv"],
        ["--search", "旺旺", "--json"],
        ["--search", "9988", "--json"],
        ["--owner", "wang", "--json"],
        ["--archived", "--json"],
        ["--columns", "code,name,owner,tags,credit_limit,tier,complaints_open,acme_flags", "--json"],
        ["--sort", "tier", "--desc", "--csv"],
    ],
    ("customer", "show"): [["LI1", "--json"], [WANG_CODE, "--json"]],
    ("customer", "profit"): [["LI1", "--json"], [WANG_CODE, "--json"]],
    ("customer", "profit-report"): [["--json"], ["--csv"]],
    ("db", "status"): [["--json"]],
    ("forecast", "backtest"): [["--level", "customer", "--as-of", AS_OF, "--folds", "1", "--json"]],
    ("forecast", "gap"): [["--level", "customer", "--json"], ["--csv"]],
    ("forecast", "history"): [
        ["--level", "customer", "--as-of", AS_OF, "--json"],
        ["--level", "salesperson", "--as-of", AS_OF, "--csv"],
        ["--by-category", "--level", "customer", "--as-of", AS_OF, "--json"],
    ],
    ("forecast", "market", "list"): [["--json"], ["--csv"]],
    ("forecast", "plan", "check"): [["--json"], ["--csv"]],
    ("forecast", "plan", "list"): [["--json"], ["--csv"]],
    ("forecast", "plan", "show"): [["{li_plan}", "--json"], [WANG_PLAN, "--json"]],
    ("forecast", "opportunity", "list"): [
        ["--json"],
        ["--csv"],
        ["--status", "open", "--json"],
        ["--salesperson", "wang", "--json"],
        ["--customer", WANG_CODE, "--json"],
    ],
    ("forecast", "runs"): [["--json"], ["--csv"]],
    ("forecast", "show"): [
        ["{forecast_run}", "--level", "customer", "--json"],
        ["{forecast_run}", "--level", "salesperson", "--csv"],
        ["{forecast_run}", "--json"],
    ],
    ("forecast", "targets"): [["--list", "--json"], ["--list", "--csv"]],
    ("forecast", "track"): [["--as-of", AS_OF, "--json"], ["--as-of", AS_OF, "--csv"]],
    ("hooks",): [["--json"]],
    ("interaction", "due"): [["--as-of", "2027-06-30", "--json"], ["--as-of", "2027-06-30", "--csv"]],
    ("interaction", "list"): [
        ["--json"],
        ["--csv"],
        ["--limit", "1000", "--json"],
        ["--customer", WANG_CODE, "--json"],
        ["--salesperson", "wang", "--json"],
        ["--kind", "purchase", "--since", "2024-01-01", "--json"],
    ],
    ("jobs", "list"): [["--json"]],
    ("loyalty", "balance"): [["LI1", "--json"], [WANG_CODE, "--json"]],
    ("loyalty", "ladder"): [["--json"], ["--since", "2024-01-01", "--as-of", AS_OF, "--json"]],
    ("loyalty", "levels", "list"): [["--json"], ["--csv"]],
    ("loyalty", "rebate", "accrual"): [[REBATE, "--json"], [REBATE, "--csv"]],
    ("loyalty", "rebate", "programme", "list"): [["--json"], ["--csv"]],
    ("loyalty", "rebate", "statement"): [["LI1", "--json"], [WANG_CODE, "--json"]],
    ("loyalty", "rewards", "list"): [["--all", "--json"], ["--csv"]],
    ("loyalty", "rules"): [["--json"]],
    ("loyalty", "satisfaction"): [["--json"], ["--window", "3650", "--json"]],
    ("loyalty", "settings", "list"): [["--json"], ["--csv"]],
    ("loyalty", "statement"): [["LI1", "--json"], [WANG_CODE, "--json"], [WANG_CODE, "--csv"]],
    ("plugins", "list"): [["--json"]],
    ("roles",): [["--json"]],
    ("settings", "list"): [["--json"], ["--csv"]],
    ("tier", "explain"): [["LI1", "--json"], [WANG_CODE, "--json"]],
    ("tier", "history"): [["LI1", "--json"], [WANG_CODE, "--json"], [WANG_CODE, "--csv"]],
    ("tier", "report"): [["--json"]],
    ("tier", "rules"): [["--json"], ["--csv"]],
    ("tier", "show"): [["LI1", "--json"], [WANG_CODE, "--json"]],
    ("tier", "stats"): [["LI1", "--as-of", AS_OF, "--json"], [WANG_CODE, "--as-of", AS_OF, "--json"]],
    ("user", "list"): [["--json"], ["--csv"]],
    ("user", "token", "list"): [["li", "--json"], ["wang", "--json"]],
}

WRITES: set[tuple[str, ...]] = {
    ("forecast", "plan", "add-action"),
    ("forecast", "plan", "add-assumption"),
    ("forecast", "plan", "add-budget"),
    ("forecast", "plan", "add-target"),
    ("forecast", "plan", "create"),
    ("acme", "set"),
    ("complaint", "assign"),
    ("complaint", "calendar", "set"),
    ("complaint", "close"),
    ("complaint", "move"),
    ("complaint", "note"),
    ("complaint", "open"),
    ("complaint", "settings"),
    ("complaint", "severity"),
    ("complaint", "sla", "delete"),
    ("complaint", "sla", "recompute"),
    ("complaint", "sla", "set"),
    ("complaint", "team", "add"),
    ("complaint", "team", "remove-member"),
    ("customer", "add"),
    ("customer", "archive"),
    ("customer", "edit"),
    ("customer", "forget"),
    ("customer", "import"),
    ("customer", "profile-set"),
    ("db", "upgrade"),
    ("db", "vacuum"),
    ("demo",),
    ("forecast", "market", "import"),
    ("forecast", "market", "set"),
    ("forecast", "opportunity", "add"),
    ("forecast", "opportunity", "import"),
    ("forecast", "opportunity", "move"),
    ("forecast", "reconcile"),
    ("forecast", "run"),
    ("forecast", "topdown"),
    ("init",),
    ("interaction", "import"),
    ("interaction", "log"),
    ("interaction", "plan"),
    ("jobs", "run-due"),
    ("loyalty", "earn"),
    ("loyalty", "enroll"),
    ("loyalty", "expire"),
    ("loyalty", "backfill"),
    ("complaint", "backfill"),
    ("loyalty", "levels", "review"),
    ("loyalty", "levels", "set"),
    ("loyalty", "rebate", "programme", "add"),
    ("loyalty", "rebate", "settle"),
    ("loyalty", "redeem"),
    ("loyalty", "refer"),
    ("loyalty", "rewards", "add"),
    ("loyalty", "rewards", "restock"),
    ("loyalty", "settings", "set"),
    ("plugin", "catalog"),
    ("plugin", "new"),
    ("plugins", "install"),
    ("plugins", "uninstall"),
    ("roles", "add"),
    ("roles", "grant"),
    ("roles", "revoke"),
    ("settings", "set"),
    ("tier", "rebuild"),
    ("tier", "run"),
    ("user", "activate"),
    ("user", "add"),
    ("user", "deactivate"),
    ("user", "edit"),
    ("user", "password"),
    ("user", "roles"),
    ("user", "token", "create"),
    ("user", "token", "revoke"),
}


# --------------------------------------------------------------------------------------------
# The tree


def command_paths() -> set[tuple[str, ...]]:
    """Every command of ``kehu`` as a path of names, as ``kehu --help`` and its groups list them;
    a group that does something without a subcommand (``kehu roles``) is a command too."""
    cli = create_cli(plugins=discover(strict=False))
    paths: set[tuple[str, ...]] = set()

    def walk(group: click.Group, path: tuple[str, ...], ctx: click.Context) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None, f"{' '.join((*path, name))} is listed but cannot be loaded"
            here = (*path, name)
            if isinstance(command, click.Group):
                if command.invoke_without_command:
                    paths.add(here)
                walk(command, here, click.Context(command, parent=ctx, info_name=name))
            else:
                paths.add(here)

    walk(cli, (), click.Context(cli, info_name="kehu"))
    return paths


def test_every_command_is_classified() -> None:
    tree = command_paths()
    both = sorted(" ".join(p) for p in set(READS) & WRITES)
    assert not both, f"in both READS and WRITES: {both}"
    missing = sorted(" ".join(p) for p in tree - set(READS) - WRITES)
    assert not missing, "; ".join(f"classify `kehu {p}` in READS or WRITES" for p in missing)
    gone = sorted(" ".join(p) for p in (set(READS) | WRITES) - tree)
    assert not gone, f"no longer commands of kehu, remove them from READS/WRITES: {gone}"
    assert all(READS.values()), "every READS command has at least one invocation"


# --------------------------------------------------------------------------------------------
# The world: one database per backend, built once for the module.


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "world_backend" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--kehu-db") or os.environ.get("KEHU_TEST_DB", "sqlite")
        backends = ("sqlite", "postgresql") if choice == "both" else (choice,)
        metafunc.parametrize("world_backend", backends, scope="module")


class World:
    """The database, a CLI runner on it, and the numbers of the records made."""

    def __init__(self, app: Kehu):
        self.app = app
        self.url = app.engine.url.render_as_string(hide_password=False)
        self.ids: dict[str, str] = {}

    def cli(self, *args: str) -> CliResult:
        """``kehu --db URL ARGS``."""
        result = CliRunner().invoke(
            create_cli(plugins=self.app.plugins), ["--db", self.url, *args], catch_exceptions=True
        )
        return CliResult(result)

    def ok(self, *args: str) -> CliResult:
        """Run as boss and require success."""
        result = self.cli("--as", "boss", *args)
        assert result.exit_code == 0, (args, result)
        return result


def _purchases(customer_id: int, code: str, amounts: list[Decimal], product: str, category: str, who: str):
    rows = []
    year, month = 2025, 6
    for k, amount in enumerate(amounts):
        rows.append(
            {
                "customer_id": customer_id,
                "kind": "purchase",
                "status": "done",
                "occurred_at": datetime(year, month, 10, 4, 0, tzinfo=UTC),
                "amount": amount,
                "quantity": 1,
                "product": product,
                "category": category,
                "salesperson": who,
                "satisfaction": 4,
                "external_ref": f"w:{code}:{k}",
            }
        )
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return rows


def build(app: Kehu, world: World) -> None:
    """Users, two customers and everything every plugin keeps about them."""
    with app.session() as session:
        installer.install(app, session, list(PLUGINS))
    app.forget_installed_cache()
    with app.session() as session:
        add_user(app, session, "boss", roles=["admin"])
        add_user(app, session, "zhao", roles=["manager"])
        add_user(app, session, "li", roles=["sales"], team="华东")
        add_user(app, session, "wang", roles=["sales"], team="华北")
        li1 = add_customer(
            app,
            session,
            {
                "code": "LI1",
                "name": "李记五金",
                "region": "华东",
                "industry": "五金",
                "owner": "li",
                "phone": "13800001111",
                "email": "li1@example.com",
                "tags": ["经销商"],
            },
        ).id
        wang1 = add_customer(
            app,
            session,
            {
                "code": WANG_CODE,
                "name": "旺旺保密客户",
                "region": "旺北",
                "industry": "旺业",
                "owner": "wang",
                "phone": "13999887766",
                "email": "wangwang-secret@example.com",
                "tags": ["经销商"],
            },
        ).id
        mine = [Decimal(1000 + 10 * k) for k in range(18)]
        his = [Decimal(20000 + 100 * k) for k in range(18)]
        his[9] = Decimal("98765.43")
        rows = _purchases(li1, "LI1", mine, "螺丝", "五金件", "li")
        rows += _purchases(wang1, WANG_CODE, his, "旺旺秘密机", "旺类", "wang")
        write_interactions(app, session, rows, source="test")
    world.ok("interaction", "plan", "LI1", "--at", "2027-01-10 10:00", "--note", "李记回访")
    world.ok("interaction", "plan", WANG_CODE, "--at", "2027-01-11 10:00", "--note", "旺旺回访")
    world.ok("loyalty", "enroll", "LI1", WANG_CODE, "--since", "2025-01-01")
    world.ok("loyalty", "earn", WANG_CODE, "321", "--reason", "旺旺奖励")
    world.ok("loyalty", "earn", "LI1", "123", "--reason", "李记奖励")
    world.ok("loyalty", "rewards", "add", REWARD, "礼品", "--cost", "100", "--stock", "10")
    world.ok("loyalty", "redeem", WANG_CODE, REWARD)
    world.ok(
        "loyalty",
        "rebate",
        "programme",
        "add",
        REBATE,
        "--period",
        "quarter",
        "--tier",
        "1000:2%",
        "--starts",
        "2026-10-01",
    )
    opened = {}
    for code, text, handler in (
        ("LI1", "李记投诉：螺丝生锈", "zhao"),
        (WANG_CODE, "旺旺投诉：旺旺机坏了", "wang"),
    ):
        result = world.ok(
            "complaint",
            "open",
            "--customer",
            code,
            "--description",
            text,
            "--category",
            "quality",
            "--handler",
            handler,
            "--json",
        )
        opened[code] = str(result.json["id"])
    world.ids["li_complaint"] = opened["LI1"]
    world.ids["wang_complaint"] = opened[WANG_CODE]
    world.ok("tier", "run", "--as-of", AS_OF)
    run = world.ok("forecast", "run", "--as-of", AS_OF, "--horizon", "3", "--json")
    world.ids["forecast_run"] = str(run.json["run_id"] if "run_id" in run.json else run.json["id"])
    for code, amount, ref in (("LI1", "30000", "OPP-LI"), (WANG_CODE, "55555", WANG_OPP)):
        world.ok(
            "forecast",
            "opportunity",
            "add",
            code,
            amount,
            "--close",
            "2027-02-10",
            "--probability",
            "0.5",
            "--ref",
            ref,
            "--note",
            "旺旺机会" if code == WANG_CODE else "李记机会",
        )
    for region in ("华东", "旺北"):
        world.ok(
            "forecast",
            "market",
            "set",
            "2026-11",
            "region",
            region,
            "--potential",
            "100000",
            "--share",
            "0.1",
            "--months",
            "3",
        )
    world.ok("forecast", "topdown", "--dimension", "region", "--as-of", AS_OF, "--horizon", "3")
    world.ok("forecast", "reconcile")
    world.ok("forecast", "targets", "--period", "month")
    for who in ("li", "wang"):
        plan = world.ok("forecast", "plan", "create", f"{who}的计划", "--internal", "人手足", "--json")
        world.ids[f"{who}_plan"] = str(plan.json["id"])
        targets = world.ok("forecast", "targets", "--list", "--json").json
        mine = [t for t in targets if t["salesperson"] == who]
        assert mine, (who, targets)
        world.ok("forecast", "plan", "add-target", world.ids[f"{who}_plan"], str(mine[0]["id"]))
    world.ok("acme", "set", "LI1", "--influence", "--note", "李记判断")
    world.ok("acme", "set", WANG_CODE, "--strategic-project", "--influence", "--note", "旺旺判断")


@pytest.fixture(scope="module")
def world(
    world_backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    kehu_template: Callable[[str], str],
) -> Iterator[World]:
    """The world on ``world_backend``, built once for this module."""
    drop = None
    if world_backend == "sqlite":
        path = tmp_path_factory.mktemp("everywhere") / "kehu.db"
        shutil.copyfile(kehu_template("sqlite"), path)
        url = f"sqlite:///{path}"
    else:
        server = request.getfixturevalue("kehu_pg_server")
        name = f"kehu_everywhere_{os.getpid()}"
        url = server.create(name, template=kehu_template("postgresql"))
        drop = lambda: server.drop(name)  # noqa: E731
    app = Kehu(url, plugins=discover(strict=False))
    made = World(app)
    build(app, made)
    yield made
    app.dispose()
    if drop is not None:
        drop()


# --------------------------------------------------------------------------------------------
# The walks

#: What stands for wang's records in an invocation, and its twin that does not exist.
TWINS = {
    WANG_CODE: NO_CODE,
    WANG_COMPLAINT: NO_COMPLAINT,
    WANG_OPP: NO_OPP,
    WANG_PLAN: NO_PLAN,
    "wang": "nosuchuser",
}
INVOCATIONS = [(path, tuple(args)) for path, arglists in READS.items() for args in arglists]


def _label(path: tuple[str, ...], args: tuple[str, ...]) -> str:
    return " ".join((*path, *args))


def _run(world: World, login: str, path: tuple[str, ...], args: tuple[str, ...]) -> tuple[CliResult, str]:
    """Run ``kehu --as LOGIN PATH ARGS`` and return the result and its whole text; fail on a crash."""
    argv = [a.format(**world.ids) for a in args]
    result = world.cli("--as", login, *path, *argv)
    text = result.stdout + result.stderr
    label = f"kehu --as {login} {_label(path, tuple(argv))}"
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed and result.exit_code in (0, 1), f"{label} crashed: {result!r}"
    return result, text


def _refused_for_permission(text: str) -> bool:
    return bool(REFUSED.search(text))


@pytest.mark.parametrize(
    ("path", "args"),
    INVOCATIONS,
    ids=[_label(p, a).replace("{", "").replace("}", "") for p, a in INVOCATIONS],
)
def test_a_salesperson_sees_no_other_owners_customer(
    world: World, path: tuple[str, ...], args: tuple[str, ...]
):
    result, text = _run(world, "li", path, args)
    label = f"kehu --as li {_label(path, args)}"
    named = [a for a in args if a in TWINS]
    shown = text
    if named:
        # Naming wang's record must answer exactly as naming one that does not exist.
        twin, twin_text = _run(world, "li", path, tuple(TWINS.get(a, a) for a in args))
        back = twin_text
        for mine, other in TWINS.items():
            back = back.replace(other, mine.format(**world.ids))
        assert (result.exit_code, text) == (twin.exit_code, back), (
            f"{label} answers differently from the same command naming a record that does not exist "
            f"(it gives away that wang's exists): {result!r} against {twin!r}"
        )
        if result.exit_code:
            assert NOT_FOUND.search(text) or _refused_for_permission(text), f"{label}: {text}"
            assert "forbidden" not in text.lower(), f"{label} says forbidden, not 'not found': {text}"
        for value in named:  # an echo of what li typed gives nothing away
            shown = shown.replace(value.format(**world.ids), "")
    else:
        assert result.exit_code == 0 or _refused_for_permission(text), (
            f"{label} neither succeeded nor was refused for a permission: {result!r}"
        )
    leaked = sorted(set(MARKERS.findall(shown)))
    assert not leaked, f"{label} shows wang's customer ({leaked}): {shown[:2000]}"
    if path not in LISTS_USERS and "wang" not in named:
        assert not WANG_LOGIN.search(shown), f"{label} names wang (another owner) in: {shown[:2000]}"


#: Where the manager must find wang's customer, so that the salesperson's walk is not vacuous.
MUST_SHOW = [
    ("customer", "list", "--json"),
    ("customer", "list", "--csv"),
    ("complaint", "list", "--json"),
    ("loyalty", "balance", WANG_CODE, "--json"),
    ("interaction", "list", "--csv"),
    ("forecast", "opportunity", "list", "--json"),
    ("forecast", "history", "--level", "customer", "--as-of", AS_OF, "--json"),
    ("tier", "show", WANG_CODE, "--json"),
    ("loyalty", "rebate", "accrual", REBATE, "--json"),
    ("complaint", "show", WANG_COMPLAINT, "--json"),
]


def test_a_manager_sees_the_markers(world: World):
    found: dict[str, list[str]] = {}
    for path, args in INVOCATIONS:
        result, text = _run(world, "zhao", path, args)
        label = _label(path, args)
        assert result.exit_code == 0 or _refused_for_permission(text), f"kehu --as zhao {label}: {result!r}"
        found[label] = sorted(set(MARKERS.findall(text)))
    for command in MUST_SHOW:
        label = " ".join(command)
        assert label in found, f"{label} is not among the READS invocations"
        assert "WANGONLY" in found[label] or "旺" in found[label], f"kehu --as zhao {label} shows no marker"
    assert "98765.4" in found[_label(("interaction", "list"), ("--csv",))]
    assert "wang" in world.cli("--as", "zhao", "complaint", "list", "--json").stdout


def _json(world: World, login: str, *args: str) -> Any:
    result = world.cli("--as", login, *args)
    assert result.exit_code == 0, result
    return result.json


def test_aggregates_count_only_the_customers_the_user_sees(world: World):
    """Reports without names: li's figures are LI1's alone; zhao's are both customers'."""
    li_report = _json(world, "li", "complaint", "report", "--json")
    zhao_report = _json(world, "zhao", "complaint", "report", "--json")
    assert (li_report["total"], zhao_report["total"]) == (1, 2)
    li_tiers = _json(world, "li", "tier", "report", "--json")["pareto"]
    zhao_tiers = _json(world, "zhao", "tier", "report", "--json")["pareto"]
    assert (li_tiers["customers"], zhao_tiers["customers"]) == (1, 2)
    his_year = [Decimal(20000 + 100 * k) for k in range(6, 18)]
    his_year[3] = Decimal("98765.43")  # the 10th month of 18, 2026-03
    assert Decimal(zhao_tiers["total_revenue"]) - Decimal(li_tiers["total_revenue"]) == sum(his_year)
    sla = [
        sum(row["open"] for row in _json(world, who, "complaint", "sla", "list", "--json"))
        for who in ("li", "zhao")
    ]
    assert sla == [1, 2]
    ladder = [
        sum(stage["end"] for stage in _json(world, who, "loyalty", "ladder", "--json")["stages"])
        for who in ("li", "zhao")
    ]
    assert ladder == [1, 2]
    runs = {who: _json(world, who, "forecast", "runs", "--json") for who in ("li", "zhao")}
    for mine, all_ in zip(runs["li"], runs["zhao"], strict=True):  # li's share of each run: his region's
        assert Decimal(mine["total"]) < Decimal(all_["total"]), (mine, all_)
    targets = _json(world, "li", "forecast", "targets", "--list", "--json")
    assert targets and {t["salesperson"] for t in targets} == {"li"}
    li_customers = {c["code"] for c in _json(world, "li", "customer", "list", "--json")}
    assert li_customers == {"LI1"}
