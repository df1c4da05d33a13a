"""A follow-up call (回访) a week after a complaint closes, planned when it closes.

Called from ``kehu_complaint_closed`` inside the closing transaction (a close by hand or by
the complaints' auto-close job alike), so the call is planned exactly when the close is
committed: nothing polls for closed complaints.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from kehu_complaints.api import ComplaintRecord
from kehu_core.app import Kehu
from kehu_core.i18n import messages
from kehu_core.interactions import InteractionRecord, plan_interaction

_ = messages("kehu_acme_rules").gettext

FOLLOW_UP_AFTER = timedelta(days=7)


def follow_up_ref(complaint: ComplaintRecord) -> str:
    """The planned call's ``external_ref``: one per close (reopened and closed again: another)."""
    return f"acme-followup:{complaint.id}:{complaint.reopen_count}"


def plan_follow_up(app: Kehu, session: Session, complaint: ComplaintRecord) -> InteractionRecord:
    """Plan a call to the complaint's customer, by its handler, a week after it closed."""
    assert complaint.closed_at is not None  # kehu_complaint_closed fires once it is closed
    return plan_interaction(
        app,
        session,
        {
            "customer_code": complaint.customer_code,
            "kind": "call",
            "occurred_at": complaint.closed_at + FOLLOW_UP_AFTER,
            "salesperson": complaint.handler,
            "note": _("Follow-up call a week after complaint #{id} closed").format(id=complaint.id),
            "external_ref": follow_up_ref(complaint),
        },
    )
