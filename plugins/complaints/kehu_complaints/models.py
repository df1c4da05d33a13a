"""The complaints plugin's tables (SQLAlchemy Core, on the plugin's own MetaData): complaints,
their append-only history, teams, SLA policies, calendar exceptions and settings.

Uninstall drops exactly these; they must match what ``migrations/`` creates (a test compares
them). A complaint carries a ``version`` column for optimistic locking: every write is
``UPDATE ... WHERE id = :id AND version = :seen`` and bumps it, so two handlers moving the
same complaint at once cannot both win.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

from kehu_core.models import NAMING_CONVENTION, BigId
from kehu_core.types import Money, UTCDateTime, utcnow

metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: A complaint-handling team: its members, its lead (escalations go there), how work is assigned.
TEAMS = Table(
    "complaints_teams",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("lead", String(100)),
    Column("assignment", String(16), nullable=False, default="manual"),  # manual | round_robin | balanced
    Column("last_assigned", String(100)),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)

#: One handler in one team; ``position`` orders the round robin.
MEMBERS = Table(
    "complaints_team_members",
    metadata,
    Column("team_id", BigId, ForeignKey("complaints_teams.id", ondelete="CASCADE"), primary_key=True),
    Column("member", String(100), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
    Column("active", Boolean, nullable=False, default=True),
)

#: A grievance (抱怨) or formal complaint (投诉) and where its handling stands.
COMPLAINTS = Table(
    "complaints_complaints",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("customer_id", BigId, ForeignKey("customers.id", ondelete="RESTRICT"), nullable=False),
    Column("kind", String(16), nullable=False, info={"personal": False}),  # grievance 抱怨 | complaint 投诉
    Column("channel", String(100), info={"personal": False}),
    Column("category", String(32), nullable=False, info={"personal": False}),
    Column("severity", String(16), nullable=False, info={"personal": False}),
    Column("status", String(32), nullable=False, info={"personal": False}),
    Column("description", Text, info={"personal": True}),
    Column("wants", JSON, nullable=False, default=list, info={"personal": False}),
    Column("handler", String(100), info={"personal": False}),
    Column("team_id", BigId, ForeignKey("complaints_teams.id", ondelete="SET NULL")),
    Column("responsible_party", String(100), info={"personal": False}),
    Column("responsible_department", String(100), info={"personal": False}),
    Column("solution", Text, info={"personal": True}),
    Column("compensation_amount", Money),
    Column("compensation_type", String(32), info={"personal": False}),
    Column("approved_by", String(100), info={"personal": False}),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("clock_started_at", UTCDateTime, nullable=False),
    Column("first_response_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("followed_up_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("close_reason", Text, info={"personal": True}),
    Column("sla_policy", String(100), info={"personal": False}),
    Column("tier", String(32), info={"personal": False}),
    Column("first_response_due_at", UTCDateTime),
    Column("resolution_due_at", UTCDateTime),
    Column("paused_since", UTCDateTime),
    Column("paused_seconds", Integer, nullable=False, default=0),
    Column("first_response_breached_at", UTCDateTime),
    Column("resolution_breached_at", UTCDateTime),
    Column("escalated_at", UTCDateTime),
    Column("escalated_to", String(100), info={"personal": False}),
    Column("satisfaction", SmallInteger),
    Column("root_cause", Text, info={"personal": True}),
    Column("corrective_action", Text, info={"personal": True}),
    Column("penalty_note", Text, info={"personal": True}),
    Column("reopen_count", Integer, nullable=False, default=0),
    Column("interaction_id", BigId),
    Column("source_interaction_id", BigId, unique=True),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    Column("updated_at", UTCDateTime, nullable=False, default=utcnow),
    Index("ix_complaints_complaints_customer", "customer_id", "opened_at"),
    Index("ix_complaints_complaints_status", "status"),
    Index("ix_complaints_complaints_handler", "handler"),
    Index("ix_complaints_complaints_fr_due", "first_response_due_at"),
    Index("ix_complaints_complaints_res_due", "resolution_due_at"),
)

#: One event in a complaint's life: a transition, an assignment, a note, a breach; ``at`` is
#: when it happened, ``recorded_at`` when it was written if that was later. Append-only:
#: the database refuses UPDATE and DELETE (triggers), except that erasing a forgotten customer
#: may blank the free-text ``note``.
HISTORY = Table(
    "complaints_history",
    metadata,
    Column("id", BigId, primary_key=True),
    Column(
        "complaint_id",
        BigId,
        ForeignKey("complaints_complaints.id", ondelete="RESTRICT"),
        nullable=False,
    ),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(100), nullable=False, info={"personal": False}),
    Column("action", String(32), nullable=False, info={"personal": False}),
    Column("from_status", String(32), info={"personal": False}),
    Column("to_status", String(32), info={"personal": False}),
    Column("note", Text, info={"personal": True}),
    # When the entry was written, if later than ``at`` (a step recorded afterwards with --at).
    Column("recorded_at", UTCDateTime),
    Index("ix_complaints_history_complaint", "complaint_id", "id"),
)

#: Response and resolution targets (business minutes) for the complaints it matches. Policies
#: are tried by ``priority`` (lower first); the first whose severities, tiers and kinds match
#: wins (an empty list matches anything). ``paused_stages`` stop the clock.
POLICIES = Table(
    "complaints_sla_policies",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("priority", Integer, nullable=False, default=100),
    Column("severities", JSON, nullable=False, default=list),
    Column("tiers", JSON, nullable=False, default=list),
    Column("kinds", JSON, nullable=False, default=list),
    Column("first_response_minutes", Integer, nullable=False),
    Column("resolution_minutes", Integer, nullable=False),
    Column("paused_stages", JSON, nullable=False, default=list),
    Column("active", Boolean, nullable=False, default=True),
)

#: A company's own exception to the holiday calendar: a day off, or a working day.
CALENDAR_DAYS = Table(
    "complaints_calendar_days",
    metadata,
    Column("day", Date, primary_key=True),
    Column("workday", Boolean, nullable=False),
    Column("name", String(100)),
)

#: One setting of the plugin (business hours, approval threshold, auto-close days ...).
SETTINGS = Table(
    "complaints_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON),
)
