"""tiering: typed per-customer snapshots of the methods' numbers

A method's decision (ABC, pyramid, RFM) kept its numbers as JSON on every assignment row:
three JSON objects per customer on a first run, most of what it wrote. They now go, typed,
into one row per customer and run; assignments decided by a rule keep their JSON (the
columns the rule reads). Older rows keep their JSON and are read as before.

Revision ID: tiering0003
Revises: tiering0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "tiering0003"
down_revision = "tiering0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
YUAN = sa.Numeric(18, 2)


def upgrade() -> None:
    op.create_table(
        "tiering_snapshots",
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("measure", YUAN),
        sa.Column("revenue_window", YUAN),
        sa.Column("cum_share_before", sa.Float),
        sa.Column("rank", sa.Integer),
        sa.Column("customers", sa.Integer),
        sa.Column("rank_pct", sa.Float),
        sa.Column("recency_days", sa.Integer),
        sa.Column("orders_window", sa.Integer),
        sa.Column("r_score", sa.Integer),
        sa.Column("f_score", sa.Integer),
        sa.Column("m_score", sa.Integer),
        sa.PrimaryKeyConstraint("run_id", "customer_id", name="pk_tiering_snapshots"),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["tiering_runs.id"],
            ondelete="CASCADE",
            name="fk_tiering_snapshots_run_id_tiering_runs",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            ondelete="CASCADE",
            name="fk_tiering_snapshots_customer_id_customers",
        ),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("tiering_snapshots")
