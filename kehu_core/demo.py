"""A generated, realistic demo data set: customers with a Pareto spread of revenue, visits,
purchases, payments (some late), feedback, complaints, and a visit plan with overdue items.

Installed plugins add their own demo rows through the ``demo`` loader their manifest names.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from attrs import frozen
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.access import require
from kehu_core.app import Kehu
from kehu_core.errors import KehuError, PluginError
from kehu_core.hooktypes import DemoContext
from kehu_core.i18n import N_, messages
from kehu_core.interactions import write_interactions
from kehu_core.manifest import load_reference
from kehu_core.models import Customer, CustomerTag, Interaction
from kehu_core.types import utcnow

_ = messages("kehu_core").gettext

REGIONS = ("华东", "华南", "华北", "华中", "西南", "西北", "东北")
CITIES = {
    "华东": "上海",
    "华南": "广州",
    "华北": "北京",
    "华中": "武汉",
    "西南": "成都",
    "西北": "西安",
    "东北": "沈阳",
}
INDUSTRIES = ("制造", "零售", "餐饮", "医药", "电子", "建材", "物流", "教育")
OWNERS = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊")
SIZES = ("1-50人", "50-200人", "200-1000人", "1000人以上")
SCALES = ("小", "中", "大")
SOURCES = ("referral", "trade_magazine", "member_directory", "personal_network", "other")
WORDS = ("华", "盛", "鑫", "达", "恒", "泰", "嘉", "信", "瑞", "丰", "宏", "远", "金", "安", "福", "通")
SUFFIX = ("贸易有限公司", "科技有限公司", "商贸公司", "实业有限公司", "连锁超市", "医药公司", "建材商行")
PRODUCTS = {
    "办公设备": ("打印机", "复印机", "投影仪"),
    "电子产品": ("笔记本电脑", "显示器", "路由器"),
    "耗材": ("硒鼓", "A4纸", "墨盒"),
    "服务": ("维保合同", "安装服务", "培训课程"),
}
CHANNELS = ("门店", "电话订购", "线上商城", "经销商")


@frozen
class DemoSummary:
    """What the demo wrote, for the summary ``make demo`` prints."""

    customers: int
    interactions: int
    revenue: Decimal
    top20_share: Decimal
    lines: tuple[str, ...]


def _name(rng: random.Random, region: str) -> str:
    return CITIES[region] + rng.choice(WORDS) + rng.choice(WORDS) + rng.choice(SUFFIX)


def load_demo(
    app: Kehu, session: Session, customers: int = 200, seed: int = 7, today: datetime | None = None
) -> DemoSummary:
    """Write the demo data set into an empty database (refuses one that already has customers)."""
    require(session, "plugins.manage", N_("load demo data"))
    if session.scalar(select(func.count()).select_from(Customer)):
        raise KehuError(
            _(
                "the database already has customers; the demo loads only into an empty one "
                "(delete kehu.db, or use another --db)"
            )
        )
    rng = random.Random(seed)
    now = today or utcnow()
    start = now - timedelta(days=3 * 365)
    ids: list[tuple[int, str, str]] = []
    for n in range(1, customers + 1):
        region = rng.choice(REGIONS)
        person = rng.random() < 0.15
        customer = Customer(
            code=f"C{n:04d}",
            name=(
                rng.choice("王李张刘陈杨赵黄周吴")
                + rng.choice(("伟", "芳", "敏", "静", "磊", "洋", "娟", "强"))
            )
            if person
            else _name(rng, region),
            kind="person" if person else "company",
            region=region,
            industry=rng.choice(INDUSTRIES),
            size=None if person else rng.choice(SIZES),
            scale=rng.choice(SCALES),
            credit_limit=Decimal(rng.choice((0, 10000, 50000, 200000, 1000000))),
            owner=rng.choice(OWNERS),
            source=rng.choice(SOURCES),
            phone=f"1{rng.randint(3, 9)}{rng.randint(0, 999999999):09d}",
            email=f"c{n:04d}@example.cn",
            birthday=_birthday(start + timedelta(days=rng.randint(0, 365)), rng.randint(1960, 1995))
            if person
            else None,
            special_dates={}
            if person
            else {
                "成立纪念日": f"{rng.randint(1990, 2020)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            },
            marketing_consent=rng.random() < 0.7,
            attributes={},
            active=True,
            created_at=start,
            updated_at=start,
        )
        tags = [t for t, p in (("重点跟进", 0.1), ("经销商", 0.2), ("老客户", 0.3)) if rng.random() < p]
        customer.tags = [CustomerTag(tag=t) for t in tags]
        session.add(customer)
        session.flush()
        ids.append(
            (customer.id, customer.owner or OWNERS[0], "distributor" if "经销商" in tags else "direct")
        )

    rows: list[dict[str, Any]] = []
    for rank, (cid, owner, _kind) in enumerate(ids):
        # A Pareto spread: a few customers buy often and big, most rarely and small.
        weight = 1.0 / (1 + rank % customers) ** 0.9 if rng.random() < 0.9 else rng.random() * 0.05
        orders = max(0, int(rng.paretovariate(1.3) * 3 * (1 + 30 * weight))) if rng.random() > 0.08 else 0
        first = start + timedelta(days=rng.randint(0, 900))
        for k in range(min(orders, 120)):
            when = first + timedelta(days=rng.randint(0, max(1, (now - first).days - 1)))
            category = rng.choice(tuple(PRODUCTS))
            amount = Decimal(int(rng.lognormvariate(7.5, 0.9) * (1 + 10 * weight))).quantize(Decimal("1.00"))
            rows.append(
                dict(
                    customer_id=cid,
                    kind="purchase",
                    occurred_at=when,
                    channel=rng.choice(CHANNELS),
                    amount=amount,
                    cost=(amount * Decimal("0.7")).quantize(Decimal("0.01")),
                    quantity=Decimal(rng.randint(1, 20)),
                    category=category,
                    product=rng.choice(PRODUCTS[category]),
                    salesperson=owner,
                    external_ref=f"demo:p:{cid}:{k}",
                )
            )
            if rng.random() < 0.5:
                due = when + timedelta(days=30)
                late = rng.random() < 0.15
                paid = (
                    due + timedelta(days=rng.randint(5, 90))
                    if late
                    else due - timedelta(days=rng.randint(0, 20))
                )
                rows.append(
                    dict(
                        customer_id=cid,
                        kind="payment",
                        occurred_at=min(paid, now),
                        amount=amount,
                        due_at=due,
                        paid_at=paid if paid < now else None,
                        salesperson=owner,
                        external_ref=f"demo:pay:{cid}:{k}",
                    )
                )
        for k in range(rng.randint(0, 6)):
            rows.append(
                dict(
                    customer_id=cid,
                    kind=rng.choice(("visit", "call", "email", "meeting", "demo")),
                    occurred_at=start + timedelta(days=rng.randint(0, 3 * 365 - 1)),
                    salesperson=owner,
                    note=rng.choice(("介绍新品", "了解需求", "回访满意度", "商谈年度合同", "节日问候")),
                    external_ref=f"demo:v:{cid}:{k}",
                )
            )
        if orders and rng.random() < 0.4:
            rows.append(
                dict(
                    customer_id=cid,
                    kind="feedback",
                    occurred_at=now - timedelta(days=rng.randint(1, 300)),
                    satisfaction=rng.choices((1, 2, 3, 4, 5), weights=(1, 2, 4, 8, 6))[0],
                    note="售后回访",
                    external_ref=f"demo:f:{cid}",
                )
            )
        if rng.random() < 0.3:
            rows.append(
                dict(
                    customer_id=cid,
                    kind=rng.choice(("visit", "call")),
                    status="planned",
                    occurred_at=now + timedelta(days=rng.randint(-10, 30)),
                    salesperson=owner,
                    note="计划拜访",
                    external_ref=f"demo:plan:{cid}",
                )
            )
    rows.sort(key=lambda r: r["occurred_at"])
    for begin in range(0, len(rows), 5000):
        write_interactions(app, session, rows[begin : begin + 5000], source="demo")

    context = DemoContext(rng=rng, customers=customers, today=now)
    installed = app.installed(session)
    for name in app.plugins.dependency_order():
        manifest = app.plugins.infos[name].manifest
        if name in installed and manifest is not None and manifest.demo is not None:
            _plugin_demo(name, load_reference(manifest.demo), app, session, context)
    return _summary(session, now, context.summary)


def _birthday(moment: datetime, year: int) -> date:
    """The local day of ``moment`` moved to ``year`` (29 February becomes the 28th in a common year)."""
    day = calendar.local_day(moment)
    if (day.month, day.day) == (2, 29) and (date(year, 3, 1) - timedelta(days=1)).day == 28:
        day = day.replace(day=28)
    return day.replace(year=year)


def _plugin_demo(name: str, load: Any, app: Kehu, session: Session, context: DemoContext) -> None:
    """Run one plugin's demo loader; a failure names the plugin and rolls the demo back."""
    try:
        load(app, session, context)
    except KehuError:
        raise
    except Exception as exc:
        raise PluginError(
            _("plugin {name!r} failed in its demo: {error_type}: {error}").format(
                name=name, error_type=type(exc).__name__, error=exc
            )
        ) from exc


