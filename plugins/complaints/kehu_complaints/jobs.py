"""Scheduled jobs: mark SLA breaches and escalate to the team lead; auto-close resolved complaints.

Both are set-based SQL (a handful of statements whatever the number of complaints) and
idempotent: a second run at the same or a later time marks nothing already marked.
Neither needs the workflow: "running" means not resolved and not closed, and a paused clock
(``paused_since`` set) never breaches.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, func, literal, or_, select, update
from sqlalchemy.orm import Session

from kehu_complaints import events
from kehu_complaints.fields import DOMAIN
from kehu_complaints.history import SYSTEM
from kehu_complaints.models import COMPLAINTS, HISTORY, TEAMS
from kehu_complaints.settings import load_settings
from kehu_core import audit
from kehu_core.app import Kehu
from kehu_core.i18n import N_, messages

_ = messages(DOMAIN).gettext

#: Who an escalation goes to when the complaint has no team, or its team no lead (shown as ``_(NOBODY)``).
NOBODY = N_("nobody to escalate to (no team lead)")


def breach_conditions(now: datetime) -> tuple[Any, Any, Any]:
    """(running, first response overdue, resolution overdue): the SQL conditions :func:`escalate` marks by."""
    c = COMPLAINTS.c
    running = and_(c.closed_at.is_(None), c.resolved_at.is_(None), c.paused_since.is_(None))
    first = and_(
        c.first_response_at.is_(None), c.first_response_breached_at.is_(None), c.first_response_due_at < now
    )
    resolution = and_(c.resolution_breached_at.is_(None), c.resolution_due_at < now)
    return running, first, resolution


def escalate(app: Kehu, session: Session, now: datetime) -> str:
    """Mark first-response and resolution breaches, escalate each newly breached complaint to its team lead.

    One UPDATE marks and escalates; one INSERT ... SELECT writes a history entry per complaint
    marked in this run. Returns a message for the job log.
    """
    c = COMPLAINTS.c
    running, first, resolution = breach_conditions(now)
    lead = select(TEAMS.c.lead).where(TEAMS.c.id == c.team_id).scalar_subquery()
    marked = cast(
        CursorResult[Any],
        session.execute(
            update(COMPLAINTS)
            .where(running, or_(first, resolution))
            .values(
                first_response_breached_at=case((first, now), else_=c.first_response_breached_at),
                resolution_breached_at=case((resolution, now), else_=c.resolution_breached_at),
                escalated_at=func.coalesce(c.escalated_at, now),
                escalated_to=case((c.escalated_at.is_(None), lead), else_=c.escalated_to),
            )
        ),
    ).rowcount
    if not marked:
        return _("no new SLA breach")
    fr_now, res_now, esc_now = (
        c.first_response_breached_at == now,
        c.resolution_breached_at == now,
        c.escalated_at == now,
    )
    what = case(
        (and_(fr_now, res_now), literal(_("first response and resolution overdue"))),
        (fr_now, literal(_("first response overdue"))),
        else_=literal(_("resolution overdue")),
    )
    # "; escalated to {lead}" around the lead's name, in the language of whoever runs the job.
    before, _lead, after = _("; escalated to {lead}").partition("{lead}")
    whom = case(
        (and_(esc_now, c.escalated_to.is_not(None)), literal(before) + c.escalated_to + literal(after)),
        (esc_now, literal(_("; {nobody}").format(nobody=_(NOBODY)))),
        else_=literal(""),
    )
    session.execute(
        HISTORY.insert().from_select(
            ["complaint_id", "at", "actor", "action", "from_status", "to_status", "note"],
            select(
                c.id,
                literal(now, COMPLAINTS.c.opened_at.type),
                literal(SYSTEM),
                literal("breached"),
                c.status,
                c.status,
                what + whom,
            ).where(or_(fr_now, res_now)),
        )
    )
    hooks = ("kehu_complaint_sla_breached", "kehu_complaint_escalated")
    if any(events.listened(app, hook) for hook in hooks):
        breached_ids = list(session.scalars(select(c.id).where(or_(fr_now, res_now)).order_by(c.id)))
        escalated_ids = list(session.scalars(select(c.id).where(esc_now).order_by(c.id)))
        events.breached(app, session, breached_ids, escalated_ids)
        escalated = len(escalated_ids)
    else:  # nobody listens: a count is all the log line needs
        escalated = session.scalar(select(func.count()).select_from(COMPLAINTS).where(esc_now)) or 0
    return _("{marked} complaint(s) newly breached their SLA; {escalated} escalated to the team lead").format(
        marked=marked, escalated=escalated
    )


def auto_close(app: Kehu, session: Session, now: datetime) -> str:
    """Close grievances (抱怨) resolved more than ``auto_close_days`` ago with no follow-up,
    stating the reason; formal complaints (投诉) too only when ``auto_close_complaints`` is on."""
    settings = load_settings(session)
    days = int(settings["auto_close_days"])
    if days <= 0:
        return _("auto-close is off (auto_close_days = 0)")
    c = COMPLAINTS.c
    due = and_(
        c.resolved_at.is_not(None),
        c.resolved_at < now - timedelta(days=days),
        c.followed_up_at.is_(None),
        c.closed_at.is_(None),
    )
    if not settings["auto_close_complaints"]:
        due = and_(due, c.kind == "grievance")
    rows = session.execute(select(c.id, c.status, c.customer_id).where(due)).all()
    if not rows:
        return _("nothing to auto-close")
    reason = _("auto-closed: no follow-up within {days} days of resolution").format(days=days)
    session.execute(
        update(COMPLAINTS)
        .where(due, c.id.in_([r.id for r in rows]))
        .values(status="closed", closed_at=now, close_reason=reason, updated_at=now, version=c.version + 1)
    )
    session.execute(
        HISTORY.insert(),
        [
            dict(
                complaint_id=r.id,
                at=now,
                actor=SYSTEM,
                action="moved",
                from_status=r.status,
                to_status="closed",
                note=reason,
            )
            for r in rows
        ],
    )
    for r in rows:
        audit.record(
            session,
            "complaint",
            str(r.id),
            "closed",
            {"status": [r.status, "closed"], "exempt": f"auto_close_days {days}"},
            customer_id=r.customer_id,
        )
    events.auto_closed(app, session, [(r.id, r.status) for r in rows], "closed")
    return _("{n} resolved complaint(s) auto-closed without follow-up").format(n=len(rows))
