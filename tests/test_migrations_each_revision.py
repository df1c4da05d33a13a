"""Every revision of every plugin, on a database holding data: built at the revision before,
rows put into the tables the revision touches (plain SQL through that older schema), upgraded
with :func:`kehu_core.schema.migrate`, then compared.

* The rows of every table the plugin had are kept, column for column (tables a revision
  rewrites are compared by that revision's own check instead).
* Each revision's check asserts what it means to do to the data or the schema.
* Then the branch goes on to its head, and the tables equal the plugin's models.

The cases are the revisions found in each plugin's migrations folder: a new revision fails
here ("add a migration test for <rev>") until :data:`CHECKS` has an entry for it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, inspect, text

from kehu_core import customers, schema
from kehu_core.app import Kehu, core_schema, plugin_schema
from kehu_core.interactions import log_interaction
from kehu_core.models import Base
from kehu_core.plugins import Plugins, discover

#: The plugins shipped in this repository: each revision of each is a case here.
PLUGINS = ("tiering", "loyalty", "complaints", "forecast", "acme_rules")
REPO = Path(__file__).resolve().parents[1]
#: Interactions run in Shanghai's calendar here: tiering0004 moves purchases across a UTC month end.
ZONE = "Asia/Shanghai"

Ids = dict[str, int]


@dataclass(frozen=True)
class Check:
    """What one revision does to data: ``fill`` runs at the revision before, ``verify`` after."""

    fill: Callable[[Connection, Ids], None]
    verify: Callable[[Connection, Ids], None]
    #: The plugin's tables ``fill`` must have put rows into (the tables the revision touches).
    touches: tuple[str, ...]
    #: Tables the revision rewrites: their rows are compared by ``verify``, not kept as they were.
    rewrites: tuple[str, ...] = ()
    #: Core tables whose rows the revision must keep too (say, one it puts an index on).
    core_tables: tuple[str, ...] = field(default=())


def _available() -> Plugins:
    return discover(strict=False, allow=None)


def _script(versions: Iterable[Path]) -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(schema.SCRIPT_LOCATION))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(v) for v in versions))
    return ScriptDirectory.from_config(cfg)


def revisions_of(plugins: Plugins, name: str) -> list[tuple[str, str]]:
    """``(previous, revision)`` for every revision of plugin ``name`` after its first, oldest first."""
    info = plugins.infos.get(name)
    own = plugin_schema(info) if info is not None else None
    if own is None:
        return []
    folder = Path(own.versions).resolve()
    script = _script([core_schema().versions, own.versions])
    chain = [rev for rev in script.walk_revisions() if Path(rev.path).resolve().parent == folder]
    pairs = []
    for rev in reversed(chain):
        if rev.down_revision is None:
            continue
        assert isinstance(rev.down_revision, str), f"{rev.revision}: a merge revision needs its own test"
        pairs.append((rev.down_revision, rev.revision))
    return pairs


def _cases() -> list[Any]:
    plugins = _available()
    cases = []
    for name in PLUGINS:
        if name not in plugins.infos:
            cases.append(
                pytest.param(name, None, None, id=name, marks=pytest.mark.skip(f"{name} not installed"))
            )
            continue
        for previous, revision in revisions_of(plugins, name):
            cases.append(pytest.param(name, previous, revision, id=revision))
    return cases


@pytest.fixture
def kehu_plugins() -> Plugins:
    """Every available plugin, whatever KEHU_PLUGINS says: their branches are what is tested."""
    return _available()


# -- helpers ------------------------------------------------------------------------------------


def at(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=UTC)


def insert(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert through the table as the database has it now (reflected: the older revision's schema)."""
    reflected = sa.Table(table, MetaData(), autoload_with=conn)
    conn.execute(reflected.insert(), rows)


def select_rows(conn: Connection, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in conn.execute(text(sql), params)]


def instant(value: Any) -> datetime:
    """A timestamp read back by plain SQL (text on SQLite) as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def dump(conn: Connection, tables: Iterable[str]) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every row of ``tables`` (columns as the database has them now), in a stable order."""
    found = {}
    for table in tables:
        columns = [c["name"] for c in inspect(conn).get_columns(table)]
        found[table] = (columns, _rows(conn, table, columns))
    return found


def _rows(conn: Connection, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    quoted = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in columns)
    rows = [tuple(r) for r in conn.execute(text(f"SELECT {quoted} FROM {table}"))]
    return sorted(rows, key=repr)  # JSON columns have no order on PostgreSQL


