"""Complaint services: open, move, assign, note, look up. They take ``app, session`` and never print.

Every write to a complaint is ``UPDATE ... WHERE id = :id AND version = :seen`` and bumps the
version: a handler who moves a complaint someone else just moved gets :class:`Conflict`, never
a silent overwrite. Every transition, assignment and note is appended to the history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import asdict, frozen
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kehu_complaints import sla
from kehu_complaints.assignment import pick_handler
from kehu_complaints.fields import MOVE_FIELDS, OPEN_FIELDS
from kehu_complaints.models import COMPLAINTS, HISTORY, Complaint, HistoryEntry, Team
from kehu_complaints.settings import calendar_of, load_settings
from kehu_complaints.workflow import GuardContext, Workflow, build_workflow
from kehu_core.errors import Conflict, KehuError, NotFound, Problem, ValidationError
from kehu_core.fields import parse_record, require_valid
from kehu_core.models import Customer
from kehu_core.types import utcnow

#: The prefix of the external reference of the interaction a complaint records.
INTERACTION_REF = "complaint:"


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

    @classmethod
    def of(cls, row: Complaint, code: str, name: str, team: str | None) -> ComplaintRecord:
        """From the ORM row and its customer's code and name."""
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
    """One line of a complaint's history."""

    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    note: str | None


def _insert_rows(session: Session, prepared: list[dict[str, Any]]) -> list[int]:
    """Insert complaint rows; their ids in order.

    A batch opened from interactions is one executemany, and the ids come back through the
    unique ``source_interaction_id`` (portable, unlike ordered RETURNING from executemany).
    """
    sources = [r["source_interaction_id"] for r in prepared]
    if len(prepared) == 1 or None in sources:
        return [
            session.execute(COMPLAINTS.insert().values(**r).returning(COMPLAINTS.c.id)).scalar_one()
            for r in prepared
        ]
    session.execute(COMPLAINTS.insert(), prepared)
    found = dict(
        session.execute(
            select(COMPLAINTS.c.source_interaction_id, COMPLAINTS.c.id).where(
                COMPLAINTS.c.source_interaction_id.in_(sources)
            )
        ).all()
    )
    return [found[source] for source in sources]


@frozen
class ComplaintDetail:
    """A complaint and its timeline (``kehu complaint show``)."""

    complaint: ComplaintRecord
    timeline: tuple[TimelineEntry, ...]
    next_stages: tuple[str, ...]


def _record(session: Session, row: Complaint) -> ComplaintRecord:
    code, name = session.execute(
        select(Customer.code, Customer.name).where(Customer.id == row.customer_id)
    ).one()
    team = session.scalar(select(Team.name).where(Team.id == row.team_id)) if row.team_id else None
    return ComplaintRecord.of(row, code, name, team)


def get_complaint(session: Session, complaint_id: int) -> Complaint:
    """The complaint, freshly read, or :class:`NotFound`."""
    row = session.get(Complaint, complaint_id, populate_existing=True)
    if row is None:
        raise NotFound(f"no complaint #{complaint_id}")
    return row


def _team(session: Session, name: str | None) -> Team | None:
    if not name:
        return None
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        raise ValidationError(
            [Problem("team", "no such team; see `kehu complaint team list`", value=name)],
            headline="complaint refused; nothing was changed:",
        )
    return team


