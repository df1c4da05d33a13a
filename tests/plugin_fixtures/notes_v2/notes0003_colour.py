"""notes 2.0: every category gets a colour, which the plugin's default data sets

Revision ID: notes0003
"""

import sqlalchemy as sa
from alembic import op

revision = "notes0003"
down_revision = "notes0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notes_categories") as batch:
        batch.add_column(sa.Column("colour", sa.String(16)))


def downgrade() -> None:
    with op.batch_alter_table("notes_categories") as batch:
        batch.drop_column("colour")
