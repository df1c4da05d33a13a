"""Settled rebates (返利) as lines of the customer-profit statement (客户利润, :mod:`kehu_core.profit`).

In the course material's statement a distributor's rebates (月返/季返/年返) are part of its
operating profit (经营利润). A settled rebate counts in the statement whose period holds the
last day of the rebate's period: statements of consecutive periods count each rebate once.
Rebates still accruing are not counted (they are not owed yet).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehu_core.access import visible_customers
from kehu_core.profit import OPERATING, ProfitLine
from kehu_core.types import to_money
from kehu_loyalty.models import SETTLEMENTS

#: The statement's item for rebates.
REBATE_ITEM = "rebate"


def rebate_lines(
    session: Session, customer_ids: Sequence[int] | None, since: date | None, until: date | None
) -> list[ProfitLine]:
    """One operating line per customer: the settled rebates whose period's last local day is in
    ``since``..``until`` (both included; ``None``: unbounded), for customers the acting user sees."""
    s = SETTLEMENTS.c
    stmt = (
        select(s.customer_id, func.sum(s.rebate))
        .where(visible_customers(session, s.customer_id))
        .group_by(s.customer_id)
    )
    if customer_ids is not None:
        stmt = stmt.where(s.customer_id.in_(list(customer_ids)))
    # period_end is the first day of the next period: the last day is the one before.
    if since is not None:
        stmt = stmt.where(s.period_end > since)
    if until is not None:
        stmt = stmt.where(s.period_end <= until + timedelta(days=1))
    return [
        ProfitLine(cid, OPERATING, REBATE_ITEM, to_money(total), "loyalty")
        for cid, total in session.execute(stmt)
        if total
    ]
