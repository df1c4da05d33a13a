"""The rank-based methods, computed in one SQL pass over the statistics: ABC, pyramid, RFM.

Tie rule (the same for every method): customers with an equal measure (equal cents) are
indistinguishable and always get the same class. Concretely, for a customer with measure m:

* ``rank`` = number of customers with a measure strictly larger than m (SQL ``RANK() - 1``;
  computed per distinct measure, see :func:`rank_selects`);
* ``cum_before`` = sum of the measures strictly larger than m (only positive ones count).

ABC: A when ``cum_before < cut_A% of the total``, else B when ``< cut_B%``, else C; a
customer whose measure is zero or negative is C. So the customer who crosses 80% is still A
("the customers it takes to reach 80%"), and the top customer is always A.

Pyramid: VIP when ``rank < cut_1% of N``, 主要客户 when ``< cut_2%``, 普通客户 when
``< cut_3%``, else 小客户; a measure of zero or less is always 小客户.

RFM: each score is ``1 + floor(5 * worse / N)`` where ``worse`` counts customers strictly
worse on that dimension (R: a longer recency, never-bought is worst; F: fewer orders in the
window; M: a smaller measure). Quintiles, ties equal, scores 1-5.

All comparisons are done in integers (cents, basis points), so SQLite, PostgreSQL and the
pandas cross-check agree exactly.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, select

from kehu_tiering.settings import ABC_TIERS, PYRAMID_TIERS, TierSettings
from kehu_tiering.stats import base_select


def basis_points(percent: Decimal) -> int:
    """80 -> 8000 (percent with two decimals, as an integer out of 10000)."""
    return int(percent * 100)


def rfm_segment(r: Any, f: Any, m: Any, orders_total: Any) -> Any:
    """The named RFM segment, first match wins (works on SQL columns)."""
    return case(
        (orders_total == 0, "prospect"),
        (and_(r >= 4, f >= 4, m >= 4), "champions"),
        (and_(r >= 3, f >= 4), "loyal"),
        (and_(r >= 4, f >= 2), "potential_loyalist"),
        (r >= 4, "new"),
        (and_(r == 3, f == 3), "need_attention"),
        (r == 3, "about_to_sleep"),
        (and_(f >= 4, m >= 4), "cannot_lose"),
        (f >= 3, "at_risk"),
        (r == 2, "hibernating"),
        else_="lost",
    )


#: The recency key of a customer who never bought: sorts as the worst (longest) recency.
NEVER_BOUGHT = 10**9


def rank_selects(source: Any) -> dict[str, Select[Any]]:
    """Ranks per distinct value, not per customer: what every method needs, in three small relations.

    ``by_measure`` (key ``m``): customers with a strictly larger measure (``rank_desc``), the
    sum of those positive measures (``cum_before``) and customers with a measure at least
    as large (``ge``); ``by_recency`` and ``by_orders`` (key ``k``): customers strictly worse
    (``worse``). Grouping first and ranking the groups gives exactly the per-customer
    ranks with ties sharing the best rank, at the cost of one sort per dimension.
    """
    c = source.c
    m = c.measure_cents
    positive = case((m > 0, m), else_=0)
    count = func.count()
    before, upto = (None, -1), (None, 0)
    by_measure = select(
        m.label("m"),
        func.coalesce(func.sum(count).over(order_by=m.desc(), rows=before), 0).label("rank_desc"),
        func.coalesce(func.sum(func.sum(positive)).over(order_by=m.desc(), rows=before), 0).label("cum_before"),
        func.sum(count).over(order_by=m.desc(), rows=upto).label("ge"),
    ).group_by(m)
    recency = recency_key(c.recency_days)
    by_recency = select(
        recency.label("k"), func.coalesce(func.sum(count).over(order_by=recency.desc(), rows=before), 0).label("worse"),
    ).group_by(recency)
    by_orders = select(
        c.orders_window.label("k"),
        func.coalesce(func.sum(count).over(order_by=c.orders_window.asc(), rows=before), 0).label("worse"),
    ).group_by(c.orders_window)
    return {"by_measure": by_measure, "by_recency": by_recency, "by_orders": by_orders}


def recency_key(recency_days: Any) -> Any:
    """Recency in days, never-bought as :data:`NEVER_BOUGHT` (the rank key of ``by_recency``)."""
    return func.coalesce(recency_days, literal(NEVER_BOUGHT))


def rank_totals(source: Any) -> Select[Any]:
    """N (customers ranked) and the total of the positive measures."""
    m = source.c.measure_cents
    return select(func.count().label("n"), func.coalesce(func.sum(case((m > 0, m), else_=0)), 0).label("total"))


class _Ranked:
    """Attribute access to a base row's rank columns, for :func:`class_columns`."""

    def __init__(self, base: Any, ranks: dict[str, Any], n: Any, total: Any):
        self._base, self._ranks = base, ranks
        m = ranks["by_measure"].c
        self.n, self.total, self.rank_desc, self.cum_before = n, total, m.rank_desc, m.cum_before
        self.m_worse = n - m.ge
        self.r_worse, self.f_worse = ranks["by_recency"].c.worse, ranks["by_orders"].c.worse

    def __getattr__(self, name: str) -> Any:
        return self._base.c[name]

    def joined(self) -> Any:
        b, r = self._base.c, self._ranks
        return (self._base
                .join(r["by_measure"], r["by_measure"].c.m == b.measure_cents)
                .join(r["by_recency"], r["by_recency"].c.k == recency_key(b.recency_days))
                .join(r["by_orders"], r["by_orders"].c.k == b.orders_window))


