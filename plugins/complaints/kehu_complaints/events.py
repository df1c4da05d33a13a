"""Firing the plugin's domain events (the hook specs in :mod:`kehu_complaints.hookspecs`).

Records are built only when some installed plugin listens: an import that opens thousands of
complaints pays nothing for events nobody receives.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from kehu_complaints.records import ComplaintRecord, records_by_id
from kehu_core.app import Kehu


def listened(app: Kehu, hook: str) -> bool:
    """True when an installed plugin implements ``hook``."""
    return bool(app.hook_caller(hook).get_hookimpls())


def opened(app: Kehu, session: Session, ids: Sequence[int]) -> None:
    """Fire ``kehu_complaint_opened`` for each of these new complaints."""
    if ids and listened(app, "kehu_complaint_opened"):
        for record in records_by_id(session, ids):
            app.hook.kehu_complaint_opened(session=session, complaint=record)


def before_move(app: Kehu, session: Session, complaint: ComplaintRecord, to_stage: str) -> None:
    """Fire ``kehu_complaint_before_move``; a listener refuses by raising ``KehuError``."""
    app.hook.kehu_complaint_before_move(session=session, complaint=complaint, to_stage=to_stage)


def moved(
    app: Kehu, session: Session, complaint: ComplaintRecord, from_stage: str, to_stage: str, closes: bool
) -> None:
    """Fire ``kehu_complaint_moved``, then ``kehu_complaint_closed`` when the stage closes it."""
    app.hook.kehu_complaint_moved(
        session=session, complaint=complaint, from_stage=from_stage, to_stage=to_stage
    )
    if closes:
        app.hook.kehu_complaint_closed(session=session, complaint=complaint)


def auto_closed(app: Kehu, session: Session, moves: Sequence[tuple[int, str]], to_stage: str) -> None:
    """Fire ``kehu_complaint_moved`` and ``kehu_complaint_closed`` for complaints the job closed;
    ``moves`` are (complaint id, stage it left)."""
    if not moves or not (listened(app, "kehu_complaint_moved") or listened(app, "kehu_complaint_closed")):
        return
    left = dict(moves)
    for record in records_by_id(session, [complaint_id for complaint_id, _ in moves]):
        moved(app, session, record, left[record.id], to_stage, closes=True)


def breached(app: Kehu, session: Session, breached_ids: Sequence[int], escalated_ids: Sequence[int]) -> None:
    """Fire ``kehu_complaint_sla_breached`` and then ``kehu_complaint_escalated`` (each when not empty)."""
    if breached_ids and listened(app, "kehu_complaint_sla_breached"):
        app.hook.kehu_complaint_sla_breached(session=session, complaints=records_by_id(session, breached_ids))
    if escalated_ids and listened(app, "kehu_complaint_escalated"):
        app.hook.kehu_complaint_escalated(session=session, complaints=records_by_id(session, escalated_ids))
