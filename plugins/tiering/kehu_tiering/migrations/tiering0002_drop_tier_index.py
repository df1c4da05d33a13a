"""tiering: drop the (method, tier) index of current assignments

Measured at 1M customers: keeping it up to date cost a first run ~2.7 s of ~30 (every new
row lands somewhere else in it, while the customer-ordered indexes only append), and no
query needed it: the report and the counts join the statistics and read every current row
anyway, and the list filter asks for a tier without a method.

Revision ID: tiering0002
Revises: tiering0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "tiering0002"
down_revision = "tiering0001"
branch_labels = None
depends_on = None

CURRENT = sa.text("valid_to IS NULL")


def upgrade() -> None:
    op.drop_index("ix_tiering_assignments_tier", table_name="tiering_assignments")


def downgrade() -> None:
    op.create_index(
        "ix_tiering_assignments_tier",
        "tiering_assignments",
        ["method", "tier"],
        sqlite_where=CURRENT,
        postgresql_where=CURRENT,
    )
