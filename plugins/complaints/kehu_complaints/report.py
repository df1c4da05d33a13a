"""``kehu complaint report``: what the handling achieves, in the measures the course material implies.

Figures quoted from the course material (大客户的开发与服务; 客户服务与管理):

* 96% of dissatisfied customers never complain; they just stop buying (96%不满意的消费者从不抱怨).
* 54-70% of complainers buy again; 95% if the complaint is handled quickly and well
  (54%-70%的抱怨者仍会继续买,若处理快且好则95%都会继续买).
* A satisfied complainer tells 5 people, a satisfied customer 3, a dissatisfied one 11.

The report sets our own repurchase rate within 90 days after a complaint, split by whether it
was handled within its SLA, beside the 54-70% and 95%.

It also breaks resolution time, satisfaction and repurchase down by what the customer wanted
(客户投诉的真实需求, 客户服务与管理: 想快速简洁地解决问题, 得到理解和尊重, 给一个说法界定责任, 赔偿或补偿,
解决问题不让它再次发生): a complaint counts under each of its wants, and under ``none`` when
none was recorded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from attrs import field, frozen
from sqlalchemy import (
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON, Text

from kehu_complaints.fields import WANTS
from kehu_complaints.models import COMPLAINTS
from kehu_core.models import Interaction
from kehu_core.sql import seconds_between
from kehu_core.types import utcnow

REPURCHASE_DAYS = 90
COURSE_FIGURES = {
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


#: The keys of ``by_want``, in this order: every want (always present, zero or not), then
#: ``none`` for complaints that recorded no want.
WANT_KEYS = (*WANTS, "none")


@frozen
class WantFigures:
    """Resolution time, satisfaction and repurchase of the complaints that wanted one thing."""

    label: str
    complaints: int
    resolution: Percentiles
    satisfaction_count: int
    satisfaction_average: float | None
    repurchase: Repurchase


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
    course_figures: dict[str, str]
    #: Every complaint whose window has passed: the two groups together.
    repurchase_overall: Repurchase = Repurchase(0, 0, None)
    #: By what the customer wanted: every key of :data:`WANT_KEYS`, in that order.
    by_want: dict[str, WantFigures] = field(factory=dict)


def _plus_days(moment: Any, days: int, dialect: str) -> Any:
    if dialect == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (always six digits); strftime's %f has three,
        # and '...:00.000' sorts before '...:00.000000', which would drop a purchase made exactly
        # N days after. The date and clock from strftime, the stored fraction kept as it is.
        return func.strftime("%Y-%m-%d %H:%M:%S", moment, f"+{days} days").concat(func.substr(moment, 20))
    return moment + text(f"interval '{days} days'")


def _quantile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    if not values:
        return None
    position = (len(values) - 1) * q
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _hours(seconds: Any) -> float | None:
    return None if seconds is None else round(float(seconds) / 3600, 2)


def _cut(values: list[float]) -> Percentiles:
    values.sort()
    return Percentiles(len(values), _hours(_quantile(values, 0.5)), _hours(_quantile(values, 0.9)))


def _wants_of(text_: str | None, cache: dict[str | None, list[str]]) -> list[str]:
    """The keys of :data:`WANT_KEYS` a recorded ``wants`` (JSON text) counts under, parsed once."""
    if text_ not in cache:
        found = json.loads(text_) if text_ else []
        cache[text_] = [w for w in dict.fromkeys(found) if w in WANTS] or ["none"]
    return cache[text_]


def _timings(
    session: Session, dialect: str, where: Sequence[Any]
) -> tuple[Percentiles, Percentiles, dict[str, Percentiles] | None]:
    """Time to first response and to resolution, in one scan: PostgreSQL's ``percentile_cont``
    (which skips NULLs), or on SQLite the durations read once and cut in Python, where the same
    pass also cuts the resolution time by what the customer wanted (PostgreSQL: ``None``, see
    :func:`_resolution_by_want`)."""
    c = COMPLAINTS.c
    first = seconds_between(c.first_response_at, c.opened_at, dialect)
    resolution = seconds_between(c.resolved_at, c.opened_at, dialect)
    if dialect == "postgresql":
        row = session.execute(
            select(
                func.count(c.first_response_at),
                func.percentile_cont(0.5).within_group(first),
                func.percentile_cont(0.9).within_group(first),
                func.count(c.resolved_at),
                func.percentile_cont(0.5).within_group(resolution),
                func.percentile_cont(0.9).within_group(resolution),
            ).where(*where)
        ).one()
        return (
            Percentiles(row[0], _hours(row[1]), _hours(row[2])),
            Percentiles(row[3], _hours(row[4]), _hours(row[5])),
            None,
        )
    firsts: list[float] = []
    resolutions: list[float] = []
    by_want: dict[str, list[float]] = {key: [] for key in WANT_KEYS}
    cache: dict[str | None, list[str]] = {}
    for f, r, wants in session.execute(
        select(first, resolution, cast(c.wants, Text)).where(
            *where, or_(c.first_response_at.is_not(None), c.resolved_at.is_not(None))
        )
    ):
        if f is not None:
            firsts.append(f)
        if r is not None:
            resolutions.append(r)
            for key in _wants_of(wants, cache):
                by_want[key].append(r)
    return _cut(firsts), _cut(resolutions), {key: _cut(values) for key, values in by_want.items()}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _resolution_by_want(session: Session, where: Sequence[Any]) -> dict[str, Percentiles]:
    """PostgreSQL: resolution time percentiles of each want, the complaints joined to their
    wants (``none`` for a complaint that recorded none) and grouped."""
    c = COMPLAINTS.c
    # The stored json as it is (no cast per row); a complaint that recorded no want as ["none"].
    listed = case((func.json_array_length(c.wants) == 0, cast(literal('["none"]'), JSON)), else_=c.wants)
    want = func.json_array_elements_text(listed).table_valued("value").alias("want")
    resolution = seconds_between(c.resolved_at, c.opened_at, "postgresql")
    timings = dict.fromkeys(WANT_KEYS, Percentiles(0, None, None))
    for key, count, median, p90 in session.execute(
        select(
            want.c.value,
            func.count(),
            func.percentile_cont(0.5).within_group(resolution),
            func.percentile_cont(0.9).within_group(resolution),
        )
        .select_from(COMPLAINTS.join(want, literal(True)))
        .where(*where, c.resolved_at.is_not(None))
        .group_by(want.c.value)
    ):
        if key in timings:
            timings[key] = Percentiles(int(count), _hours(median), _hours(p90))
    return timings


def _by_want(
    groups: Sequence[tuple[str, str | None, int | None, int, int]],
    timings: dict[str, Percentiles],
) -> dict[str, WantFigures]:
    """The figures of each want; a complaint counts under each of its wants.

    ``groups``: the repurchase scan's rows (repurchase group, wants as recorded, satisfaction
    counted, complaints, bought again), so counts, satisfaction and repurchase cost no scan of
    their own; ``timings``: the resolution percentiles of each want."""
    sums = {want: [0, 0, 0, 0, 0] for want in WANT_KEYS}  # complaints, answers, score sum, passed, again
    cache: dict[str | None, list[str]] = {}
    for group, text_, score, n, again in groups:
        for want in _wants_of(text_, cache):
            figures = sums[want]
            figures[0] += n
            if score is not None:
                figures[1] += n
                figures[2] += int(score) * n
            if group != "pending":
                figures[3] += n
                figures[4] += again
    result = {}
    for key in WANT_KEYS:
        count, answers, score_sum, n_passed, n_again = sums[key]
        result[key] = WantFigures(
            label=WANTS.get(key, "未记录"),
            complaints=count,
            resolution=timings[key],
            satisfaction_count=answers,
            satisfaction_average=round(score_sum / answers, 2) if answers else None,
            repurchase=Repurchase(n_passed, n_again, _rate(n_again, n_passed)),
        )
    return result


def breached_condition(now: datetime) -> Any:
    """SQL: the complaint missed a due time: marked by the job, or evident (late answer, late
    resolution, or a running clock already past due at ``now`` though the job has not run)."""
    c = COMPLAINTS.c
    running = and_(c.closed_at.is_(None), c.resolved_at.is_(None), c.paused_since.is_(None))
    return or_(
        c.first_response_breached_at.is_not(None),
        c.resolution_breached_at.is_not(None),
        c.first_response_at > c.first_response_due_at,
        c.resolved_at > c.resolution_due_at,
        and_(
            running,
            or_(
                and_(c.first_response_at.is_(None), c.first_response_due_at < now), c.resolution_due_at < now
            ),
        ),
    )


def build_report(
    session: Session,
    dialect: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
    conditions: Sequence[Any] = (),
) -> ComplaintReport:
    """Compute the report with a few aggregate queries (no per-complaint Python except SQLite
    percentiles); ``conditions``: conditions on the complaints counted (the acting user's rules)."""
    now = now or utcnow()
    c = COMPLAINTS.c
    where = list(conditions)
    if since:
        where.append(c.opened_at >= since)
    if until:
        where.append(c.opened_at < until)

    breached = breached_condition(now)
    decided = or_(c.resolved_at.is_not(None), c.closed_at.is_not(None), breached)
    # Satisfaction is recorded at the follow-up (回访): counted once followed up or closed (a
    # reopened complaint's earlier answer is not, until it is followed up again).
    after_close = and_(
        c.satisfaction.is_not(None), or_(c.followed_up_at.is_not(None), c.closed_at.is_not(None))
    )

    def total(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    i = Interaction
    # Literal values, so the planner can use the partial index ix_complaints_purchases.
    bought = exists().where(
        i.customer_id == c.customer_id,
        i.kind == literal_column("'purchase'"),
        i.status == literal_column("'done'"),
        i.occurred_at > c.opened_at,
        i.occurred_at <= _plus_days(c.opened_at, REPURCHASE_DAYS, dialect),
    )
    within = and_(c.resolved_at.is_not(None), ~breached)
    window_passed = c.opened_at <= now - timedelta(days=REPURCHASE_DAYS)

    # One scan for every count: grouped by category, severity and status (a few hundred groups
    # at most), with the rates' numerators and the satisfaction scores as sums.
    scores = (1, 2, 3, 4, 5)
    by_category: dict[str, int] = {}
    by_severity: dict[str, int] = {}
    by_status: dict[str, int] = {}
    sums = [0] * (5 + len(scores))
    for row in session.execute(
        select(
            c.category,
            c.severity,
            c.status,
            func.count(),
            total(and_(c.closed_at.is_(None), c.resolved_at.is_(None))),
            total(decided),
            total(breached),
            total(c.reopen_count > 0),
            func.coalesce(func.sum(case((after_close, c.satisfaction), else_=0)), 0),
            *(total(and_(after_close, c.satisfaction == score)) for score in scores),
        )
        .where(*where)
        .group_by(c.category, c.severity, c.status)
    ):
        category, severity, status, n, *rest = row
        for counts, key in ((by_category, category), (by_severity, severity), (by_status, status)):
            counts[key] = counts.get(key, 0) + n
        sums = [acc + int(value) for acc, value in zip(sums, rest)]
    open_, n_decided, n_breached, reopened, sat_sum, *per_score = sums
    total_count = sum(by_status.values())
    sat_count = sum(per_score)
    distribution = {str(score): n for score, n in zip(scores, per_score) if n}

    def ordered(counts):
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    # Repurchase, for complaints whose 90-day window has passed: one more scan, grouped by
    # within SLA or not. The window test is in the grouping, not in WHERE: a range on opened_at
    # would make SQLite walk an index and fetch rows in random order, slower than one scan.
    # Grouped by what the customer wanted and the satisfaction counted too (a few hundred groups),
    # so the breakdown by want needs no scan of its own.
    group = case((~window_passed, literal("pending")), (within, literal("within")), else_=literal("outside"))
    listed = cast(c.wants, Text)
    score = case((after_close, c.satisfaction), else_=None)
    groups = [
        (key, wants, answer, n, int(again))
        for key, wants, answer, n, again in session.execute(
            select(
                group,
                listed,
                score,
                func.count(),
                func.coalesce(func.sum(case((and_(window_passed, bought), 1), else_=0)), 0),
            )
            .where(*where)
            .group_by(group, listed, score)
        )
    ]
    counted: dict[str, list[int]] = {"within": [0, 0], "outside": [0, 0]}
    for key, _, _, n, again in groups:
        if key != "pending":
            counted[key][0] += n
            counted[key][1] += again
    repurchase = {key: Repurchase(n, again, _rate(again, n)) for key, (n, again) in counted.items()}

    n_all = repurchase["within"].complaints + repurchase["outside"].complaints
    again_all = repurchase["within"].bought_again + repurchase["outside"].bought_again
    overall = Repurchase(n_all, again_all, _rate(again_all, n_all))
    timings = _timings(session, dialect, where)
    by_want = _by_want(groups, timings[2] if timings[2] is not None else _resolution_by_want(session, where))
    return ComplaintReport(
        total=total_count,
        open=open_,
        by_category=ordered(by_category),
        by_severity=ordered(by_severity),
        by_status=ordered(by_status),
        first_response=timings[0],
        resolution=timings[1],
        decided=n_decided,
        breached=n_breached,
        breach_rate=_rate(n_breached, n_decided),
        reopened=reopened,
        reopen_rate=_rate(reopened, total_count),
        satisfaction_count=sat_count,
        satisfaction_average=round(sat_sum / sat_count, 2) if sat_count else None,
        satisfaction_distribution=distribution,
        repurchase_within_sla=repurchase["within"],
        repurchase_outside_sla=repurchase["outside"],
        repurchase_days=REPURCHASE_DAYS,
        course_figures=COURSE_FIGURES,
        repurchase_overall=overall,
        by_want=by_want,
    )
