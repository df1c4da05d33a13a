"""The core's sections of the profile card (the fields, the 6W1H1S summary and answers, customer
profit, the visit history), the interaction kinds of the profit statement, and the check of
imported 6W1H1S answers.

They are ``trylast`` hook implementations, so a plugin's own sections come first in the
call and can be ordered around them with ``ProfileSection.order``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core import analysis, calendar
from kehu_core.app import Kehu
from kehu_core.errors import Problem, ValidationError
from kehu_core.hooktypes import CustomerChange, ProfileSection
from kehu_core.markers import hookimpl
from kehu_core.models import Customer
from kehu_core.profile import MIN_PRICED, computed_sensitivity, summarize, visit_history
from kehu_core.profit import PROFIT_KINDS, SECTION_LABELS, label_of, profit_by_customer
from kehu_core.validation import FieldError


def _fmt(value: Any) -> str:
    if value is None or value == "" or value == {}:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return calendar.format_time(value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


@hookimpl(trylast=True)
def kehu_profile_sections(app: Kehu, session: Session, customer: Customer) -> list[ProfileSection]:
    """Fields (order 0), summary (10), the recorded 6W1H1S answers with the computed
    sensitivity (11), customer profit over the last 365 local days (12), visit history (20)."""
    labels = [
        ("code", "Code 编号"),
        ("name", "Name 名称"),
        ("kind", "Kind 类型"),
        ("region", "Region 地区"),
        ("industry", "Industry 行业"),
        ("size", "Size 规模"),
        ("scale", "Scale 经营规模"),
        ("credit_limit", "Credit limit 信用额度"),
        ("owner", "Owner 业务员"),
        ("source", "Source 来源"),
        ("phone", "Phone 电话"),
        ("email", "E-mail 邮箱"),
        ("birthday", "Birthday 生日"),
        ("special_dates", "Special dates 纪念日"),
        ("marketing_consent", "Marketing consent 营销许可"),
    ]
    tags = ", ".join(t.tag for t in customer.tags)
    rows = [(label, _fmt(getattr(customer, attr))) for attr, label in labels]
    rows.append(("Tags 标签", tags or "-"))
    rows += [(f"{key}", _fmt(value)) for key, value in (customer.attributes or {}).items()]
    rows.append(
        (
            "Status 状态",
            "forgotten" if customer.forgotten_at else ("active" if customer.active else "archived"),
        )
    )
    fields = ProfileSection(
        title="Profile 客户资料",
        key="profile",
        order=0,
        rows=rows,
        data={attr: getattr(customer, attr) for attr, _ in labels}
        | {
            "tags": [t.tag for t in customer.tags],
            "attributes": dict(customer.attributes or {}),
            "active": customer.active,
            "forgotten": customer.forgotten_at is not None,
        },
    )

    s = summarize(session, customer.id)
    pairs = lambda items: ", ".join(f"{name} ({value})" for name, value in items) or "-"  # noqa: E731
    summary = ProfileSection(
        title="Summary 6W1H1S",
        key="summary",
        order=10,
        rows=[
            ("What they buy 买什么", pairs(s.top_categories)),
            ("Top products 主要产品", pairs(s.top_products)),
            ("Channels 渠道", pairs(s.channels)),
            ("Buying months 购买月份", ", ".join(str(m) for m in s.buying_months) or "-"),
            ("Last satisfaction 最近满意度", _fmt(s.last_satisfaction)),
            ("Revenue total 总销售额", str(s.total_revenue)),
            ("Revenue 12 months 近12个月", str(s.revenue_12m)),
            ("Purchases 购买次数", str(s.purchases)),
            ("Days since last contact 距上次联系天数", _fmt(s.days_since_last_contact)),
            (
                "Next planned contact 下次计划联系",
                calendar.format_time(s.next_planned),
            ),
        ],
        data={
            "top_categories": [[n, str(v)] for n, v in s.top_categories],
            "top_products": [[n, str(v)] for n, v in s.top_products],
            "channels": [list(c) for c in s.channels],
            "buying_months": list(s.buying_months),
            "last_satisfaction": s.last_satisfaction,
            "total_revenue": str(s.total_revenue),
            "revenue_12m": str(s.revenue_12m),
            "purchases": s.purchases,
            "last_contact": s.last_contact,
            "days_since_last_contact": s.days_since_last_contact,
            "next_planned": s.next_planned,
        },
    )

    history = visit_history(session, customer.id, customer.code)
    visits = ProfileSection(
        title="Visit history 访问履历",
        key="history",
        order=20,
        rows=[
            (
                calendar.format_time(h.occurred_at),
                " ".join(
                    x
                    for x in (
                        h.kind,
                        h.channel or "",
                        str(h.amount) if h.amount is not None else "",
                        h.product or "",
                        h.note or "",
                    )
                    if x
                ),
            )
            for h in history
        ],
        data={
            "interactions": [
                {
                    "id": h.id,
                    "occurred_at": h.occurred_at,
                    "kind": h.kind,
                    "channel": h.channel,
                    "amount": h.amount,
                    "product": h.product,
                    "note": h.note,
                }
                for h in history
            ]
        },
    )
    return [
        fields,
        summary,
        _analysis_section(session, customer),
        _profit_section(app, session, customer),
        visits,
    ]


@hookimpl(trylast=True)
def kehu_interaction_kinds() -> Sequence[str]:
    """``resale``, ``support`` and ``expense``: the recorded lines of the customer-profit statement."""
    return PROFIT_KINDS


@hookimpl(trylast=True)
def kehu_customers_changed(session: Session, changes: Sequence[CustomerChange]) -> None:
    """Refuse 6W1H1S answers and markup rates that do not parse, however they were written (an
    import's ``attr:KEY`` columns bypass the field parser): one line naming customer and key."""
    ids = [c.customer_id for c in changes if "attributes" in c.changed_fields and c.action != "forgotten"]
    if not ids:
        return
    for code, attributes in session.execute(
        select(Customer.code, Customer.attributes).where(Customer.id.in_(ids)).order_by(Customer.code)
    ):
        try:
            analysis.check_attributes(attributes or {})
        except FieldError as exc:
            key, _, reason = str(exc).partition(": ")
            raise ValidationError([Problem(f"customer {code}: attr:{key}", reason)]) from None


def _analysis_section(session: Session, customer: Customer) -> ProfileSection:
    answers = analysis.answers(customer.attributes)
    computed = computed_sensitivity(session, customer.id)
    rows = [(f"{spec.question}: {spec.label}", answers.get(spec.key, "-")) for spec in analysis.ANALYSIS_KEYS]
    promotion = (
        f"{computed.promotion} ({computed.discount_share:.0%} of quantity at a discount, "
        f"{computed.priced_purchases} priced purchases)"
        if computed.promotion
        else f"- ({computed.priced_purchases} priced purchases, {MIN_PRICED} needed)"
    )
    price = (
        f"{computed.price} (bought less after {computed.bought_less_after} "
        f"of {computed.price_rises} price rises)"
        if computed.price
        else "- (no price rise between purchases of a product)"
    )
    rows += [("Computed: promotion 促销敏感度(计算)", promotion), ("Computed: price 价格敏感度(计算)", price)]
    return ProfileSection(
        title="6W1H1S: who, how, why, sensitivity 客户分析",
        key="analysis",
        order=11,
        rows=rows,
        data={
            "recorded": answers,
            "computed": {
                "priced_purchases": computed.priced_purchases,
                "discount_share": None if computed.discount_share is None else str(computed.discount_share),
                "promotion": computed.promotion,
                "price_rises": computed.price_rises,
                "bought_less_after": computed.bought_less_after,
                "price": computed.price,
            },
        },
    )


def _profit_section(app: Kehu, session: Session, customer: Customer) -> ProfileSection:
    until = calendar.today()
    since = until - timedelta(days=364)
    found = profit_by_customer(app, session, since, until, customer_ids=[customer.id]).get(customer.id)
    rows: list[tuple[str, str]] = []
    data: dict[str, Any] = {"since": since.isoformat(), "until": until.isoformat()}
    if found is not None:
        rows = [
            ("Revenue 销售额", str(found.revenue)),
            (
                "Gross profit 毛利",
                f"{found.gross_profit} ({found.uncosted_purchases} purchases without cost)",
            ),
            ("Given (rebates, rewards, support) 给予", str(found.given)),
            ("Contribution 贡献利润", str(found.contribution)),
        ]
        if found.lines:
            rows += [
                (SECTION_LABELS[line.section] + ": " + label_of(line.section, line.item), str(line.amount))
                for line in found.lines
            ]
            rows.append(("Customer profit 客户利润", str(found.customer_profit)))
        data |= {
            "revenue": str(found.revenue),
            "gross_profit": str(found.gross_profit),
            "given": str(found.given),
            "contribution": str(found.contribution),
            "customer_profit": str(found.customer_profit),
        }
    return ProfileSection(
        title=f"Customer profit, {since} to {until} 客户利润",
        key="profit",
        order=12,
        rows=rows or [("-", "no purchase or profit record in the period")],
        data=data,
    )
