"""Reading complaints: the record the API returns, a complaint with its timeline, and the list.

Nothing here writes; :mod:`kehu_complaints.handling` and :mod:`kehu_complaints.opening` do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import asdict, frozen
from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from kehu_complaints.models import COMPLAINTS, HISTORY, TEAMS
from kehu_complaints.security import visible
from kehu_complaints.workflow import Workflow
from kehu_core.errors import NotFound
from kehu_core.i18n import messages
from kehu_core.models import Customer
from kehu_core.types import utcnow

_ = messages("kehu_complaints").gettext


@frozen
class ComplaintRecord:
    """A complaint as the API returns it."""

    id: int
    customer_code: str
    customer_name: str
    kind: str
    channel: str | None
    category: str
    severity: str
    status: str
    description: str | None
    wants: tuple[str, ...]
    handler: str | None
    team: str | None
    responsible_party: str | None
    responsible_department: str | None
    solution: str | None
    compensation_amount: Decimal | None
    compensation_type: str | None
    approved_by: str | None
    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    followed_up_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    sla_policy: str | None
    tier: str | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    paused: bool
    paused_seconds: int
    first_response_breached_at: datetime | None
    resolution_breached_at: datetime | None
    escalated_to: str | None
    satisfaction: int | None
    root_cause: str | None
    corrective_action: str | None
    penalty_note: str | None
    reopen_count: int
    version: int
    escalated_at: datetime | None = None

    @classmethod
    def of(cls, row: Row[Any], code: str, name: str, team: str | None) -> ComplaintRecord:
        """From a row of ``complaints_complaints``, its customer's code and name, its team's name."""
        return cls(
            id=row.id,
            customer_code=code,
            customer_name=name,
            kind=row.kind,
            channel=row.channel,
            category=row.category,
            severity=row.severity,
            status=row.status,
            description=row.description,
            wants=tuple(row.wants or ()),
            handler=row.handler,
            team=team,
            responsible_party=row.responsible_party,
            responsible_department=row.responsible_department,
            solution=row.solution,
            compensation_amount=row.compensation_amount,
            compensation_type=row.compensation_type,
            approved_by=row.approved_by,
            opened_at=row.opened_at,
            first_response_at=row.first_response_at,
            resolved_at=row.resolved_at,
            followed_up_at=row.followed_up_at,
            closed_at=row.closed_at,
            close_reason=row.close_reason,
            sla_policy=row.sla_policy,
            tier=row.tier,
            first_response_due_at=row.first_response_due_at,
            resolution_due_at=row.resolution_due_at,
            paused=row.paused_since is not None,
            paused_seconds=row.paused_seconds,
            first_response_breached_at=row.first_response_breached_at,
            resolution_breached_at=row.resolution_breached_at,
            escalated_to=row.escalated_to,
            satisfaction=row.satisfaction,
            root_cause=row.root_cause,
            corrective_action=row.corrective_action,
            penalty_note=row.penalty_note,
            reopen_count=row.reopen_count,
            version=row.version,
            escalated_at=row.escalated_at,
        )

    def clock(self) -> str:
        """Whether the SLA clock runs: ``running``, ``paused``, or stopped (``resolved``, ``closed``)."""
        if self.closed_at is not None:
            return "closed"
        if self.resolved_at is not None:
            return "resolved"
        return "paused" if self.paused else "running"

    def breaches(self, now: datetime) -> tuple[str, ...]:
        """The due times the complaint missed (``first_response``, ``resolution``), by the rule
        the report counts with (:func:`kehu_complaints.report.breached_condition`): marked by the
        escalation job, answered or resolved after the due time, or a running clock past due."""
        running = self.clock() == "running"
        first = (
            self.first_response_breached_at is not None
            or (
                self.first_response_at is not None
                and self.first_response_due_at is not None
                and self.first_response_at > self.first_response_due_at
            )
            or (
                running
                and self.first_response_at is None
                and self.first_response_due_at is not None
                and self.first_response_due_at < now
            )
        )
        resolution = (
            self.resolution_breached_at is not None
            or (
                self.resolved_at is not None
                and self.resolution_due_at is not None
                and self.resolved_at > self.resolution_due_at
            )
            or (running and self.resolution_due_at is not None and self.resolution_due_at < now)
        )
        return tuple(
            name for name, missed in (("first_response", first), ("resolution", resolution)) if missed
        )

    def overdue(self, now: datetime) -> bool:
        """True when a running clock is past its due time."""
        if self.closed_at or self.resolved_at or self.paused:
            return False
        late_response = (
            self.first_response_at is None
            and self.first_response_due_at is not None
            and self.first_response_due_at < now
        )
        return late_response or (self.resolution_due_at is not None and self.resolution_due_at < now)


@frozen
class TimelineEntry:
    """One line of a complaint's history: ``at`` when it happened, ``recorded_at`` when it was
    written if later (a step recorded afterwards with ``--at``), else ``None``."""

    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    note: str | None
    recorded_at: datetime | None = None


@frozen
class ComplaintDetail:
    """A complaint and its timeline (``kehu complaint show``)."""

    complaint: ComplaintRecord
    timeline: tuple[TimelineEntry, ...]
    next_stages: tuple[str, ...]


@frozen
class ComplaintQuery:
    """Filters for :func:`list_complaints`."""

    status: str | None = None
    overdue: bool = False
    handler: str | None = None
    customer_code: str | None = None
    category: str | None = None
    open_only: bool = False
    ids: tuple[int, ...] | None = None
    limit: int | None = 200


def get_complaint(session: Session, complaint_id: int, *, everything: bool = False) -> Row[Any]:
    """The complaint's row (every column of ``complaints_complaints``), or :class:`NotFound`,
    also when the acting user's rules do not let them see it (``everything``: no rules, for
    a complaint the service itself has just written)."""
    stmt = select(COMPLAINTS).where(COMPLAINTS.c.id == complaint_id)
    if not everything:
        stmt = stmt.where(*visible(session))
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise NotFound(_("no complaint #{id}").format(id=complaint_id))
    return row


def _with_names() -> Select[Any]:
    """Complaints with their customer's code and name and their team's name (one query)."""
    return (
        select(
            COMPLAINTS,
            Customer.code.label("customer_code"),
            Customer.name.label("customer_name"),
            TEAMS.c.name.label("team_name"),
        )
        .join(Customer, Customer.id == COMPLAINTS.c.customer_id)
        .outerjoin(TEAMS, TEAMS.c.id == COMPLAINTS.c.team_id)
    )


def _record(row: Row[Any]) -> ComplaintRecord:
    return ComplaintRecord.of(row, row.customer_code, row.customer_name, row.team_name)


def record_of(session: Session, row: Row[Any]) -> ComplaintRecord:
    """The record of a complaint row: its customer's code and name, its team's name."""
    code, name = session.execute(
        select(Customer.code, Customer.name).where(Customer.id == row.customer_id)
    ).one()
    team = session.scalar(select(TEAMS.c.name).where(TEAMS.c.id == row.team_id)) if row.team_id else None
    return ComplaintRecord.of(row, code, name, team)


def load_record(session: Session, complaint_id: int, *, everything: bool = True) -> ComplaintRecord:
    """The current record of complaint ``complaint_id`` (or :class:`NotFound`).

    By default with no record rules: the services return the complaint they have just
    written, which a reassignment may have taken out of the actor's sight. ``everything=False``
    applies the acting user's rules."""
    stmt = _with_names().where(COMPLAINTS.c.id == complaint_id)
    if not everything:
        stmt = stmt.where(*visible(session))
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise NotFound(_("no complaint #{id}").format(id=complaint_id))
    return _record(row)


