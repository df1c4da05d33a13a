"""notes: items, categories, lifecycle log

Revision ID: notes0001
"""

import sqlalchemy as sa
from alembic import op

revision = "notes0001"
down_revision = None
branch_labels = ("notes",)
depends_on = "c0001"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notes_items",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "customer_id",
            BigId,
            sa.ForeignKey("customers.id", ondelete="CASCADE", name="fk_notes_items_customer_id_customers"),
            nullable=False,
        ),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "notes_categories",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("label", sa.String(100), nullable=False),
    )
    op.create_table(
        "notes_lifecycle",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(100), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notes_lifecycle")
    op.drop_table("notes_categories")
    op.drop_table("notes_items")
