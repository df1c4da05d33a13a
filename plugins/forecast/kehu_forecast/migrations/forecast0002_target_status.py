"""forecast: the recorded status of each SMART target

Revision ID: forecast0002
Revises: forecast0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "forecast0002"
down_revision = "forecast0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("forecast_targets", sa.Column("status", sa.String(16)))
    op.add_column("forecast_targets", sa.Column("status_as_of", sa.Date))


def downgrade() -> None:
    # Batch mode: SQLite rebuilds the table to drop a column.
    with op.batch_alter_table("forecast_targets") as batch:
        batch.drop_column("status_as_of")
        batch.drop_column("status")
