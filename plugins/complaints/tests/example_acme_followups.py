# kehu_acme_followups/hooks.py (its manifest: depends=("complaints",), hooks="kehu_acme_followups.hooks")
"""Acme's rules around complaints: a call back after an unhappy close; critical ones are not rejected."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from kehu_complaints.api import ComplaintRecord
from kehu_core import hookimpl
from kehu_core.app import Kehu
from kehu_core.errors import KehuError
from kehu_core.interactions import plan_interaction

CALL_BACK_AFTER = timedelta(days=3)


@hookimpl(optionalhook=True)
def kehu_complaint_closed(app: Kehu, session: Session, complaint: ComplaintRecord) -> None:
    """Plan a call back (回访) by the handler when the customer was not satisfied (or not asked)."""
    if complaint.status != "closed" or (complaint.satisfaction or 0) >= 4:
        return
    assert complaint.closed_at is not None
    plan_interaction(
        app,
        session,
        {
            "customer_code": complaint.customer_code,
            "kind": "call",
            "occurred_at": complaint.closed_at + CALL_BACK_AFTER,
            "salesperson": complaint.handler,
            "note": f"回访: 投诉 #{complaint.id} 已关闭，满意度 {complaint.satisfaction or '未知'}",
            # once per close: a reopened and closed again complaint gets a new call
            "external_ref": f"acme-callback:{complaint.id}:{complaint.reopen_count}",
        },
    )


@hookimpl(optionalhook=True)
def kehu_complaint_before_move(complaint: ComplaintRecord, to_stage: str) -> None:
    """A critical complaint is not rejected by a handler: the quality department reviews it."""
    if to_stage == "rejected" and complaint.severity == "critical":
        raise KehuError(
            f"complaint #{complaint.id} is critical: it is not rejected; send it to the quality "
            "department (质量部) instead"
        )
