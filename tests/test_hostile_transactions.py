"""Hostile plugins and unlucky operations around the command's one transaction.

- a hook cannot commit or roll back the command's transaction, and the error names the plugin;
- a failure after the commit says the change was saved, a crash before it that nothing was;
- writing customers or interactions while an installed plugin is not loaded is refused,
  naming it, unless ``--without-plugin`` or ``KEHU_ALLOW_MISSING_PLUGINS`` allows it;
- a failing plugin migration is one line naming the plugin and the revision;
- a full disk or a locked database inside a hook is a database error, not the plugin's.
"""

from __future__ import annotations

import errno
import sqlite3

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import OperationalError

from kehu_core import customers, hookimpl
from kehu_core.cli import main
from kehu_core.errors import PluginError
from kehu_core.models import Customer, InstalledPlugin, Interaction
from kehu_core.plugins import discover

HEADER = "external_ref,customer_code,kind,occurred_at,amount,satisfaction,product,note"


def count(app, model=Customer) -> int:
    with app.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def names(app) -> list[tuple[str, str | None]]:
    with app.session() as s:
        return [tuple(r) for r in s.execute(select(Customer.code, Customer.region).order_by(Customer.code))]


def write_customers(path, rows: int, bad: bool = False) -> str:
    lines = ["code,name", *(f"K{i},客户{i}" for i in range(rows))]
    if bad:
        lines.append(",缺名字")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


class Committer:
    """A plugin whose hook commits the command's transaction half-way through an import."""

    @hookimpl
    def kehu_customers_changed(self, session, changes):
        session.commit()


class RollerBack:
    """A plugin whose hook rolls the command's transaction back."""

    @hookimpl
    def kehu_customers_changed(self, session, changes):
        session.rollback()


class SneakyCommitter:
    """A plugin that ends the transaction through its connection instead of the session."""

    @hookimpl
    def kehu_customers_changed(self, session, changes):
        session.connection().commit()


class CarefulSavepoint:
    """A plugin that uses a savepoint of its own: that is allowed."""

    @hookimpl
    def kehu_customers_changed(self, session, changes):
        with session.begin_nested():
            session.execute(text("SELECT 1"))


@pytest.mark.parametrize(
    ("plugin", "verb"), [(Committer(), "commit"), (RollerBack(), "roll back"), (SneakyCommitter(), "commit")]
)
def test_a_hook_cannot_end_the_commands_transaction(
    kehu_app, kehu_cli, kehu_register_plugin, tmp_path, plugin, verb
):
    kehu_register_plugin(plugin, "sly")
    result = kehu_cli("customer", "import", write_customers(tmp_path / "c.csv", 50))
    assert result.exit_code == 1, result
    line = result.stderr.strip()
    assert line.startswith(
        f"Error: plugin 'sly' tried to {verb} the command's transaction in hook kehu_customers_changed"
    ), result
    assert "nothing was saved" in line and "\n" not in line and "Traceback" not in result.output
    assert count(kehu_app) == 0


def test_a_hook_commit_is_refused_in_the_python_api_too(kehu_app, kehu_register_plugin):
    kehu_register_plugin(Committer(), "sly")
    with pytest.raises(PluginError, match="plugin 'sly' tried to commit"), kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "华为"})
    assert count(kehu_app) == 0
    # the guard is gone after the hook: the app's own commit still works
    kehu_app.plugins.unregister("sly")
    with kehu_app.session() as s:
        s.execute(delete(InstalledPlugin).where(InstalledPlugin.name == "sly"))
    kehu_app.forget_installed_cache()
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "华为"})
    assert count(kehu_app) == 1


def test_a_savepoint_of_the_hooks_own_is_allowed(kehu_app, kehu_cli, kehu_register_plugin):
    kehu_register_plugin(CarefulSavepoint(), "careful")
    assert kehu_cli("customer", "add", "C1", "华为").exit_code == 0
    assert count(kehu_app) == 1


# -- the message after the commit -------------------------------------------------------------


def test_printing_failing_after_the_commit_says_the_change_was_saved(kehu_app, kehu_cli, monkeypatch):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C74", "name": "华为"})

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("kehu_core.cli.customer.emit_result", full)
    result = kehu_cli("customer", "edit", "C74", "--region", "华东", "--json")
    assert result.exit_code == 1, result
    assert result.stderr == (
        "Error: the change was saved; only writing the result failed: "
        "cannot write the output: No space left on device\n"
    )
    assert names(kehu_app) == [("C74", "华东")]


