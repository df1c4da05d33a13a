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

RFM is scored over the **buyers**: the customers with at least one order (a purchase with a
positive amount) in the window; B is their number. Each score is ``1 + floor(5 * worse / B)``
where ``worse`` counts the buyers strictly worse on that dimension (R: a longer recency; F:
fewer orders in the window; M: a smaller measure). Tie rule: buyers with equal values share
the score of the quantile where their group *starts* counted from the worst end, i.e. the
score of the lowest rank among them (so when 60% of the buyers have one order, all of them
are F1, and two orders is F4). Scores are 1-5; customers who did not buy in the window have
no scores (NULL). The segment, first match (see ``RFM_SEGMENTS`` for each one's meaning):
prospect (never bought), lost (bought before, not in the window), new (first purchase at most
``new_days`` days ago, default 90), then by the scores: champions (R, F, M >= 4), loyal
(R >= 3, F >= 4), potential_loyalist (R >= 4), need_attention (R 3, F 3), about_to_sleep
(R 3), cannot_lose (F >= 4, M >= 4), at_risk (F >= 3), else hibernating.

All comparisons are done in integers (cents, basis points), so SQLite, PostgreSQL and the
pandas cross-check agree exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Select, and_, case, cast, func, literal, null, select

from kehu_tiering.settings import ABC_TIERS, PYRAMID_TIERS, TierSettings
from kehu_tiering.stats import StatColumn, base_select


def basis_points(percent: Decimal) -> int:
    """80 -> 8000 (percent with two decimals, as an integer out of 10000)."""
    return int(percent * 100)


def rfm_segment(
    r: Any, f: Any, m: Any, orders_total: Any, orders_window: Any, tenure_days: Any, new_days: int
) -> Any:
    """The named RFM segment, first match wins (works on SQL columns); see :data:`RFM_SEGMENTS`."""
    return case(
        (orders_total == 0, "prospect"),
        (orders_window == 0, "lost"),
        (tenure_days <= new_days, "new"),
        (and_(r >= 4, f >= 4, m >= 4), "champions"),
        (and_(r >= 3, f >= 4), "loyal"),
        (r >= 4, "potential_loyalist"),
        (and_(r == 3, f == 3), "need_attention"),
        (r == 3, "about_to_sleep"),
        (and_(f >= 4, m >= 4), "cannot_lose"),
        (f >= 3, "at_risk"),
        else_="hibernating",
    )


#: The recency key of a customer who never bought: sorts as the worst (longest) recency.
NEVER_BOUGHT = 10**9


def rank_selects(
    source: Any, n: Any, total: Any, settings: TierSettings, buyers: Any
) -> dict[str, Select[Any]]:
    """Ranks and classes per distinct value, not per customer, in three small relations.

    ``by_measure`` (key ``m``): customers with a strictly larger measure (``rank_desc``), the
    sum of those positive measures (``cum_before``), customers with a smaller one
    (``m_worse``), and what follows from those alone: ``abc``, ``pyramid``, ``m_score``.
    ``by_recency`` and ``by_orders`` (key ``k``): customers strictly worse (``worse``) and
    the ``score`` (R, F). Grouping first and ranking the groups gives exactly the
    per-customer ranks with ties sharing the best rank, at the cost of one sort per
    dimension, and each class is computed once per distinct value. ``n``, ``total`` and
    ``buyers`` are :func:`rank_totals` (literals or scalar subqueries). The RFM scores are
    over the buyers alone (``orders_window > 0``): ``by_recency`` and ``by_orders`` hold only
    their values, and ``m_score`` counts only buyers as worse.
    """
    c = source.c
    m = c.measure_cents
    positive = case((m > 0, m), else_=0)
    count = func.count()
    buyer = c.orders_window > 0
    buyer_count = func.count(case((buyer, 1)))
    before, upto = (None, -1), (None, 0)

    def running(value: Any, order: Any, frame: Any) -> Any:
        # BIGINT: PostgreSQL's sum() of integers is NUMERIC, and the scores divide integers.
        return cast(func.coalesce(func.sum(value).over(order_by=order, rows=frame), 0), BigInteger)

    # One window (running totals up to and including the group): the sums strictly before a
    # group are those minus the group's own, so the database makes a single windowed pass.
    ranked = (
        select(
            m.label("m"),
            cast(count, BigInteger).label("here"),
            cast(func.coalesce(func.sum(positive), 0), BigInteger).label("positive_here"),
            running(count, m.desc(), upto).label("ge"),
            running(func.sum(positive), m.desc(), upto).label("cum_upto"),
            running(buyer_count, m.desc(), upto).label("ge_buyers"),
        )
        .group_by(m)
        .subquery("ranked")
    )
    r = ranked.c
    rank_desc, cum_before = r.ge - r.here, r.cum_upto - r.positive_here
    m_worse = n - r.ge
    by_measure = select(
        r.m,
        rank_desc.label("rank_desc"),
        cum_before.label("cum_before"),
        m_worse.label("m_worse"),
        *measure_classes(r.m, rank_desc, cum_before, n, total, settings),
        score(buyers - r.ge_buyers, buyers).label("m_score"),
    )
    recency = recency_key(c.recency_days)
    by_recency = _scored(
        select(recency.label("k"), running(count, recency.desc(), before).label("worse"))
        .where(buyer)
        .group_by(recency),
        buyers,
    )
    by_orders = _scored(
        select(c.orders_window.label("k"), running(count, c.orders_window.asc(), before).label("worse"))
        .where(buyer)
        .group_by(c.orders_window),
        buyers,
    )
    return {"by_measure": by_measure, "by_recency": by_recency, "by_orders": by_orders}


def _scored(ranked: Select[Any], n: Any) -> Select[Any]:
    inner = ranked.subquery()
    return select(inner.c.k, inner.c.worse, score(inner.c.worse, n).label("score"))


def score(worse: Any, n: Any) -> Any:
    """An RFM quintile score 1-5 from the buyers strictly worse on that dimension (``n``: the buyers)."""
    return case((n > 0, 1 + (5 * worse) // func.nullif(n, 0)), else_=null())


def measure_classes(
    m: Any, rank_desc: Any, cum_before: Any, n: Any, total: Any, settings: TierSettings
) -> list[Any]:
    """ABC and the pyramid, which depend on the measure's rank alone."""
    a_bp, b_bp = (basis_points(x) for x in settings.abc_cuts)
    p1, p2, p3 = (basis_points(x) for x in settings.pyramid_cuts)
    abc = case(
        (m <= 0, ABC_TIERS[2]),
        (share_below(cum_before, total, a_bp), ABC_TIERS[0]),
        (share_below(cum_before, total, b_bp), ABC_TIERS[1]),
        else_=ABC_TIERS[2],
    )
    pyramid = case(
        (m <= 0, PYRAMID_TIERS[3]),
        (rank_desc * 10000 < literal(p1) * n, PYRAMID_TIERS[0]),
        (rank_desc * 10000 < literal(p2) * n, PYRAMID_TIERS[1]),
        (rank_desc * 10000 < literal(p3) * n, PYRAMID_TIERS[2]),
        else_=PYRAMID_TIERS[3],
    )
    return [abc.label("abc"), pyramid.label("pyramid")]


def share_below(part: Any, total: Any, bp: int) -> Any:
    """``part / total < bp / 10000``, exactly, in 64-bit integers whatever the total (cents).

    ``part * 10000 < bp * total`` would overflow once the total passes 9.2 * 10^14 cents
    (PostgreSQL refuses the statement; SQLite goes on in floating point). With
    ``total = 10000 q + r`` it reads ``(part - bp q) * 10000 < bp r``, where ``bp r`` is below
    10^8, so the difference only matters between -1 and 10000 and is clamped there.
    """
    whole = cast(total, BigInteger)  # PostgreSQL's sum() is NUMERIC: divide as integers
    q, r = whole // 10000, whole % 10000
    d = part - literal(bp) * q
    clamped = case((d < -1, -1), (d > 10000, 10000), else_=d)
    return clamped * 10000 < literal(bp) * r


def recency_key(recency_days: Any) -> Any:
    """Recency in days, never-bought as :data:`NEVER_BOUGHT` (the rank key of ``by_recency``)."""
    return func.coalesce(recency_days, literal(NEVER_BOUGHT))


def rank_totals(source: Any) -> Select[Any]:
    """N (customers ranked), the total of the positive measures, and B (buyers in the window)."""
    m = source.c.measure_cents
    return select(
        func.count().label("n"),
        func.coalesce(func.sum(case((m > 0, m), else_=0)), 0).label("total"),
        func.count(case((source.c.orders_window > 0, 1))).label("buyers"),
    ).select_from(source)


def class_columns(base: Any, ranks: dict[str, Any], n: Any, total: Any, new_days: int) -> list[Any]:
    """The view's rank and class columns: read from the rank relations, RFM's segment per customer."""
    m, r, f = ranks["by_measure"].c, ranks["by_recency"].c, ranks["by_orders"].c
    m_score = case((base.c.orders_window > 0, m.m_score), else_=null())
    return [
        n.label("customers"),
        m.rank_desc.label("rank"),
        (m.rank_desc * 1.0 / n).label("rank_pct"),
        case((total > 0, m.cum_before * 1.0 / total), else_=1.0).label("cum_share_before"),
        m.abc.label("abc"),
        m.pyramid.label("pyramid"),
        r.score.label("r_score"),
        f.score.label("f_score"),
        m_score.label("m_score"),
        rfm_segment(
            r.score, f.score, m_score, base.c.orders_total, base.c.orders_window, base.c.tenure_days, new_days
        ).label("rfm"),
    ]


def joined(base: Any, ranks: dict[str, Any]) -> Any:
    """The statistics joined to their three rank relations."""
    b = base.c
    # Outer joins: only buyers have an R and an F (the rank tables hold only their values).
    return (
        base.join(ranks["by_measure"], ranks["by_measure"].c.m == b.measure_cents)
        .outerjoin(
            ranks["by_recency"],
            and_(ranks["by_recency"].c.k == recency_key(b.recency_days), b.orders_window > 0),
        )
        .outerjoin(ranks["by_orders"], and_(ranks["by_orders"].c.k == b.orders_window, b.orders_window > 0))
    )


def classified_select(dialect: str, settings: TierSettings, extra: Sequence[StatColumn] = ()) -> Select[Any]:
    """The statistics of every active customer (plugins' ``extra`` columns too) plus rank columns and
    every method's class, one query."""
    base = base_select(dialect, settings, extra=extra).cte("base")
    totals = rank_totals(base).subquery("totals")
    # correlate(None): over every customer, not the row at hand (SQLAlchemy auto-correlates ``base``).
    n = select(totals.c.n).correlate(None).scalar_subquery()
    total = select(totals.c.total).correlate(None).scalar_subquery()
    buyers = select(totals.c.buyers).correlate(None).scalar_subquery()
    ranks = {
        name: stmt.subquery(name) for name, stmt in rank_selects(base, n, total, settings, buyers).items()
    }
    return stats_view_select(base, ranks, n, total, settings.new_days)


def stats_view_select(base: Any, ranks: dict[str, Any], n: Any, total: Any, new_days: int) -> Select[Any]:
    """The statistics joined to their ranks, with every method's class (the run's ``tiering_stats`` view)."""
    return select(*base.c, *class_columns(base, ranks, n, total, new_days)).select_from(joined(base, ranks))
