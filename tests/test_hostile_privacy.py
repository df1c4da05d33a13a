"""Hostile and unlucky operations on personal data: erasure really erases (issue 16, point 6),
read commands create no database and an old schema says "run kehu db upgrade" (point 11)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select, text

from kehu_core import customers, db, schema
from kehu_core.app import Kehu
from kehu_core.cli import create_cli
from kehu_core.errors import NotFound
from kehu_core.models import Customer
from kehu_core.plugins import BUILTIN
from kehu_core.privacy import Forgotten, require_not_forgotten
from kehu_core.schemacheck import SchemaBehind, behind, require_up_to_date

PHONE = "13912345678"
EMAIL = "zhang.wei@example.cn"


def add(app: Kehu, **values: str) -> None:
    with app.session() as s:
        customers.add_customer(app, s, values)


def sqlite_path(app: Kehu) -> Path:
    path = db.sqlite_file(app.engine.url)
    assert path is not None
    return path


def file_bytes(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""


# -- secure delete and the write-ahead log ------------------------------------------------------


def test_every_sqlite_connection_has_secure_delete(kehu_app, kehu_backend):
    if kehu_backend != "sqlite":
        pytest.skip("a SQLite pragma")
    with kehu_app.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_forget_leaves_no_personal_bytes_in_file_nor_wal(kehu_app, kehu_cli, kehu_backend):
    """Another connection (the test's own app, with its pool) keeps the file open all along:
    without the checkpoint, the erased values stayed in -wal."""
    if kehu_backend != "sqlite":
        pytest.skip("SQLite files")
    add(kehu_app, code="C1", name="张伟", phone=PHONE, email=EMAIL)
    for n in range(10):  # the phone number's old page images, many times over
        assert kehu_cli("customer", "edit", "C1", "--region", f"华东{n}").exit_code == 0
    path = sqlite_path(kehu_app)
    wal = path.with_name(path.name + "-wal")
    # The test's app holds a pooled connection to the file, open, while the CLI forgets.
    with kehu_app.engine.connect() as held:
        held.exec_driver_sql("SELECT 1").all()
        held.commit()
        before = file_bytes(path) + file_bytes(wal)
        assert PHONE.encode() in before
        result = kehu_cli("customer", "forget", "C1", "--yes")
        assert result.exit_code == 0, result.output
        for value in (PHONE, EMAIL, "张伟"):
            assert value.encode() not in file_bytes(path), value
            assert value.encode() not in file_bytes(wal), value
        assert file_bytes(wal) == b""


def test_a_reader_holding_an_old_snapshot_keeps_the_wal_until_vacuum(kehu_app, kehu_cli, kehu_backend):
    """With another connection inside a read transaction, SQLite cannot empty the log: the
    forget still succeeds (after a bounded wait), and `kehu db vacuum` empties it later."""
    if kehu_backend != "sqlite":
        pytest.skip("SQLite files")
    add(kehu_app, code="C1", name="张伟", phone=PHONE)
    path = sqlite_path(kehu_app)
    wal = path.with_name(path.name + "-wal")
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT phone FROM customers").fetchall() == [(PHONE,)]
        assert kehu_cli("customer", "forget", "C1", "--yes").exit_code == 0
        # The reader's snapshot still shows the phone: its pages must stay until it ends.
        assert reader.execute("SELECT phone FROM customers").fetchall() == [(PHONE,)]
        assert PHONE.encode() in file_bytes(path) + file_bytes(wal)
        reader.execute("COMMIT")
    finally:
        reader.close()
    result = kehu_cli("db", "vacuum")
    assert result.exit_code == 0, result.output
    assert "vacuumed" in result.output
    assert PHONE.encode() not in file_bytes(path) + file_bytes(wal)
    assert file_bytes(wal) == b""


def test_db_vacuum_json(kehu_app, kehu_cli, kehu_backend):
    add(kehu_app, code="C1", name="张伟", phone=PHONE)
    assert kehu_cli("customer", "forget", "C1", "--yes").exit_code == 0
    result = kehu_cli("db", "vacuum", "--json")
    assert result.exit_code == 0, result.output
    vacuumed = result.json["vacuumed"]
    if kehu_backend == "sqlite":
        assert vacuumed == ["*"]
    else:
        assert {"customers", "customer_tags", "interactions"} <= set(vacuumed)
        with kehu_app.engine.connect() as conn:
            dead = conn.execute(
                text("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'customers'")
            ).scalar()
        assert dead in (0, None)
    with kehu_app.session() as s:
        assert s.scalar(select(Customer.phone).where(Customer.code == "C1")) is None


def test_db_vacuum_on_postgresql_runs_outside_a_transaction(kehu_app, kehu_cli, kehu_backend):
    if kehu_backend != "postgresql":
        pytest.skip("PostgreSQL's VACUUM")
    result = kehu_cli("db", "vacuum", "--full")
    assert result.exit_code == 0, result.output
    assert "table(s)" in result.output


# -- forgotten customers accept no new personal data ----------------------------------------------


def test_restore_of_a_forgotten_customer_is_refused(kehu_app, kehu_cli):
    add(kehu_app, code="C1", name="张伟", phone=PHONE)
    assert kehu_cli("customer", "forget", "C1", "--yes").exit_code == 0
    result = kehu_cli("customer", "archive", "C1", "--restore")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: customer 'C1' was forgotten (personal data erased): it cannot be restored "
        "(erasure is final); nothing was changed"
    )
    with kehu_app.session() as s:
        customer = customers.get_customer(s, "C1")
        assert customer.active is False and customer.forgotten_at is not None


def test_edit_of_a_forgotten_customer_is_refused(kehu_app, kehu_cli):
    add(kehu_app, code="C1", name="张伟")
    assert kehu_cli("customer", "forget", "C1", "--yes").exit_code == 0
    result = kehu_cli("customer", "edit", "C1", "--phone", PHONE)
    assert result.exit_code == 1
    assert "was forgotten (personal data erased): it cannot be edited" in result.output
    with kehu_app.session() as s:
        assert customers.get_customer(s, "C1").phone is None


def test_require_not_forgotten_is_the_one_check(kehu_app):
    add(kehu_app, code="C1", name="张伟")
    add(kehu_app, code="C2", name="李娜")
    with kehu_app.session() as s:
        require_not_forgotten(customers.get_customer(s, "C2"))  # not forgotten: passes
    with kehu_app.session() as s:
        customer = customers.get_customer(s, "C1")
        customer.forgotten_at = customer.updated_at
    with kehu_app.session() as s, pytest.raises(Forgotten, match="accepts no new personal data"):
        require_not_forgotten(customers.get_customer(s, "C1"))


def test_loyalty_earn_with_a_reason_on_a_forgotten_customer_is_refused(kehu_app, kehu_cli, kehu_install):
    if "loyalty" not in kehu_app.plugins.loaded:
        pytest.skip("loyalty not available")
    kehu_install("loyalty")
    add(kehu_app, code="C1", name="张伟", phone=PHONE)
    assert kehu_cli("loyalty", "enroll", "C1").exit_code == 0
    assert kehu_cli("customer", "forget", "C1", "--yes").exit_code == 0
    result = kehu_cli("loyalty", "earn", "C1", "100", "--reason", "张伟的生日")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: customer 'C1' was forgotten (personal data erased): it accepts no new personal data "
        "(the reason of a manual entry); nothing was changed"
    )
    with kehu_app.engine.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM loyalty_ledger WHERE reason LIKE '%张伟%'")).scalar() == 0
        )


#: ``kehu forecast opportunity add`` for customer C1, without a note.
OPPORTUNITY = ("forecast", "opportunity", "add", "C1", "1000", "--close", "2030-01-31", "--stage", "线索")


def test_forecast_note_on_a_forgotten_customer_is_refused(kehu_app, kehu_cli, kehu_install):
    if "forecast" not in kehu_app.plugins.loaded:
        pytest.skip("forecast not available")
    kehu_install("forecast")
    add(kehu_app, code="C1", name="张伟", owner="王芳")
    assert kehu_cli("customer", "forget", "C1", "--yes").exit_code == 0
    result = kehu_cli(*OPPORTUNITY, "--note", "张伟想要折扣")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: customer 'C1' was forgotten (personal data erased): it accepts no new personal data "
        "(the opportunity's note); nothing was changed"
    )
    with kehu_app.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM forecast_opportunities")).scalar() == 0
    # Without free text the anonymous figures are still welcome.
    plain = kehu_cli(*OPPORTUNITY)
    assert plain.exit_code == 0, plain.output


def test_acme_note_on_a_forgotten_customer_is_refused(kehu_app, kehu_cli, kehu_install):
    if "acme_rules" not in kehu_app.plugins.loaded:
        pytest.skip("acme_rules not available")
    kehu_install("acme_rules")
    add(kehu_app, code="C1", name="张伟")
    assert kehu_cli("customer", "forget", "C1", "--yes").exit_code == 0
    result = kehu_cli("--as", "王芳", "acme", "set", "C1", "--influence", "--note", "张伟是省长的亲戚")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: customer 'C1' was forgotten (personal data erased): it accepts no new personal data "
        "(the judgement's note); nothing was changed"
    )
    with kehu_app.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM acme_rules_customer_flags")).scalar() == 0


# -- export includes everything forget erases -----------------------------------------------------


def test_forecast_export_has_every_column_forget_erases(kehu_app, kehu_cli, kehu_install):
    """The columns forget erases in the forecast plugin's tables, against those export shows."""
    if "forecast" not in kehu_app.plugins.loaded:
        pytest.skip("forecast not available")
    kehu_install("forecast")
    add(kehu_app, code="C1", name="张伟", owner="王芳")
    added = kehu_cli(*OPPORTUNITY, "--note", "张伟想要折扣")
    assert added.exit_code == 0, added.output
    tables = [t for t in inspect(kehu_app.engine).get_table_names() if t.startswith("forecast_")]
    with kehu_app.engine.connect() as conn:
        before = {t: [dict(r) for r in conn.execute(text(f"SELECT * FROM {t}")).mappings()] for t in tables}
    exported = kehu_cli("customer", "export", "C1").json
    assert exported["opportunities"][0]["note"] == "张伟想要折扣"
    assert kehu_cli("customer", "forget", "C1", "--yes").exit_code == 0
    with kehu_app.engine.connect() as conn:
        after = {t: [dict(r) for r in conn.execute(text(f"SELECT * FROM {t}")).mappings()] for t in tables}
    erased = {
        column
        for t in tables
        for old, new in zip(before[t], after[t], strict=True)
        for column in old
        if old[column] is not None and new[column] is None  # erased, not merely touched (updated_at)
    }
    assert erased == {"note"}
    assert erased <= set(exported["opportunities"][0])


# -- read commands never create a database --------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("plugins", "list"), ("customer", "list"), ("db", "status"), ("customer", "show", "C1")],
)
def test_opening_for_reading_does_not_create_the_sqlite_file(tmp_path, args):
    missing = tmp_path / "nothing-here.db"
    engine_error = None
    try:
        db.create_db_engine(str(missing), create=False)
    except NotFound as exc:
        engine_error = str(exc)
    assert engine_error == f"no database at {missing}: run `kehu init` to create it"
    assert not missing.exists()
    result = CliRunner().invoke(create_cli(), ["--db", str(missing), *args])
    assert not missing.exists()
    if args != ("plugins", "list"):  # the plugin list still lists what is pip-installed
        assert result.exit_code == 1 and "run `kehu init` to create it" in result.output