def test_errors_file_on_a_full_disk_after_the_commit_says_what_was_saved(kehu_app, kehu_cli, tmp_path):
    result = kehu_cli(
        "customer",
        "import",
        write_customers(tmp_path / "c.csv", 3, bad=True),
        "--skip-invalid",
        "--errors",
        "/dev/full",
    )
    assert result.exit_code == 1, result
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("Error: the change was saved; only writing the result failed: ") and (
        "No space left on device" in line
    ), result
    assert [c for c, _ in names(kehu_app)] == ["K0", "K1", "K2"]


def test_output_failing_before_any_write_says_nothing_was_saved(kehu_app, kehu_cli, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("kehu_core.cli.customer.edit_customer", full)
    result = kehu_cli("customer", "edit", "C1", "--region", "华东")
    assert result.exit_code == 1, result
    assert result.stderr == (
        "Error: cannot write the output: No space left on device; nothing of this command was saved\n"
    )


def _run_main(kehu_app, capsys, *args: str) -> tuple[int, str]:
    url = kehu_app.engine.url.render_as_string(hide_password=False)
    with pytest.raises(SystemExit) as exited:
        main(["--db", url, *args])
    return int(exited.value.code or 0), capsys.readouterr().err


def test_a_crash_after_the_commit_says_the_change_was_saved(kehu_app, capsys, monkeypatch):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C74", "name": "华为"})

    def broken(*args, **kwargs):
        raise RuntimeError("printing broke")

    monkeypatch.setattr("kehu_core.cli.customer.emit_result", broken)
    code, err = _run_main(kehu_app, capsys, "customer", "edit", "C74", "--region", "华东", "--json")
    assert code == 70
    assert (
        "kehu crashed: this is a bug, and the change was saved (its transaction had committed); only "
        "what came after it failed: RuntimeError: printing broke." in err
    ), err
    assert "nothing of this command was saved" not in err
    assert names(kehu_app) == [("C74", "华东")]


def test_a_crash_before_the_commit_says_nothing_was_saved(kehu_app, capsys, monkeypatch):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C74", "name": "华为"})
    real = customers.edit_customer

    def broken(app, session, code, values):
        real(app, session, code, values)
        raise RuntimeError("after the write, before the commit")

    monkeypatch.setattr("kehu_core.cli.customer.edit_customer", broken)
    code, err = _run_main(kehu_app, capsys, "customer", "edit", "C74", "--region", "华东")
    assert code == 70
    assert "kehu crashed: this is a bug, and nothing of this command was saved." in err, err
    assert names(kehu_app) == [("C74", None)]


# -- an installed plugin that is not loaded ---------------------------------------------------


@pytest.fixture
def without_loyalty(kehu_app, kehu_install, monkeypatch):
    """loyalty installed here, then left out by KEHU_PLUGINS; customer C1 exists."""
    kehu_install("loyalty")
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "华为"})
    monkeypatch.setenv("KEHU_PLUGINS", "tiering,complaints")
    kehu_app.plugins = discover(strict=False)
    kehu_app.forget_installed_cache()
    assert "loyalty" not in kehu_app.plugins.loaded
    return kehu_app