def class_columns(c: Any, settings: TierSettings) -> list[Any]:
    """Every method's class from the rank columns and ``measure_cents``/``orders_total`` of ``c``."""
    a_bp, b_bp = (basis_points(x) for x in settings.abc_cuts)
    p1, p2, p3 = (basis_points(x) for x in settings.pyramid_cuts)
    abc = case(
        (c.measure_cents <= 0, ABC_TIERS[2]),
        (c.cum_before * 10000 < literal(a_bp) * c.total, ABC_TIERS[0]),
        (c.cum_before * 10000 < literal(b_bp) * c.total, ABC_TIERS[1]),
        else_=ABC_TIERS[2],
    )
    pyramid = case(
        (c.measure_cents <= 0, PYRAMID_TIERS[3]),
        (c.rank_desc * 10000 < literal(p1) * c.n, PYRAMID_TIERS[0]),
        (c.rank_desc * 10000 < literal(p2) * c.n, PYRAMID_TIERS[1]),
        (c.rank_desc * 10000 < literal(p3) * c.n, PYRAMID_TIERS[2]),
        else_=PYRAMID_TIERS[3],
    )
    r = 1 + (5 * c.r_worse) // c.n
    f = 1 + (5 * c.f_worse) // c.n
    ms = 1 + (5 * c.m_worse) // c.n
    return [
        c.n.label("customers"),
        c.rank_desc.label("rank"),
        (c.rank_desc * 1.0 / c.n).label("rank_pct"),
        case((c.total > 0, c.cum_before * 1.0 / c.total), else_=1.0).label("cum_share_before"),
        abc.label("abc"),
        pyramid.label("pyramid"),
        r.label("r_score"),
        f.label("f_score"),
        ms.label("m_score"),
        rfm_segment(r, f, ms, c.orders_total).label("rfm"),
    ]


def classified_select(dialect: str, settings: TierSettings) -> Select[Any]:
    """The statistics of every active customer plus rank columns and every method's class, one query."""
    base = base_select(dialect, settings).cte("base")
    ranks = {name: stmt.subquery(name) for name, stmt in rank_selects(base).items()}
    totals = rank_totals(base)
    n = totals.with_only_columns(totals.selected_columns.n).scalar_subquery()
    total = totals.with_only_columns(totals.selected_columns.total).scalar_subquery()
    return stats_view_select(base, ranks, n, total, settings)


def stats_view_select(base: Any, ranks: dict[str, Any], n: Any, total: Any, settings: TierSettings) -> Select[Any]:
    """The statistics joined to their ranks, with every method's class (the run's ``tiering_stats`` view)."""
    ranked = _Ranked(base, ranks, n, total)
    return select(*base.c, *class_columns(ranked, settings)).select_from(ranked.joined())
