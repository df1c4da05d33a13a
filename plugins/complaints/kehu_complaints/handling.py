"""Handling a complaint: moving it through the workflow, closing, re-grading and assigning it.

Every write to a complaint is ``UPDATE ... WHERE id = :id AND version = :seen`` and bumps the
version: a handler who moves a complaint someone else just moved gets :class:`Conflict`, never
a silent overwrite. Every transition, assignment and re-grading is appended to the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Row, select, update
from sqlalchemy.orm import Session

from kehu_complaints import events, history, sla
from kehu_complaints.assignment import pick_handler
from kehu_complaints.fields import COMPENSATION_TYPE, DOMAIN, FIELD_LABELS, MOVE_FIELDS, SEVERITY
from kehu_complaints.models import COMPLAINTS
from kehu_complaints.records import ComplaintRecord, get_complaint, load_record, record_of
from kehu_complaints.security import APPROVE, EXEMPT, FREE_TEXT, HANDLE, actor_name, check_approver
from kehu_complaints.settings import calendar_of, load_settings
from kehu_complaints.teams import team_by_id, team_named
from kehu_complaints.workflow import GuardContext, Workflow, build_workflow, closes_without_follow_up
from kehu_core import audit
from kehu_core.access import require
from kehu_core.app import Kehu
from kehu_core.calendar import local_time
from kehu_core.errors import Conflict, KehuError, Problem, ValidationError
from kehu_core.fields import parse_record, require_valid
from kehu_core.i18n import messages
from kehu_core.types import utcnow
from kehu_core.validation import FieldError

_ = messages(DOMAIN).gettext


def _conflict(complaint_id: int, expected: int, current: int | None) -> Conflict:
    return Conflict(
        _(
            "complaint #{id} was changed by someone else (you had version {expected}, it is now "
            "version {current}); nothing was changed. Look at it again with "
            "`kehu complaint show {id}` and retry."
        ).format(id=complaint_id, expected=expected, current=current)
    )


def _write(session: Session, complaint: Row[Any], values: dict[str, Any], expected: int) -> int:
    """Apply ``values`` if the complaint is still at version ``expected``; returns the new version."""
    new_version = expected + 1
    result = cast(
        CursorResult[Any],
        session.execute(
            update(COMPLAINTS)
            .where(COMPLAINTS.c.id == complaint.id, COMPLAINTS.c.version == expected)
            .values(**values, version=new_version)
        ),
    )
    if result.rowcount != 1:
        current = session.scalar(select(COMPLAINTS.c.version).where(COMPLAINTS.c.id == complaint.id))
        raise _conflict(complaint.id, expected, current)
    return new_version


def _read(
    session: Session, complaint_id: int, expected_version: int | None, doing: str
) -> tuple[Row[Any], int]:
    """The complaint and the version a write expects: ``NotFound`` when the acting user may not
    see it, ``Forbidden`` when they may not handle complaints (``doing``: what is refused),
    ``Conflict`` if it is not at ``expected_version``."""
    complaint = get_complaint(session, complaint_id)
    require(session, HANDLE, doing)
    if expected_version is not None and complaint.version != expected_version:
        raise _conflict(complaint.id, expected_version, complaint.version)
    return complaint, complaint.version if expected_version is None else expected_version


def _snapshot(complaint: Row[Any]) -> dict[str, Any]:
    return dict(complaint._mapping)


def policy_of(session: Session, complaint: Row[Any]) -> sla.Policy:
    """The SLA policy governing ``complaint``: the one it records, else the one that matches now."""
    policies = sla.load_policies(session)
    for policy in policies:
        if policy.name == complaint.sla_policy:
            return policy
    return sla.match_policy(policies, complaint.severity, complaint.tier, complaint.kind)


def _second(moment: datetime) -> str:
    """A time as the company's local ``YYYY-MM-DD HH:MM:SS`` (seconds: the edges of ``--at``)."""
    return local_time(moment).strftime("%Y-%m-%d %H:%M:%S")


def _check_at(session: Session, complaint: Row[Any], at: datetime, now: datetime) -> datetime:
    """``at`` if a step may be recorded as done then: not after ``now``, not before the
    complaint's previous step (or its opening); else a one-line ``ValidationError``."""
    if at.tzinfo is None:
        raise ValidationError([Problem("at", _("a time with its zone (aware)"), value=str(at))])
    previous = history.last_step_at(session, complaint.id) or complaint.opened_at
    if at > now:
        reason = _("is in the future (now is {now}); nothing was changed").format(now=_second(now))
    elif at < previous:
        reason = _("is before the previous step of complaint #{id} ({previous}); nothing was changed").format(
            id=complaint.id, previous=_second(previous)
        )
    else:
        return at
    raise ValidationError([Problem("at", reason, value=_second(at))])


