"""The complaints plugin's tables: complaints, their append-only history, teams, SLA policies,
calendar exceptions and settings.

A complaint carries a ``version`` column for optimistic locking: every write is
``UPDATE ... WHERE id = :id AND version = :seen`` and bumps it, so two handlers moving the
same complaint at once cannot both win.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
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
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kehu_core.models import NAMING_CONVENTION, BigId
from kehu_core.types import Money, UTCDateTime, utcnow

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Base(DeclarativeBase):
    """Declarative base of the complaints plugin (its own metadata, dropped on uninstall)."""

    metadata = metadata


class Team(Base):
    """A complaint-handling team: its members, its lead (escalations go there), how work is assigned."""

    __tablename__ = "complaints_teams"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    lead: Mapped[str | None] = mapped_column(String(100))
    assignment: Mapped[str] = mapped_column(String(16), default="manual")  # manual | round_robin | balanced
    last_assigned: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TeamMember(Base):
    """One handler in one team; ``position`` orders the round robin."""

    __tablename__ = "complaints_team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("complaints_teams.id", ondelete="CASCADE"), primary_key=True
    )
    member: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Complaint(Base):
    """A grievance (抱怨) or formal complaint (投诉) and where its handling stands."""

    __tablename__ = "complaints_complaints"
    __table_args__ = (
        Index("ix_complaints_complaints_customer", "customer_id", "opened_at"),
        Index("ix_complaints_complaints_status", "status"),
        Index("ix_complaints_complaints_handler", "handler"),
        Index("ix_complaints_complaints_fr_due", "first_response_due_at"),
        Index("ix_complaints_complaints_res_due", "resolution_due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))  # grievance 抱怨 | complaint 投诉
    channel: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    wants: Mapped[list[str]] = mapped_column(JSON, default=list)
    handler: Mapped[str | None] = mapped_column(String(100))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("complaints_teams.id", ondelete="SET NULL"))
    responsible_party: Mapped[str | None] = mapped_column(String(100))
    responsible_department: Mapped[str | None] = mapped_column(String(100))
    solution: Mapped[str | None] = mapped_column(Text)
    compensation_amount: Mapped[Decimal | None] = mapped_column(Money)
    compensation_type: Mapped[str | None] = mapped_column(String(32))
    approved_by: Mapped[str | None] = mapped_column(String(100))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    clock_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str | None] = mapped_column(Text)
    sla_policy: Mapped[str | None] = mapped_column(String(100))
    tier: Mapped[str | None] = mapped_column(String(32))
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    first_response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_to: Mapped[str | None] = mapped_column(String(100))
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    root_cause: Mapped[str | None] = mapped_column(Text)
    corrective_action: Mapped[str | None] = mapped_column(Text)
    penalty_note: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    interaction_id: Mapped[int | None] = mapped_column(BigId)
    source_interaction_id: Mapped[int | None] = mapped_column(BigId, unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HistoryEntry(Base):
    """One event in a complaint's life: a transition, an assignment, a note, a breach.

    Append-only: the database refuses UPDATE and DELETE (triggers), except that erasing a
    forgotten customer may blank the free-text ``note``.
    """

    __tablename__ = "complaints_history"
    __table_args__ = (Index("ix_complaints_history_complaint", "complaint_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints_complaints.id", ondelete="RESTRICT"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class SlaPolicy(Base):
    """Response and resolution targets (business minutes) for the complaints it matches.

    Policies are tried by ``priority`` (lower first); the first whose severities, tiers and
    kinds match wins (an empty list matches anything). ``paused_stages`` stop the clock.
    """

    __tablename__ = "complaints_sla_policies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    severities: Mapped[list[str]] = mapped_column(JSON, default=list)
    tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    paused_stages: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CalendarDay(Base):
    """A company's own exception to the holiday calendar: a day off, or a working day."""

    __tablename__ = "complaints_calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str | None] = mapped_column(String(100))


class Setting(Base):
    """One setting of the plugin (business hours, approval threshold, auto-close days ...)."""

    __tablename__ = "complaints_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


COMPLAINTS: Table = Complaint.__table__  # type: ignore[assignment]
HISTORY: Table = HistoryEntry.__table__  # type: ignore[assignment]
TEAMS: Table = Team.__table__  # type: ignore[assignment]
MEMBERS: Table = TeamMember.__table__  # type: ignore[assignment]
POLICIES: Table = SlaPolicy.__table__  # type: ignore[assignment]
SETTINGS: Table = Setting.__table__  # type: ignore[assignment]
CALENDAR_DAYS: Table = CalendarDay.__table__  # type: ignore[assignment]
