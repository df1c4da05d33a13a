"""``kehu tier report``: customers and revenue share per tier, the 80/20 check, movements, plots."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from attrs import frozen
from sqlalchemy import and_, func, literal, select, union_all
from sqlalchemy.orm import Session

from kehu_core.access import customer_condition, visible_customers
from kehu_core.errors import KehuError
from kehu_core.i18n import messages
from kehu_core.models import Customer
from kehu_tiering.models import assignments
from kehu_tiering.rules import CONFLICTING_FLAGS
from kehu_tiering.settings import ABC_TIERS, PYRAMID_TIERS, TierSettings
from kehu_tiering.stats import RFM_SEGMENTS, base_select
from kehu_tiering.tiers import latest_run, tier_method

_ = messages("kehu_tiering").gettext

TOP_SHARE = Decimal("0.2")


@frozen
class TierLine:
    """One tier of one method: how many customers, their revenue in the window and its share."""

    method: str
    tier: str
    customers: int
    customer_pct: Decimal
    revenue: Decimal
    revenue_share_pct: Decimal


@frozen
class Pareto:
    """The 80/20 check: the top 20% of customers (by revenue in the window) and their share."""

    customers: int
    top_customers: int
    top20_share_pct: Decimal
    total_revenue: Decimal


@frozen
class Movement:
    """Customers that moved from one tier to another in the newest run."""

    method: str
    old_tier: str | None
    new_tier: str | None
    customers: int


@frozen
class Report:
    """Everything ``kehu tier report`` prints."""

    run_id: int
    as_of: str
    tier_method: str
    settings: dict[str, Any]
    tiers: tuple[TierLine, ...]
    pareto: Pareto | None
    movements: tuple[Movement, ...]
    #: Codes of the visible customers who are key accounts and poor-quality at once (to review).
    conflicts: tuple[str, ...] = ()
    #: Every RFM segment the report lists, with its meaning in one line.
    segments: tuple[tuple[str, str], ...] = ()


def _pct(part: Any, whole: Any) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1")) if whole else Decimal("0.0")


def _yuan(cents: Any) -> Decimal:
    return (Decimal(round(float(cents or 0))) / 100).quantize(Decimal("0.01"))


#: The statistics the report reads.
REPORT_COLUMNS = frozenset(("revenue_window",))


def build_report(session: Session, dialect: str) -> Report:
    """The report of the newest run (statistics recomputed with its settings, as of its date),
    over the customers the acting user sees: counts and shares are of those customers."""
    run = latest_run(session)
    if run is None:
        raise KehuError(_("no tiering run yet: run `kehu tier run` first"))
    settings = TierSettings.from_json(run["settings"])
    stats = _visible_stats(session, dialect, settings)
    revenue_cents = stats.c.revenue_window * 100
    a = assignments.c
    per_tier = list(
        session.execute(
            select(a.method, a.tier, func.count(), func.coalesce(func.sum(revenue_cents), 0))
            .select_from(
                stats.join(assignments, and_(a.customer_id == stats.c.customer_id, a.valid_to.is_(None)))
            )
            .group_by(a.method, a.tier)
        )
    )
    n, total = session.execute(
        select(func.count(), func.coalesce(func.sum(revenue_cents), 0)).select_from(stats)
    ).one()
    order = {"pyramid": 0, "abc": 1, "rfm": 2}
    rank = {t: i for i, t in enumerate((*PYRAMID_TIERS, *ABC_TIERS, *RFM_SEGMENTS))}
    lines = sorted(
        (
            TierLine(
                method=m,
                tier=t,
                customers=c,
                customer_pct=_pct(c, n),
                revenue=_yuan(r),
                revenue_share_pct=_pct(r, total),
            )
            for m, t, c, r in per_tier
        ),
        key=lambda x: (order.get(x.method, 9), x.method, rank.get(x.tier, 99), x.tier),
    )
    return Report(
        run_id=run["id"],
        as_of=str(run["as_of"]),
        tier_method=tier_method(session),
        settings=run["settings"],
        tiers=tuple(lines),
        pareto=_pareto(session, stats, n, total),
        movements=tuple(movements(session, run["id"])),
        conflicts=tuple(conflicts(session)),
        segments=tuple(
            (name, meaning)
            for name, meaning in RFM_SEGMENTS.items()
            if any(t.method == "rfm" and t.tier == name for t in lines)
        ),
    )


def conflicts(session: Session, customer_id: int | None = None) -> list[str]:
    """Codes of the visible customers (or only ``customer_id``) whose current flags contradict
    each other: a key account (大客户) that is also a poor-quality customer (劣质客户).

    Neither flag wins: the rules that raised them are both right on their own numbers, and
    which matters more is a person's decision, so both are kept and the conflict is shown.
    """
    first, second = (assignments.alias(f"f{i}") for i in range(2))
    stmt = (
        select(Customer.code)
        .join(first, first.c.customer_id == Customer.id)
        .join(second, second.c.customer_id == Customer.id)
        .where(
            first.c.method == f"flag:{CONFLICTING_FLAGS[0]}",
            first.c.valid_to.is_(None),
            second.c.method == f"flag:{CONFLICTING_FLAGS[1]}",
            second.c.valid_to.is_(None),
            visible_customers(session, Customer.__table__.c.id),
        )
        .order_by(Customer.code)
    )
    if customer_id is not None:
        stmt = stmt.where(Customer.id == customer_id)
    return list(session.scalars(stmt))


def _visible_stats(session: Session, dialect: str, settings: TierSettings) -> Any:
    """The revenue statistics of the active customers the acting user sees, as a subquery."""
    # Only revenue is read: the other statistics (and their aggregates) are not computed.
    stmt = base_select(dialect, settings, session, columns=REPORT_COLUMNS)
    rule = customer_condition(session)  # on the customers the statistics select from
    return (stmt if rule is None else stmt.where(rule)).subquery("stats")


def _pareto(session: Session, stats: Any, n: int, total: Any) -> Pareto | None:
    if not n:
        return None
    top = max(1, int((Decimal(n) * TOP_SHARE).to_integral_value(rounding="ROUND_CEILING")))
    ordered = (
        select(stats.c.revenue_window)
        .order_by(stats.c.revenue_window.desc(), stats.c.customer_id)
        .limit(top)
        .subquery()
    )
    top_sum = session.scalar(select(func.coalesce(func.sum(ordered.c.revenue_window * 100), 0)))
    return Pareto(
        customers=n, top_customers=top, top20_share_pct=_pct(top_sum, total), total_revenue=_yuan(total)
    )


def movements(session: Session, run_id: int) -> list[Movement]:
    """Tier moves made by run ``run_id`` of the customers the acting user sees:
    (method, old tier, new tier, customers)."""
    new = assignments.alias("new")
    old = assignments.alias("old")
    arrived = (
        select(new.c.method, old.c.tier.label("old_tier"), new.c.tier.label("new_tier"))
        .select_from(
            new.outerjoin(
                old,
                and_(
                    old.c.customer_id == new.c.customer_id,
                    old.c.method == new.c.method,
                    old.c.ended_run_id == run_id,
                ),
            )
        )
        .where(new.c.run_id == run_id, visible_customers(session, new.c.customer_id))
    )
    left = select(old.c.method, old.c.tier.label("old_tier"), literal(None).label("new_tier")).where(
        old.c.ended_run_id == run_id,
        visible_customers(session, old.c.customer_id),
        ~select(new.c.id)
        .where(new.c.customer_id == old.c.customer_id, new.c.method == old.c.method, new.c.run_id == run_id)
        .exists(),
    )
    u = union_all(arrived, left).subquery()
    rows = session.execute(
        select(u.c.method, u.c.old_tier, u.c.new_tier, func.count())
        .where(u.c.old_tier.is_distinct_from(u.c.new_tier))
        .group_by(u.c.method, u.c.old_tier, u.c.new_tier)
        .order_by(u.c.method, func.count().desc())
    )
    return [Movement(method=m, old_tier=o, new_tier=t, customers=c) for m, o, t, c in rows]


def pareto_curve(session: Session, dialect: str, settings: TierSettings) -> list[int]:
    """Every visible customer's revenue in the window, in cents, largest first (for the plot)."""
    stats = _visible_stats(session, dialect, settings)
    return [
        int(round(float(v) * 100))
        for v in session.scalars(select(stats.c.revenue_window).order_by(stats.c.revenue_window.desc()))
    ]
