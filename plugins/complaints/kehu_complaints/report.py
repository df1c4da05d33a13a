"""``kehu complaint report``: what the handling achieves, in the measures the seeds imply.

Figures quoted from the seeds (000 大客户的开发与服务; 002 客户服务与管理):

* 96% of dissatisfied customers never complain; they just stop buying (96%不满意的消费者从不抱怨).
* 54-70% of complainers buy again; 95% if the complaint is handled quickly and well
  (54%-70%的抱怨者仍会继续买,若处理快且好则95%都会继续买).
* A satisfied complainer tells 5 people, a satisfied customer 3, a dissatisfied one 11.

The report sets our own repurchase rate within 90 days after a complaint, split by whether it
was handled within its SLA, beside the 54-70% and 95%.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from attrs import frozen
from sqlalchemy import and_, case, exists, func, literal, or_, select, text
from sqlalchemy.orm import Session

from kehu_core.models import Interaction
from kehu_core.types import utcnow

from kehu_complaints.models import COMPLAINTS

REPURCHASE_DAYS = 90
SEED_FIGURES = {
    "complainers_buy_again": "54-70%",
    "buy_again_when_handled_quickly_and_well": "95%",
    "dissatisfied_who_never_complain": "96%",
    "word_of_mouth": "a satisfied complainer tells 5, a satisfied customer 3, a dissatisfied one 11",
}


@frozen
class Percentiles:
    """Count, median and 90th percentile of a duration, in hours."""

    count: int
    median_hours: float | None
    p90_hours: float | None


@frozen
class Repurchase:
    """Of the complaints whose 90-day window has passed: how many customers bought again."""

    complaints: int
    bought_again: int
    rate: float | None


@frozen
class ComplaintReport:
    """Every figure of ``kehu complaint report``."""

    total: int
    open: int
    by_category: dict[str, int]
    by_severity: dict[str, int]
    by_status: dict[str, int]
    first_response: Percentiles
    resolution: Percentiles
    decided: int
    breached: int
    breach_rate: float | None
    reopened: int
    reopen_rate: float | None
    satisfaction_count: int
    satisfaction_average: float | None
    satisfaction_distribution: dict[str, int]
    repurchase_within_sla: Repurchase
    repurchase_outside_sla: Repurchase
    repurchase_days: int
    seed: dict[str, str]


def _seconds_between(later: Any, earlier: Any, dialect: str) -> Any:
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def _plus_days(moment: Any, days: int, dialect: str) -> Any:
    if dialect == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS[.ffffff]'; strftime keeps the same sortable format.
        return func.strftime("%Y-%m-%d %H:%M:%f", moment, f"+{days} days")
    return moment + text(f"interval '{days} days'")


def _quantile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    if not values:
        return None
    position = (len(values) - 1) * q
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _percentiles(session: Session, dialect: str, end: Any, start: Any, where: Sequence[Any]) -> Percentiles:
    seconds = _seconds_between(end, start, dialect)
    conditions = [end.is_not(None), *where]
    if dialect == "postgresql":
        count, median, p90 = session.execute(select(
            func.count(), func.percentile_cont(0.5).within_group(seconds), func.percentile_cont(0.9).within_group(seconds),
        ).where(*conditions)).one()
        hours = lambda s: None if s is None else round(float(s) / 3600, 2)  # noqa: E731
        return Percentiles(count, hours(median), hours(p90))
    values = sorted(float(v) for v in session.scalars(select(seconds).where(*conditions)))
    hours = lambda s: None if s is None else round(s / 3600, 2)  # noqa: E731
    return Percentiles(len(values), hours(_quantile(values, 0.5)), hours(_quantile(values, 0.9)))


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def breached_condition(now: datetime) -> Any:
    """SQL: the complaint missed a due time: marked by the job, or evident (late answer, late
    resolution, or a running clock already past due at ``now`` though the job has not run)."""
    c = COMPLAINTS.c
    running = and_(c.closed_at.is_(None), c.resolved_at.is_(None), c.paused_since.is_(None))
    return or_(
        c.first_response_breached_at.is_not(None), c.resolution_breached_at.is_not(None),
        c.first_response_at > c.first_response_due_at, c.resolved_at > c.resolution_due_at,
        and_(running, or_(and_(c.first_response_at.is_(None), c.first_response_due_at < now), c.resolution_due_at < now)),
    )


def build_report(session: Session, dialect: str, *, since: datetime | None = None, until: datetime | None = None,
                 now: datetime | None = None) -> ComplaintReport:
    """Compute the report with a few aggregate queries (no per-complaint Python except SQLite percentiles)."""
    now = now or utcnow()
    c = COMPLAINTS.c
    where = []
    if since:
        where.append(c.opened_at >= since)
    if until:
        where.append(c.opened_at < until)

    def counts(column: Any) -> dict[str, int]:
        rows = session.execute(select(column, func.count()).where(*where).group_by(column).order_by(func.count().desc(), column))
        return {str(k): n for k, n in rows}

    breached = breached_condition(now)
    decided = or_(c.resolved_at.is_not(None), c.closed_at.is_not(None), breached)
    total, open_, n_decided, n_breached, reopened = session.execute(select(
        func.count(),
        func.coalesce(func.sum(case((and_(c.closed_at.is_(None), c.resolved_at.is_(None)), 1), else_=0)), 0),
        func.coalesce(func.sum(case((decided, 1), else_=0)), 0),
        func.coalesce(func.sum(case((breached, 1), else_=0)), 0),
        func.coalesce(func.sum(case((c.reopen_count > 0, 1), else_=0)), 0),
    ).where(*where)).one()
    satisfied = [*where, c.closed_at.is_not(None), c.satisfaction.is_not(None)]
    distribution = {str(k): n for k, n in session.execute(
        select(c.satisfaction, func.count()).where(*satisfied).group_by(c.satisfaction).order_by(c.satisfaction))}
    sat_count, sat_avg = session.execute(select(func.count(), func.avg(c.satisfaction)).where(*satisfied)).one()

    i = Interaction
    bought = exists().where(
        i.customer_id == c.customer_id, i.kind == "purchase", i.status == "done",
        i.occurred_at > c.opened_at, i.occurred_at <= _plus_days(c.opened_at, REPURCHASE_DAYS, dialect),
    )
    within = and_(c.resolved_at.is_not(None), ~breached)
    group = case((within, literal("within")), else_=literal("outside"))
    repurchase = {key: Repurchase(0, 0, None) for key in ("within", "outside")}
    window_passed = c.opened_at <= now - timedelta(days=REPURCHASE_DAYS)
    for key, n, again in session.execute(
        select(group, func.count(), func.coalesce(func.sum(case((bought, 1), else_=0)), 0))
        .where(*where, window_passed).group_by(group)
    ):
        repurchase[key] = Repurchase(n, int(again), _rate(int(again), n))

    return ComplaintReport(
        total=total, open=int(open_), by_category=counts(c.category), by_severity=counts(c.severity),
        by_status=counts(c.status),
        first_response=_percentiles(session, dialect, c.first_response_at, c.opened_at, where),
        resolution=_percentiles(session, dialect, c.resolved_at, c.opened_at, where),
        decided=int(n_decided), breached=int(n_breached), breach_rate=_rate(int(n_breached), int(n_decided)),
        reopened=int(reopened), reopen_rate=_rate(int(reopened), total),
        satisfaction_count=sat_count,
        satisfaction_average=None if sat_avg is None else round(float(Decimal(str(sat_avg))), 2),
        satisfaction_distribution=distribution,
        repurchase_within_sla=repurchase["within"], repurchase_outside_sla=repurchase["outside"],
        repurchase_days=REPURCHASE_DAYS, seed=SEED_FIGURES,
    )