def index_columns(conn: Connection, table: str) -> dict[str, list[str]]:
    return {str(ix["name"]): [str(c) for c in ix["column_names"]] for ix in inspect(conn).get_indexes(table)}


def refused(conn: Connection, sql: str, **params: Any) -> bool:
    """Whether the database refuses ``sql`` (run in a savepoint, rolled back either way)."""
    savepoint = conn.begin_nested()
    try:
        conn.execute(text(sql), params)
    except sa.exc.DBAPIError:
        savepoint.rollback()
        return True
    savepoint.rollback()
    return False


def month(year: int, month_: int) -> int:
    return year * 12 + month_ - 1


# -- tiering ------------------------------------------------------------------------------------


def _tiering_run(conn: Connection, run_id: int = 1) -> None:
    insert(
        conn,
        "tiering_runs",
        [
            {
                "id": run_id,
                "started_at": at("2026-11-01T02:00:00"),
                "finished_at": at("2026-11-01T02:00:05"),
                "as_of": date(2026, 10, 31),
                "source": "manual",
                "settings": {"methods": ["pyramid", "abc"], "top": "0.2"},
                "customers": 2,
                "changed": 2,
            }
        ],
    )


def _tiering_assignments(conn: Connection, ids: Ids, metrics: dict[str, Any] | None = None) -> None:
    insert(
        conn,
        "tiering_assignments",
        [
            {
                "id": 1,
                "customer_id": ids["C1"],
                "method": "pyramid",
                "tier": "VIP 大客户",
                "decided_by": "pyramid",
                "metrics": metrics,
                "valid_from": date(2026, 10, 31),
                "valid_to": None,
                "run_id": 1,
                "ended_run_id": None,
            },
            {
                "id": 2,
                "customer_id": ids["C2"],
                "method": "pyramid",
                "tier": "B",
                "decided_by": "pyramid",
                "metrics": None,
                "valid_from": date(2026, 9, 30),
                "valid_to": date(2026, 10, 31),
                "run_id": 1,
                "ended_run_id": 1,
            },
            {
                "id": 3,
                "customer_id": ids["C2"],
                "method": "pyramid",
                "tier": "C",
                "decided_by": "rule: dormant",
                "metrics": {"recency_days": 400},
                "valid_from": date(2026, 10, 31),
                "valid_to": None,
                "run_id": 1,
                "ended_run_id": None,
            },
        ],
    )


def fill_tiering0002(conn: Connection, ids: Ids) -> None:
    _tiering_run(conn)
    _tiering_assignments(conn, ids)


def verify_tiering0002(conn: Connection, ids: Ids) -> None:
    indexes = index_columns(conn, "tiering_assignments")
    assert "ix_tiering_assignments_tier" not in indexes
    assert indexes["ix_tiering_assignments_current"] == ["customer_id", "method"]
    # The unique index of current assignments still holds: a second current pyramid tier is refused.
    second = (
        "INSERT INTO tiering_assignments (id, customer_id, method, tier, decided_by, valid_from, run_id) "
        "VALUES (9, :c, 'pyramid', 'A', 'pyramid', :d, 1)"
    )
    assert refused(conn, second, c=ids["C1"], d=date(2026, 11, 30))


def fill_tiering0003(conn: Connection, ids: Ids) -> None:
    _tiering_run(conn)
    _tiering_assignments(conn, ids, metrics={"measure": "1234.50", "rank": 1, "cum_share_before": 0.0})


def verify_tiering0003(conn: Connection, ids: Ids) -> None:
    assert select_rows(conn, "SELECT count(*) FROM tiering_snapshots") == [(0,)]
    # Older assignments keep their JSON numbers (read as before); the new table takes typed rows.
    (metrics,) = select_rows(conn, "SELECT metrics FROM tiering_assignments WHERE id = 1")[0]
    assert (metrics if isinstance(metrics, dict) else json.loads(metrics))["rank"] == 1
    insert(
        conn,
        "tiering_snapshots",
        [{"run_id": 1, "customer_id": ids["C1"], "measure": Decimal("1234.50"), "rank": 1, "r_score": 5}],
    )
    assert select_rows(conn, "SELECT run_id, customer_id, rank, r_score FROM tiering_snapshots") == [
        (1, ids["C1"], 1, 5)
    ]
    assert refused(conn, "INSERT INTO tiering_snapshots (run_id, customer_id) VALUES (1, :c)", c=ids["C1"])


