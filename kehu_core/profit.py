"""Customer profit (客户利润): what a customer brings us, and what a distributor makes with us.

Two views of one period (local days, both included, by the company calendar):

* **What the customer brings us** (the profit of the 80/20 rule, 二八法则): our gross profit on
  their done purchases, ``revenue − cost`` over the purchases that carry a cost (a refund
  with a cost gives the goods' cost back), minus what we give them: rebates and rewards
  (operating incentives) and expense support. That is their *contribution*, which
  :func:`profit_report` ranks.
* **The distributor's customer-profit statement** of the course material (客户利润 = 经营利润 +
  费用支持 − 费用支出):

  - operating profit (经营利润): the markup on what they bought from us (加价利润), from their
    recorded resale figures (interactions of kind ``resale``: ``amount`` their sales of our
    products, ``cost`` what those cost them) or else from their markup rate
    (``attributes["profit.markup_rate"]``, per category or for all, :mod:`kehu_core.analysis`);
    plus rebates (返利, from plugins through ``kehu_customer_profit_lines``) and the incentives
    recorded as ``support`` interactions of categories :data:`OPERATING_ITEMS`;
  - expense support (费用支持): ``support`` interactions of categories :data:`SUPPORT_ITEMS`;
  - expense outlay (费用支出): ``expense`` interactions, categories :data:`EXPENSE_ITEMS`.

  A ``support`` or ``expense`` category outside those lists counts as ``other`` of its section.

Only done interactions count, and only customers the acting user may see
(:func:`kehu_core.access.visible_customers`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from attrs import frozen
from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.access import record_access, require, visible_customers
from kehu_core.analysis import ANY_CATEGORY, MARKUP_KEY, markup_rates
from kehu_core.app import Kehu
from kehu_core.customers import get_customer
from kehu_core.errors import KehuError
from kehu_core.i18n import N_, messages
from kehu_core.models import Customer, Interaction
from kehu_core.types import to_money
from kehu_core.validation import FieldError

_ = messages("kehu_core").gettext

#: Interaction kinds the core adds for the statement.
RESALE_KIND = "resale"
SUPPORT_KIND = "support"
EXPENSE_KIND = "expense"
PROFIT_KINDS = (RESALE_KIND, SUPPORT_KIND, EXPENSE_KIND)

#: The statement's sections, in order.
OPERATING, SUPPORT, OUTLAY = "operating", "support", "outlay"
SECTIONS = (OPERATING, SUPPORT, OUTLAY)
SECTION_LABELS = {
    OPERATING: N_("operating profit"),  # 经营利润
    SUPPORT: N_("support"),  # 费用支持
    OUTLAY: N_("outlay"),  # 费用支出
}
#: The markup line of the operating section.
MARKUP = "markup"
#: ``support`` categories that are operating incentives (经营利润, besides the markup).
OPERATING_ITEMS = {
    MARKUP: N_("markup"),  # 加价利润
    "rebate": N_("rebates"),  # 返利
    "pickup_reward": N_("pick-up reward"),  # 提货奖励
    "year_end_reward": N_("year-end reward"),  # 年终奖励
    "interest_subsidy": N_("off-season payment interest"),  # 淡季打款补息
}
#: ``support`` categories that are expense support (费用支持).
SUPPORT_ITEMS = {
    "advertising": N_("advertising"),  # 报广支持
    "promotion": N_("promotion"),  # 促销支持
    "gifts": N_("promotional gifts"),  # 促销赠品
    "training": N_("training"),  # 培训
    "credit": N_("credit"),  # 信用支持
    "warehousing": N_("warehousing subsidy"),  # 仓储补贴
    "transport": N_("transport subsidy"),  # 运输补贴
    "venue": N_("venue fees"),  # 场地费
    "other": N_("other support"),  # 其他支持
}
#: ``expense`` categories: the distributor's costs of doing business with us (费用支出).
EXPENSE_ITEMS = {
    "warehousing": N_("warehousing"),  # 仓储费
    "transport": N_("transport"),  # 运输费
    "wages": N_("wages"),  # 工资
    "office": N_("office"),  # 办公费
    "tax": N_("tax"),  # 税金
    "entertainment": N_("entertainment"),  # 招待费
    "other": N_("other expenses"),  # 其他费用
}
ITEM_LABELS = {OPERATING: OPERATING_ITEMS, SUPPORT: SUPPORT_ITEMS, OUTLAY: EXPENSE_ITEMS}
#: Share of the total contribution that marks the customers of the 80/20 rule.
PARETO_SHARE = Decimal("0.8")
CENT = Decimal("0.01")


@frozen
class ProfitLine:
    """One line of a customer-profit statement.

    Attributes:
        customer_id: the customer.
        section: ``operating``, ``support`` or ``outlay``.
        item: what it is: a key of :data:`OPERATING_ITEMS`, :data:`SUPPORT_ITEMS` or
            :data:`EXPENSE_ITEMS`, or a plugin's own word.
        amount: the money, positive (an outlay too: the statement subtracts it).
        source: where it comes from: ``recorded`` (interactions), ``markup rate``, or a plugin's name.
    """

    customer_id: int
    section: str
    item: str
    amount: Decimal
    source: str = "recorded"


@frozen
class CustomerProfit:
    """One customer's profit over a period: what they bring us, and their statement.

    Attributes:
        revenue: net done purchases (refunds included).
        costed_revenue: the part of ``revenue`` whose purchases carry a cost.
        cost: the cost of those purchases (a refund's cost counted back).
        gross_profit: ``costed_revenue − cost``: our gross profit (毛利).
        uncosted_purchases: purchases without a cost, left out of the gross profit.
        given: what we give them: operating incentives (rebates, rewards) and support.
        contribution: ``gross_profit − given``: the profit they bring us.
        markup_basis: ``recorded`` (resale figures), ``markup rate``, or ``none``.
        lines: the statement's lines, section by section.
        operating_profit, support, outlay: the sections' totals.
        customer_profit: ``operating_profit + support − outlay`` (客户利润).
    """

    customer_id: int
    code: str
    name: str
    revenue: Decimal
    costed_revenue: Decimal
    cost: Decimal
    gross_profit: Decimal
    uncosted_purchases: int
    given: Decimal
    contribution: Decimal
    markup_basis: str
    lines: tuple[ProfitLine, ...]
    operating_profit: Decimal
    support: Decimal
    outlay: Decimal
    customer_profit: Decimal


def label_of(section: str, item: str) -> str:
    """The statement's label of ``item`` in ``section``, in the current language (a plugin's
    own word as it is)."""
    label = ITEM_LABELS.get(section, {}).get(item)
    return _(label) if label is not None else item


def _bounds(since: date | None, until: date | None) -> list[Any]:
    if since is not None and until is not None and since > until:
        raise KehuError(
            _("since {since} is after until {until}: the period is empty; nothing was computed").format(
                since=since, until=until
            )
        )
    conditions: list[Any] = []
    if since is not None:
        conditions.append(Interaction.occurred_at >= calendar.day_start(since))
    if until is not None:
        conditions.append(Interaction.occurred_at < calendar.day_end(until))
    return conditions


def gross_profit_select(since: date | None = None, until: date | None = None) -> Select[Any]:
    """Our gross profit per customer as one SQL statement, for other queries to join or rank on.

    Columns: ``customer_id``, ``revenue`` (net done purchases), ``costed_revenue``, ``cost``
    (a refund's cost counted back), ``gross_profit`` (``costed_revenue − cost``), and
    ``uncosted`` (purchases without a cost), one row per customer with a done purchase in
    the local days ``since``..``until`` (both included; ``None``: unbounded). It applies no
    record rule: add :func:`kehu_core.access.visible_customers` on ``customer_id``.
    """
    i = Interaction
    costed = i.cost.is_not(None)
    signed_cost = case((i.amount < 0, -i.cost), else_=i.cost)
    revenue = func.coalesce(func.sum(i.amount), 0)
    costed_revenue = func.coalesce(func.sum(case((costed, i.amount))), 0)
    cost = func.coalesce(func.sum(case((costed, signed_cost))), 0)
    return (
        select(
            i.customer_id.label("customer_id"),
            revenue.label("revenue"),
            costed_revenue.label("costed_revenue"),
            cost.label("cost"),
            (costed_revenue - cost).label("gross_profit"),
            func.count(case((and_(i.cost.is_(None), i.amount.is_not(None)), 1))).label("uncosted"),
        )
        .where(i.kind == "purchase", i.status == "done", *_bounds(since, until))
        .group_by(i.customer_id)
    )


def _scope(session: Session, customer_ids: Sequence[int] | None) -> list[Any]:
    where = [visible_customers(session, Interaction.customer_id.expression)]
    if customer_ids is not None:
        where.append(Interaction.customer_id.in_(list(customer_ids)))
    return where


def profit_by_customer(
    app: Kehu,
    session: Session,
    since: date | None = None,
    until: date | None = None,
    customer_ids: Sequence[int] | None = None,
) -> dict[int, CustomerProfit]:
    """Every visible customer's :class:`CustomerProfit` over the local days ``since``..``until``
    (both included; ``None``: unbounded), by customer id: those with a done purchase, a
    recorded ``resale``/``support``/``expense``, or a plugin's line in the period, or only
    ``customer_ids``. Needs ``customer.read``. Tiering ranks on ``contribution`` (ABC by profit)."""
    require(session, "customer.read", N_("see customers' profit"))
    period = _bounds(since, until)
    scope = _scope(session, customer_ids)
    i = Interaction
    costed = i.cost.is_not(None)
    signed_cost = case((i.amount < 0, -i.cost), else_=i.cost)
    # Purchases by category: the markup rate may differ by category.
    purchases = session.execute(
        select(
            i.customer_id,
            i.category,
            func.sum(i.amount),
            func.sum(case((costed, i.amount))),
            func.sum(case((costed, signed_cost))),
            func.count(case((and_(i.cost.is_(None), i.amount.is_not(None)), 1))),
        )
        .where(i.kind == "purchase", i.status == "done", *period, *scope)
        .group_by(i.customer_id, i.category)
    ).all()
    recorded = session.execute(
        select(i.customer_id, i.kind, i.category, func.sum(i.amount), func.sum(i.cost))
        .where(i.kind.in_(PROFIT_KINDS), i.status == "done", *period, *scope)
        .group_by(i.customer_id, i.kind, i.category)
    ).all()
    ids = {row[0] for row in purchases} | {row[0] for row in recorded}
    plugin_lines: list[ProfitLine] = []
    for contributed in app.hook.kehu_customer_profit_lines(
        session=session, customer_ids=customer_ids, since=since, until=until
    ):
        plugin_lines.extend(contributed or ())
    if customer_ids is not None:
        wanted = set(customer_ids)
        plugin_lines = [line for line in plugin_lines if line.customer_id in wanted]
    ids |= {line.customer_id for line in plugin_lines}
    if customer_ids is not None:
        ids |= set(customer_ids)
    if not ids:
        return {}
    people = {
        cid: (code, name, attributes)
        for cid, code, name, attributes in session.execute(
            select(Customer.id, Customer.code, Customer.name, Customer.attributes).where(
                Customer.id.in_(sorted(ids)), visible_customers(session, Customer.id.expression)
            )
        )
    }
    return {cid: _profit(cid, *people[cid], purchases, recorded, plugin_lines) for cid in sorted(people)}


def _rates(attributes: Mapping[str, Any] | None) -> dict[str, Decimal] | None:
    raw = (attributes or {}).get(MARKUP_KEY)
    if raw is None:
        return None
    try:
        return markup_rates(raw)
    except FieldError:
        return None


def _profit(
    cid: int,
    code: str,
    name: str,
    attributes: Mapping[str, Any] | None,
    purchases: Iterable[Any],
    recorded: Iterable[Any],
    plugin_lines: Iterable[ProfitLine],
) -> CustomerProfit:
    revenue = costed_revenue = cost = Decimal(0)
    uncosted = 0
    by_category: dict[str | None, Decimal] = defaultdict(Decimal)
    for rid, category, amount, c_amount, c_cost, n_uncosted in purchases:
        if rid != cid:
            continue
        revenue += to_money(amount)
        costed_revenue += to_money(c_amount)
        cost += to_money(c_cost)
        uncosted += int(n_uncosted or 0)
        by_category[category] += to_money(amount)
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    resale = resale_cost = Decimal(0)
    has_resale = False
    for rid, kind, category, amount, row_cost in recorded:
        if rid != cid:
            continue
        if kind == RESALE_KIND:
            has_resale = True
            resale += to_money(amount)
            resale_cost += to_money(row_cost)
        elif kind == SUPPORT_KIND:
            item = category if category in OPERATING_ITEMS and category != MARKUP else None
            if item is not None:
                sums[(OPERATING, item)] += to_money(amount)
            else:
                sums[(SUPPORT, category if category in SUPPORT_ITEMS else "other")] += to_money(amount)
        else:
            sums[(OUTLAY, category if category in EXPENSE_ITEMS else "other")] += to_money(amount)
    lines: list[ProfitLine] = []
    rates = _rates(attributes)
    if has_resale:
        basis = "recorded"
        lines.append(ProfitLine(cid, OPERATING, MARKUP, resale - resale_cost, "recorded"))
    elif rates is not None:
        basis = "markup rate"
        markup = sum(
            (
                (net * rates.get(category or ANY_CATEGORY, rates.get(ANY_CATEGORY, Decimal(0)))).quantize(
                    CENT, ROUND_HALF_UP
                )
                for category, net in by_category.items()
            ),
            Decimal(0),
        )
        lines.append(ProfitLine(cid, OPERATING, MARKUP, markup, "markup rate"))
    else:
        basis = "none"
    lines += [ProfitLine(cid, section, item, amount) for (section, item), amount in sums.items()]
    lines += [line for line in plugin_lines if line.customer_id == cid]
    order = {s: n for n, s in enumerate(SECTIONS)}
    lines.sort(key=lambda x: (order.get(x.section, 9), x.item != MARKUP, x.item, x.source))
    total = {s: sum((x.amount for x in lines if x.section == s), Decimal(0)) for s in SECTIONS}
    given = sum(
        (x.amount for x in lines if x.section in (OPERATING, SUPPORT) and x.item != MARKUP), Decimal(0)
    )
    gross = costed_revenue - cost
    return CustomerProfit(
        customer_id=cid,
        code=code,
        name=name,
        revenue=revenue,
        costed_revenue=costed_revenue,
        cost=cost,
        gross_profit=gross,
        uncosted_purchases=uncosted,
        given=given,
        contribution=gross - given,
        markup_basis=basis,
        lines=tuple(lines),
        operating_profit=total[OPERATING],
        support=total[SUPPORT],
        outlay=total[OUTLAY],
        customer_profit=total[OPERATING] + total[SUPPORT] - total[OUTLAY],
    )


def customer_profit(
    app: Kehu, session: Session, code: str, since: date | None = None, until: date | None = None
) -> CustomerProfit:
    """Customer ``code``'s profit and customer-profit statement over the local days
    ``since``..``until`` (``kehu customer profit``); :class:`~kehu_core.errors.NotFound` for a
    customer the acting user may not see. The access is noted in the customer's access log."""
    customer = get_customer(session, code)
    record_access(session, customer.id, "profit")
    return profit_by_customer(app, session, since, until, customer_ids=[customer.id])[customer.id]


@frozen
class ProfitRank:
    """A customer's place in :func:`profit_report`.

    Attributes:
        rank: 1 for the largest contribution.
        share: the customer's contribution / the total contribution (``None`` when the total
            is not positive).
        cumulative_share: the running total's share, ranks 1..rank.
        pareto: true for the customers who together bring :data:`PARETO_SHARE` of the total:
            ranks up to the first whose cumulative share reaches it.
    """

    rank: int
    profit: CustomerProfit
    share: Decimal | None
    cumulative_share: Decimal | None
    pareto: bool


@frozen
class ProfitReport:
    """The customers ranked by the profit they bring us (the 80/20 of profit)."""

    since: date | None
    until: date | None
    rows: tuple[ProfitRank, ...]
    total_contribution: Decimal
    total_gross_profit: Decimal
    total_revenue: Decimal
    pareto_customers: int


def profit_report(
    app: Kehu, session: Session, since: date | None = None, until: date | None = None
) -> ProfitReport:
    """Visible customers ranked by contribution (largest first, then code), with each one's share
    and cumulative share of the total: the customers up to the first whose cumulative share
    reaches 80% are the 20% of the 80/20 rule (``pareto``). Negative contributions rank last
    and bring the cumulative share back down (the whale curve)."""
    profits = sorted(
        profit_by_customer(app, session, since, until).values(), key=lambda p: (-p.contribution, p.code)
    )
    total = sum((p.contribution for p in profits), Decimal(0))
    rows = []
    running = Decimal(0)
    reached = False
    pareto = 0
    for rank, p in enumerate(profits, start=1):
        running += p.contribution
        in_pareto = total > 0 and not reached
        if in_pareto:
            pareto += 1
            reached = running >= total * PARETO_SHARE
        rows.append(
            ProfitRank(
                rank,
                p,
                p.contribution / total if total > 0 else None,
                running / total if total > 0 else None,
                in_pareto,
            )
        )
    return ProfitReport(
        since,
        until,
        tuple(rows),
        total,
        sum((p.gross_profit for p in profits), Decimal(0)),
        sum((p.revenue for p in profits), Decimal(0)),
        pareto,
    )
