"""A run's work tables: the temporary tables and the ``tiering_stats`` view a run fills and reads.

``tiering_base`` holds every active customer's statistics, the three rank tables their
ranks and classes per distinct value, ``tiering_new`` each customer's new assignment per
target, ``tiering_moved`` what changed, ``tiering_matches`` the slow-path rules' matches.
They are dropped at the end of the run (and on commit on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    cast,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.orm import Session

from kehu_core.models import BigId
from kehu_tiering.method_rules import Target
from kehu_tiering.methods import rank_selects, rank_totals, stats_view_select
from kehu_tiering.models import SNAPSHOT_COLUMNS, snapshots
from kehu_tiering.settings import TierSettings
from kehu_tiering.stats import (
    BASE_COLUMNS,
    COLUMN_NAMES,
    STATS,
    TABLE_NAME,
    StatColumn,
    base_parts,
    base_select,
    base_table,
)

#: SQLite page cache during a run, in KiB (per connection; released when it closes). Sized so
#: that a first run over a million customers writes its history without spilling pages,
#: while the process stays well under 1 GB.
SQLITE_CACHE_KB = 350_000
TEMP_CACHE_KB = 200_000


class WorkTables:
    """The run's temporary tables, created on entering and dropped on a clean exit."""

    def __init__(
        self,
        session: Session,
        dialect: str,
        targets: Sequence[Target],
        columns: frozenset[str] | None = None,
        extra: Sequence[StatColumn] = (),
        *,
        with_snapshots: bool = False,
    ):
        self.session, self.dialect, self.columns, self.extra = session, dialect, columns, tuple(extra)
        #: ``tiering_new`` also holds every customer's snapshot numbers (see :attr:`new`).
        self.with_snapshots = with_snapshots
        self.metadata = MetaData()
        self.parts: list[str] = []
        kwargs: dict[str, Any] = {"postgresql_on_commit": "DROP"} if dialect == "postgresql" else {}
        self.base = base_table(self.metadata, dialect, self.extra)
        # Ranks per distinct value, keyed by it (a rowid lookup per customer on SQLite).
        self.ranks = {
            "by_measure": Table(
                "tiering_rank_measure",
                self.metadata,
                Column("m", BigId, primary_key=True),
                Column("rank_desc", BigInteger),
                Column("cum_before", BigInteger),
                Column("m_worse", BigInteger),
                Column("abc", String(8)),
                Column("pyramid", String(16)),
                Column("m_score", Integer),
                prefixes=["TEMPORARY"],
                **kwargs,
            ),
            **{
                name: Table(
                    f"tiering_rank_{name[3:]}",
                    self.metadata,
                    Column("k", BigId, primary_key=True),
                    Column("worse", BigInteger),
                    Column("score", Integer),
                    prefixes=["TEMPORARY"],
                    **kwargs,
                )
                for name in ("by_recency", "by_orders")
            },
        }
        self.new = Table(
            "tiering_new",
            self.metadata,
            Column("customer_id", BigId, primary_key=True),
            *(
                col
                for t in targets
                for col in (Column(f"t{t.key}", String(64)), Column(f"r{t.key}", Integer))
            ),
            # A run that writes every customer's snapshot (a method's first run) keeps the
            # numbers here, taken in the same pass over the view as the decisions: the
            # snapshots are then copied from this table instead of joining the view again.
            *(Column(name, snapshots.c[name].type) for name in (SNAPSHOT_COLUMNS if with_snapshots else ())),
            prefixes=["TEMPORARY"],
            **kwargs,
        )
        self.moved = Table(
            "tiering_moved",
            self.metadata,
            Column("customer_id", BigInteger),
            Column("method", String(64)),
            Column("old_id", BigInteger),  # the current assignment this move closes (NULL: none)
            Column("old_tier", String(64)),
            Column("new_tier", String(64)),
            Column("new_by", String(200)),
            Column("rule_no", Integer),
            prefixes=["TEMPORARY"],
            **kwargs,
        )
        self.matches = Table(
            "tiering_matches",
            self.metadata,
            Column("rule", String(200)),
            Column("customer_id", BigInteger),
            prefixes=["TEMPORARY"],
            **kwargs,
        )
        # Without this the slow-path IN (...) lookups are quadratic.
        Index("tiering_matches_key", self.matches.c.rule, self.matches.c.customer_id)

    def __enter__(self) -> WorkTables:
        self.drop()
        if self.dialect == "postgresql":
            # The statements are large but made of index lookups and sorts; JIT compiling them
            # cost ~0.8 s each (measured at 100k customers) and bought nothing back.
            self.session.execute(text("SET LOCAL jit = off"))
        if self.dialect == "sqlite":
            # A bigger page cache for this connection: sorts and index inserts stay in memory.
            self.session.execute(text(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}"))
            self.session.execute(text(f"PRAGMA temp.cache_size = -{TEMP_CACHE_KB}"))
            self.session.execute(text("PRAGMA threads = 2"))  # helper threads for large sorts
        conn = self.session.connection()
        for table in self.metadata.sorted_tables:
            table.create(conn)
        return self

    def fill(self, settings: TierSettings) -> int:
        """Materialise the statistics, rank them, and define the ``tiering_stats`` view over both."""
        session, dialect = self.session, self.dialect
        session.execute(
            insert(self.base).from_select(
                [*BASE_COLUMNS, *(stat.name for stat in self.extra)],
                base_select(
                    dialect,
                    settings,
                    session,
                    self._parts(settings) if dialect == "sqlite" else None,
                    self.columns,
                    self.extra,
                ),
            )
        )
        # Typed: products like ``total * 8000`` must be BIGINT on PostgreSQL, as columns would be.
        customers, total_cents, buyer_count = session.execute(rank_totals(self.base)).one()
        n, total = cast(literal(customers), BigInteger), cast(literal(total_cents), BigInteger)
        buyers = cast(literal(buyer_count), BigInteger)
        for name, stmt in rank_selects(self.base, n, total, settings, buyers).items():
            session.execute(insert(self.ranks[name]).from_select(list(stmt.selected_columns.keys()), stmt))
        self.analyze(self.base, *self.ranks.values())
        view = stats_view_select(self.base, self.ranks, n, total, settings.new_days)
        sql = view.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
        session.execute(text(f"CREATE TEMPORARY VIEW {TABLE_NAME} AS {sql}"))
        return int(customers)

    def _parts(self, settings: TierSettings) -> dict[str, Table]:
        """SQLite: the statistics' two aggregates in temporary tables keyed by customer.

        Joined as subqueries, SQLite would materialise each and sort it into an automatic
        index; filled in customer order into a rowid table, each costs only appends.
        """
        parts = {}
        for name, stmt in base_parts(self.dialect, settings, self.session, self.columns).items():
            names = list(stmt.selected_columns.keys())
            table_name = f"tiering_part_{name}"
            self.session.execute(text(f"DROP TABLE IF EXISTS {table_name}"))
            # Untyped columns: values are copied as they are, by SQL alone.
            self.session.execute(
                text(
                    f"CREATE TEMPORARY TABLE {table_name} (customer_id INTEGER PRIMARY KEY, "
                    + ", ".join(n for n in names if n != "customer_id")
                    + ")"
                )
            )
            table = Table(
                table_name, MetaData(), *(Column(n, c.type) for n, c in stmt.selected_columns.items())
            )
            self.session.execute(insert(table).from_select(names, stmt))
            self.parts.append(table_name)
            parts[name] = table
        return parts

    def customer_row(self, customer_id: int) -> dict[str, Any] | None:
        """One customer's row of the filled ``tiering_stats`` view (None: not an active customer).

        The columns in the order ``kehu tier stats`` shows them: the statistics, plugins'
        columns, then the ranks and classes.
        """
        ranked = COLUMN_NAMES[len(BASE_COLUMNS) :]
        row = (
            self.session.execute(
                select(
                    *(STATS.c[name] for name in BASE_COLUMNS),
                    *(stat.column for stat in self.extra),
                    *(STATS.c[name] for name in ranked),
                ).where(STATS.c.customer_id == customer_id)
            )
            .mappings()
            .first()
        )
        return None if row is None else dict(row)

    def analyze(self, *tables: Table) -> None:
        """PostgreSQL never auto-analyzes temporary tables: without statistics it plans nested loops."""
        if self.dialect == "postgresql":
            self.session.execute(text("ANALYZE " + ", ".join(t.name for t in tables)))

    def drop(self) -> None:
        """Drop the view and every work table (those left by an earlier failed run too)."""
        self.session.execute(text(f"DROP VIEW IF EXISTS {TABLE_NAME}"))
        for name in self.parts:
            self.session.execute(text(f"DROP TABLE IF EXISTS {name}"))
        for table in reversed(self.metadata.sorted_tables):
            self.session.execute(text(f"DROP TABLE IF EXISTS {table.name}"))

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is None:
            self.drop()

    def tier(self, target: Target) -> Any:
        """The target's new tier, from ``tiering_new``."""
        return target.tier(self.new.c[f"t{target.key}"], self.new.c[f"r{target.key}"])

    def decided_by(self, target: Target) -> Any:
        """The name of what decided the target's new tier, from ``tiering_new``."""
        return target.decided_by(self.new.c[f"r{target.key}"])