def fill_tiering0004(conn: Connection, ids: Ids) -> None:
    """The buckets as tiering0003 kept them: by UTC month, one of them stale."""
    insert(
        conn,
        "tiering_monthly",
        [
            {  # 2026-01-31 16:30 UTC was bucketed in January (it is 1 February in Shanghai)
                "customer_id": ids["C1"],
                "month": month(2026, 1),
                "revenue": 10050,
                "costed_revenue": 10050,
                "cost": 6000,
                "orders": 1,
                "first_at": at("2026-01-31T16:30:00"),
                "last_at": at("2026-01-31T16:30:00"),
            },
            {
                "customer_id": ids["C1"],
                "month": month(2026, 2),
                "revenue": 2000,
                "costed_revenue": 0,
                "cost": 0,
                "orders": 1,
                "first_at": at("2026-02-10T03:00:00"),
                "last_at": at("2026-02-10T03:00:00"),
            },
            {  # a bucket no purchase supports any more
                "customer_id": ids["C3"],
                "month": month(2025, 12),
                "revenue": 99900,
                "costed_revenue": 0,
                "cost": 0,
                "orders": 3,
                "first_at": at("2025-12-01T00:00:00"),
                "last_at": at("2025-12-02T00:00:00"),
            },
        ],
    )


def verify_tiering0004(conn: Connection, ids: Ids) -> None:
    rows = select_rows(
        conn,
        "SELECT customer_id, month, revenue, costed_revenue, cost, orders, first_at, last_at "
        "FROM tiering_monthly ORDER BY customer_id, month",
    )
    got = [(*row[:6], instant(row[6]), instant(row[7])) for row in rows]
    assert got == [
        # Shanghai's January: the refund alone (no order); the cancelled purchase counts nowhere.
        (ids["C1"], month(2026, 1), -500, 0, 0, 0, at("2026-01-15T04:00:00"), at("2026-01-15T04:00:00")),
        # Shanghai's February: 100.50 (cost 60) at 00:30 on the 1st, and 20.00 without a cost.
        (
            ids["C1"],
            month(2026, 2),
            12050,
            10050,
            6000,
            2,
            at("2026-01-31T16:30:00"),
            at("2026-02-10T03:00:00"),
        ),
        # 2026-03-31 20:00 UTC is 1 April in Shanghai.
        (ids["C2"], month(2026, 4), 30000, 0, 0, 1, at("2026-03-31T20:00:00"), at("2026-03-31T20:00:00")),
    ]


def fill_tiering0005(conn: Connection, ids: Ids) -> None:
    _tiering_run(conn)
    _tiering_assignments(conn, ids)


def verify_tiering0005(conn: Connection, ids: Ids) -> None:
    keys = {fk["referred_table"]: fk for fk in inspect(conn).get_foreign_keys("tiering_assignments")}
    assert sorted(keys) == ["customers", "tiering_runs"]
    for fk in keys.values():
        assert fk["options"].get("deferrable") is True, fk
        assert str(fk["options"].get("initially")).upper() == "DEFERRED", fk
        assert str(fk["options"].get("ondelete")).upper() == "CASCADE", fk
    # Checked at commit: the statement itself takes a row for no customer and no run.
    orphan = (
        "INSERT INTO tiering_assignments (id, customer_id, method, tier, decided_by, valid_from, run_id) "
        "VALUES (9, 987654, 'abc', 'A', 'abc', :d, 99)"
    )
    assert not refused(conn, orphan, d=date(2026, 11, 30))
    # The rebuilt table keeps its indexes: a second current pyramid tier is still refused,
    indexes = index_columns(conn, "tiering_assignments")
    assert indexes["ix_tiering_assignments_customer"] == ["customer_id", "method", "valid_from"]
    assert indexes["ix_tiering_assignments_current"] == ["customer_id", "method"]
    second = (
        "INSERT INTO tiering_assignments (id, customer_id, method, tier, decided_by, valid_from, run_id) "
        "VALUES (9, :c, 'pyramid', 'A', 'pyramid', :d, 1)"
    )
    assert refused(conn, second, c=ids["C1"], d=date(2026, 11, 30))
    # while a closed one is not (the index covers current rows only),
    closed = (
        "INSERT INTO tiering_assignments (id, customer_id, method, tier, decided_by, valid_from, valid_to, "
        "run_id) VALUES (10, :c, 'pyramid', 'A', 'pyramid', :d, :d, 1)"
    )
    assert not refused(conn, closed, c=ids["C1"], d=date(2026, 11, 30))
    # and deleting a run still takes its rows with it, at once.
    savepoint = conn.begin_nested()
    conn.execute(text("DELETE FROM tiering_runs WHERE id = 1"))
    assert select_rows(conn, "SELECT count(*) FROM tiering_assignments WHERE run_id = 1") == [(0,)]
    savepoint.rollback()


