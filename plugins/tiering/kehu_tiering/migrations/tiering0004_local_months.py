"""tiering: monthly buckets in the company calendar

The monthly purchase buckets were keyed by the UTC month of each purchase; a purchase at
00:30 on the 1st in Shanghai went to the month before. They are rebuilt keyed by the
company-local month (kehu_core.calendar), from the interactions, as the plugin now keeps them.

Revision ID: tiering0004
Revises: tiering0003
Create Date: 2027-01-15
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from kehu_core import calendar, sql

revision = "tiering0004"
down_revision = "tiering0003"
branch_labels = None
depends_on = None

_interactions = sa.table(
    "interactions",
    sa.column("customer_id"),
    sa.column("kind"),
    sa.column("status"),
    sa.column("amount"),
    sa.column("cost"),
    sa.column("occurred_at"),
)
_monthly = sa.table(
    "tiering_monthly",
    sa.column("customer_id"),
    sa.column("month"),
    sa.column("revenue"),
    sa.column("costed_revenue"),
    sa.column("cost"),
    sa.column("orders"),
    sa.column("first_at"),
    sa.column("last_at"),
)


def _utc_month(column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[int]:
    """The UTC month index of revision tiering0003 (for the downgrade)."""
    if dialect == "sqlite":
        year, month = sa.func.strftime("%Y", column), sa.func.strftime("%m", column)
        return sa.cast(year, sa.Integer) * 12 + sa.cast(month, sa.Integer) - 1
    utc = sa.func.timezone("UTC", column)
    return sa.cast(sa.extract("year", utc) * 12 + sa.extract("month", utc) - 1, sa.Integer)


def _rebuild(local: bool) -> None:
    """Empty the buckets and fill them again from the done purchases, by local (or UTC) month."""
    dialect = op.get_bind().dialect.name
    i = _interactions.c
    amount = sql.cents(i.amount)
    costed = i.cost.is_not(None)
    month = calendar.sql_month_index(i.occurred_at, dialect) if local else _utc_month(i.occurred_at, dialect)
    buckets = (
        sa.select(
            i.customer_id,
            month,
            sa.func.sum(amount),
            sa.func.coalesce(sa.func.sum(sa.case((costed, amount))), 0),
            sa.func.coalesce(sa.func.sum(sa.case((costed, sql.cents(i.cost)))), 0),
            sa.func.count(sa.case((i.amount > 0, 1))),
            sa.func.min(i.occurred_at),
            sa.func.max(i.occurred_at),
        )
        .where(i.kind == "purchase", i.status == "done", i.amount.is_not(None))
        .group_by(i.customer_id, month)
    )
    op.execute(_monthly.delete())
    op.execute(_monthly.insert().from_select([c.name for c in _monthly.columns], buckets))


def upgrade() -> None:
    _rebuild(local=True)


def downgrade() -> None:
    _rebuild(local=False)
