"""acme_rules: key-account judgement flags per customer

Revision ID: acme_rules0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "acme_rules0001"
down_revision = None
branch_labels = ("acme_rules",)
depends_on = "c0001"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "acme_rules_customer_flags",
        sa.Column(
            "customer_id",
            BigId,
            sa.ForeignKey(
                "customers.id", ondelete="CASCADE", name="fk_acme_rules_customer_flags_customer_id_customers"
            ),
            primary_key=True,
        ),
        sa.Column("strategic_project", sa.Boolean, nullable=False),
        sa.Column("influence", sa.Boolean, nullable=False),
        sa.Column("technical_strength", sa.Boolean, nullable=False),
        sa.Column("market_strength", sa.Boolean, nullable=False),
        sa.Column("judged_by", sa.String(100)),
        sa.Column("note", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("acme_rules_customer_flags")