# -- loyalty ------------------------------------------------------------------------------------


def _loyalty_accounts(conn: Connection, ids: Ids) -> None:
    insert(
        conn,
        "loyalty_accounts",
        [
            {
                "customer_id": ids[code],
                "enrolled_at": at("2026-01-01T00:00:00"),
                "earn_from": at("2026-01-01T00:00:00"),
                "level": level,
                "level_since": at("2026-06-01T00:00:00") if level else None,
            }
            for code, level in (("C1", "金卡"), ("C2", None), ("C3", "银卡"))
        ],
    )


def _loyalty_ledger(conn: Connection, ids: Ids) -> None:
    base = {"rule": None, "interaction_id": None, "reward_id": None, "shortfall": 0}
    insert(
        conn,
        "loyalty_ledger",
        [
            {
                **base,
                "id": 1,
                "customer_id": ids["C1"],
                "kind": "earn",
                "points": 100,
                "occurred_at": at("2026-02-01T00:00:00"),
                "expires_at": at("2027-02-01T00:00:00"),
                "reason": "purchase 购买",
                "rule": "base",
                "idempotency_key": "earn:1",
                "created_at": at("2026-02-01T00:00:01"),
            },
            {
                **base,
                "id": 2,
                "customer_id": ids["C1"],
                "kind": "redeem",
                "points": -30,
                "occurred_at": at("2026-03-01T00:00:00"),
                "expires_at": None,
                "reason": "reward",
                "idempotency_key": "redeem:2",
                "created_at": at("2026-03-01T00:00:01"),
            },
            {
                **base,
                "id": 3,
                "customer_id": ids["C3"],
                "kind": "earn",
                "points": 5,
                "occurred_at": at("2026-04-01T00:00:00"),
                "expires_at": at("2027-04-01T00:00:00"),
                "reason": "birthday 生日",
                "idempotency_key": "earn:3",
                "created_at": at("2026-04-01T00:00:01"),
            },
        ],
    )
    insert(conn, "loyalty_allocations", [{"debit_id": 2, "lot_id": 1, "points": 30}])


def fill_loyalty0002(conn: Connection, ids: Ids) -> None:
    _loyalty_accounts(conn, ids)
    _loyalty_ledger(conn, ids)


def verify_loyalty0002(conn: Connection, ids: Ids) -> None:
    indexes = index_columns(conn, "loyalty_ledger")
    assert indexes["ix_loyalty_ledger_customer_id"] == ["customer_id"]
    assert "ix_loyalty_ledger_customer_expiry" not in indexes
    assert select_rows(
        conn, "SELECT sum(points) FROM loyalty_ledger WHERE customer_id = :c", c=ids["C1"]
    ) == [(70,)]


def fill_loyalty0003(conn: Connection, ids: Ids) -> None:
    _loyalty_accounts(conn, ids)  # C4 has a birthday and no account: it gets none
    _loyalty_ledger(conn, ids)


def verify_loyalty0003(conn: Connection, ids: Ids) -> None:
    months = dict(select_rows(conn, "SELECT customer_id, birthday_month FROM loyalty_accounts"))
    assert months == {ids["C1"]: 3, ids["C2"]: None, ids["C3"]: 12}
    assert refused(
        conn, "UPDATE loyalty_accounts SET birthday_month = 13 WHERE customer_id = :c", c=ids["C1"]
    )


def fill_loyalty0004(conn: Connection, ids: Ids) -> None:
    _loyalty_accounts(conn, ids)
    _loyalty_ledger(conn, ids)
    insert(
        conn,
        "loyalty_rewards",
        [
            {
                "id": 1,
                "code": "MUG",
                "name": "马克杯",
                "cost_points": 2_000_000_000,
                "stock": 3,
                "valid_from": None,
                "valid_until": None,
                "active": True,
                "created_at": at("2026-01-01T00:00:00"),
            }
        ],
    )
    insert(conn, "loyalty_levels", [{"name": "金卡", "rank": 2, "min_points": 20000, "min_spend": None}])


#: More than a 32-bit integer holds: what loyalty0004 makes room for on PostgreSQL.
BIG_POINTS = 3_000_000_000


