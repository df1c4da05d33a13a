"""forecast: sales plans (销售计划): situation, targets, assumptions, actions, budget

Revision ID: forecast0003
Revises: forecast0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "forecast0003"
down_revision = "forecast0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)
MoneyType = sa.Numeric(16, 2)


def _plan_id(table: str) -> sa.Column:
    return sa.Column(
        "plan_id",
        BigId,
        sa.ForeignKey("forecast_plans.id", ondelete="CASCADE", name=f"fk_{table}_plan_id_forecast_plans"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "forecast_plans",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "run_id",
            BigId,
            sa.ForeignKey(
                "forecast_runs.id", ondelete="SET NULL", name="fk_forecast_plans_run_id_forecast_runs"
            ),
        ),
        sa.Column("situation_internal", sa.Text),
        sa.Column("situation_external", sa.Text),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
    )
    op.create_table(
        "forecast_plan_targets",
        _plan_id("forecast_plan_targets"),
        sa.Column("salesperson", sa.String(100), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "salesperson", "period_start", name="pk_forecast_plan_targets"),
    )
    op.create_table(
        "forecast_plan_assumptions",
        sa.Column("id", BigId, primary_key=True),
        _plan_id("forecast_plan_assumptions"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
    )
    op.create_index("ix_forecast_plan_assumptions_plan_id", "forecast_plan_assumptions", ["plan_id"])
    op.create_table(
        "forecast_plan_actions",
        sa.Column("id", BigId, primary_key=True),
        _plan_id("forecast_plan_actions"),
        sa.Column("title", sa.String(250), nullable=False),
        sa.Column("priority", sa.Integer),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("resources", sa.Text),
        sa.Column("target_salesperson", sa.String(100)),
        sa.Column("target_start", sa.Date),
        sa.Column("created_at", Stamp, nullable=False),
    )
    op.create_index("ix_forecast_plan_actions_plan_id", "forecast_plan_actions", ["plan_id"])
    op.create_table(
        "forecast_plan_budget",
        sa.Column("id", BigId, primary_key=True),
        _plan_id("forecast_plan_budget"),
        sa.Column("item", sa.String(250), nullable=False),
        sa.Column("amount", MoneyType, nullable=False),
        sa.Column("expected", MoneyType, nullable=False),
        sa.Column(
            "action_id",
            BigId,
            sa.ForeignKey(
                "forecast_plan_actions.id",
                ondelete="SET NULL",
                name="fk_forecast_plan_budget_action_id_forecast_plan_actions",
            ),
        ),
        sa.Column("created_at", Stamp, nullable=False),
    )
    op.create_index("ix_forecast_plan_budget_plan_id", "forecast_plan_budget", ["plan_id"])


def downgrade() -> None:
    op.drop_table("forecast_plan_budget")
    op.drop_table("forecast_plan_actions")
    op.drop_table("forecast_plan_assumptions")
    op.drop_table("forecast_plan_targets")
    op.drop_table("forecast_plans")
