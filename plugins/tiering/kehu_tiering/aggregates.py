"""Monthly purchase aggregates per customer (``tiering_monthly``), maintained on insert.

One definition, :func:`bucket_select`, turns purchases into (customer, local month) buckets. It is
used three ways: to rebuild the table from every interaction (install, ``kehu tier
rebuild``), to add a just-recorded batch (``kehu_interactions_recorded``, same transaction),
and by the statistics query for the part of the as-of month up to the as-of date.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, delete, func, select, text
from sqlalchemy.orm import Session

from kehu_core import calendar, sql
from kehu_core.app import Kehu
from kehu_core.hooktypes import InteractionBatch
from kehu_core.models import Interaction
from kehu_tiering.models import monthly

#: Interaction kinds whose amount is revenue.
PURCHASE_KINDS = ("purchase",)
BUCKET_COLUMNS = (
    "customer_id",
    "month",
    "revenue",
    "costed_revenue",
    "cost",
    "orders",
    "first_at",
    "last_at",
)
_CHUNK = 1000


def purchase_filter() -> list[Any]:
    """The interactions that count as revenue: done purchases with an amount."""
    i = Interaction
    return [i.kind.in_(PURCHASE_KINDS), i.status == "done", i.amount.is_not(None)]


def bucket_select(dialect: str, *where: Any, month: Any = None) -> Select[Any]:
    """Purchases grouped by customer and company-local month (``month`` fixes the month column instead).

    The month is :func:`kehu_core.calendar.month_index` of the purchase's local day: a purchase
    at 00:30 on the 1st in Shanghai belongs to that month, although it is the month before in UTC.
    """
    i = Interaction
    amount = sql.cents(i.amount)
    costed = i.cost.is_not(None)
    month_col = calendar.sql_month_index(i.occurred_at, dialect) if month is None else month
    stmt = select(
        i.customer_id.label("customer_id"),
        month_col.label("month"),
        func.sum(amount).label("revenue"),
        func.coalesce(func.sum(case((costed, amount))), 0).label("costed_revenue"),
        # A refund's cost is the cost of the goods coming back: it counts back, as in the
        # customer-profit statement (kehu_core.profit), so a refund takes its margin off, not more.
        func.coalesce(
            func.sum(case((costed & (i.amount < 0), -sql.cents(i.cost)), (costed, sql.cents(i.cost)))), 0
        ).label("cost"),
        func.count(case((i.amount > 0, 1))).label("orders"),  # a refund is not an order
        func.min(i.occurred_at).label("first_at"),
        func.max(i.occurred_at).label("last_at"),
    ).where(*purchase_filter(), *where)
    return stmt.group_by(i.customer_id) if month is not None else stmt.group_by(i.customer_id, month_col)


def _upsert(session: Session, source: Select[Any]) -> None:
    dialect = sql.dialect_of(session)
    stmt = sql.insert(monthly, dialect).from_select(BUCKET_COLUMNS, source)
    new = stmt.excluded
    m = monthly.c
    stmt = stmt.on_conflict_do_update(
        index_elements=[m.customer_id, m.month],
        set_={
            "revenue": m.revenue + new.revenue,
            "costed_revenue": m.costed_revenue + new.costed_revenue,
            "cost": m.cost + new.cost,
            "orders": m.orders + new.orders,
            "first_at": sql.least(m.first_at, new.first_at, dialect),
            "last_at": sql.greatest(m.last_at, new.last_at, dialect),
        },
    )
    session.execute(stmt)


def add_batch(session: Session, batch: InteractionBatch) -> int:
    """Add just-written interactions to the monthly buckets; returns the purchases counted.

    Reads the batch's columns, not its rows: no mapping is built per interaction."""
    ids = [
        iid
        for iid, kind, status, amount in zip(
            batch.ids, batch.column("kind"), batch.column("status"), batch.column("amount")
        )
        if kind in PURCHASE_KINDS and (status or "done") == "done" and amount is not None
    ]
    dialect = sql.dialect_of(session)
    for begin in range(0, len(ids), _CHUNK):
        chunk = ids[begin : begin + _CHUNK]
        _upsert(session, bucket_select(dialect, Interaction.id.in_(chunk)))
    return len(ids)


def rebuild(session: Session) -> int:
    """Recompute every bucket from the interactions (install, or after editing history by hand)."""
    dialect = sql.dialect_of(session)
    session.execute(delete(monthly))
    session.execute(monthly.insert().from_select(BUCKET_COLUMNS, bucket_select(dialect)))
    if dialect == "postgresql":
        # The table was rewritten whole: until autovacuum gets to it, the next run would be
        # planned on the statistics of the old rows (after install: on none).
        session.execute(text(f"ANALYZE {monthly.name}"))
    return session.scalar(select(func.count()).select_from(monthly)) or 0


def build_on_install(app: Kehu, session: Session) -> None:
    """The manifest's ``post_init_hook``: build the buckets of the purchases already recorded."""
    rebuild(session)