def verify_loyalty0004(conn: Connection, ids: Ids) -> None:
    if conn.dialect.name == "postgresql":
        for table, column in (
            ("loyalty_ledger", "points"),
            ("loyalty_ledger", "shortfall"),
            ("loyalty_allocations", "points"),
            ("loyalty_rewards", "cost_points"),
            ("loyalty_levels", "min_points"),
        ):
            [found] = [c for c in inspect(conn).get_columns(table) if c["name"] == column]
            assert isinstance(found["type"], sa.BigInteger), (table, column, found["type"])
    largest = 2**63 - 1
    insert(
        conn,
        "loyalty_ledger",
        [
            {
                "id": 10,
                "customer_id": ids["C2"],
                "kind": "earn",
                "points": BIG_POINTS,
                "occurred_at": at("2026-05-01T00:00:00"),
                "expires_at": at("2027-05-01T00:00:00"),
                "reason": "¥3000000000.00 × 1 pt/¥ (base)",
                "rule": "base",
                "interaction_id": None,
                "reward_id": None,
                "idempotency_key": "earn:10",
                "shortfall": 0,
                "created_at": at("2026-05-01T00:00:01"),
            },
            {
                "id": 11,
                "customer_id": ids["C2"],
                "kind": "refund",
                "points": -BIG_POINTS,
                "occurred_at": at("2026-05-02T00:00:00"),
                "expires_at": None,
                "reason": "refund",
                "rule": None,
                "interaction_id": None,
                "reward_id": None,
                "idempotency_key": "refund:11",
                "shortfall": largest,
                "created_at": at("2026-05-02T00:00:01"),
            },
        ],
    )
    insert(conn, "loyalty_allocations", [{"debit_id": 11, "lot_id": 10, "points": BIG_POINTS}])
    conn.execute(text("UPDATE loyalty_rewards SET cost_points = :p WHERE code = 'MUG'"), {"p": largest})
    conn.execute(text("UPDATE loyalty_levels SET min_points = :p"), {"p": BIG_POINTS})
    assert select_rows(
        conn, "SELECT points, shortfall FROM loyalty_ledger WHERE id IN (10, 11) ORDER BY id"
    ) == [
        (BIG_POINTS, 0),
        (-BIG_POINTS, largest),
    ]
    assert select_rows(conn, "SELECT points FROM loyalty_allocations WHERE debit_id = 11") == [(BIG_POINTS,)]
    assert select_rows(conn, "SELECT cost_points FROM loyalty_rewards") == [(largest,)]
    assert select_rows(conn, "SELECT min_points FROM loyalty_levels") == [(BIG_POINTS,)]
    # The rows written before the upgrade are kept (compared by the test), the constraints too.
    assert refused(conn, "UPDATE loyalty_rewards SET cost_points = 0")
    assert refused(conn, "UPDATE loyalty_allocations SET points = 0")


# -- complaints ---------------------------------------------------------------------------------


def fill_complaints0002(conn: Connection, ids: Ids) -> None:
    insert(
        conn,
        "complaints_teams",
        [
            {
                "id": 1,
                "name": "客服一组",
                "lead": "王芳",
                "assignment": "round_robin",
                "last_assigned": None,
                "created_at": at("2026-01-01T00:00:00"),
            }
        ],
    )
    insert(conn, "complaints_team_members", [{"team_id": 1, "member": "李娜", "position": 1, "active": True}])
    opened = at("2026-02-02T01:00:00")
    insert(
        conn,
        "complaints_complaints",
        [
            {
                "id": 1,
                "customer_id": ids["C1"],
                "kind": "complaint",
                "channel": "phone",
                "category": "quality",
                "severity": "high",
                "status": "resolved",
                "description": "打印机卡纸",
                "wants": ["refund"],
                "handler": "李娜",
                "team_id": 1,
                "compensation_amount": Decimal("50.00"),
                "opened_at": opened,
                "clock_started_at": opened,
                "resolved_at": at("2026-02-03T01:00:00"),
                "paused_seconds": 0,
                "reopen_count": 0,
                "version": 3,
                "created_at": opened,
                "updated_at": at("2026-02-03T01:00:00"),
            }
        ],
    )
    insert(
        conn,
        "complaints_history",
        [
            {"id": 1, "complaint_id": 1, "at": opened, "actor": "王芳", "action": "open", "to_status": "new"},
            {
                "id": 2,
                "complaint_id": 1,
                "at": at("2026-02-03T01:00:00"),
                "actor": "李娜",
                "action": "move",
                "from_status": "new",
                "to_status": "resolved",
                "note": "换了新机器",
            },
        ],
    )


def verify_complaints0002(conn: Connection, ids: Ids) -> None:
    assert index_columns(conn, "interactions")["ix_complaints_purchases"] == ["customer_id", "occurred_at"]
    # The report's question, answered through the index's rows: did C1 buy within 90 days after?
    bought = select_rows(
        conn,
        "SELECT count(*) FROM interactions WHERE customer_id = :c AND kind = 'purchase' AND status = 'done' "
        "AND occurred_at > :after",
        c=ids["C1"],
        after=at("2026-01-01T00:00:00"),
    )
    assert bought == [(3,)]


