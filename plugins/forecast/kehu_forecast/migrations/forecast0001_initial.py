"""forecast: opportunities, market inputs, runs and their values, SMART targets

Revision ID: forecast0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "forecast0001"
down_revision = None
branch_labels = ("forecast",)
depends_on = "c0001"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)
MoneyType = sa.Numeric(16, 2)


def upgrade() -> None:
    op.create_table(
        "forecast_opportunities",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column(
            "customer_id",
            BigId,
            sa.ForeignKey(
                "customers.id", ondelete="CASCADE", name="fk_forecast_opportunities_customer_id_customers"
            ),
            nullable=False,
        ),
        sa.Column("salesperson", sa.String(100), nullable=False),
        sa.Column("amount", MoneyType, nullable=False),
        sa.Column("stage", sa.String(100), nullable=False),
        sa.Column("probability", sa.Numeric(5, 4), nullable=False),
        sa.Column("close_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.UniqueConstraint("ref", name="uq_forecast_opportunities_ref"),
    )
    op.create_index("ix_forecast_opportunities_customer_id", "forecast_opportunities", ["customer_id"])
    op.create_table(
        "forecast_market_inputs",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("potential", MoneyType),
        sa.Column("share", sa.Numeric(7, 6)),
        sa.Column("growth", sa.Numeric(9, 6)),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.UniqueConstraint("period", "dimension", "key", name="uq_forecast_market_inputs_period"),
    )
    op.create_table(
        "forecast_runs",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("method", sa.String(64), nullable=False),
        sa.Column("freq", sa.String(8), nullable=False),
        sa.Column("first_period", sa.Date, nullable=False),
        sa.Column("horizon", sa.Integer, nullable=False),
        sa.Column("history_end", sa.Date, nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
    )
    op.create_table(
        "forecast_values",
        sa.Column(
            "run_id",
            BigId,
            sa.ForeignKey(
                "forecast_runs.id", ondelete="CASCADE", name="fk_forecast_values_run_id_forecast_runs"
            ),
            nullable=False,
        ),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("node", sa.String(250), nullable=False),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("parent", sa.String(250)),
        sa.Column("customer_id", BigId),
        sa.Column("value", MoneyType, nullable=False),
        sa.Column("base", MoneyType),
        sa.Column("low", MoneyType),
        sa.Column("high", MoneyType),
        sa.Column("pipeline", MoneyType),
        sa.Column("method", sa.String(32)),
        sa.PrimaryKeyConstraint("run_id", "level", "node", "period", name="pk_forecast_values"),
    )
    op.create_index("ix_forecast_values_customer_id", "forecast_values", ["customer_id"])
    op.create_table(
        "forecast_targets",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "run_id",
            BigId,
            sa.ForeignKey(
                "forecast_runs.id", ondelete="SET NULL", name="fk_forecast_targets_run_id_forecast_runs"
            ),
        ),
        sa.Column("salesperson", sa.String(100), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("amount", MoneyType, nullable=False),
        sa.Column("baseline", MoneyType, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("created_at", Stamp, nullable=False),
        sa.UniqueConstraint("salesperson", "period_start", name="uq_forecast_targets_salesperson"),
    )
    op.create_table(
        "forecast_target_lines",
        sa.Column(
            "target_id",
            BigId,
            sa.ForeignKey(
                "forecast_targets.id",
                ondelete="CASCADE",
                name="fk_forecast_target_lines_target_id_forecast_targets",
            ),
            nullable=False,
        ),
        sa.Column(
            "customer_id",
            BigId,
            sa.ForeignKey(
                "customers.id", ondelete="CASCADE", name="fk_forecast_target_lines_customer_id_customers"
            ),
            nullable=False,
        ),
        sa.Column("amount", MoneyType, nullable=False),
        sa.PrimaryKeyConstraint("target_id", "customer_id", name="pk_forecast_target_lines"),
    )


def downgrade() -> None:
    op.drop_table("forecast_target_lines")
    op.drop_table("forecast_targets")
    op.drop_table("forecast_values")
    op.drop_table("forecast_runs")
    op.drop_index("ix_forecast_opportunities_customer_id", table_name="forecast_opportunities")
    op.drop_table("forecast_opportunities")
    op.drop_table("forecast_market_inputs")
