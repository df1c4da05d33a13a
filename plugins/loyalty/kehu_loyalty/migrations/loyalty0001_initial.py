"""loyalty: accounts, points ledger and allocations, rewards, referrals, settings, levels, rebates

Revision ID: loyalty0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "loyalty0001"
down_revision = None
branch_labels = ("loyalty",)
depends_on = "c0001"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)
MoneyType = sa.Numeric(16, 2)
Rate = sa.Numeric(7, 4)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    ref_table = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=f"fk_{table}_{column}_{ref_table}")


def upgrade() -> None:
    op.create_table(
        "loyalty_accounts",
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("enrolled_at", Stamp, nullable=False),
        sa.Column("earn_from", Stamp, nullable=False),
        sa.Column("level", sa.String(32)),
        sa.Column("level_since", Stamp),
        sa.PrimaryKeyConstraint("customer_id", name="pk_loyalty_accounts"),
        _fk("loyalty_accounts", "customer_id", "customers.id"),
    )
    op.create_table(
        "loyalty_ledger",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("occurred_at", Stamp, nullable=False),
        sa.Column("expires_at", Stamp),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("rule", sa.String(64)),
        sa.Column("interaction_id", BigId),
        sa.Column("reward_id", BigId),
        sa.Column("idempotency_key", sa.String(160), nullable=False),
        sa.Column("shortfall", sa.Integer, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_loyalty_ledger"),
        sa.UniqueConstraint("idempotency_key", name="uq_loyalty_ledger_idempotency_key"),
        sa.CheckConstraint("shortfall >= 0", name="ck_loyalty_ledger_shortfall_positive"),
        _fk("loyalty_ledger", "customer_id", "customers.id"),
    )
    op.create_index("ix_loyalty_ledger_customer_expiry", "loyalty_ledger", ["customer_id", "expires_at"])
    op.create_table(
        "loyalty_allocations",
        sa.Column("debit_id", BigId, nullable=False),
        sa.Column("lot_id", BigId, nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("debit_id", "lot_id", name="pk_loyalty_allocations"),
        sa.CheckConstraint("points > 0", name="ck_loyalty_allocations_points_positive"),
        _fk("loyalty_allocations", "debit_id", "loyalty_ledger.id"),
        _fk("loyalty_allocations", "lot_id", "loyalty_ledger.id"),
    )
    op.create_index("ix_loyalty_allocations_lot_id", "loyalty_allocations", ["lot_id"])
    op.create_table(
        "loyalty_rewards",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("cost_points", sa.Integer, nullable=False),
        sa.Column("stock", sa.Integer),
        sa.Column("valid_from", Stamp),
        sa.Column("valid_until", Stamp),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_loyalty_rewards"),
        sa.UniqueConstraint("code", name="uq_loyalty_rewards_code"),
        sa.CheckConstraint("cost_points > 0", name="ck_loyalty_rewards_cost_positive"),
        sa.CheckConstraint("stock IS NULL OR stock >= 0", name="ck_loyalty_rewards_stock_not_negative"),
    )
    op.create_table(
        "loyalty_referrals",
        sa.Column("referred_id", BigId, nullable=False),
        sa.Column("referrer_id", BigId, nullable=False),
        sa.Column("recorded_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("referred_id", name="pk_loyalty_referrals"),
        sa.CheckConstraint("referrer_id <> referred_id", name="ck_loyalty_referrals_not_self"),
        _fk("loyalty_referrals", "referred_id", "customers.id"),
        _fk("loyalty_referrals", "referrer_id", "customers.id"),
    )
    op.create_index("ix_loyalty_referrals_referrer_id", "loyalty_referrals", ["referrer_id"])
    op.create_table(
        "loyalty_settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_loyalty_settings"),
    )
    op.create_table(
        "loyalty_levels",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("min_points", sa.Integer),
        sa.Column("min_spend", MoneyType),
        sa.PrimaryKeyConstraint("name", name="pk_loyalty_levels"),
        sa.UniqueConstraint("rank", name="uq_loyalty_levels_rank"),
    )
    op.create_table(
        "loyalty_rebate_programmes",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("tag", sa.String(100), nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_loyalty_rebate_programmes"),
        sa.UniqueConstraint("code", name="uq_loyalty_rebate_programmes_code"),
    )
    op.create_table(
        "loyalty_rebate_tiers",
        sa.Column("programme_id", BigId, nullable=False),
        sa.Column("threshold", MoneyType, nullable=False),
        sa.Column("rate", Rate, nullable=False),
        sa.PrimaryKeyConstraint("programme_id", "threshold", name="pk_loyalty_rebate_tiers"),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["loyalty_rebate_programmes.id"], name="fk_loyalty_rebate_tiers_programme"
        ),
    )
    op.create_table(
        "loyalty_rebate_settlements",
        sa.Column("id", BigId, nullable=False),
        sa.Column("programme_id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("volume", MoneyType, nullable=False),
        sa.Column("rate", Rate, nullable=False),
        sa.Column("rebate", MoneyType, nullable=False),
        sa.Column("settled_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_loyalty_rebate_settlements"),
        sa.UniqueConstraint(
            "programme_id", "customer_id", "period_start", name="uq_loyalty_rebate_settlements_period"
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["loyalty_rebate_programmes.id"], name="fk_loyalty_rebate_settlements_programme"
        ),
        _fk("loyalty_rebate_settlements", "customer_id", "customers.id"),
    )
    op.create_index(
        "ix_loyalty_rebate_settlements_customer_id", "loyalty_rebate_settlements", ["customer_id"]
    )


def downgrade() -> None:
    for table in (
        "loyalty_rebate_settlements",
        "loyalty_rebate_tiers",
        "loyalty_rebate_programmes",
        "loyalty_levels",
        "loyalty_settings",
        "loyalty_referrals",
        "loyalty_rewards",
        "loyalty_allocations",
        "loyalty_ledger",
        "loyalty_accounts",
    ):
        op.drop_table(table)
