"""The customer profile card (客户资料卡), its computed 6W1H1S summary, and the recorded answers.

What, Where, When and Will are computed from interactions (:func:`summarize`); Who, How, Why and
Sensitivity are recorded (:mod:`kehu_core.analysis`, :func:`set_analysis`), and sensitivity to
promotion and price is also computed from purchases where they carry product, amount and
quantity (:func:`computed_sensitivity`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from attrs import frozen
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehu_core import analysis, calendar
from kehu_core.access import record_access, visible_customers
from kehu_core.app import Kehu
from kehu_core.customers import CustomerRecord, edit_customer, get_customer
from kehu_core.errors import Problem, ValidationError
from kehu_core.hooktypes import ProfileSection
from kehu_core.interactions import InteractionRecord
from kehu_core.models import Customer, Interaction
from kehu_core.sql import dialect_of
from kehu_core.types import UTCDateTime, to_money, utcnow
from kehu_core.validation import FieldError

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


def set_analysis(app: Kehu, session: Session, code: str, values: Mapping[str, Any]) -> CustomerRecord:
    """Record 6W1H1S answers of customer ``code`` (``kehu customer profile-set``): ``values`` maps
    keys of :data:`kehu_core.analysis.KEYS` (``how.decision_makers``, ``sensitivity.price`` ...)
    to raw values; a blank value removes the answer. Each is checked (one line naming the key
    and the reason; nothing is saved if one is refused), then written as a customer edit
    (permission ``customer.write``, audited, ``kehu_customers_changed`` fired)."""
    customer = get_customer(session, code)
    merged = dict(customer.attributes or {})
    for key, raw in values.items():
        try:
            if raw is None or str(raw).strip() == "":
                if key not in analysis.KEYS:
                    analysis.parse_answer(key, raw)
                merged.pop(key, None)
            else:
                merged[key] = analysis.parse_answer(key, raw)
        except FieldError as exc:
            reason = exc.reason if isinstance(exc, analysis.AnswerError) else str(exc)
            raise ValidationError([Problem(key, reason, value=str(raw)[:60])]) from None
    return edit_customer(app, session, customer.code, {"attributes": merged})


#: A purchase is at a discount when its unit price is at least this far below the product's list price.
DISCOUNT = Decimal("0.05")
#: A price rise between two purchases of a product is one of at least this much.
PRICE_STEP = Decimal("0.05")
#: Shares at or above these are ``high`` and ``medium`` sensitivity; below, ``low``.
HIGH_SHARE = Decimal("0.5")
MEDIUM_SHARE = Decimal("0.2")
#: The fewest priced purchases from which promotion sensitivity is computed.
MIN_PRICED = 3


@frozen
class ComputedSensitivity:
    """Sensitivity to promotion and price, computed from purchases with product, amount and quantity.

    Attributes:
        priced_purchases: the customer's done purchases with a product, a positive amount and quantity.
        discount_share: the share of their quantity bought at a discount: at a unit price at least
            :data:`DISCOUNT` below the product's list price (the highest unit price paid for it
            by the customers the user sees); ``None`` below :data:`MIN_PRICED` priced purchases.
        promotion: the level of ``discount_share`` (``high`` from 0.5, ``medium`` from 0.2).
        price_rises: consecutive purchases of a product whose unit price rose by at least
            :data:`PRICE_STEP`.
        bought_less_after: of those, the ones after which they bought a smaller quantity.
        price: the level of ``bought_less_after / price_rises``; ``None`` without a price rise.
    """

    priced_purchases: int
    discount_share: Decimal | None
    promotion: str | None
    price_rises: int
    bought_less_after: int
    price: str | None


def share_level(share: Decimal | None) -> str | None:
    """``high`` from :data:`HIGH_SHARE`, ``medium`` from :data:`MEDIUM_SHARE`, else ``low``."""
    if share is None:
        return None
    return "high" if share >= HIGH_SHARE else "medium" if share >= MEDIUM_SHARE else "low"


def computed_sensitivity(session: Session, customer_id: int) -> ComputedSensitivity:
    """Promotion and price sensitivity of one customer from their purchases (see
    :class:`ComputedSensitivity` for exactly what is counted)."""
    i = Interaction
    priced = (
        i.kind == "purchase",
        i.status == "done",
        i.product.is_not(None),
        i.amount > 0,
        i.quantity > 0,
    )
    rows: list[tuple[str, Decimal, Decimal]] = [
        (str(product), to_money(amount), Decimal(str(quantity)))
        for product, amount, quantity in session.execute(
            select(i.product, i.amount, i.quantity)
            .where(i.customer_id == customer_id, *priced)
            .order_by(i.occurred_at, i.id)
        )
    ]
    products = sorted({product for product, _, _ in rows})
    list_price: dict[str, Decimal] = {}
    if products:
        for product, top in session.execute(
            select(i.product, func.max(i.amount / i.quantity))
            .where(
                *priced,
                i.product.in_(products),
                visible_customers(session, Interaction.customer_id.expression),
            )
            .group_by(i.product)
        ):
            list_price[str(product)] = Decimal(str(top)).quantize(Decimal("0.0001"))
    total_qty = discounted_qty = Decimal(0)
    rises = less = 0
    last: dict[str, tuple[Decimal, Decimal]] = {}
    for product, amount, quantity in rows:
        unit = amount / quantity
        total_qty += quantity
        if unit <= list_price.get(product, unit) * (1 - DISCOUNT):
            discounted_qty += quantity
        if product in last:
            before_unit, before_qty = last[product]
            if unit >= before_unit * (1 + PRICE_STEP):
                rises += 1
                less += quantity < before_qty
        last[product] = (unit, quantity)
    share = (discounted_qty / total_qty).quantize(Decimal("0.0001")) if len(rows) >= MIN_PRICED else None
    price_share = Decimal(less) / rises if rises else None
    return ComputedSensitivity(len(rows), share, share_level(share), rises, less, share_level(price_share))
