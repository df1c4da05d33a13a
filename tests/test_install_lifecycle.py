"""Available vs installed plugins: list, install with dependencies, uninstall, reinstall, auto_install.

The plugins are fake pip-installed distributions (``kehu_distributions``), found through
their ``kehu.plugins`` entry points like real ones; only they are loaded (allow-list).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from kehu_core import customers, installer, interactions, jobs
from kehu_core.errors import NotInstalled, PluginError
from kehu_core.models import Customer, DataRecord, InstalledPlugin, JobRun

NOTES = Path(__file__).parent / "plugin_fixtures" / "notes"

NEEDY = """
from kehu_core import Manifest, hookimpl
MANIFEST = Manifest(name="needy", version="0.3", summary="needs notes", depends=["notes"])

@hookimpl
def kehu_interaction_kinds():
    return ["needy_call"]
"""

GLUE = """
from kehu_core import Manifest, hookimpl
MANIFEST = Manifest(
    name="glue", version="1.0", summary="notes x needy glue", depends=["notes", "needy"], auto_install=True
)

@hookimpl
def kehu_interaction_kinds():
    return ["glued"]
"""


COMPANY = """
from kehu_core import Manifest
MANIFEST = Manifest(depends=["notes"], data="kehu_company.data:default_records", hooks="kehu_company.hooks")
"""

# A company plugin's default data: two categories in notes' table and a customer in the core's.
COMPANY_DATA = """
from kehu_notes.models import categories
from kehu_core import DefaultRecord
from kehu_core.models import Customer

def default_records():
    return [
        DefaultRecord(table=categories, key={"code": "vip"}, values={"label": "VIP 大客户"}),
        DefaultRecord(table=categories, key={"code": "lost"}, values={"label": "Lost 流失"}),
        DefaultRecord(Customer.__table__, key={"code": "HQ"}, values={"name": "总部", "kind": "company"}),
    ]
"""

COMPANY_HOOKS = """
from datetime import timedelta
from kehu_core import hookimpl
from kehu_core.hooktypes import Job

def weekly(app, session, now):
    return "sent"

@hookimpl
def kehu_scheduled_jobs():
    return [Job("company.weekly", timedelta(days=7), weekly, plugin="company")]
"""

WATCHER = """
from sqlalchemy import inspect
from kehu_core import Manifest, hookimpl
MANIFEST = Manifest(hooks="kehu_watcher")
SEEN = []

@hookimpl
def kehu_plugin_uninstalled(app, session, name):
    tables = inspect(session.connection()).has_table("notes_items")
    SEEN.append((name, tables, name in app.installed(session)))