def move(
    app: Kehu,
    session: Session,
    complaint_id: int,
    stage: str,
    actor: str | None = None,
    *,
    changes: Mapping[str, Any] | None = None,
    reason: str | None = None,
    note: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
    workflow: Workflow | None = None,
    at: datetime | None = None,
) -> ComplaintRecord:
    """Move a complaint to ``stage`` of the workflow, setting ``changes`` on the way.

    ``changes`` may set the solution, compensation, responsible party, root cause, corrective
    action, penalty and satisfaction. Raises ``TransitionRefused`` naming the refusing guard (or
    "not in the workflow"), and nothing is changed; raises ``Conflict`` when someone else changed
    the complaint since ``expected_version`` (or since it was read here). ``workflow``: one
    already built by :func:`~kehu_complaints.workflow.build_workflow` (default: built here).

    ``actor``: ``None`` for the session's user; a real user may not name another. Needs
    permission ``complaints.handle``; approving (``approved``) needs ``complaints.approve``
    and an approver who neither handles the complaint nor proposed its solution; closing a
    formal complaint (投诉) without the follow-up needs ``complaints.exempt`` and a reason.
    A refusal is :class:`~kehu_core.access.Forbidden` and changes nothing.

    ``at``: when the step happened, if earlier than ``now`` (a first response made on the phone
    yesterday): not after ``now`` and not before the previous step (or the opening). The
    stage's times and the SLA clocks use it; the history entry keeps both times.
    """
    now = now or utcnow()
    workflow = workflow or build_workflow(app)
    complaint, seen = _read(session, complaint_id, expected_version, _("handle complaints"))
    actor = actor_name(session, actor)
    stage = workflow.parse_stage(stage)
    happened = now if at is None else _check_at(session, complaint, at, now)
    clean, problems = parse_record(MOVE_FIELDS, dict(changes or {}), partial=True)
    require_valid(problems, "move")
    source = complaint.status
    step = workflow.stage(stage)
    settings = load_settings(session)
    after = _snapshot(complaint) | dict(clean)
    values: dict[str, Any] = dict(clean)
    # A changed solution or compensation voids an earlier approval.
    if complaint.approved_by and any(
        k in clean and clean[k] != getattr(complaint, k)
        for k in ("solution", "compensation_amount", "compensation_type")
    ):
        values["approved_by"] = after["approved_by"] = None
    if stage == "approved":
        values["approved_by"] = after["approved_by"] = actor
    elif stage == "solution_proposed":
        values["approved_by"] = after["approved_by"] = None
    if step.sets == "followed_up_at":
        after["followed_up_at"] = happened
    exempted = closes_without_follow_up(after, stage)
    if stage == "approved":
        require(session, APPROVE, _("approve complaint #{id}'s solution").format(id=complaint_id))
    if exempted:
        require(
            session,
            EXEMPT,
            _("close formal complaint #{id} without the follow-up (回访) step").format(id=complaint_id),
        )
    workflow.check(
        GuardContext(
            complaint=after, source=source, target=stage, actor=actor, reason=reason, settings=settings
        )
    )
    if stage == "approved":
        # After the guards, so a company's own approver guard still speaks first; a company
        # that removes approver_not_handler does not remove this.
        check_approver(complaint_id, actor, complaint.handler, history.proposer_of(session, complaint_id))
    if events.listened(app, "kehu_complaint_before_move"):
        events.before_move(app, session, record_of(session, complaint), stage)
    values["status"] = stage
    values["updated_at"] = now
    if complaint.first_response_at is None and stage != workflow.initial:
        values["first_response_at"] = happened
        if complaint.first_response_breached_at and complaint.first_response_due_at >= happened:
            values["first_response_breached_at"] = None  # marked before the answer was recorded
    calendar = calendar_of(session, settings)
    if step.kind == "done" and complaint.resolved_at is None:
        values["resolved_at"] = happened  # any "done" stage stops the resolution clock
        if complaint.resolution_breached_at and complaint.resolution_due_at >= happened:
            values["resolution_breached_at"] = None
    if step.sets and step.sets not in values:
        values[step.sets] = happened
    if step.kind == "closed":
        values.setdefault("closed_at", happened)
        values["close_reason"] = reason
    clock_start, paused_seconds, paused_since = (
        complaint.clock_started_at,
        complaint.paused_seconds,
        complaint.paused_since,
    )
    if step.reopens:
        clock_start, paused_seconds, paused_since = happened, 0, None
        values.update(
            clock_started_at=happened,
            resolved_at=None,
            followed_up_at=None,
            closed_at=None,
            close_reason=None,
            resolution_breached_at=None,
            escalated_at=None,
            escalated_to=None,
            reopen_count=complaint.reopen_count + 1,
        )
    policy = policy_of(session, complaint)
    should_pause = step.kind == "open" and stage in policy.paused_stages
    if paused_since is not None and not should_pause:
        paused_seconds += calendar.business_seconds(paused_since, happened)
        paused_since = None
    elif paused_since is None and should_pause:
        paused_since = happened
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
        if complaint.first_response_breached_at and complaint.first_response_at is None and first > happened:
            values["first_response_breached_at"] = None
        if (
            "resolution_breached_at" not in values
            and complaint.resolution_breached_at
            and resolution > happened
        ):
            values["resolution_breached_at"] = None
    _write(session, complaint, values, seen)
    details = [
        note or "",
        *(
            _("{field}={value}").format(
                field=_(FIELD_LABELS.get(k, k)),
                value=COMPENSATION_TYPE.label(v) if k == "compensation_type" else v,
            )
            for k, v in clean.items()
        ),
    ]
    if reason:
        details.append(_("reason: {reason}").format(reason=reason))
    if exempted:
        details.append(
            _("exempt from the follow-up (回访) by {actor} ({permission})").format(
                actor=actor, permission=EXEMPT
            )
        )
    history.append_one(
        session,
        complaint_id,
        happened,
        actor,
        "moved",
        source,
        stage,
        "; ".join(d for d in details if d) or None,
        recorded_at=None if happened == now else now,
    )
    trail = audit.changes_of(_snapshot(complaint), after, personal=FREE_TEXT)
    trail.pop("followed_up_at", None)
    trail["status"] = [source, stage]
    if happened != now:
        trail["happened_at"] = happened.isoformat()
    if exempted:
        trail["exempt"] = "closed without the follow-up (回访) and satisfaction"
    audit.record(
        session,
        "complaint",
        str(complaint_id),
        "closed" if step.kind == "closed" else "moved",
        trail,
        customer_id=complaint.customer_id,
    )
    record = load_record(session, complaint_id)
    events.moved(app, session, record, source, stage, closes=step.kind == "closed")
    return record


