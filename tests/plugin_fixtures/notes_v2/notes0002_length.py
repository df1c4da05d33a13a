"""notes 2.0: every note gets its length in characters, computed for existing rows

Revision ID: notes0002
"""

import sqlalchemy as sa
from alembic import op

revision = "notes0002"
down_revision = "notes0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notes_items") as batch:
        batch.add_column(sa.Column("length", sa.Integer, nullable=False, server_default="0"))
    # Existing rows are transformed, not lost: length() counts characters on both databases.
    op.execute("UPDATE notes_items SET length = length(body)")


def downgrade() -> None:
    with op.batch_alter_table("notes_items") as batch:
        batch.drop_column("length")
