"""A complaint's append-only history: every transition, assignment, SLA change and note.

:func:`append` is the only way history is written; the database refuses UPDATE and DELETE.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehu_complaints.models import HISTORY
from kehu_complaints.records import TimelineEntry, get_complaint
from kehu_complaints.security import HANDLE, actor_name
from kehu_core import audit
from kehu_core.access import require
from kehu_core.errors import Problem, ValidationError
from kehu_core.i18n import messages
from kehu_core.types import utcnow
from kehu_core.validation import FieldError
from kehu_core.validation import text as parse_text
from kehu_core.vocab import MAX_NOTE

_ = messages("kehu_complaints").gettext

#: The actor of what the plugin does by itself (opening from interactions, the scheduled jobs).
SYSTEM = "system"


def append(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append history entries (complaint_id, at, actor, action, from_status, to_status, note,
    and optionally recorded_at)."""
    if rows:
        session.execute(HISTORY.insert(), [dict(r) for r in rows])


def append_one(
    session: Session,
    complaint_id: int,
    at: datetime,
    actor: str,
    action: str,
    from_status: str | None,
    to_status: str | None,
    note: str | None,
    recorded_at: datetime | None = None,
) -> None:
    """Append one history entry; ``recorded_at``: when it is written, if later than ``at``."""
    append(
        session,
        [
            dict(
                complaint_id=complaint_id,
                at=at,
                actor=actor,
                action=action,
                from_status=from_status,
                to_status=to_status,
                note=note,
                recorded_at=recorded_at,
            )
        ],
    )


def last_step_at(session: Session, complaint_id: int) -> datetime | None:
    """When the complaint's latest step (a move through the workflow) happened, ``None``
    before its first move."""
    h = HISTORY.c
    return session.scalar(select(func.max(h.at)).where(h.complaint_id == complaint_id, h.action == "moved"))


def proposer_of(session: Session, complaint_id: int) -> str | None:
    """Who proposed the complaint's current solution: the actor of its latest move to
    ``solution_proposed`` (``None`` if it never was)."""
    h = HISTORY.c
    return session.scalar(
        select(h.actor)
        .where(h.complaint_id == complaint_id, h.action == "moved", h.to_status == "solution_proposed")
        .order_by(h.at.desc(), h.id.desc())
        .limit(1)
    )


def add_note(
    session: Session, complaint_id: int, actor: str | None, text: str, now: datetime | None = None
) -> TimelineEntry:
    """Append a note to a complaint's history; an empty or too long note is refused.

    ``actor``: ``None`` for the session's user (see :func:`~kehu_complaints.security.actor_name`).
    Needs permission ``complaints.handle``."""
    now = now or utcnow()
    complaint = get_complaint(session, complaint_id)
    require(session, HANDLE, _("add notes to complaints"))
    actor = actor_name(session, actor)
    try:
        body = parse_text(text, MAX_NOTE)
    except FieldError as exc:
        raise ValidationError(
            [Problem("note", str(exc))], headline=_("note refused; nothing was changed:")
        ) from None
    if not body:
        raise ValidationError(
            [Problem("note", _("must not be empty"))], headline=_("note refused; nothing was changed:")
        )
    append_one(session, complaint.id, now, actor, "note", complaint.status, complaint.status, body)
    audit.record(session, "complaint", str(complaint.id), "note", customer_id=complaint.customer_id)
    return TimelineEntry(now, actor, "note", complaint.status, complaint.status, body)