def verify_complaints0003(conn: Connection, ids: Ids) -> None:
    # The rows written before keep recorded_at empty: they were recorded when they happened.
    rows = select_rows(conn, "SELECT id, recorded_at FROM complaints_history ORDER BY id")
    assert rows == [(1, None), (2, None)]
    # Still append-only: no DELETE, no UPDATE of when the step happened or was recorded ...
    assert refused(conn, "DELETE FROM complaints_history WHERE id = 1")
    assert refused(
        conn, "UPDATE complaints_history SET recorded_at = :t WHERE id = 2", t=at("2026-02-04T00:00:00")
    )
    assert refused(conn, "UPDATE complaints_history SET at = :t WHERE id = 2", t=at("2026-02-04T00:00:00"))
    # ... but erasing a forgotten customer's note is still allowed.
    conn.execute(text("UPDATE complaints_history SET note = NULL WHERE id = 2"))
    assert select_rows(conn, "SELECT note FROM complaints_history WHERE id = 2") == [(None,)]
    late = {"id": 3, "complaint_id": 1, "at": at("2026-02-02T09:00:00"), "actor": "李娜", "action": "move"}
    insert(conn, "complaints_history", [{**late, "recorded_at": at("2026-02-03T09:00:00")}])


# -- forecast -----------------------------------------------------------------------------------


def fill_forecast0002(conn: Connection, ids: Ids) -> None:
    insert(
        conn,
        "forecast_runs",
        [
            {
                "id": 1,
                "kind": "sales",
                "method": "holt",
                "freq": "month",
                "first_period": date(2026, 1, 1),
                "horizon": 3,
                "history_end": date(2025, 12, 31),
                "params": {"alpha": 0.5},
                "source": "manual",
                "created_at": at("2026-01-02T00:00:00"),
            }
        ],
    )
    insert(
        conn,
        "forecast_targets",
        [
            {
                "id": 1,
                "run_id": 1,
                "salesperson": "王芳",
                "period_start": date(2026, 1, 1),
                "period_end": date(2026, 3, 31),
                "amount": Decimal("120000.00"),
                "baseline": Decimal("100000.00"),
                "note": "stretch 挑战",
                "created_at": at("2026-01-02T00:00:00"),
            },
            {
                "id": 2,
                "run_id": None,
                "salesperson": "李娜",
                "period_start": date(2026, 1, 1),
                "period_end": date(2026, 3, 31),
                "amount": Decimal("80000.00"),
                "baseline": Decimal("80000.00"),
                "note": None,
                "created_at": at("2026-01-02T00:00:00"),
            },
        ],
    )
    insert(
        conn,
        "forecast_target_lines",
        [{"target_id": 1, "customer_id": ids["C1"], "amount": Decimal("5000.00")}],
    )


def verify_forecast0002(conn: Connection, ids: Ids) -> None:
    # No status was recorded before: existing targets have none until the next evaluation.
    assert select_rows(conn, "SELECT id, status, status_as_of FROM forecast_targets ORDER BY id") == [
        (1, None, None),
        (2, None, None),
    ]
    conn.execute(
        text("UPDATE forecast_targets SET status = 'on_track', status_as_of = :d WHERE id = 1"),
        {"d": date(2026, 2, 1)},
    )
    (status, as_of) = select_rows(conn, "SELECT status, status_as_of FROM forecast_targets WHERE id = 1")[0]
    assert status == "on_track" and str(as_of) == "2026-02-01"


