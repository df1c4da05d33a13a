"""The customer profile card (客户资料卡) and its computed 6W1H1S summary."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from attrs import frozen
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.access import record_access
from kehu_core.app import Kehu
from kehu_core.customers import get_customer
from kehu_core.hooktypes import ProfileSection
from kehu_core.interactions import InteractionRecord
from kehu_core.models import Customer, Interaction
from kehu_core.sql import dialect_of
from kehu_core.types import UTCDateTime, to_money, utcnow

HISTORY_LIMIT = 20


@frozen
class Summary6W1H1S:
    """What the interactions say about a customer (6W1H1S: who, what, where, when, why, will, how,
    sensitivity).

    Only what interactions can answer is computed: what they buy, through which channels,
    in which months, how satisfied they were last, how much they spend, and when we last
    and next see them. Months and days are the company's local ones (:mod:`kehu_core.calendar`):
    ``buying_months`` are months of the year (1-12) of the purchases' local days,
    ``revenue_12m`` counts the last 365 local days (today included), and
    ``days_since_last_contact`` counts local days (yesterday at 23:00 is 1 day ago at 01:00).
    """

    top_categories: tuple[tuple[str, Decimal], ...]
    top_products: tuple[tuple[str, Decimal], ...]
    channels: tuple[tuple[str, int], ...]
    buying_months: tuple[int, ...]
    last_satisfaction: int | None
    total_revenue: Decimal
    revenue_12m: Decimal
    purchases: int
    last_contact: datetime | None
    days_since_last_contact: int | None
    next_planned: datetime | None


def summarize(session: Session, customer_id: int, now: datetime | None = None) -> Summary6W1H1S:
    """Compute the 6W1H1S summary of one customer with a handful of aggregate queries."""
    now = now or utcnow()
    i = Interaction
    purchases = (i.customer_id == customer_id, i.kind == "purchase", i.status == "done")

    def top(column: Any) -> tuple[tuple[str, Decimal], ...]:
        rows = session.execute(
            select(column, func.sum(i.amount))
            .where(*purchases, column.is_not(None))
            .group_by(column)
            .order_by(func.sum(i.amount).desc(), column)
            .limit(3)
        )
        return tuple((name, to_money(total)) for name, total in rows)

    channels = tuple(
        (str(name), count)
        for name, count in session.execute(
            select(i.channel, func.count())
            .where(*purchases, i.channel.is_not(None))
            .group_by(i.channel)
            .order_by(func.count().desc(), i.channel)
            .limit(3)
        )
    )
    # The local month of the year, 1-12: a purchase at 00:30 on 1 March in Shanghai is March's.
    month = (calendar.sql_month_index(i.occurred_at, dialect_of(session)) % 12 + 1).label("month")
    months = tuple(
        int(m)
        for m, _ in session.execute(
            select(month, func.count())
            .where(*purchases)
            .group_by(month)
            .order_by(func.count().desc(), month)
            .limit(3)
        )
    )
    total, count = session.execute(select(func.sum(i.amount), func.count()).where(*purchases)).one()
    recent = session.scalar(
        select(func.sum(i.amount)).where(
            *purchases, i.occurred_at >= calendar.day_start(calendar.local_day(now) - timedelta(days=364))
        )
    )
    last_sat = session.scalar(
        select(i.satisfaction)
        .where(i.customer_id == customer_id, i.satisfaction.is_not(None), i.status == "done")
        .order_by(i.occurred_at.desc(), i.id.desc())
        .limit(1)
    )
    last_contact = session.scalar(
        select(func.max(i.occurred_at)).where(
            i.customer_id == customer_id, i.status == "done", i.occurred_at <= now
        )
    )
    next_planned = session.scalar(
        select(func.min(i.occurred_at)).where(i.customer_id == customer_id, i.status == "planned")
    )
    last_contact = _aware(last_contact)
    return Summary6W1H1S(
        top_categories=top(i.category),
        top_products=top(i.product),
        channels=channels,
        buying_months=months,
        last_satisfaction=last_sat,
        total_revenue=to_money(total),
        revenue_12m=to_money(recent),
        purchases=count or 0,
        last_contact=last_contact,
        days_since_last_contact=(
            (calendar.local_day(now) - calendar.local_day(last_contact)).days if last_contact else None
        ),
        next_planned=_aware(next_planned),
    )


def _aware(value: Any) -> datetime | None:
    """Aggregates bypass the column type on SQLite: parse text and attach UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return UTCDateTime().process_result_value(value, None)  # type: ignore[arg-type]


def visit_history(
    session: Session, customer_id: int, code: str, limit: int = HISTORY_LIMIT
) -> list[InteractionRecord]:
    """The most recent done interactions (the visit history card 访问履历卡)."""
    rows = session.scalars(
        select(Interaction)
        .where(Interaction.customer_id == customer_id, Interaction.status == "done")
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(limit)
    )
    return [InteractionRecord.of(r, code) for r in rows]


@frozen
class ProfileCard:
    """The whole card: the customer and every section, core and plugins', in order."""

    customer: Customer
    sections: tuple[ProfileSection, ...]


def profile_card(app: Kehu, session: Session, code: str) -> ProfileCard:
    """Build the profile card of customer ``code`` from every installed plugin's sections."""
    customer = get_customer(session, code)
    record_access(session, customer.id, "card")
    sections: list[ProfileSection] = []
    for contributed in app.hook.kehu_profile_sections(session=session, customer=customer):
        sections.extend(contributed or ())
    sections.sort(key=lambda s: s.order)
    return ProfileCard(customer=customer, sections=tuple(sections))
