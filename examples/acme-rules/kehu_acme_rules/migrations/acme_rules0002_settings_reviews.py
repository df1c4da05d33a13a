"""acme_rules: ACME's settings (the key-account manager) and the weekly reviews

Revision ID: acme_rules0002
Revises: acme_rules0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "acme_rules0002"
down_revision = "acme_rules0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "acme_rules_settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(100)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "acme_rules_reviews",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("week", sa.Date, nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_accounts", sa.Integer, nullable=False),
        sa.Column("late_payers", sa.Integer, nullable=False),
        sa.Column("open_key_complaints", sa.Integer, nullable=False),
        sa.UniqueConstraint("week", name="uq_acme_rules_reviews_week"),
    )


def downgrade() -> None:
    op.drop_table("acme_rules_reviews")
    op.drop_table("acme_rules_settings")