def _summary(session: Session, now: datetime, extra: list[str]) -> DemoSummary:
    revenue_by_customer = [
        Decimal(v or 0)
        for v in session.scalars(
            select(func.sum(Interaction.amount))
            .where(Interaction.kind == "purchase", Interaction.status == "done")
            .group_by(Interaction.customer_id)
            .order_by(func.sum(Interaction.amount).desc())
        )
    ]
    customers = session.scalar(select(func.count()).select_from(Customer)) or 0
    interactions = session.scalar(select(func.count()).select_from(Interaction)) or 0
    total = sum(revenue_by_customer, Decimal(0))
    top = revenue_by_customer[: max(1, customers // 5)]
    share = (sum(top, Decimal(0)) / total * 100).quantize(Decimal("0.1")) if total else Decimal(0)
    planned_overdue = (
        session.scalar(
            select(func.count())
            .select_from(Interaction)
            .where(Interaction.status == "planned", Interaction.occurred_at <= now)
        )
        or 0
    )
    lines = (
        _("customers: {count}").format(count=customers),
        _("interactions: {count}").format(count=interactions),
        _("revenue: {amount}").format(amount=total.quantize(Decimal("0.01"))),
        _("top 20% of customers bring {share}% of revenue (the 80/20 rule)").format(share=share),
        _("planned contacts due or overdue: {count}").format(count=planned_overdue),
        *extra,
    )
    return DemoSummary(
        customers=customers, interactions=interactions, revenue=total, top20_share=share, lines=lines
    )
