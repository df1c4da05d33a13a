"""complaints: complaints, append-only history, teams, SLA policies, calendar days, settings

Revision ID: complaints0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "complaints0001"
down_revision = None
branch_labels = ("complaints",)
depends_on = "c0001"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)
MoneyType = sa.Numeric(16, 2)

#: History is append-only: no UPDATE (except blanking ``note`` when a customer is erased), no DELETE.
SQLITE_TRIGGERS = (
    """CREATE TRIGGER complaints_history_no_update BEFORE UPDATE ON complaints_history
       WHEN NOT (NEW.note IS NULL AND NEW.id = OLD.id AND NEW.complaint_id = OLD.complaint_id
                 AND NEW.at = OLD.at AND NEW.actor = OLD.actor AND NEW.action = OLD.action
                 AND NEW.from_status IS OLD.from_status AND NEW.to_status IS OLD.to_status)
       BEGIN SELECT RAISE(ABORT, 'complaints_history is append-only'); END""",
    """CREATE TRIGGER complaints_history_no_delete BEFORE DELETE ON complaints_history
       BEGIN SELECT RAISE(ABORT, 'complaints_history is append-only'); END""",
)
PG_TRIGGERS = (
    """CREATE FUNCTION complaints_history_guard() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND NEW.note IS NULL AND NEW.id = OLD.id
            AND NEW.complaint_id = OLD.complaint_id AND NEW.at = OLD.at AND NEW.actor = OLD.actor
            AND NEW.action = OLD.action AND NEW.from_status IS NOT DISTINCT FROM OLD.from_status
            AND NEW.to_status IS NOT DISTINCT FROM OLD.to_status THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'complaints_history is append-only';
       END $$""",
    """CREATE TRIGGER complaints_history_append_only BEFORE UPDATE OR DELETE ON complaints_history
       FOR EACH ROW EXECUTE FUNCTION complaints_history_guard()""",
)


def upgrade() -> None:
    op.create_table(
        "complaints_teams",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("lead", sa.String(100)),
        sa.Column("assignment", sa.String(16), nullable=False),
        sa.Column("last_assigned", sa.String(100)),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_complaints_teams"),
        sa.UniqueConstraint("name", name="uq_complaints_teams_name"),
    )
    op.create_table(
        "complaints_team_members",
        sa.Column("team_id", BigId, nullable=False),
        sa.Column("member", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("team_id", "member", name="pk_complaints_team_members"),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["complaints_teams.id"],
            ondelete="CASCADE",
            name="fk_complaints_team_members_team_id_complaints_teams",
        ),
    )
    op.create_table(
        "complaints_complaints",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(100)),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("wants", sa.JSON, nullable=False),
        sa.Column("handler", sa.String(100)),
        sa.Column("team_id", BigId),
        sa.Column("responsible_party", sa.String(100)),
        sa.Column("responsible_department", sa.String(100)),
        sa.Column("solution", sa.Text),
        sa.Column("compensation_amount", MoneyType),
        sa.Column("compensation_type", sa.String(32)),
        sa.Column("approved_by", sa.String(100)),
        sa.Column("opened_at", Stamp, nullable=False),
        sa.Column("clock_started_at", Stamp, nullable=False),
        sa.Column("first_response_at", Stamp),
        sa.Column("resolved_at", Stamp),
        sa.Column("followed_up_at", Stamp),
        sa.Column("closed_at", Stamp),
        sa.Column("close_reason", sa.Text),
        sa.Column("sla_policy", sa.String(100)),
        sa.Column("tier", sa.String(32)),
        sa.Column("first_response_due_at", Stamp),
        sa.Column("resolution_due_at", Stamp),
        sa.Column("paused_since", Stamp),
        sa.Column("paused_seconds", sa.Integer, nullable=False),
        sa.Column("first_response_breached_at", Stamp),
        sa.Column("resolution_breached_at", Stamp),
        sa.Column("escalated_at", Stamp),
        sa.Column("escalated_to", sa.String(100)),
        sa.Column("satisfaction", sa.SmallInteger),
        sa.Column("root_cause", sa.Text),
        sa.Column("corrective_action", sa.Text),
        sa.Column("penalty_note", sa.Text),
        sa.Column("reopen_count", sa.Integer, nullable=False),
        sa.Column("interaction_id", BigId),
        sa.Column("source_interaction_id", BigId),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_complaints_complaints"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            ondelete="RESTRICT",
            name="fk_complaints_complaints_customer_id_customers",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["complaints_teams.id"],
            ondelete="SET NULL",
            name="fk_complaints_complaints_team_id_complaints_teams",
        ),
        sa.UniqueConstraint("source_interaction_id", name="uq_complaints_complaints_source_interaction_id"),
    )
    op.create_index(
        "ix_complaints_complaints_customer", "complaints_complaints", ["customer_id", "opened_at"]
    )
    op.create_index("ix_complaints_complaints_status", "complaints_complaints", ["status"])
    op.create_index("ix_complaints_complaints_handler", "complaints_complaints", ["handler"])
    op.create_index("ix_complaints_complaints_fr_due", "complaints_complaints", ["first_response_due_at"])
    op.create_index("ix_complaints_complaints_res_due", "complaints_complaints", ["resolution_due_at"])

    op.create_table(
        "complaints_history",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("complaint_id", BigId, nullable=False),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(32)),
        sa.Column("to_status", sa.String(32)),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_complaints_history"),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints_complaints.id"],
            ondelete="RESTRICT",
            name="fk_complaints_history_complaint_id_complaints_complaints",
        ),
    )
    op.create_index("ix_complaints_history_complaint", "complaints_history", ["complaint_id", "id"])

    op.create_table(
        "complaints_sla_policies",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("severities", sa.JSON, nullable=False),
        sa.Column("tiers", sa.JSON, nullable=False),
        sa.Column("kinds", sa.JSON, nullable=False),
        sa.Column("first_response_minutes", sa.Integer, nullable=False),
        sa.Column("resolution_minutes", sa.Integer, nullable=False),
        sa.Column("paused_stages", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_complaints_sla_policies"),
        sa.UniqueConstraint("name", name="uq_complaints_sla_policies_name"),
    )
    op.create_table(
        "complaints_calendar_days",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("workday", sa.Boolean, nullable=False),
        sa.Column("name", sa.String(100)),
        sa.PrimaryKeyConstraint("day", name="pk_complaints_calendar_days"),
    )
    op.create_table(
        "complaints_settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON),
        sa.PrimaryKeyConstraint("key", name="pk_complaints_settings"),
    )
    triggers = PG_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS complaints_history_append_only ON complaints_history")
        op.execute("DROP FUNCTION IF EXISTS complaints_history_guard()")
    for table in (
        "complaints_settings",
        "complaints_calendar_days",
        "complaints_sla_policies",
        "complaints_history",
        "complaints_complaints",
        "complaints_team_members",
        "complaints_teams",
    ):
        op.drop_table(table)