def history(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append history entries (the only way history is written)."""
    if rows:
        session.execute(HISTORY.insert(), [dict(r) for r in rows])


def open_complaint(
    app: Any, session: Session, values: Mapping[str, Any], actor: str, now: datetime | None = None
) -> ComplaintRecord:
    """Record a new grievance or complaint, compute its due times, assign it, and log the interaction."""
    now = now or utcnow()
    clean, problems = parse_record(OPEN_FIELDS, values)
    require_valid(problems, "complaint")
    customer = session.scalar(select(Customer).where(Customer.code == clean["customer_code"]))
    if customer is None or customer.forgotten_at is not None:
        reason = "no customer with this code" if customer is None else "this customer was forgotten"
        raise ValidationError(
            [Problem("customer_code", reason, value=clean["customer_code"])],
            headline="complaint refused; nothing was changed:",
        )
    opened_at = clean.get("opened_at") or now
    if opened_at > now:
        raise ValidationError(
            [Problem("opened_at", "is in the future", value=opened_at.isoformat())],
            headline="complaint refused; nothing was changed:",
        )
    team = _team(session, clean.get("team"))
    base = dict(
        customer_id=customer.id,
        kind=clean.get("kind") or "complaint",
        channel=clean.get("channel"),
        category=clean.get("category") or "other",
        severity=clean.get("severity") or "medium",
        description=clean["description"],
        wants=clean.get("wants") or [],
        handler=clean.get("handler"),
        team_id=team.id if team else None,
        responsible_party=clean.get("responsible_party"),
        responsible_department=clean.get("responsible_department"),
        opened_at=opened_at,
    )
    ids = insert_complaints(app, session, [base], actor=actor, now=now, note="opened")
    complaint = get_complaint(session, ids[0])
    if complaint.handler is None and team is not None and team.assignment != "manual":
        assign(app, session, complaint.id, actor, team=team.name, now=now)
        complaint = get_complaint(session, complaint.id)
    interaction_id = record_interaction(
        app,
        session,
        dict(
            customer_id=customer.id,
            kind="complaint",
            occurred_at=opened_at,
            channel=complaint.channel,
            salesperson=complaint.handler,
            note=complaint.description,
            external_ref=f"{INTERACTION_REF}{complaint.id}",
        ),
    )
    session.execute(
        update(COMPLAINTS).where(COMPLAINTS.c.id == complaint.id).values(interaction_id=interaction_id)
    )
    return _record(session, get_complaint(session, complaint.id))


def record_interaction(app: Any, session: Session, row: dict[str, Any]) -> int:
    """Record the ``complaint`` interaction of a complaint opened here; returns its id.

    Its ``external_ref`` starts with ``complaint:``, so this plugin's own interaction hook does
    not open a second complaint from it. Without an app (demo data) it is inserted directly.
    """
    if app is not None:
        from kehu_core.interactions import write_interactions

        written = write_interactions(app, session, [row], source="complaints")
        return int(written[0]["id"])
    from kehu_core.interactions import INTERACTIONS

    values = {"status": "done", "created_at": utcnow(), **row}
    return int(
        session.execute(INTERACTIONS.insert().values(**values).returning(INTERACTIONS.c.id)).scalar_one()
    )


def insert_complaints(
    app: Any, session: Session, rows: Sequence[dict[str, Any]], *, actor: str, now: datetime, note: str
) -> list[int]:
    """Insert complaints set-based with their SLA policy and due times; append an 'opened' entry each."""
    if not rows:
        return []
    settings = load_settings(session)
    calendar = calendar_of(session, settings)
    policies = sla.load_policies(session)
    tiers = sla.tiers_of(app, session, sorted({r["customer_id"] for r in rows}))
    prepared = []
    for r in rows:
        tier = tiers.get(r["customer_id"])
        policy = sla.match_policy(policies, r["severity"], tier, r["kind"])
        first, resolution = sla.due_times(calendar, policy, r["opened_at"], r["opened_at"], 0)
        prepared.append(
            {
                "channel": None,
                "description": None,
                "wants": [],
                "handler": None,
                "team_id": None,
                "responsible_party": None,
                "responsible_department": None,
                "source_interaction_id": None,
                **r,
                "status": "received",
                "clock_started_at": r["opened_at"],
                "sla_policy": policy.name,
                "tier": tier,
                "first_response_due_at": first,
                "resolution_due_at": resolution,
                "paused_seconds": 0,
                "reopen_count": 0,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    ids = _insert_rows(session, prepared)
    history(
        session,
        [
            dict(
                complaint_id=i,
                at=r["opened_at"],
                actor=actor,
                action="opened",
                from_status=None,
                to_status="received",
                note=f"{note}: {r['kind']} {r['category']}/{r['severity']}, policy {r['sla_policy']}"
                + (f", handler {r['handler']}" if r["handler"] else ""),
            )
            for i, r in zip(ids, prepared)
        ],
    )
    return ids


def _conflict(complaint_id: int, expected: int, current: int | None) -> Conflict:
    return Conflict(
        f"complaint #{complaint_id} was changed by someone else (you had version {expected}, it is now "
        f"version {current}); nothing was changed. Look at it again with `kehu complaint show {complaint_id}` and retry."
    )


def _write(session: Session, complaint: Complaint, values: dict[str, Any], expected: int) -> int:
    """Apply ``values`` if the complaint is still at version ``expected``; returns the new version."""
    new_version = expected + 1
    result = session.execute(
        update(COMPLAINTS)
        .where(COMPLAINTS.c.id == complaint.id, COMPLAINTS.c.version == expected)
        .values(**values, version=new_version)
    )
    if result.rowcount != 1:
        current = session.scalar(select(COMPLAINTS.c.version).where(COMPLAINTS.c.id == complaint.id))
        raise _conflict(complaint.id, expected, current)
    session.expire(complaint)
    return new_version


def _check_version(complaint: Complaint, expected_version: int | None) -> int:
    if expected_version is not None and complaint.version != expected_version:
        raise _conflict(complaint.id, expected_version, complaint.version)
    return complaint.version if expected_version is None else expected_version


def _snapshot(complaint: Complaint) -> dict[str, Any]:
    return {col.name: getattr(complaint, col.key) for col in Complaint.__mapper__.columns}


def move(
    app: Any,
    session: Session,
    complaint_id: int,
    target: str,
    actor: str,
    *,
    changes: Mapping[str, Any] | None = None,
    reason: str | None = None,
    note: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
    workflow: Workflow | None = None,
) -> ComplaintRecord:
    """Move a complaint to stage ``target``, setting ``changes`` on the way.

    Refused with the name of the failing guard (or "not in the workflow"), and nothing
    changes, when the move is not allowed. Raises :class:`Conflict` when someone else changed
    the complaint since ``expected_version`` (or since it was read here).
    """
    now = now or utcnow()
    workflow = workflow or build_workflow(app)
    complaint = get_complaint(session, complaint_id)
    seen = _check_version(complaint, expected_version)
    clean, problems = parse_record(MOVE_FIELDS, dict(changes or {}), partial=True)
    require_valid(problems, "move")
    source = complaint.status
    stage = workflow.stage(target)
    settings = load_settings(session)
    after = _snapshot(complaint) | {k: v for k, v in clean.items()}
    values: dict[str, Any] = dict(clean)
    # A changed solution or compensation voids an earlier approval.
    if complaint.approved_by and any(
        k in clean and clean[k] != getattr(complaint, k)
        for k in ("solution", "compensation_amount", "compensation_type")
    ):
        values["approved_by"] = after["approved_by"] = None
    if target == "approved":
        values["approved_by"] = after["approved_by"] = actor
    elif target == "solution_proposed":
        values["approved_by"] = after["approved_by"] = None
    if stage.sets == "followed_up_at":
        after["followed_up_at"] = now
    workflow.check(
        GuardContext(
            complaint=after, source=source, target=target, actor=actor, reason=reason, settings=settings
        )
    )
    values["status"] = target
    values["updated_at"] = now
    if complaint.first_response_at is None and target != workflow.initial:
        values["first_response_at"] = now
    calendar = calendar_of(session, settings)
    if stage.kind == "done" and complaint.resolved_at is None:
        values["resolved_at"] = now  # any "done" stage stops the resolution clock
    if stage.sets and stage.sets not in values:
        values[stage.sets] = now
    if stage.kind == "closed":
        values.setdefault("closed_at", now)
        values["close_reason"] = reason
    clock_start, paused_seconds, paused_since = (
        complaint.clock_started_at,
        complaint.paused_seconds,
        complaint.paused_since,
    )
    if stage.reopens:
        clock_start, paused_seconds, paused_since = now, 0, None
        values.update(
            clock_started_at=now,
            resolved_at=None,
            followed_up_at=None,
            closed_at=None,
            close_reason=None,
            resolution_breached_at=None,
            escalated_at=None,
            escalated_to=None,
            reopen_count=complaint.reopen_count + 1,
        )
    policy = _policy_of(session, complaint)
    should_pause = stage.kind == "open" and target in policy.paused_stages
    if paused_since is not None and not should_pause:
        paused_seconds += calendar.business_seconds(paused_since, now)
        paused_since = None
    elif paused_since is None and should_pause:
        paused_since = now
    if (paused_seconds, paused_since, clock_start) != (
        complaint.paused_seconds,
        complaint.paused_since,
        complaint.clock_started_at,
    ):
        first, resolution = sla.due_times(calendar, policy, complaint.opened_at, clock_start, paused_seconds)
        values.update(
            paused_seconds=paused_seconds,
            paused_since=paused_since,
            first_response_due_at=first,
            resolution_due_at=resolution,
        )
        if complaint.first_response_breached_at and complaint.first_response_at is None and first > now:
            values["first_response_breached_at"] = None
        if "resolution_breached_at" not in values and complaint.resolution_breached_at and resolution > now:
            values["resolution_breached_at"] = None
    _write(session, complaint, values, seen)
    details = [note or "", *(f"{k}={v}" for k, v in clean.items())]
    if reason:
        details.append(f"reason: {reason}")
    history(
        session,
        [
            dict(
                complaint_id=complaint.id,
                at=now,
                actor=actor,
                action="moved",
                from_status=source,
                to_status=target,
                note="; ".join(d for d in details if d) or None,
            )
        ],
    )
    return _record(session, get_complaint(session, complaint.id))


def regrade(
    app: Any,
    session: Session,
    complaint_id: int,
    severity: str,
    actor: str,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ComplaintRecord:
    """Change an open complaint's severity; its SLA policy and due times follow (pause kept)."""
    from kehu_complaints.fields import SEVERITIES, vocab
    from kehu_core.validation import FieldError

    now = now or utcnow()
    complaint = get_complaint(session, complaint_id)
    seen = _check_version(complaint, expected_version)
    try:
        level = vocab(SEVERITIES)(severity)
    except FieldError as exc:
        raise ValidationError(
            [Problem("severity", str(exc), value=severity)], headline="severity refused; nothing was changed:"
        ) from None
    if complaint.closed_at is not None or complaint.resolved_at is not None:
        raise KehuError(
            f"complaint #{complaint_id} is {complaint.status}; only an open complaint is re-graded"
        )
    old = complaint.severity
    _write(session, complaint, {"severity": level, "updated_at": now}, seen)
    history(
        session,
        [
            dict(
                complaint_id=complaint_id,
                at=now,
                actor=actor,
                action="severity",
                from_status=complaint.status,
                to_status=complaint.status,
                note=f"{old} -> {level}" + (f"; reason: {reason}" if reason else ""),
            )
        ],
    )
    sla.recompute_open(
        app,
        session,
        calendar_of(session),
        now,
        complaint_ids=[complaint_id],
        reason=f"severity {old} -> {level}",
        actor=actor,
    )
    return _record(session, get_complaint(session, complaint_id))


def _policy_of(session: Session, complaint: Complaint) -> sla.Policy:
    for policy in sla.load_policies(session):
        if policy.name == complaint.sla_policy:
            return policy
    return sla.match_policy(sla.load_policies(session), complaint.severity, complaint.tier, complaint.kind)


def assign(
    app: Any,
    session: Session,
    complaint_id: int,
    actor: str,
    *,
    handler: str | None = None,
    team: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ComplaintRecord:
    """Give a complaint to ``handler``, or let ``team``'s rule pick one (round robin or balanced)."""
    now = now or utcnow()
    complaint = get_complaint(session, complaint_id)
    seen = _check_version(complaint, expected_version)
    if complaint.closed_at is not None:
        raise KehuError(
            f"complaint #{complaint_id} is closed ({complaint.status}); reopen it before assigning"
        )
    target_team = (
        _team(session, team)
        if team
        else (session.get(Team, complaint.team_id) if complaint.team_id else None)
    )
    if handler is None:
        if target_team is None:
            raise KehuError("name a handler (--to) or a team (--team) whose rule picks one")
        handler = pick_handler(session, target_team)
        if handler is None:
            raise KehuError(
                f"team {target_team.name!r} assigns manually or has no active member; name a handler with --to"
            )
    if not handler.strip() or len(handler) > 100:
        raise ValidationError(
            [Problem("handler", "1 to 100 characters", value=handler)],
            headline="assignment refused; nothing was changed:",
        )
    old = complaint.handler
    values: dict[str, Any] = {"handler": handler, "updated_at": now}
    if target_team is not None:
        values["team_id"] = target_team.id
    _write(session, complaint, values, seen)
    where = f" (team {target_team.name})" if target_team else ""
    history(
        session,
        [
            dict(
                complaint_id=complaint_id,
                at=now,
                actor=actor,
                action="assigned",
                from_status=complaint.status,
                to_status=complaint.status,
                note=f"{old or '-'} -> {handler}{where}",
            )
        ],
    )
    return _record(session, get_complaint(session, complaint_id))


def add_note(
    session: Session, complaint_id: int, actor: str, text: str, now: datetime | None = None
) -> TimelineEntry:
    """Append a note to a complaint's history."""
    from kehu_core.validation import FieldError
    from kehu_core.validation import text as parse_text
    from kehu_core.vocab import MAX_NOTE

    now = now or utcnow()
    complaint = get_complaint(session, complaint_id)
    try:
        body = parse_text(text, MAX_NOTE)
    except FieldError as exc:
        raise ValidationError(
            [Problem("note", str(exc))], headline="note refused; nothing was changed:"
        ) from None
    if not body:
        raise ValidationError(
            [Problem("note", "must not be empty")], headline="note refused; nothing was changed:"
        )
    history(
        session,
        [
            dict(
                complaint_id=complaint.id,
                at=now,
                actor=actor,
                action="note",
                from_status=complaint.status,
                to_status=complaint.status,
                note=body,
            )
        ],
    )
    return TimelineEntry(now, actor, "note", complaint.status, complaint.status, body)


def show(app: Any, session: Session, complaint_id: int, workflow: Workflow | None = None) -> ComplaintDetail:
    """A complaint with its timeline and the stages it can move to."""
    complaint = get_complaint(session, complaint_id)
    workflow = workflow or build_workflow(app)
    entries = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.complaint_id == complaint_id)
        .order_by(HistoryEntry.at, HistoryEntry.id)
    )
    timeline = tuple(
        TimelineEntry(e.at, e.actor, e.action, e.from_status, e.to_status, e.note) for e in entries
    )
    nexts = tuple(workflow.next_stages(complaint.status)) if complaint.status in workflow.stages else ()
    return ComplaintDetail(_record(session, complaint), timeline, nexts)