def purchases(path, n: int) -> str:
    lines = [HEADER, *(f"P{i},C1,purchase,2024-05-0{1 + i % 9} 10:00,100,,," for i in range(n))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_writing_without_an_installed_plugin_is_refused(without_loyalty, kehu_cli, tmp_path):
    app = without_loyalty
    result = kehu_cli("interaction", "import", purchases(tmp_path / "p.csv", 5))
    assert result.exit_code == 1, result
    line = result.stderr.strip()
    assert line.startswith(
        "Error: plugin(s) loyalty are installed in this database but not loaded here "
        "(KEHU_PLUGINS leaves them out)"
    ), result
    assert "--without-plugin loyalty" in line and "\n" not in line
    assert count(app, Interaction) == 0
    refused = kehu_cli("customer", "add", "C2", "小米")
    assert refused.exit_code == 1 and "plugin(s) loyalty are installed" in refused.stderr
    assert count(app) == 1


def test_reading_without_an_installed_plugin_is_allowed(without_loyalty, kehu_cli):
    listed = kehu_cli("customer", "list", "--json")
    assert listed.exit_code == 0, listed
    assert [c["code"] for c in listed.json] == ["C1"]
    assert kehu_cli("customer", "show", "C1").exit_code == 0


def test_without_plugin_option_allows_the_write(without_loyalty, kehu_cli, tmp_path):
    result = kehu_cli(
        "--without-plugin", "loyalty", "interaction", "import", purchases(tmp_path / "p.csv", 5)
    )
    assert result.exit_code == 0, result
    assert count(without_loyalty, Interaction) == 5


def test_allow_missing_environment_allows_the_write(without_loyalty, kehu_cli):
    result = kehu_cli("customer", "add", "C2", "小米", env={"KEHU_ALLOW_MISSING_PLUGINS": "loyalty"})
    assert result.exit_code == 0, result
    assert count(without_loyalty) == 2


def test_the_python_api_refuses_too(without_loyalty):
    app = without_loyalty
    with pytest.raises(PluginError, match=r"plugin\(s\) loyalty are installed"), app.session() as s:
        customers.add_customer(app, s, {"code": "C2", "name": "小米"})
    assert count(app) == 1
    app.allow_missing.add("loyalty")
    with app.session() as s:
        customers.add_customer(app, s, {"code": "C2", "name": "小米"})
    assert count(app) == 2


def test_upgrading_and_uninstalling_stay_allowed(without_loyalty, kehu_cli):
    assert kehu_cli("db", "upgrade").exit_code == 0
    forgot = kehu_cli("plugins", "uninstall", "loyalty", "--forget", input="y\n")
    assert forgot.exit_code == 0, forgot
    assert kehu_cli("customer", "add", "C2", "小米").exit_code == 0


# -- a failing plugin migration ---------------------------------------------------------------

BROKEN = """
from kehu_core import Manifest
MANIFEST = Manifest(models="kehu_broken.models:metadata", migrations="migrations")
"""
BROKEN_MODELS = "from sqlalchemy import MetaData\nmetadata = MetaData()\n"
BROKEN_REVISION = """
from alembic import op

revision = "broken0001"
down_revision = None
branch_labels = ("broken",)
depends_on = "c0001"


def upgrade():
    op.execute("CREATE TABLE broken_items (id INTEGER PRIMARY KEY)")
    op.execute("SELECT no_such_column FROM broken_items")


def downgrade():
    op.execute("DROP TABLE broken_items")
"""


def test_a_failing_migration_names_the_plugin_and_revision(kehu_app, kehu_cli, kehu_distributions):
    kehu_distributions.add(
        "broken",
        BROKEN,
        files={"models.py": BROKEN_MODELS, "migrations/broken0001_initial.py": BROKEN_REVISION},
    )
    kehu_app.plugins = kehu_distributions.discover()
    result = kehu_cli("plugins", "install", "broken")
    assert result.exit_code == 1, result
    line = result.stderr.strip()
    assert line.startswith("Error: plugin broken's migration broken0001 failed: "), result
    assert "no_such_column" in line and "\n" not in line and "Traceback" not in result.output
    with kehu_app.session() as s:
        assert s.scalar(select(func.count()).select_from(InstalledPlugin)) == 0
    with kehu_app.engine.connect() as conn:
        assert not kehu_app.engine.dialect.has_table(conn, "broken_items")


# -- the database's trouble inside a hook -----------------------------------------------------


class DiskFull:
    """A hook during which the database reports a full disk (as SQLite does)."""

    @hookimpl
    def kehu_customers_changed(self, session, changes):
        raise OperationalError(
            "INSERT INTO loyalty_ledger ...", {}, sqlite3.OperationalError("database or disk is full")
        )


class Locked:
    @hookimpl
    def kehu_customers_changed(self, session, changes):
        raise OperationalError("UPDATE customers ...", {}, sqlite3.OperationalError("database is locked"))


class NoTable:
    @hookimpl
    def kehu_customers_changed(self, session, changes):
        raise OperationalError("SELECT * FROM x", {}, sqlite3.OperationalError("no such table: x"))


def test_a_full_disk_in_a_hook_is_a_database_error_not_the_plugins(kehu_app, kehu_cli, kehu_register_plugin):
    kehu_register_plugin(DiskFull(), "loyalty_like")
    result = kehu_cli("customer", "add", "C1", "华为")
    assert result.exit_code == 1, result
    assert result.stderr == (
        "Error: the disk holding the database is full: database or disk is full. This command's "
        "transaction was rolled back; free some space and run it again.\n"
    )
    assert "loyalty_like" not in result.output
    assert count(kehu_app) == 0


def test_a_locked_database_in_a_hook_is_a_database_error(kehu_app, kehu_cli, kehu_register_plugin):
    kehu_register_plugin(Locked(), "loyalty_like")
    result = kehu_cli("customer", "add", "C1", "华为")
    assert result.exit_code == 1, result
    assert result.stderr.startswith("Error: the database stayed locked by another kehu process"), result
    assert "loyalty_like" not in result.output
    assert count(kehu_app) == 0


def test_other_operational_errors_in_a_hook_still_name_the_plugin(kehu_app, kehu_cli, kehu_register_plugin):
    kehu_register_plugin(NoTable(), "tableless")
    result = kehu_cli("customer", "add", "C1", "华为")
    assert result.exit_code == 1, result
    assert "plugin 'tableless' failed in hook kehu_customers_changed" in result.stderr
    assert count(kehu_app) == 0