def close(
    app: Kehu,
    session: Session,
    complaint_id: int,
    actor: str | None = None,
    *,
    stage: str = "closed",
    changes: Mapping[str, Any] | None = None,
    reason: str | None = None,
    note: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
    at: datetime | None = None,
) -> ComplaintRecord:
    """Close a complaint: move it to a closing ``stage`` (``closed``, ``rejected``, ``withdrawn``).

    ``stage`` must be of kind ``closed`` (a company's own closing stage too). The workflow's
    guards apply: closing a formal complaint after follow-up needs a root cause and corrective
    action, closing without follow-up or rejecting needs a ``reason``; closing a formal
    complaint without follow-up also needs permission ``complaints.exempt``. ``at``: when it
    was closed, if earlier (see :func:`move`).
    """
    workflow = build_workflow(app)
    stage = workflow.parse_stage(stage)
    if workflow.stage(stage).kind != "closed":
        closing = ", ".join(workflow.keys_of_kind("closed"))
        raise KehuError(
            _("'{stage}' does not close a complaint; the closing stages are: {closing}").format(
                stage=stage, closing=closing
            )
        )
    return move(
        app,
        session,
        complaint_id,
        stage,
        actor,
        changes=changes,
        reason=reason,
        note=note,
        expected_version=expected_version,
        now=now,
        workflow=workflow,
        at=at,
    )