@frozen
class ComplaintQuery:
    """Filters for :func:`list_complaints`."""

    status: str | None = None
    overdue: bool = False
    handler: str | None = None
    customer_code: str | None = None
    category: str | None = None
    open_only: bool = False
    limit: int | None = 200


def list_complaints(
    session: Session, query: ComplaintQuery, now: datetime | None = None
) -> list[ComplaintRecord]:
    """Complaints matching ``query``, most urgent first (earliest due), then newest."""
    now = now or utcnow()
    c = COMPLAINTS.c
    stmt = (
        select(Complaint, Customer.code, Customer.name, Team.name)
        .join(Customer, Customer.id == Complaint.customer_id)
        .outerjoin(Team, Team.id == Complaint.team_id)
    )
    if query.status:
        stmt = stmt.where(Complaint.status == query.status)
    if query.handler:
        stmt = stmt.where(Complaint.handler == query.handler)
    if query.category:
        stmt = stmt.where(Complaint.category == query.category)
    if query.customer_code:
        stmt = stmt.where(Customer.code == query.customer_code)
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
    return [ComplaintRecord.of(row, code, name, team) for row, code, name, team in session.execute(stmt)]


def record_dict(record: ComplaintRecord, now: datetime | None = None) -> dict[str, Any]:
    """A record as a plain mapping, with the computed ``overdue`` flag."""
    data = asdict(record)
    data["overdue"] = record.overdue(now or utcnow())
    return data
