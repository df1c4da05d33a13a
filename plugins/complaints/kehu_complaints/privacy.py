"""A customer's complaints under the privacy commands: export everything, erase the free text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from attrs import asdict
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kehu_complaints.models import COMPLAINTS, HISTORY
from kehu_complaints.records import detail_of, record_dict
from kehu_complaints.workflow import Workflow
from kehu_core.models import Customer


def erase(session: Session, customer_ids: Sequence[int]) -> None:
    """Blank complaint free text and history notes of forgotten customers; dates and figures stay."""
    ids = select(COMPLAINTS.c.id).where(COMPLAINTS.c.customer_id.in_(list(customer_ids)))
    session.execute(
        update(COMPLAINTS)
        .where(COMPLAINTS.c.customer_id.in_(list(customer_ids)))
        .values(
            description=None,
            solution=None,
            root_cause=None,
            corrective_action=None,
            penalty_note=None,
            close_reason=None,
        )
    )
    session.execute(
        update(HISTORY).where(HISTORY.c.complaint_id.in_(ids), HISTORY.c.note.is_not(None)).values(note=None)
    )


def export(session: Session, customer: Customer, workflow: Workflow) -> Mapping[str, Any]:
    """The customer's complaints with their timelines: every one of them, whichever team
    handles it (the core has checked the acting user may export this customer)."""
    ids = session.scalars(
        select(COMPLAINTS.c.id).where(COMPLAINTS.c.customer_id == customer.id).order_by(COMPLAINTS.c.id)
    )
    result = []
    for complaint_id in list(ids):
        detail = detail_of(session, complaint_id, workflow, everything=True)
        result.append({**record_dict(detail.complaint), "timeline": [asdict(e) for e in detail.timeline]})
    return {"complaints": result}
