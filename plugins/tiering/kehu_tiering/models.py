"""The tiering plugin's tables (SQLAlchemy Core, on the plugin's own MetaData).

* ``tiering_monthly``: per customer and calendar month, the purchase aggregates, kept up to
  date in ``kehu_interactions_recorded`` (same transaction). Money is in integer cents so
  that sums are exact and ties stay ties on every database.
* ``tiering_runs``: one row per ``kehu tier run``, with the parameters (cut points, window,
  measure, rules) that decided it.
* ``tiering_assignments``: the history. One row per customer, classification and period of
  validity; the current row has ``valid_to`` NULL. ``metrics`` is the snapshot of the numbers
  that decided it when a rule did (exactly the columns its condition reads).
* ``tiering_snapshots``: when a method decided (ABC, pyramid, RFM), its numbers, typed, one
  row per customer and run (shared by that run's ABC, pyramid and RFM rows of the customer).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
)
from sqlalchemy.types import TypeEngine

from kehu_core.models import NAMING_CONVENTION, BigId, Customer
from kehu_core.types import UTCDateTime

metadata = MetaData(naming_convention=NAMING_CONVENTION)
CUSTOMER_ID = Customer.__table__.c.id

monthly = Table(
    "tiering_monthly",
    metadata,
    Column("customer_id", BigId, ForeignKey(CUSTOMER_ID, ondelete="CASCADE"), primary_key=True),
    Column("month", Integer, primary_key=True),  # year * 12 + month - 1
    Column("revenue", BigInteger, nullable=False),  # cents, purchases done
    Column("costed_revenue", BigInteger, nullable=False),  # cents, purchases that carry a cost
    Column("cost", BigInteger, nullable=False),  # cents
    Column("orders", Integer, nullable=False),
    Column("first_at", UTCDateTime, nullable=False),
    Column("last_at", UTCDateTime, nullable=False),
    sqlite_with_rowid=False,  # clustered by (customer, month): grouping per customer reads in order
)

runs = Table(
    "tiering_runs",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("as_of", Date, nullable=False),
    Column("source", String(32), nullable=False),
    Column("settings", JSON, nullable=False),
    Column("customers", Integer, nullable=False, default=0),
    Column("changed", Integer, nullable=False, default=0),
)

#: A foreign key checked when the transaction commits, not after each statement.
DEFERRED: dict[str, Any] = {"deferrable": True, "initially": "DEFERRED"}

assignments = Table(
    "tiering_assignments",
    metadata,
    Column("id", BigId, primary_key=True),
    # Both keys are checked at commit (migration tiering0005): a run writes its history in one
    # transaction, so SQLite need not journal each statement to be able to undo it alone.
    Column("customer_id", BigId, ForeignKey(CUSTOMER_ID, ondelete="CASCADE", **DEFERRED), nullable=False),
    Column("method", String(64), nullable=False, info={"personal": False}),
    Column("tier", String(64), nullable=False, info={"personal": False}),
    Column("decided_by", String(200), nullable=False, info={"personal": False}),
    Column("metrics", JSON, info={"personal": False}),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("run_id", BigId, ForeignKey("tiering_runs.id", ondelete="CASCADE", **DEFERRED), nullable=False),
    Column("ended_run_id", BigId),
    Index("ix_tiering_assignments_customer", "customer_id", "method", "valid_from"),
)
# At most one current assignment per customer and classification.
Index(
    "ix_tiering_assignments_current",
    assignments.c.customer_id,
    assignments.c.method,
    unique=True,
    sqlite_where=assignments.c.valid_to.is_(None),
    postgresql_where=assignments.c.valid_to.is_(None),
)
# No (method, tier) index: see migration tiering0002.


#: The numbers a method's decision rests on, per method (the snapshot of an assignment that
#: the method itself decided).
METHOD_METRICS = {
    "abc": ("measure", "revenue_window", "cum_share_before", "rank", "customers"),
    "pyramid": ("measure", "revenue_window", "rank", "rank_pct", "customers"),
    "rfm": ("recency_days", "orders_window", "measure", "r_score", "f_score", "m_score"),
}
_SNAPSHOT_TYPES: dict[str, TypeEngine[Any]] = {
    "measure": Numeric(18, 2),
    "revenue_window": Numeric(18, 2),
    "cum_share_before": Float(),
    "rank_pct": Float(),
}
SNAPSHOT_COLUMNS = tuple(dict.fromkeys(name for names in METHOD_METRICS.values() for name in names))

snapshots = Table(
    "tiering_snapshots",
    metadata,
    Column("run_id", BigId, ForeignKey("tiering_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("customer_id", BigId, ForeignKey(CUSTOMER_ID, ondelete="CASCADE"), primary_key=True),
    *(Column(name, _SNAPSHOT_TYPES.get(name, Integer())) for name in SNAPSHOT_COLUMNS),
    sqlite_with_rowid=False,  # clustered by (run, customer): a run appends, a lookup is one probe
)