def test_create_false_opens_an_existing_file_read_write(tmp_path):
    path = tmp_path / "kehu.db"
    Kehu(str(path)).init()
    engine = db.create_db_engine(str(path), create=False)
    try:
        with engine.begin() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM customers").scalar() == 0
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    finally:
        engine.dispose()
    assert db.database_exists(str(path)) and not db.database_exists(str(tmp_path / "none.db"))


# -- a database behind the code says "run kehu db upgrade" ----------------------------------------


def test_schema_behind_names_the_branch_and_the_command(kehu_app):
    with kehu_app.engine.begin() as conn:
        assert behind(kehu_app, conn) == []
        require_up_to_date(kehu_app, conn)
        (core,) = schema.status(conn, kehu_app.schemas(), [BUILTIN])
        script_heads = [core.head]
    with kehu_app.engine.begin() as conn:
        # One revision back on the core: what a database looks like before `kehu db upgrade`.
        schema.migrate(conn, kehu_app.schemas(), BUILTIN, _previous(kehu_app, script_heads[0]))
    with pytest.raises(SchemaBehind) as caught:
        require_up_to_date(kehu_app)
    message = str(caught.value)
    assert message.endswith("Run `kehu db upgrade`")
    assert f"core (at {_previous(kehu_app, script_heads[0])}, code expects {script_heads[0]})" in message
    assert "\n" not in message
    kehu_app.init()
    require_up_to_date(kehu_app)


def _previous(app: Kehu, revision: str) -> str:
    with app.engine.connect() as conn:
        cfg = schema.alembic_config(conn, app.schemas())
    down = schema.ScriptDirectory.from_config(cfg).get_revision(revision).down_revision
    assert isinstance(down, str)
    return down
