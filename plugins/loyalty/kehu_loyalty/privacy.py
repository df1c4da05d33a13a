"""Erasure and export of a customer's loyalty data (``kehu customer forget`` / ``export``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kehu_core.models import Customer
from kehu_loyalty.ledger import statement
from kehu_loyalty.models import ACCOUNTS, LEDGER, REFERRALS, SETTLEMENTS

ERASED_REASON = "(erased)"


def erase(session: Session, customer_ids: Sequence[int]) -> None:
    """Delete referral links (they say who knows whom) and blank free-text reasons of manual entries.

    The ledger's points, dates and kinds stay: they are anonymous once the customer is, and
    balances and liabilities must still add up.
    """
    ids = list(customer_ids)
    session.execute(
        REFERRALS.delete().where(or_(REFERRALS.c.referred_id.in_(ids), REFERRALS.c.referrer_id.in_(ids)))
    )
    session.execute(
        LEDGER.update()
        .where(LEDGER.c.customer_id.in_(ids), LEDGER.c.kind == "adjust")
        .values(reason=ERASED_REASON)
    )


def export(session: Session, customer: Customer) -> dict[str, Any] | None:
    """Everything loyalty keeps about one customer."""
    account = (
        session.execute(select(ACCOUNTS).where(ACCOUNTS.c.customer_id == customer.id)).mappings().first()
    )
    referred_by = session.scalar(
        select(Customer.code)
        .join(REFERRALS, REFERRALS.c.referrer_id == Customer.id)
        .where(REFERRALS.c.referred_id == customer.id)
    )
    referred = list(
        session.scalars(
            select(Customer.code)
            .join(REFERRALS, REFERRALS.c.referred_id == Customer.id)
            .where(REFERRALS.c.referrer_id == customer.id)
        )
    )
    settlements = [
        dict(r)
        for r in session.execute(
            select(SETTLEMENTS)
            .where(SETTLEMENTS.c.customer_id == customer.id)
            .order_by(SETTLEMENTS.c.period_start)
        ).mappings()
    ]
    ledger = statement(session, customer.id)
    if account is None and not ledger and not referred and referred_by is None and not settlements:
        return None
    return {
        "loyalty": {
            "account": dict(account) if account else None,
            "ledger": ledger,
            "referred_by": referred_by,
            "referred": referred,
            "rebate_settlements": settlements,
        }
    }