def regrade(
    app: Kehu,
    session: Session,
    complaint_id: int,
    severity: str,
    actor: str | None = None,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ComplaintRecord:
    """Change an open complaint's severity; its SLA policy and due times follow, its pause is kept.

    Needs permission ``complaints.handle``; ``actor``: ``None`` for the session's user."""
    now = now or utcnow()
    complaint, seen = _read(session, complaint_id, expected_version, _("re-grade complaints"))
    actor = actor_name(session, actor)
    try:
        level = SEVERITY.parse(severity)
    except FieldError as exc:
        raise ValidationError(
            [Problem("severity", str(exc), value=severity)],
            headline=_("severity refused; nothing was changed:"),
        ) from None
    if complaint.closed_at is not None or complaint.resolved_at is not None:
        raise KehuError(
            _("complaint #{id} is {stage}; only an open complaint is re-graded").format(
                id=complaint_id, stage=complaint.status
            )
        )
    old = complaint.severity
    _write(session, complaint, {"severity": level, "updated_at": now}, seen)
    history.append_one(
        session,
        complaint_id,
        now,
        actor,
        "severity",
        complaint.status,
        complaint.status,
        _("{old} -> {new}; reason: {reason}").format(
            old=SEVERITY.label(old), new=SEVERITY.label(level), reason=reason
        )
        if reason
        else _("{old} -> {new}").format(old=SEVERITY.label(old), new=SEVERITY.label(level)),
    )
    audit.record(
        session,
        "complaint",
        str(complaint_id),
        "regraded",
        {"severity": [old, level]},
        customer_id=complaint.customer_id,
    )
    sla.recompute_open(
        app,
        session,
        calendar_of(session),
        now,
        complaint_ids=[complaint_id],
        reason=_("severity {old} -> {new}").format(old=SEVERITY.label(old), new=SEVERITY.label(level)),
        actor=actor,
    )
    return load_record(session, complaint_id)


def assign(
    app: Kehu,
    session: Session,
    complaint_id: int,
    actor: str | None = None,
    *,
    handler: str | None = None,
    team: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ComplaintRecord:
    """Give a complaint to ``handler``, or let ``team``'s rule (round robin, balanced) pick one.

    Needs permission ``complaints.handle``; ``actor``: ``None`` for the session's user."""
    now = now or utcnow()
    complaint, seen = _read(session, complaint_id, expected_version, _("assign complaints"))
    return _assign(app, session, complaint, seen, actor_name(session, actor), handler, team, now)


def assign_opened(
    app: Kehu, session: Session, complaint_id: int, actor: str, team: str, now: datetime
) -> None:
    """Let ``team``'s rule pick the handler of a complaint just opened by ``actor`` (who may
    open it for a team whose complaints they do not see)."""
    complaint = get_complaint(session, complaint_id, everything=True)
    _assign(app, session, complaint, complaint.version, actor, None, team, now)


def _assign(
    app: Kehu,
    session: Session,
    complaint: Row[Any],
    seen: int,
    actor: str,
    handler: str | None,
    team: str | None,
    now: datetime,
) -> ComplaintRecord:
    complaint_id = complaint.id
    if complaint.closed_at is not None:
        raise KehuError(
            _("complaint #{id} is closed ({stage}); reopen it before assigning").format(
                id=complaint_id, stage=complaint.status
            )
        )
    target_team = (
        team_named(session, team)
        if team
        else (team_by_id(session, complaint.team_id) if complaint.team_id else None)
    )
    if handler is None:
        if target_team is None:
            raise KehuError(_("name a handler (--to) or a team (--team) whose rule picks one"))
        handler = pick_handler(session, target_team)
        if handler is None:
            raise KehuError(
                _("team '{team}' assigns manually or has no active member; name a handler with --to").format(
                    team=target_team.name
                )
            )
    if not handler.strip() or len(handler) > 100:
        raise ValidationError(
            [Problem("handler", _("1 to 100 characters"), value=handler)],
            headline=_("assignment refused; nothing was changed:"),
        )
    old = complaint.handler
    values: dict[str, Any] = {"handler": handler, "updated_at": now}
    if target_team is not None:
        values["team_id"] = target_team.id
    _write(session, complaint, values, seen)
    history.append_one(
        session,
        complaint_id,
        now,
        actor,
        "assigned",
        complaint.status,
        complaint.status,
        _("{old} -> {new} (team {team})").format(old=old or "-", new=handler, team=target_team.name)
        if target_team
        else _("{old} -> {new}").format(old=old or "-", new=handler),
    )
    changes: dict[str, Any] = {"handler": [old, handler]} if old != handler else {}
    if target_team is not None and target_team.id != complaint.team_id:
        before = team_by_id(session, complaint.team_id) if complaint.team_id else None
        changes["team"] = [before.name if before else None, target_team.name]
    audit.record(
        session, "complaint", str(complaint_id), "assigned", changes, customer_id=complaint.customer_id
    )
    return load_record(session, complaint_id)
