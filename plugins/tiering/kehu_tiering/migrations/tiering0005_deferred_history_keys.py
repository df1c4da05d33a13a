"""tiering: the history's foreign keys are checked at commit

A tier run writes its history in one transaction: it closes the rows that moved and inserts
their successors, statement after statement, and is only ever kept whole. With foreign keys
checked at each statement, SQLite had to be able to undo a statement alone, so it copied
every existing page that statement changed into a statement journal first: on a re-run in
which half of a million customers move, the history's pages and both indexes, hundreds of
megabytes written for nothing. Checked at commit (``DEFERRABLE INITIALLY DEFERRED``), a
missing customer or run is still refused, by the COMMIT; ``ON DELETE CASCADE`` acts at once
as before.

PostgreSQL alters the two constraints in place. SQLite cannot alter a constraint: the
table is rebuilt (created anew, rows copied, indexes made again), as SQLite documents for
schema changes it has no ALTER for.

Revision ID: tiering0005
Revises: tiering0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "tiering0005"
down_revision = "tiering0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CURRENT = sa.text("valid_to IS NULL")
TABLE = "tiering_assignments"
KEYS = {
    "fk_tiering_assignments_customer_id_customers": ("customer_id", "customers.id"),
    "fk_tiering_assignments_run_id_tiering_runs": ("run_id", "tiering_runs.id"),
}
COLUMNS = [
    "id",
    "customer_id",
    "method",
    "tier",
    "decided_by",
    "metrics",
    "valid_from",
    "valid_to",
    "run_id",
    "ended_run_id",
]


def _rebuild_sqlite(deferred: bool) -> None:
    """Create the table anew with the keys ``deferred`` (or not), copy the rows, index it again."""
    new = f"_{TABLE}_new"
    op.create_table(
        new,
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("method", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(64), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.Column("metrics", sa.JSON),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("ended_run_id", BigId),
        sa.PrimaryKeyConstraint("id", name="pk_tiering_assignments"),
        *(
            sa.ForeignKeyConstraint(
                [column],
                [target],
                ondelete="CASCADE",
                name=name,
                deferrable=True if deferred else None,
                initially="DEFERRED" if deferred else None,
            )
            for name, (column, target) in KEYS.items()
        ),
    )
    columns = ", ".join(COLUMNS)
    op.execute(f"INSERT INTO {new} ({columns}) SELECT {columns} FROM {TABLE} ORDER BY id")
    op.drop_table(TABLE)  # and its indexes
    op.rename_table(new, TABLE)
    op.create_index("ix_tiering_assignments_customer", TABLE, ["customer_id", "method", "valid_from"])
    op.create_index(
        "ix_tiering_assignments_current",
        TABLE,
        ["customer_id", "method"],
        unique=True,
        sqlite_where=CURRENT,
    )


def _alter_postgresql(deferred: bool) -> None:
    timing = "DEFERRABLE INITIALLY DEFERRED" if deferred else "NOT DEFERRABLE"
    for name in KEYS:
        op.execute(f"ALTER TABLE {TABLE} ALTER CONSTRAINT {name} {timing}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(deferred=True)
    else:
        _alter_postgresql(deferred=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(deferred=False)
    else:
        _alter_postgresql(deferred=False)
