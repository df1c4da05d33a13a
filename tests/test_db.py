"""The database layer: URLs, init and upgrade, status, UTC times, money."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from kehu_core import customers, interactions
from kehu_core.cli import create_cli
from kehu_core.db import resolve_url
from kehu_core.plugins import discover
from kehu_core.types import UTCDateTime


def test_resolve_url(monkeypatch):
    monkeypatch.delenv("KEHU_DATABASE_URL", raising=False)
    assert resolve_url(None) == "sqlite:///kehu.db"
    assert resolve_url("data/crm.db") == "sqlite:///data/crm.db"
    assert resolve_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    monkeypatch.setenv("KEHU_DATABASE_URL", "other.db")
    assert resolve_url(None) == "sqlite:///other.db"
    assert resolve_url("given.db") == "sqlite:///given.db"


def test_init_is_idempotent_and_status_is_up_to_date(kehu_app, kehu_cli):
    assert kehu_cli("init").exit_code == 0
    assert kehu_cli("init").exit_code == 0
    status = kehu_cli("db", "status", "--json").json
    assert [(b["branch"], b["up_to_date"]) for b in status["branches"]] == [("core", True)]
    assert kehu_cli("db", "upgrade", "--json").json == {"upgraded": ["core"]}


def test_fresh_database_says_run_init(tmp_path):
    result = CliRunner().invoke(
        create_cli(discover()), ["--db", str(tmp_path / "new.db"), "customer", "list"]
    )
    assert result.exit_code == 1
    assert "run `kehu init` to create it" in result.output
    assert not (tmp_path / "new.db").exists()  # a read command leaves no empty database behind


def test_unreachable_server_is_a_clear_error():
    result = CliRunner().invoke(
        create_cli(discover()), ["--db", "postgresql://nobody@127.0.0.1:1/none", "customer", "list"]
    )
    assert result.exit_code == 1
    assert "cannot use the database" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args", [["customer", "list"], ["init"]])
def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path, args):
    path = tmp_path / "notes.db"
    path.write_text("garbage, not a database\n")
    result = CliRunner().invoke(create_cli(discover()), ["--db", str(path), *args])
    assert result.exit_code == 1
    assert result.output.startswith("Error: the database file is not a SQLite database, or it is damaged")
    assert "Traceback" not in result.output and "crashed" not in result.output
    assert path.read_text() == "garbage, not a database\n"  # nothing was changed


def test_messages_name_a_sqlite_file_as_given(tmp_path):
    """A read command opens the file through SQLite's URI form; messages show the plain path."""
    path = tmp_path / "tour one.db"
    path.write_bytes(b"")  # exists, no schema: the message names the database
    result = CliRunner().invoke(create_cli(discover()), ["--db", str(path), "customer", "list"])
    assert result.exit_code == 1
    assert f"the database sqlite:///{path} has no kehu schema yet" in result.output
    assert "mode=rw" not in result.output and "file:" not in result.output


def test_sqlite_uses_wal(kehu_app):
    if kehu_app.dialect != "sqlite":
        pytest.skip("SQLite only")
    with kehu_app.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 10_000


def test_times_are_utc_and_money_exact(kehu_app):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "甲", "credit_limit": "1234567890123.45"})
        for amount in ("0.10", "0.20"):
            interactions.log_interaction(
                kehu_app,
                s,
                {
                    "customer_code": "C1",
                    "kind": "purchase",
                    "occurred_at": "2026-01-01T08:00:00+08:00",
                    "amount": amount,
                },
            )
    with kehu_app.session() as s:
        c = customers.get_customer(s, "C1")
        assert c.credit_limit == Decimal("1234567890123.45")  # 15 digits: the most kept exactly
        rows = interactions.list_interactions(s, interactions.InteractionQuery())
        assert sum(r.amount for r in rows) == Decimal("0.30")
        assert rows[0].occurred_at.utcoffset().total_seconds() == 0
        assert rows[0].occurred_at.hour == 0


def test_naive_datetime_is_refused_by_the_column_type():
    with pytest.raises(ValueError, match="naive datetime"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), None)  # type: ignore[arg-type]


def test_a_rolled_back_savepoint_is_ended(kehu_app):
    """SQLAlchemy takes a rolled-back savepoint to be gone; the database must agree.

    Left open, SQLite journals every page the transaction changes afterwards (a tier run
    wrote its history twice) and PostgreSQL runs the rest in a subtransaction.
    """
    names: list[str] = []

    def rolled_back(conn, name, context):
        names.append(name)

    event.listen(kehu_app.engine, "rollback_savepoint", rolled_back)
    try:
        with kehu_app.engine.connect() as conn:
            with conn.begin():
                conn.execute(text("CREATE TABLE savepoint_probe (n INTEGER)"))
                conn.execute(text("INSERT INTO savepoint_probe VALUES (1)"))
                nested = conn.begin_nested()
                conn.execute(text("INSERT INTO savepoint_probe VALUES (2)"))
                nested.rollback()
                conn.execute(text("INSERT INTO savepoint_probe VALUES (3)"))
            with conn.begin():
                kept = conn.execute(text("SELECT n FROM savepoint_probe ORDER BY n")).scalars().all()
                assert kept == [1, 3]
                conn.begin_nested().rollback()
                # Still open, it could be rolled back to again; ended, the database has no such savepoint.
                with pytest.raises(DBAPIError, match="no such savepoint|does not exist"):
                    conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {names[-1]}")
    finally:
        event.remove(kehu_app.engine, "rollback_savepoint", rolled_back)
