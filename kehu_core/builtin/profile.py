"""The core's sections of the profile card: the fields, the 6W1H1S summary, the visit history.

They are ``trylast`` hook implementations, so a plugin's own sections come first in the
call and can be ordered around them with ``ProfileSection.order``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.hooktypes import ProfileSection
from kehu_core.markers import hookimpl
from kehu_core.models import Customer
from kehu_core.profile import summarize, visit_history


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
def kehu_profile_sections(session: Session, customer: Customer) -> list[ProfileSection]:
    """Fields (order 0), summary (10) and visit history (20)."""
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
    return [fields, summary, visits]