def verify_forecast0003(conn: Connection, ids: Ids) -> None:
    # Sales plans start empty; the runs and targets they attach to are kept as they were.
    for table in ("forecast_plans", "forecast_plan_targets", "forecast_plan_actions", "forecast_plan_budget"):
        assert select_rows(conn, f"SELECT count(*) FROM {table}") == [(0,)]
    created = at("2026-01-03T00:00:00")
    insert(
        conn,
        "forecast_plans",
        [{"id": 1, "name": "一季度", "run_id": 1, "created_by": "王芳", "created_at": created}],
    )
    insert(
        conn,
        "forecast_plan_targets",
        [{"plan_id": 1, "salesperson": "王芳", "period_start": date(2026, 1, 1)}],
    )
    assert refused(
        conn,
        "INSERT INTO forecast_plan_targets (plan_id, salesperson, period_start) VALUES (1, '王芳', :d)",
        d=date(2026, 1, 1),
    )  # a target is linked to a plan once
    action = {
        "id": 1,
        "plan_id": 1,
        "title": "拜访",
        "owner": "王芳",
        "due": date(2026, 2, 1),
        "created_at": created,
    }
    insert(conn, "forecast_plan_actions", [action])
    budget = [
        {
            "plan_id": 1,
            "item": f"item {k}",
            "amount": Decimal(a),
            "expected": Decimal("0.00"),
            "created_at": created,
        }
        for k, a in enumerate(("0.10", "0.20", "1000000000.01"))
    ]
    insert(conn, "forecast_plan_budget", budget)
    (total,) = select_rows(conn, "SELECT sum(amount) FROM forecast_plan_budget WHERE plan_id = 1")[0]
    assert Decimal(str(total)).quantize(Decimal("0.01")) == Decimal("1000000000.31")
    assert select_rows(
        conn, "SELECT priority, resources, action_id FROM forecast_plan_actions, forecast_plan_budget LIMIT 1"
    ) == [(None, None, None)]


# -- acme_rules ---------------------------------------------------------------------------------


def fill_acme_rules0002(conn: Connection, ids: Ids) -> None:
    insert(
        conn,
        "acme_rules_customer_flags",
        [
            {
                "customer_id": ids["C1"],
                "strategic_project": True,
                "influence": False,
                "technical_strength": True,
                "market_strength": False,
                "judged_by": "王芳",
                "note": "重点项目",
                "updated_at": at("2026-03-01T00:00:00"),
            }
        ],
    )


def verify_acme_rules0002(conn: Connection, ids: Ids) -> None:
    assert select_rows(conn, "SELECT count(*) FROM acme_rules_settings") == [(0,)]
    assert select_rows(conn, "SELECT count(*) FROM acme_rules_reviews") == [(0,)]
    review = (
        "INSERT INTO acme_rules_reviews (week, ran_at, key_accounts, late_payers, open_key_complaints) "
        "VALUES (:w, :r, 1, 0, 0)"
    )
    conn.execute(text(review), {"w": date(2026, 3, 2), "r": at("2026-03-02T01:00:00")})
    assert refused(conn, review, w=date(2026, 3, 2), r=at("2026-03-02T02:00:00"))  # one review a week


#: One entry per revision after a plugin's first: what it must do to the data.
CHECKS: dict[str, Check] = {
    "tiering0002": Check(fill_tiering0002, verify_tiering0002, ("tiering_runs", "tiering_assignments")),
    "tiering0003": Check(fill_tiering0003, verify_tiering0003, ("tiering_runs", "tiering_assignments")),
    "tiering0004": Check(
        fill_tiering0004, verify_tiering0004, ("tiering_monthly",), rewrites=("tiering_monthly",)
    ),
    "tiering0005": Check(fill_tiering0005, verify_tiering0005, ("tiering_runs", "tiering_assignments")),
    "loyalty0002": Check(fill_loyalty0002, verify_loyalty0002, ("loyalty_ledger", "loyalty_allocations")),
    "loyalty0003": Check(fill_loyalty0003, verify_loyalty0003, ("loyalty_accounts", "loyalty_ledger")),
    "loyalty0004": Check(
        fill_loyalty0004,
        verify_loyalty0004,
        ("loyalty_ledger", "loyalty_allocations", "loyalty_rewards", "loyalty_levels"),
    ),
    "complaints0002": Check(
        fill_complaints0002,
        verify_complaints0002,
        ("complaints_complaints", "complaints_history"),
        core_tables=("interactions",),
    ),
    "complaints0003": Check(
        fill_complaints0002,
        verify_complaints0003,
        ("complaints_complaints", "complaints_history"),
        core_tables=("interactions",),
    ),
    "forecast0002": Check(
        fill_forecast0002, verify_forecast0002, ("forecast_targets", "forecast_target_lines")
    ),
    "forecast0003": Check(
        fill_forecast0002, verify_forecast0003, ("forecast_runs", "forecast_targets", "forecast_target_lines")
    ),
    "acme_rules0002": Check(fill_acme_rules0002, verify_acme_rules0002, ("acme_rules_customer_flags",)),
}


# -- the tests ----------------------------------------------------------------------------------