def detail_of(
    session: Session, complaint_id: int, workflow: Workflow, *, everything: bool = False
) -> ComplaintDetail:
    """A complaint with its timeline and the stages ``workflow`` lets it move to; one the
    acting user may not see is :class:`NotFound` unless ``everything``."""
    record = load_record(session, complaint_id, everything=everything)
    h = HISTORY.c
    entries = session.execute(
        select(h.at, h.actor, h.action, h.from_status, h.to_status, h.note, h.recorded_at)
        .where(h.complaint_id == complaint_id)
        .order_by(h.at, h.id)
    )
    timeline = tuple(TimelineEntry(*entry) for entry in entries)
    nexts = tuple(workflow.next_stages(record.status)) if record.status in workflow.stages else ()
    return ComplaintDetail(record, timeline, nexts)


def list_complaints(
    session: Session, query: ComplaintQuery, now: datetime | None = None, *, everything: bool = False
) -> list[ComplaintRecord]:
    """Complaints matching ``query`` that the acting user may see (``everything``: all),
    most urgent first (earliest due), then newest."""
    now = now or utcnow()
    c = COMPLAINTS.c
    stmt = _with_names()
    if not everything:
        stmt = stmt.where(*visible(session))
    if query.status:
        stmt = stmt.where(c.status == query.status)
    if query.handler:
        stmt = stmt.where(c.handler == query.handler)
    if query.category:
        stmt = stmt.where(c.category == query.category)
    if query.customer_code:
        stmt = stmt.where(Customer.code == query.customer_code)
    if query.ids is not None:
        stmt = stmt.where(c.id.in_(list(query.ids)))
    if query.open_only or query.overdue:
        stmt = stmt.where(c.closed_at.is_(None), c.resolved_at.is_(None))
    if query.overdue:
        stmt = stmt.where(
            c.paused_since.is_(None),
            ((c.first_response_at.is_(None) & (c.first_response_due_at < now)) | (c.resolution_due_at < now)),
        )
    due = func.coalesce(c.resolution_due_at, c.opened_at)
    stmt = stmt.order_by(c.closed_at.is_not(None), due, c.id.desc())
    if query.limit:
        stmt = stmt.limit(query.limit)
    return [_record(row) for row in session.execute(stmt)]


def records_by_id(session: Session, ids: Sequence[int]) -> list[ComplaintRecord]:
    """The records of these complaints, in the order of ``ids`` (one query), whoever acts:
    what the plugin's events carry."""
    if not ids:
        return []
    query = ComplaintQuery(ids=tuple(ids), limit=None)
    found = {r.id: r for r in list_complaints(session, query, everything=True)}
    return [found[i] for i in ids if i in found]


def record_dict(record: ComplaintRecord, now: datetime | None = None) -> dict[str, Any]:
    """A record as a plain mapping, with the computed ``overdue`` flag, the ``clock``
    (running, paused, resolved, closed) and the due times it ``breached``."""
    now = now or utcnow()
    data = asdict(record)
    data["overdue"] = record.overdue(now)
    data["clock"] = record.clock()
    data["breached"] = list(record.breaches(now))
    return data
