"""loyalty: the ledger's customer index on customer_id alone (was customer_id, expires_at)

Every earned point inserts one entry into this index at a random place (purchases arrive in
time order, customers in any order). Without the 26-character expiry text the index is about
three times smaller, so a big import keeps far more of it in the page cache: importing
1,000,000 purchases spent ~4 s less on ledger inserts. Lots are still read by customer;
sorting one customer's few lots by expiry costs nothing.

Revision ID: loyalty0002
Revises: loyalty0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "loyalty0002"
down_revision = "loyalty0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_loyalty_ledger_customer_expiry", table_name="loyalty_ledger")
    op.create_index("ix_loyalty_ledger_customer_id", "loyalty_ledger", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_loyalty_ledger_customer_id", table_name="loyalty_ledger")
    op.create_index("ix_loyalty_ledger_customer_expiry", "loyalty_ledger", ["customer_id", "expires_at"])
