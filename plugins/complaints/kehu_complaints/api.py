"""The public API of the complaints plugin: what other plugins, scripts and the CLI call.

Every function takes ``app, session`` and runs in the caller's transaction: it returns values
and never prints nor commits. Refusals are :class:`~kehu_core.errors.KehuError` subclasses
whose message says what to do (``ValidationError``, ``Conflict``, ``NotFound``,
:class:`TransitionRefused`)::

    >>> from kehu_complaints import api
    >>> with app.session(as_user="wangfang") as session:
    ...     record = api.open_complaint(app, session, {"customer_code": "C1", "description": "卡纸"})
    ...     api.move(app, session, record.id, "acknowledged", note="已致歉")

Who acts is the session's user (``app.session(as_user=...)``); the functions' ``actor``
defaults to them, and a real user may not name someone else. Permissions and the record rule
on complaints: :mod:`kehu_complaints.security`.

A company plugin changes the workflow through the ``kehu_complaint_workflow`` hook with the
:class:`Stage`, :class:`Guard` and :class:`GuardContext` re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from attrs import evolve
from sqlalchemy.orm import Session

from kehu_complaints import handling, history, opening, records, sla
from kehu_complaints.fields import CATEGORY
from kehu_complaints.records import (
    ComplaintDetail,
    ComplaintQuery,
    ComplaintRecord,
    TimelineEntry,
    record_dict,
)
from kehu_complaints.report import ComplaintReport, build_report
from kehu_complaints.security import MANAGE, visible
from kehu_complaints.settings import calendar_of, explain_days, load_settings, set_calendar_day, set_setting
from kehu_complaints.workflow import Guard, GuardContext, Stage, TransitionRefused, Workflow, build_workflow
from kehu_core.access import require
from kehu_core.app import Kehu
from kehu_core.calendar import today
from kehu_core.errors import KehuError, Problem, ValidationError
from kehu_core.i18n import messages
from kehu_core.types import utcnow
from kehu_core.validation import FieldError

__all__ = [
    "ComplaintDetail",
    "ComplaintQuery",
    "ComplaintRecord",
    "ComplaintReport",
    "Guard",
    "GuardContext",
    "Stage",
    "TimelineEntry",
    "TransitionRefused",
    "Workflow",
    "add_note",
    "assign",
    "calendar_days",
    "catch_up",
    "change_setting",
    "close",
    "delete_sla_policy",
    "get_complaint",
    "list_complaints",
    "move",
    "open_complaint",
    "record_dict",
    "recompute_sla",
    "regrade",
    "report",
    "save_sla_policy",
    "set_calendar",
    "settings",
    "workflow",
]

_ = messages("kehu_complaints").gettext

#: Settings whose change moves due times: the open complaints are recomputed.
CALENDAR_SETTINGS = ("business_hours", "timezone", "chinese_holidays", "tier_method")


def open_complaint(
    app: Kehu,
    session: Session,
    values: Mapping[str, Any],
    actor: str | None = None,
    *,
    now: datetime | None = None,
) -> ComplaintRecord:
    """Open a grievance (抱怨) or complaint (投诉) for a customer.

    ``values``: ``customer_code`` and ``description`` (required), ``kind``, ``channel``,
    ``category``, ``severity``, ``wants``, ``handler``, ``team``, ``responsible_party``,
    ``responsible_department``, ``opened_at``; Chinese names of the vocabularies are accepted.
    Its SLA policy and due times are set from its severity, kind and the customer's tier; a
    team with an assignment rule picks the handler; a ``complaint`` interaction is recorded.
    Raises ``ValidationError`` naming every bad field. Needs permission ``complaints.handle``;
    ``actor`` is the session's user when ``None`` (see :mod:`kehu_complaints.security`).
    """
    return opening.open_complaint(app, session, values, actor, now)


#: The handling functions serve as they are: see :mod:`kehu_complaints.handling`.
move = handling.move
close = handling.close
assign = handling.assign
regrade = handling.regrade


def add_note(
    app: Kehu,
    session: Session,
    complaint_id: int,
    actor: str | None,
    text: str,
    *,
    now: datetime | None = None,
) -> TimelineEntry:
    """Append a note to a complaint's history (it can never be edited or deleted).

    ``actor``: ``None`` for the session's user. Needs permission ``complaints.handle``."""
    return history.add_note(session, complaint_id, actor, text, now)


def get_complaint(app: Kehu, session: Session, complaint_id: int) -> ComplaintDetail:
    """A complaint with its timeline and the stages it can move to; ``NotFound`` if there is
    none or the acting user may not see it."""
    return records.detail_of(session, complaint_id, build_workflow(app))


