"""A complaint's append-only history: every transition, assignment, SLA change and note.

:func:`append` is the only way history is written; the database refuses UPDATE and DELETE.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from kehu_complaints.models import HISTORY
from kehu_complaints.records import TimelineEntry, get_complaint
from kehu_core.errors import Problem, ValidationError
from kehu_core.types import utcnow
from kehu_core.validation import FieldError
from kehu_core.validation import text as parse_text
from kehu_core.vocab import MAX_NOTE

#: The actor of what the plugin does by itself (opening from interactions, the scheduled jobs).
SYSTEM = "system"


def append(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append history entries (complaint_id, at, actor, action, from_status, to_status, note)."""
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
) -> None:
    """Append one history entry."""
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
            )
        ],
    )


def add_note(
    session: Session, complaint_id: int, actor: str, text: str, now: datetime | None = None
) -> TimelineEntry:
    """Append a note to a complaint's history; an empty or too long note is refused."""
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
    append_one(session, complaint.id, now, actor, "note", complaint.status, complaint.status, body)
    return TimelineEntry(now, actor, "note", complaint.status, complaint.status, body)
