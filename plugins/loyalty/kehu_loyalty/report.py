"""Satisfaction and repurchase: does a 5 buy again more often than a 4?

The course material quotes Xerox: customers who gave 5 ("非常满意") were six times as likely to buy
again as those who gave 4 ("满意"): 给出5分的顾客再购买施乐产品的可能性比给出4分的顾客多6倍.
This report measures it on your own data: for every feedback with a score, did the customer
make a purchase within ``window_days`` after it?
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from attrs import frozen
from sqlalchemy import case, exists, func, literal, select, text
from sqlalchemy.orm import Session

from kehu_core.access import require, visible_customers
from kehu_core.i18n import messages
from kehu_core.models import Interaction
from kehu_core.types import UTCDateTime, utcnow

_ = messages("kehu_loyalty").gettext

XEROX_RATIO = Decimal(6)


@frozen
class ScoreRow:
    """Feedbacks with one score and how many were followed by a purchase."""

    score: int
    feedbacks: int
    repurchased: int
    rate: Decimal | None
    ratio_to_4: Decimal | None


def _plus_days(column: Any, days: int, dialect: str) -> Any:
    if dialect == "sqlite":
        return func.strftime("%Y-%m-%d %H:%M:%f", column, f"+{days} days")
    return column + text(f"interval '{int(days)} days'")


def satisfaction_repurchase(
    session: Session, window_days: int = 180, as_of: datetime | None = None
) -> list[ScoreRow]:
    """Repurchase rate per satisfaction score, over feedbacks given at least ``window_days`` before
    ``as_of`` (so each had the whole window to be followed by a purchase). Only the feedbacks
    of customers the acting user sees are counted."""
    require(session, "customer.read", _("see the satisfaction report"))
    as_of = as_of or utcnow()
    dialect = session.get_bind().dialect.name
    f = Interaction.__table__.alias("f")
    p = Interaction.__table__.alias("p")
    bought = exists().where(
        p.c.customer_id == f.c.customer_id,
        p.c.kind == "purchase",
        p.c.status == "done",
        p.c.amount > 0,
        p.c.occurred_at > f.c.occurred_at,
        p.c.occurred_at <= _plus_days(f.c.occurred_at, window_days, dialect),
    )
    stmt = (
        select(f.c.satisfaction, func.count(), func.sum(case((bought, 1), else_=0)))
        .where(
            f.c.satisfaction.is_not(None),
            f.c.status == "done",
            visible_customers(session, f.c.customer_id),
            f.c.occurred_at <= literal(as_of - timedelta(days=window_days), UTCDateTime()),
        )
        .group_by(f.c.satisfaction)
    )
    counts = {score: (n, r) for score, n, r in session.execute(stmt)}
    rates = {s: (Decimal(r) / Decimal(n)) if n else None for s, (n, r) in counts.items()}
    base = rates.get(4)
    result = []
    for score in range(1, 6):
        n, r = counts.get(score, (0, 0))
        rate = rates.get(score)
        ratio = (rate / base).quantize(Decimal("0.01")) if rate is not None and base else None
        result.append(
            ScoreRow(score, n, r, rate.quantize(Decimal("0.0001")) if rate is not None else None, ratio)
        )
    return result