def list_complaints(
    app: Kehu, session: Session, query: ComplaintQuery | None = None, *, now: datetime | None = None
) -> list[ComplaintRecord]:
    """Complaints matching ``query`` (status, overdue, handler, customer, category, open only)
    that the acting user may see, most urgent first.

    ``status`` and ``category`` are read by code or name (``已解决``, ``产品质量``); an unknown
    one is a ``ValidationError`` listing the accepted values, never an empty list."""
    query = query or ComplaintQuery()
    problems = []
    status, category = query.status, query.category
    if status:
        try:
            status = build_workflow(app).parse_stage(status)
        except KehuError as exc:
            problems.append(Problem("status", str(exc), value=query.status))
    if category:
        try:
            category = CATEGORY.parse(category)
        except FieldError as exc:
            problems.append(Problem("category", str(exc), value=query.category))
    if problems:
        raise ValidationError(problems)
    return records.list_complaints(session, evolve(query, status=status, category=category), now)


def report(
    app: Kehu,
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> ComplaintReport:
    """The complaint report: counts, timings, SLA breach and reopen rates, satisfaction, and the
    repurchase rate after a complaint beside the course material's figures; over the
    complaints the acting user may see."""
    return build_report(session, app.dialect, since=since, until=until, now=now, conditions=visible(session))


def workflow(app: Kehu) -> Workflow:
    """The workflow as installed plugins changed it (stages, transitions, guards)."""
    return build_workflow(app)


def save_sla_policy(
    app: Kehu, session: Session, name: str, values: Mapping[str, Any], *, now: datetime | None = None
) -> tuple[sla.Policy, int]:
    """Create or change an SLA policy, then recompute open complaints' due times (pauses kept).

    Returns the policy and how many open complaints changed. Needs ``complaints.manage``.
    """
    policy = sla.save_policy(session, name, values, build_workflow(app).vocabulary())
    return policy, _recompute(app, session, _("SLA policy {name} changed").format(name=name), now)


def delete_sla_policy(app: Kehu, session: Session, name: str, *, now: datetime | None = None) -> int:
    """Delete an SLA policy (not the default); returns how many open complaints were re-matched.

    Needs ``complaints.manage``."""
    sla.delete_policy(session, name)
    return _recompute(app, session, _("SLA policy {name} deleted").format(name=name), now)


def recompute_sla(
    app: Kehu, session: Session, *, reason: str | None = None, now: datetime | None = None
) -> int:
    """Re-match policies and tiers and recompute the due times of every open complaint.

    Returns how many complaints changed; each gets an ``sla`` entry in its history. Needs
    ``complaints.manage``.
    """
    require(session, MANAGE, _("recompute complaints' SLA due times"))
    return _recompute(app, session, reason or _("recomputed on request"), now)


def _recompute(app: Kehu, session: Session, reason: str, now: datetime | None) -> int:
    """Recompute every open complaint after a change the caller was allowed to make."""
    return sla.recompute_open(app, session, calendar_of(session), now or utcnow(), reason=reason)


def settings(app: Kehu, session: Session) -> dict[str, Any]:
    """Every setting of the plugin, stored or default."""
    return load_settings(session)


def change_setting(
    app: Kehu, session: Session, key: str, value: Any, *, now: datetime | None = None
) -> dict[str, Any]:
    """Set one setting; a change of business hours, time zone, holidays or tier method
    recomputes open complaints' due times. Returns every setting.

    Needs the core's ``settings.manage``; the change is audited as setting ``complaints.<key>``."""
    set_setting(session, key, value)
    if key in CALENDAR_SETTINGS:
        _recompute(app, session, _("setting {key} changed").format(key=key), now)
    return load_settings(session)


def set_calendar(
    app: Kehu,
    session: Session,
    day: date,
    workday: bool,
    name: str | None = None,
    *,
    now: datetime | None = None,
) -> int:
    """Make ``day`` a working day or a day off for the company; returns how many open
    complaints' due times changed. Needs ``complaints.manage``."""
    set_calendar_day(session, day, workday, name)
    return _recompute(app, session, _("calendar changed"), now)


def calendar_days(
    app: Kehu, session: Session, first: date | None = None, days: int = 14
) -> list[dict[str, Any]]:
    """The business calendar from ``first`` (default: today): each day, working or not, and why."""
    return explain_days(calendar_of(session), first or today(), days)


def catch_up(app: Kehu, session: Session, since: datetime | None = None) -> tuple[int, int]:
    """Open the complaints of ``complaint`` interactions written while the plugin was not loaded
    (idempotent); returns (interactions without a complaint, complaints opened). Needs
    ``complaints.manage`` (see :func:`kehu_complaints.opening.catch_up`)."""
    return opening.catch_up(app, session, since)
