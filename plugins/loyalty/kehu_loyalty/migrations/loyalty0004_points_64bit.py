"""loyalty: points in 64-bit integers on PostgreSQL too

PostgreSQL's INTEGER is 32-bit: a purchase of ¥3,000,000,000.00 at 1 point per yuan earns more
points than it holds, and was refused there while SQLite (whose INTEGER is 64-bit) took it. Every
column counting points (the ledger's points and shortfall, allocations, rewards' cost, levels'
minimum) becomes BIGINT, so both databases hold the same range (up to 2^63 - 1). SQLite's
INTEGER already stores 64 bits and BIGINT has the same affinity there: nothing changes on SQLite
(the models declare these columns INTEGER on SQLite, BIGINT elsewhere).

Revision ID: loyalty0004
Revises: loyalty0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "loyalty0004"
down_revision = "loyalty0003"
branch_labels = None
depends_on = None

#: (table, column, nullable) of every column counting points.
POINTS_COLUMNS = (
    ("loyalty_ledger", "points", False),
    ("loyalty_ledger", "shortfall", False),
    ("loyalty_allocations", "points", False),
    ("loyalty_rewards", "cost_points", False),
    ("loyalty_levels", "min_points", True),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column, nullable in POINTS_COLUMNS:
        op.alter_column(
            table, column, type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=nullable
        )


def downgrade() -> None:
    """Back to 32-bit columns: refused by PostgreSQL while any value is beyond 2^31 - 1."""
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column, nullable in POINTS_COLUMNS:
        op.alter_column(
            table, column, type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=nullable
        )
