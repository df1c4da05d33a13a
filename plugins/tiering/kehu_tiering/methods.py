"""The rank-based methods, computed in one SQL pass over the statistics: ABC, pyramid, RFM.

Tie rule (the same for every method): customers with an equal measure (equal cents) are
indistinguishable and always get the same class. Concretely, for a customer with measure m:

* ``rank`` = number of customers with a measure strictly larger than m (SQL ``RANK() - 1``);
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


def rank_columns(source: Any) -> list[Any]:
    """The window columns every method needs, over ``source`` (one row per customer)."""
    c = source.c
    m = c.measure_cents
    positive = case((m > 0, m), else_=0)
    return [
        func.count().over().label("n"),
        func.coalesce(func.sum(positive).over(), 0).label("total"),
        (func.rank().over(order_by=m.desc()) - 1).label("rank_desc"),
        # Measures strictly larger than m: with integer cents, "m + 1 and above".
        func.coalesce(func.sum(positive).over(order_by=m.desc(), range_=(None, -1)), 0).label("cum_before"),
        (func.rank().over(order_by=c.recency_days.desc().nulls_first()) - 1).label("r_worse"),
        (func.rank().over(order_by=c.orders_window.asc()) - 1).label("f_worse"),
        (func.rank().over(order_by=m.asc()) - 1).label("m_worse"),
    ]


RANK_COLUMNS = ("n", "total", "rank_desc", "cum_before", "r_worse", "f_worse", "m_worse")


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
    base = base_select(dialect, settings).subquery("base")
    ranked = select(base, *rank_columns(base)).subquery("ranked")
    return select(*(ranked.c[name] for name in base.c.keys()), *class_columns(ranked.c, settings))


def stats_view_select(base: Any, ranks: Any, settings: TierSettings) -> Select[Any]:
    """The run's ``tiering_stats`` view: the materialised statistics joined to their ranks."""
    joined = base.join(ranks, ranks.c.customer_id == base.c.customer_id)

    class _Cols:  # measure_cents/orders_total from base, rank columns from ranks
        def __getattr__(self, name: str) -> Any:
            return ranks.c[name] if name in RANK_COLUMNS else base.c[name]

    return select(*base.c, *class_columns(_Cols(), settings)).select_from(joined)