def core_data(app: Kehu) -> Ids:
    """Customers and interactions, through the core (its tables are at head throughout)."""
    with app.session() as s:
        ids = {}
        for code, birthday in (
            ("C1", "1990-03-15"),
            ("C2", None),
            ("C3", "2000-12-01"),
            ("C4", "1985-07-07"),
        ):
            values: dict[str, Any] = {"code": code, "name": f"客户 {code}"}
            if birthday:
                values["birthday"] = birthday
            ids[code] = customers.add_customer(app, s, values).id
        for code, kind, status, amount, cost, when in (
            ("C1", "purchase", "done", "100.50", "60.00", "2026-01-31T16:30:00"),
            ("C1", "purchase", "done", "20.00", None, "2026-02-10T03:00:00"),
            ("C1", "purchase", "done", "-5.00", None, "2026-01-15T04:00:00"),
            ("C1", "purchase", "cancelled", "999.00", None, "2026-01-20T04:00:00"),
            ("C2", "call", "done", None, None, "2026-03-01T04:00:00"),
            ("C2", "purchase", "done", "300.00", None, "2026-03-31T20:00:00"),
        ):
            logged: dict[str, Any] = {
                "customer_code": code,
                "kind": kind,
                "status": status,
                "occurred_at": at(when),
            }
            if amount is not None:
                logged["amount"] = amount
            if cost is not None:
                logged["cost"] = cost
            log_interaction(app, s, logged)
    return ids


def own_tables(conn: Connection, plugin: str) -> list[str]:
    return sorted(t for t in inspect(conn).get_table_names() if t.startswith(f"{plugin}_"))


def _table_of(diff: Any) -> str | None:
    """The table an Alembic autogenerate diff is about."""
    if isinstance(diff, list):
        diff = diff[0]
    op, target = diff[0], diff[1]
    if op in ("add_table", "remove_table"):
        return str(target.name)
    if op in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        return str(target.table.name)
    if op in ("add_fk", "remove_fk"):
        return str(target.parent.name)
    if op in ("add_table_comment", "remove_table_comment"):
        return str(target.name)
    return str(diff[2]) if len(diff) > 2 else None


def schema_differences(conn: Connection, plugin: str, models: MetaData) -> list[Any]:
    """What autogenerate would change in the plugin's tables to match its models (none, we hope)."""
    combined = MetaData()
    for table in [*Base.metadata.tables.values(), *models.tables.values()]:
        table.to_metadata(combined)
    context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
    return [d for d in compare_metadata(context, combined) if (_table_of(d) or "").startswith(f"{plugin}_")]


@pytest.mark.parametrize("plugin, previous, revision", _cases())
def test_revision_keeps_and_transforms_the_data(kehu_app, company_zone, plugin, previous, revision):
    check = CHECKS.get(revision)
    if check is None:
        pytest.fail(
            f"add a migration test for {revision} (plugin {plugin}) to CHECKS in {Path(__file__).name}"
        )
    company_zone(ZONE)
    ids = core_data(kehu_app)
    schemas = kehu_app.schemas()
    with kehu_app.engine.begin() as conn:
        schema.migrate(conn, schemas, plugin, previous)
        check.fill(conn, ids)
        tables = own_tables(conn, plugin)
        before = dump(conn, [*tables, *check.core_tables])
    for table in check.touches:
        assert before[table][1], f"the check of {revision} leaves {table} empty: it must hold data"

    with kehu_app.engine.begin() as conn:
        schema.migrate(conn, schemas, plugin, revision)
        (status,) = schema.status(conn, schemas, [plugin])
        assert status.current == revision
        for table, (columns, rows) in before.items():
            if table in check.rewrites:
                continue
            assert _rows(conn, table, columns) == rows, f"{revision} changed the rows of {table}"
        check.verify(conn, ids)

    with kehu_app.engine.begin() as conn:
        schema.migrate(conn, schemas, plugin, "head")
        info = kehu_app.plugins.infos[plugin]
        own = plugin_schema(info)
        assert own is not None
        assert schema_differences(conn, plugin, own.metadata) == []


def test_every_plugin_of_the_repository_is_covered():
    """A plugin added to this repository gets its revisions tested here too."""
    plugins = _available()
    here = {
        name
        for name, info in plugins.infos.items()
        if info.package_dir is not None
        and REPO in info.package_dir.resolve().parents
        and "site-packages" not in info.package_dir.parts  # the virtualenv may live in the repository
    }
    assert here <= set(PLUGINS), f"add {sorted(here - set(PLUGINS))} to PLUGINS in {Path(__file__).name}"


def test_every_check_names_a_revision_that_exists():
    plugins = _available()
    known = {rev for name in PLUGINS for _, rev in revisions_of(plugins, name)}
    missing = [name for name in PLUGINS if name not in plugins.infos]
    if missing:
        pytest.skip(f"not installed here: {', '.join(missing)}")
    assert set(CHECKS) == known
