"""Complaints of key accounts go to ACME's key-account manager (大客户经理).

Called from ``kehu_complaint_opened``, inside the transaction that opens the complaint and
after the complaints plugin gave it a handler (ACME depends on complaints, so its hook runs
after complaints' own work), so the manager simply takes it over through the public
``kehu_complaints.api.assign``; the complaint's history shows the hand-over.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from kehu_acme_rules.accounts import key_accounts
from kehu_acme_rules.settings import key_account_manager
from kehu_complaints.api import ComplaintRecord, assign
from kehu_core.app import Kehu
from kehu_core.customers import get_customer

#: Who the complaint's history names for the hand-over.
ACTOR = "acme_rules"


def route_to_key_account_manager(app: Kehu, session: Session, complaint: ComplaintRecord) -> str | None:
    """Give ``complaint`` to the key-account manager when its customer is a key account.

    Returns the manager it was given to, or ``None`` when no manager is set, the customer is
    not a key account, or the manager handles it already.
    """
    manager = key_account_manager(session)
    if manager is None or complaint.handler == manager:
        return None
    customer_id = get_customer(session, complaint.customer_code).id
    if customer_id not in key_accounts(app, session, [customer_id]):
        return None
    assign(app, session, complaint.id, ACTOR, handler=manager, expected_version=complaint.version)
    return manager