"""


def plain(name: str, depends: tuple[str, ...] = (), extra: str = "") -> str:
    """A plugin module with nothing but a manifest."""
    return (
        "from kehu_core import Manifest, hookimpl\n"
        f"MANIFEST = Manifest(name={name!r}, version='1.0', depends={list(depends)!r})\n{extra}"
    )


@pytest.fixture
def kehu_plugins(kehu_distributions):
    """Only these fake plugins are available in the tests of this module."""
    kehu_distributions.add("notes", tree=NOTES)
    kehu_distributions.add("needy", NEEDY, version="0.3")
    kehu_distributions.add("lonely", plain("lonely", ("absent",)))
    kehu_distributions.add("cyc_a", plain("cyc_a", ("cyc_b",)))
    kehu_distributions.add("cyc_b", plain("cyc_b", ("cyc_a",)))
    return kehu_distributions.discover()


def tables(app) -> set[str]:
    with app.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def installed(app) -> dict[str, str]:
    with app.session() as s:
        return dict(s.execute(select(InstalledPlugin.name, InstalledPlugin.version)).all())


def add_customer(app, code="C1", name="华为"):
    with app.session() as s:
        customers.add_customer(app, s, {"code": code, "name": name})


def test_plugins_list_shows_available_and_installed(kehu_app, kehu_cli, kehu_install):
    kehu_install("notes")
    rows = {r["name"]: r for r in kehu_cli("plugins", "list", "--json").json["plugins"]}
    notes, needy = rows["notes"], rows["needy"]
    assert (notes["installed"], notes["available"], notes["version"], notes["distribution"]) == (
        True,
        True,
        "1.0",
        "kehu-notes",
    )
    assert notes["hooks"] == ["kehu_interactions_recorded"]
    assert (needy["installed"], needy["available"], needy["depends"], needy["version"]) == (
        False,
        True,
        ["notes"],
        "0.3",
    )
    assert needy["hooks"] == ["kehu_interaction_kinds"]
    assert all(r["error"] is None for r in rows.values())
    table = kehu_cli("plugins", "list").output
    assert "notes" in table and "installed" in table and "available" in table


def test_install_resolves_dependencies_first(kehu_app, kehu_cli):
    result = kehu_cli("plugins", "install", "needy", "--json")
    assert result.exit_code == 0, result
    assert result.json == {"installed": ["notes", "needy"]}
    assert installed(kehu_app) == {"notes": "1.0", "needy": "0.3"}
    assert {"notes_items", "notes_categories"} <= tables(kehu_app)
    again = kehu_cli("plugins", "install", "needy")
    assert again.exit_code == 0 and "already installed" in again.output


@pytest.mark.parametrize(
    "name, message",
    [
        ("lonely", "cannot install plugin 'absent' (needed by lonely): it is not available"),
        ("cyc_a", "cyclic plugin dependency: cyc_a -> cyc_b -> cyc_a"),
        ("nosuch", "cannot install plugin 'nosuch': it is not available (pip install kehu-nosuch?)"),
    ],
)
def test_missing_or_cyclic_dependency_is_a_clear_error(kehu_app, kehu_cli, name, message):
    result = kehu_cli("plugins", "install", "notes", name)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert installed(kehu_app) == {}  # all or nothing: notes, named first, was not installed either
    assert "notes_items" not in tables(kehu_app)


def test_uninstall_asks_drops_tables_and_keeps_core_data(kehu_app, kehu_cli, kehu_install):
    kehu_install("notes")
    add_customer(kehu_app)
    assert kehu_cli("notes", "add", "C1", "likes tea 喜欢喝茶").exit_code == 0

    declined = kehu_cli("plugins", "uninstall", "notes", input="n\n")
    assert declined.exit_code == 1 and "Aborted" in declined.output
    assert "notes_items" in tables(kehu_app) and "notes" in installed(kehu_app)

    confirmed = kehu_cli("plugins", "uninstall", "notes", input="y\n")
    assert confirmed.exit_code == 0, confirmed
    assert not {"notes_items", "notes_categories", "notes_lifecycle"} & tables(kehu_app)
    assert installed(kehu_app) == {}
    with kehu_app.session() as s:
        assert s.scalar(select(Customer.name)) == "华为"
        assert s.scalar(select(func.count()).select_from(DataRecord)) == 0


def test_uninstall_with_yes_and_refused_while_a_dependent_is_installed(kehu_app, kehu_cli, kehu_install):
    kehu_install("needy")
    refused = kehu_cli("plugins", "uninstall", "notes", "--yes")
    assert refused.exit_code == 1
    assert "installed plugin(s) needy depend on it" in refused.output
    assert "notes_items" in tables(kehu_app)
    assert kehu_cli("plugins", "uninstall", "needy", "--yes").exit_code == 0
    assert kehu_cli("plugins", "uninstall", "notes", "--yes").exit_code == 0
    assert installed(kehu_app) == {}
    not_there = kehu_cli("plugins", "uninstall", "notes", "--yes")
    assert not_there.exit_code == 1 and "not installed in this database" in not_there.output


def test_reinstall_after_uninstall_works(kehu_app, kehu_cli, kehu_install):
    add_customer(kehu_app)
    for _ in range(2):
        kehu_install("notes")
        assert kehu_cli("notes", "add", "C1", "第一次").exit_code == 0
        assert kehu_cli("notes", "list", "--json").json == [{"customer_id": 1, "body": "第一次"}]
        with kehu_app.session() as s:
            labels = dict(s.execute(text("SELECT code, label FROM notes_categories")).all())
            events = list(s.execute(text("SELECT event FROM notes_lifecycle")).scalars())
        assert labels == {"general": "General 一般", "followup": "Follow-up 跟进"}
        assert events == ["after_install"]
        assert kehu_cli("plugins", "uninstall", "notes", "--yes").exit_code == 0


def test_auto_install_glue_plugin_follows_its_dependencies(kehu_app, kehu_distributions, kehu_install):
    kehu_distributions.add("glue", GLUE)
    kehu_app.plugins = kehu_distributions.discover()
    kehu_app.forget_installed_cache()
    assert kehu_install("notes") == ["notes"]  # glue still lacks needy
    assert kehu_install("needy") == ["needy", "glue"]
    assert set(installed(kehu_app)) == {"notes", "needy", "glue"}
    assert "glued" in kehu_app.interaction_kinds()


def test_available_but_not_installed_plugin_is_inert(kehu_app, kehu_cli):
    """Its commands exist but say how to install it; its hooks are not called here."""
    add_customer(kehu_app)
    result = kehu_cli("notes", "add", "C1", "hello")
    assert result.exit_code == 1
    assert "plugin 'notes' is available but not installed in this database" in result.output
    assert "kehu plugins install notes" in result.output
    assert "notes_items" not in tables(kehu_app)
    # notes implements kehu_interactions_recorded, which would fail without its table.
    logged = kehu_cli("interaction", "log", "C1", "visit", "--json")
    assert logged.exit_code == 0, logged
    assert "needy_call" not in kehu_app.interaction_kinds()


def test_a_plugin_that_is_not_available_says_to_pip_install_it(kehu_app):
    with pytest.raises(NotInstalled, match="pip install kehu-absent"):
        kehu_app.require_installed("absent")


def test_before_install_can_refuse_and_nothing_is_installed(kehu_app, kehu_distributions, kehu_install):
    kehu_distributions.add(
        "picky",
        "from kehu_core import Manifest\n"
        "MANIFEST = Manifest(depends=['notes'], pre_init_hook='kehu_picky:refuse')\n"
        "def refuse(app, session):\n    raise RuntimeError('needs a licence key')\n",
    )
    kehu_app.plugins = kehu_distributions.discover()
    kehu_app.forget_installed_cache()
    with pytest.raises(
        PluginError, match="plugin 'picky' failed in its pre_init_hook: RuntimeError: needs a licence key"
    ):
        kehu_install("picky")
    assert installed(kehu_app) == {}
    assert "notes_items" not in tables(kehu_app)


def test_db_upgrade_brings_core_and_installed_plugins_to_head(kehu_app, kehu_cli, kehu_install):
    kehu_install("notes")
    result = kehu_cli("db", "upgrade", "--json")
    assert result.exit_code == 0, result
    assert result.json == {"upgraded": ["core", "notes"]}
    status = kehu_cli("db", "status", "--json").json["branches"]
    assert [(b["branch"], b["current"], b["up_to_date"]) for b in status] == [
        ("core", "c0003", True),
        ("notes", "notes0001", True),
    ]


def test_installer_service_refuses_unknown_uninstall(kehu_app):
    with kehu_app.session() as s, pytest.raises(PluginError, match="not installed"):
        installer.uninstall(kehu_app, s, "notes")


def test_a_plugin_whose_package_disappeared_blocks_nothing(
    kehu_app, kehu_cli, kehu_install, kehu_distributions
):
    """notes is installed here, then pip-uninstalled: core upgrades and commands keep working."""
    kehu_install("needy")  # notes + needy
    add_customer(kehu_app)
    assert kehu_cli("notes", "add", "C1", "留着").exit_code == 0
    kehu_distributions.remove("notes")
    kehu_app.plugins = kehu_distributions.discover()
    kehu_app.forget_installed_cache()

    upgraded = kehu_cli("db", "upgrade", "--json")
    assert upgraded.exit_code == 0, (upgraded, upgraded.exception)
    assert upgraded.json == {
        "upgraded": ["core"],
        "skipped": ["needy", "notes"],
    }  # needy has no tables; notes cannot run
    status = kehu_cli("db", "status", "--json")
    assert status.exit_code == 0 and status.json["branches"][0] == {
        "branch": "core",
        "current": "c0003",
        "head": "c0003",
        "up_to_date": True,
    }
    listed = {r["name"]: r for r in kehu_cli("plugins", "list", "--json").json["plugins"]}
    assert listed["notes"]["installed"] is True and "not available" in listed["notes"]["error"]
    refused = kehu_cli("customer", "add", "C2", "小米")  # notes may react to customers: not without it
    assert refused.exit_code == 1 and "plugin(s) notes are installed" in refused.output
    assert kehu_cli("--without-plugin", "notes", "customer", "add", "C2", "小米").exit_code == 0

    # needy still depends on notes (recorded installed): uninstall notes is refused for that,
    refused = kehu_cli("plugins", "uninstall", "notes", "--yes")
    assert refused.exit_code == 1 and "needy depend on it" in refused.output
    assert kehu_cli("plugins", "uninstall", "needy", "--yes").exit_code == 0
    # and then because its migrations are gone, unless the user asks to forget it.
    refused = kehu_cli("plugins", "uninstall", "notes", "--yes")
    assert (
        refused.exit_code == 1 and "pip install kehu-notes" in refused.output and "--forget" in refused.output
    )
    forgot = kehu_cli("plugins", "uninstall", "notes", "--forget", input="y\n")
    assert forgot.exit_code == 0 and "its tables are left" in forgot.output
    assert "notes" not in installed(kehu_app) and "notes_items" in tables(kehu_app)

    # The package comes back: installing again finds its tables and its data as they were.
    kehu_distributions.add("notes", tree=NOTES)
    kehu_app.plugins = kehu_distributions.discover()
    kehu_app.forget_installed_cache()
    kehu_install("notes")
    assert kehu_cli("notes", "list", "--json").json == [{"customer_id": 1, "body": "留着"}]
    assert kehu_cli("plugins", "uninstall", "notes", "--yes").exit_code == 0
    assert "notes_items" not in tables(kehu_app)


def test_install_all_skips_plugins_whose_dependency_is_missing(kehu_app, kehu_cli):
    result = kehu_cli("plugins", "install", "--all", "--json")
    assert result.exit_code == 0, result
    assert result.json == {"installed": ["notes", "needy"]}
    assert (
        "warning: skipped lonely: cannot install plugin 'absent' (needed by lonely): it is not available"
        in result.stderr
    )
    # The cyclic pair cannot be installed either: each depends on the other.
    assert "skipped cyc_a" in result.stderr and "skipped cyc_b" in result.stderr


def test_before_uninstall_can_refuse_and_nothing_is_dropped(
    kehu_app, kehu_cli, kehu_distributions, kehu_install
):
    source = (
        (NOTES / "__init__.py")
        .read_text(encoding="utf-8")
        .replace("min_core_version=", "uninstall_hook='kehu_notes.refusal:refuse', min_core_version=")
    )
    refusal = "def refuse(app, session):\n    raise RuntimeError('export your notes first 请先导出')\n"
    kehu_distributions.add("notes", source, tree=NOTES, files={"refusal.py": refusal})
    kehu_app.plugins = kehu_distributions.discover("notes")
    kehu_app.forget_installed_cache()
    kehu_install("notes")
    result = kehu_cli("plugins", "uninstall", "notes", "--yes")
    assert result.exit_code == 1
    assert (
        "plugin 'notes' failed in its uninstall_hook: RuntimeError: export your notes first 请先导出"
        in result.output
    )
    assert "notes_items" in tables(kehu_app) and "notes" in installed(kehu_app)


def add_company(app, fakes) -> None:
    fakes.add("company", COMPANY, files={"data.py": COMPANY_DATA, "hooks.py": COMPANY_HOOKS})
    app.plugins = fakes.discover()
    app.forget_installed_cache()


def test_uninstall_deletes_its_default_rows_in_other_tables_unless_the_user_changed_them(
    kehu_app, kehu_cli, kehu_distributions, kehu_install
):
    add_company(kehu_app, kehu_distributions)
    assert kehu_install("company") == ["notes", "company"]
    with kehu_app.session() as s:
        s.execute(text("UPDATE notes_categories SET label = '流失客户' WHERE code = 'lost'"))
        assert s.scalar(select(Customer.name).where(Customer.code == "HQ")) == "总部"

    result = kehu_cli("plugins", "uninstall", "company", "--yes")
    assert result.exit_code == 0, result
    assert result.output == (
        "uninstalled company\n"
        "kept 1 row(s) of its default data in other tables:\n"
        "  notes_categories (code=lost): changed by the user: label\n"
    )
    assert rows(kehu_app, "SELECT code, label FROM notes_categories ORDER BY code") == [
        ("followup", "Follow-up 跟进"),
        ("general", "General 一般"),
        ("lost", "流失客户"),
    ]
    assert rows(kehu_app, "SELECT count(*) FROM customers") == [(0,)]
    with kehu_app.session() as s:
        assert sorted(s.scalars(select(DataRecord.plugin))) == ["notes", "notes"]


def test_uninstall_reports_what_it_kept(kehu_app, kehu_distributions, kehu_install):
    add_company(kehu_app, kehu_distributions)
    kehu_install("company")
    with kehu_app.session() as s:
        s.execute(text("UPDATE customers SET name = '北京总部' WHERE code = 'HQ'"))
        s.execute(text("DELETE FROM notes_categories WHERE code = 'lost'"))
        done = installer.uninstall(kehu_app, s, "company")
    assert done == installer.Uninstalled(
        name="company",
        deleted_rows=1,
        kept_rows=(installer.KeptRow("customers", {"code": "HQ"}, "changed by the user: name"),),
    )
    assert rows(kehu_app, "SELECT code, name FROM customers") == [("HQ", "北京总部")]


def test_uninstall_keeps_a_default_row_other_rows_refer_to(kehu_app, kehu_distributions, kehu_install):
    add_company(kehu_app, kehu_distributions)
    kehu_install("company")
    with kehu_app.session() as s:
        interactions.log_interaction(
            kehu_app, s, {"customer_code": "HQ", "kind": "visit", "occurred_at": "2026-03-02T09:00:00+08:00"}
        )
        done = installer.uninstall(kehu_app, s, "company")
        assert (done.deleted_rows, done.kept_rows) == (
            2,
            (installer.KeptRow("customers", {"code": "HQ"}, "other rows refer to it"),),
        )
    assert rows(kehu_app, "SELECT code FROM customers") == [("HQ",)]


def test_uninstall_forgets_its_job_history_so_a_reinstalled_job_is_due(
    kehu_app, kehu_distributions, kehu_install
):
    add_company(kehu_app, kehu_distributions)
    kehu_install("company")
    monday = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert [(o.name, o.status) for o in jobs.run_due(kehu_app, monday)] == [("company.weekly", "ok")]
    assert [j.due for j in jobs.job_statuses(kehu_app, monday)] == [False]

    with kehu_app.session() as s:
        assert installer.uninstall(kehu_app, s, "company").job_runs == 1
        assert s.scalar(select(func.count()).select_from(JobRun)) == 0
    kehu_install("company")
    assert [(j.name, j.last_run, j.due) for j in jobs.job_statuses(kehu_app, monday)] == [
        ("company.weekly", None, True)
    ]


def test_other_plugins_hear_of_an_uninstall_after_the_tables_are_dropped(
    kehu_app, kehu_distributions, kehu_install
):
    kehu_distributions.add("watcher", WATCHER)
    add_company(kehu_app, kehu_distributions)
    kehu_install("watcher", "company")
    seen = sys.modules["kehu_watcher"].SEEN
    with kehu_app.session() as s:
        installer.uninstall(kehu_app, s, "company")
        installer.uninstall(kehu_app, s, "notes")
    # (name, notes' table still there, the plugin still installed)
    assert seen == [("company", True, False), ("notes", False, False)]


def test_a_plugin_refusing_an_uninstall_in_the_hook_keeps_everything(
    kehu_app, kehu_distributions, kehu_install, kehu_cli
):
    refusing = WATCHER.replace("    tables = ", "    raise RuntimeError('not now')\n    tables = ")
    kehu_distributions.add("watcher", refusing)
    kehu_app.plugins = kehu_distributions.discover()
    kehu_app.forget_installed_cache()
    kehu_install("watcher", "notes")
    result = kehu_cli("plugins", "uninstall", "notes", "--yes")
    assert result.exit_code == 1 and "not now" in result.output
    assert "notes_items" in tables(kehu_app) and set(installed(kehu_app)) == {"watcher", "notes"}


def rows(app, sql: str) -> list[tuple]:
    with app.session() as s:
        return [tuple(r) for r in s.execute(text(sql))]
