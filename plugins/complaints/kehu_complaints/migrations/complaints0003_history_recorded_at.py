"""complaints: a history entry records when it was written, beside when the step happened

``kehu complaint move ... --at TIME`` records a step done earlier (a first response made on the
phone yesterday): ``at`` is when it happened, ``recorded_at`` when it was written (empty when
the two are the same). The append-only triggers now keep ``recorded_at`` too when a forgotten
customer's note is blanked.

Revision ID: complaints0003
Revises: complaints0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "complaints0003"
down_revision = "complaints0002"
branch_labels = None
depends_on = None


def _sqlite_update_trigger(recorded_at: bool) -> str:
    kept = " AND NEW.recorded_at IS OLD.recorded_at" if recorded_at else ""
    return f"""CREATE TRIGGER complaints_history_no_update BEFORE UPDATE ON complaints_history
       WHEN NOT (NEW.note IS NULL AND NEW.id = OLD.id AND NEW.complaint_id = OLD.complaint_id
                 AND NEW.at = OLD.at AND NEW.actor = OLD.actor AND NEW.action = OLD.action
                 AND NEW.from_status IS OLD.from_status AND NEW.to_status IS OLD.to_status{kept})
       BEGIN SELECT RAISE(ABORT, 'complaints_history is append-only'); END"""


def _pg_guard(recorded_at: bool) -> str:
    kept = " AND NEW.recorded_at IS NOT DISTINCT FROM OLD.recorded_at" if recorded_at else ""
    return f"""CREATE OR REPLACE FUNCTION complaints_history_guard() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND NEW.note IS NULL AND NEW.id = OLD.id
            AND NEW.complaint_id = OLD.complaint_id AND NEW.at = OLD.at AND NEW.actor = OLD.actor
            AND NEW.action = OLD.action AND NEW.from_status IS NOT DISTINCT FROM OLD.from_status
            AND NEW.to_status IS NOT DISTINCT FROM OLD.to_status{kept} THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'complaints_history is append-only';
       END $$"""


def _guard(recorded_at: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_pg_guard(recorded_at))
    else:
        op.execute("DROP TRIGGER IF EXISTS complaints_history_no_update")
        op.execute(_sqlite_update_trigger(recorded_at))


def upgrade() -> None:
    op.add_column("complaints_history", sa.Column("recorded_at", sa.DateTime(timezone=True)))
    _guard(recorded_at=True)


def downgrade() -> None:
    _guard(recorded_at=False)
    # Not batch mode: on SQLite that would rebuild the table without its triggers.
    op.drop_column("complaints_history", "recorded_at")
