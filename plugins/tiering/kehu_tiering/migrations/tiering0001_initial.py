"""tiering: monthly purchase aggregates, runs, assignment history

Revision ID: tiering0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "tiering0001"
down_revision = None
branch_labels = ("tiering",)
depends_on = "c0001"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)
CURRENT = sa.text("valid_to IS NULL")


def upgrade() -> None:
    op.create_table(
        "tiering_monthly",
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("month", sa.Integer, nullable=False),
        sa.Column("revenue", sa.BigInteger, nullable=False),
        sa.Column("costed_revenue", sa.BigInteger, nullable=False),
        sa.Column("cost", sa.BigInteger, nullable=False),
        sa.Column("orders", sa.Integer, nullable=False),
        sa.Column("first_at", Stamp, nullable=False),
        sa.Column("last_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "month", name="pk_tiering_monthly"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            ondelete="CASCADE",
            name="fk_tiering_monthly_customer_id_customers",
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "tiering_runs",
        sa.Column("id", BigId, nullable=False),
        sa.Column("started_at", Stamp, nullable=False),
        sa.Column("finished_at", Stamp),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("customers", sa.Integer, nullable=False),
        sa.Column("changed", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tiering_runs"),
    )
    op.create_table(
        "tiering_assignments",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("method", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(64), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.Column("metrics", sa.JSON),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("ended_run_id", BigId),
        sa.PrimaryKeyConstraint("id", name="pk_tiering_assignments"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            ondelete="CASCADE",
            name="fk_tiering_assignments_customer_id_customers",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["tiering_runs.id"],
            ondelete="CASCADE",
            name="fk_tiering_assignments_run_id_tiering_runs",
        ),
    )
    op.create_index(
        "ix_tiering_assignments_customer", "tiering_assignments", ["customer_id", "method", "valid_from"]
    )
    op.create_index(
        "ix_tiering_assignments_current",
        "tiering_assignments",
        ["customer_id", "method"],
        unique=True,
        sqlite_where=CURRENT,
        postgresql_where=CURRENT,
    )
    op.create_index(
        "ix_tiering_assignments_tier",
        "tiering_assignments",
        ["method", "tier"],
        sqlite_where=CURRENT,
        postgresql_where=CURRENT,
    )


def downgrade() -> None:
    op.drop_index("ix_tiering_assignments_tier", table_name="tiering_assignments")
    op.drop_index("ix_tiering_assignments_current", table_name="tiering_assignments")
    op.drop_index("ix_tiering_assignments_customer", table_name="tiering_assignments")
    op.drop_table("tiering_assignments")
    op.drop_table("tiering_runs")
    op.drop_table("tiering_monthly")
