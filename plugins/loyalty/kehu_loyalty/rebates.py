"""Distributor rebates 返利: monthly, quarterly or yearly programmes (月返/季返/年返).

A programme applies to the customers carrying its tag (经销商 by default). The volume of a
period is the net amount of their done purchases (refunds included) in the period's local
days, by the company calendar (:mod:`kehu_core.calendar`). Thresholds are tiered on volume, and the rate
of the highest threshold reached applies to the whole volume (达量返利): with >=100,000 -> 2%
and >=500,000 -> 3%, a volume of 600,000 earns 18,000. The rebate is rounded half-up to the fen.

As a period runs, its rebate *accrues* (computed, never stored). When it ends it is *settled*:
one row per distributor and period, written once; settling again writes nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from attrs import frozen
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.access import require, visible_customers
from kehu_core.choices import Choice, Vocabulary
from kehu_core.errors import Conflict, NotFound, Problem, ValidationError
from kehu_core.i18n import N_, messages
from kehu_core.models import Customer, CustomerTag, Interaction
from kehu_core.types import to_money, utcnow
from kehu_core.validation import FieldError, money
from kehu_loyalty.models import PROGRAMMES, SETTLEMENTS, TIERS
from kehu_loyalty.security import MANAGE, require_programme

_ = messages("kehu_loyalty").gettext

#: The programme periods, as units of the company calendar.
PERIODS: dict[str, calendar.Unit] = {"month": "month", "quarter": "quarter", "year": "year"}
#: The periods as people name them (月返/季返/年返); the code is stored and printed by --json.
PERIOD = Vocabulary(
    "kehu_loyalty",
    N_("rebate period"),
    [
        Choice("month", N_("monthly"), aliases=("月返", "月", "月度", "每月", "按月")),
        Choice("quarter", N_("quarterly"), aliases=("季返", "季", "季度", "每季", "按季")),
        Choice("year", N_("yearly"), aliases=("年返", "年", "年度", "每年", "按年", "annual")),
    ],
)
#: A new programme's name when none is given: 季返 CODE.
PERIOD_NAMES = {"month": "月返", "quarter": "季返", "year": "年返"}
#: The headline of every refusal of a programme.
PROGRAMME_REFUSED = N_("rebate programme refused; nothing was changed:")
CENT = Decimal("0.01")


@frozen
class Programme:
    """A rebate programme and its thresholds (ascending)."""

    id: int
    code: str
    name: str
    period: str
    tag: str
    starts_on: date
    active: bool
    tiers: tuple[tuple[Decimal, Decimal], ...]


def period_of(period: str, day: date) -> tuple[date, date]:
    """The period of the company calendar containing the local ``day``: (first day, first day of
    the next period)."""
    unit = PERIODS[period]
    start = calendar.period_start(day, unit)
    return start, calendar.shift(start, 1, unit)


def rate_for(tiers: Sequence[tuple[Decimal, Decimal]], volume: Decimal) -> Decimal:
    """The rate of the highest threshold ``volume`` reaches (0 below the first)."""
    rate = Decimal(0)
    for threshold, tier_rate in tiers:
        if volume >= threshold:
            rate = tier_rate
    return rate


def rebate_for(tiers: Sequence[tuple[Decimal, Decimal]], volume: Decimal) -> tuple[Decimal, Decimal]:
    """(rate, rebate) for a volume; a negative volume earns nothing."""
    rate = rate_for(tiers, volume)
    return rate, max(Decimal(0), volume * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def _parse_tiers(specs: Sequence[str]) -> list[tuple[Decimal, Decimal]]:
    tiers, problems = [], []
    for spec in specs:
        try:
            threshold_text, rate_text = spec.split(":")
            rate_text = rate_text.strip()
            rate = Decimal(rate_text[:-1]) / 100 if rate_text.endswith("%") else Decimal(rate_text)
        except Exception:
            problems.append(
                Problem(_("tier"), _("write THRESHOLD:RATE, e.g. 100000:2% or 500000:0.03"), value=spec)
            )
            continue
        try:  # money's range: at most 15 significant digits, exact on both databases
            threshold = money(threshold_text)
        except FieldError as exc:
            problems.append(Problem(_("tier"), _("threshold: {reason}").format(reason=exc), value=spec))
            continue
        if not rate.is_finite() or not Decimal(0) < rate < 1:
            problems.append(
                Problem(_("tier"), _("threshold must be >= 0 and the rate between 0 and 100%"), value=spec)
            )
            continue
        tiers.append((threshold.quantize(CENT), rate.quantize(Decimal("0.0001"))))
    thresholds = [t for t, _ in tiers]
    if len(set(thresholds)) != len(thresholds):
        problems.append(Problem(_("tier"), _("two tiers have the same threshold")))
    if not specs:
        problems.append(Problem(_("tier"), _("give at least one threshold, e.g. --tier 100000:2%")))
    if problems:
        raise ValidationError(problems, headline=_(PROGRAMME_REFUSED))
    return sorted(tiers)


def add_programme(
    session: Session,
    code: str,
    name: str,
    period: str,
    tiers: Sequence[str],
    tag: str = "经销商",
    starts_on: date | None = None,
) -> Programme:
    """Create a programme; ``tiers`` are ``THRESHOLD:RATE`` texts (``100000:2%``); ``period``
    is a code or any name of :data:`PERIOD` (``quarter``, ``季返``).

    Needs ``loyalty.manage``."""
    require(session, MANAGE, _("add rebate programmes"))
    problems = []
    try:
        period = PERIOD.parse(period)
    except FieldError:
        problems.append(
            Problem(_("period"), _("one of {accepted}").format(accepted=PERIOD.accepted()), value=period)
        )
    if not code.strip():
        problems.append(Problem(_("code"), _("required")))
    if not tag.strip():
        problems.append(Problem(_("tag"), _("required")))
    if problems:
        raise ValidationError(problems, headline=_(PROGRAMME_REFUSED))
    parsed = _parse_tiers(tiers)
    if session.scalar(select(PROGRAMMES.c.id).where(PROGRAMMES.c.code == code)) is not None:
        raise Conflict(_("a rebate programme with code {code!r} already exists").format(code=code))
    start = period_of(period, starts_on or calendar.today())[0]
    pid = session.execute(
        PROGRAMMES.insert()
        .values(
            code=code,
            name=name or f"{PERIOD_NAMES[period]} {code}",
            period=period,
            tag=tag,
            starts_on=start,
            active=True,
            created_at=utcnow(),
        )
        .returning(PROGRAMMES.c.id)
    ).scalar_one()
    session.execute(TIERS.insert(), [{"programme_id": pid, "threshold": t, "rate": r} for t, r in parsed])
    return get_programme(session, code)


def get_programme(session: Session, code: str) -> Programme:
    """The programme ``code`` or :class:`NotFound`."""
    row = session.execute(select(PROGRAMMES).where(PROGRAMMES.c.code == code)).mappings().first()
    if row is None:
        raise NotFound(
            _("no rebate programme with code {code!r}; see `kehu loyalty rebate programme list`").format(
                code=code
            )
        )
    return _programme(session, row)


def _programme(session: Session, row: Any) -> Programme:
    tiers = tuple(
        (to_money(t), Decimal(r).quantize(Decimal("0.0001")))
        for t, r in session.execute(
            select(TIERS.c.threshold, TIERS.c.rate)
            .where(TIERS.c.programme_id == row["id"])
            .order_by(TIERS.c.threshold)
        )
    )
    return Programme(
        row["id"], row["code"], row["name"], row["period"], row["tag"], row["starts_on"], row["active"], tiers
    )


def list_programmes(session: Session) -> list[Programme]:
    """Every programme, by code."""
    return [
        _programme(session, r)
        for r in session.execute(select(PROGRAMMES).order_by(PROGRAMMES.c.code)).mappings()
    ]


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants at which the local days ``start`` and ``end`` begin."""
    return calendar.day_start(start), calendar.day_start(end)


def volumes(
    session: Session,
    programme: Programme,
    start: date,
    end: date,
    customer_id: int | None = None,
    where: ColumnElement[bool] | None = None,
) -> dict[int, Decimal]:
    """Net purchase volume of the programme's distributors in ``[start, end)`` (local dates);
    ``where``: a further condition on the interactions (the acting user's record rules)."""
    i = Interaction.__table__
    begin, finish = _bounds(start, end)
    stmt = (
        select(i.c.customer_id, func.sum(i.c.amount))
        .join(CustomerTag, CustomerTag.customer_id == i.c.customer_id)
        .where(
            CustomerTag.tag == programme.tag,
            i.c.kind == "purchase",
            i.c.status == "done",
            i.c.occurred_at >= begin,
            i.c.occurred_at < finish,
        )
        .group_by(i.c.customer_id)
    )
    if customer_id is not None:
        stmt = stmt.where(i.c.customer_id == customer_id)
    if where is not None:
        stmt = stmt.where(where)
    return {cid: to_money(total) for cid, total in session.execute(stmt)}


@frozen
class Accrual:
    """Where a distributor stands in the running period."""

    programme: str
    customer: str
    name: str
    period_start: date
    period_end: date
    volume: Decimal
    rate: Decimal
    accrued: Decimal
    next_threshold: Decimal | None
    to_next: Decimal | None
    next_rate: Decimal | None


def accruals(
    session: Session, programme: Programme, today: date | None = None, customer_id: int | None = None
) -> list[Accrual]:
    """The running period's rebate so far for each distributor the acting user sees, and how
    far the next threshold is."""
    require(session, "customer.read", _("see rebate accruals"))
    today = today or calendar.today()
    start, end = period_of(programme.period, today)
    visible = visible_customers(session, Interaction.__table__.c.customer_id)
    found = volumes(session, programme, start, end, customer_id, visible)
    names = (
        dict(
            (
                (cid, (code, name))
                for cid, code, name in session.execute(
                    select(Customer.id, Customer.code, Customer.name).where(Customer.id.in_(list(found)))
                )
            )
        )
        if found
        else {}
    )
    result = []
    for cid, volume in found.items():
        rate, accrued = rebate_for(programme.tiers, volume)
        upcoming = next(((t, r) for t, r in programme.tiers if t > volume), None)
        code, name = names[cid]
        result.append(
            Accrual(
                programme.code,
                code,
                name,
                start,
                end,
                volume,
                rate,
                accrued,
                upcoming[0] if upcoming else None,
                (upcoming[0] - volume) if upcoming else None,
                upcoming[1] if upcoming else None,
            )
        )
    return sorted(result, key=lambda a: (-a.volume, a.customer))


@frozen
class SettlementRun:
    """What :func:`settle` wrote."""

    programme: str
    periods: int
    written: int
    total_rebate: Decimal


def _insert(dialect: str) -> Any:
    return {"sqlite": sqlite, "postgresql": postgresql}[dialect].insert(SETTLEMENTS)


def settle(session: Session, programme: Programme, today: date | None = None) -> SettlementRun:
    """Settle every period of the programme that has ended by ``today`` (idempotent).

    One row per distributor with purchases in the period (a rebate of 0 below the first
    threshold, so the statement shows the gap); a row already written is never changed.
    Needs ``loyalty.manage`` and a user who sees every customer (the daily job runs as kehu itself).
    """
    require_programme(session, _("settle rebates"))
    today = today or calendar.today()
    dialect = session.get_bind().dialect.name
    now = utcnow()
    start = programme.starts_on
    periods = written = 0
    total = Decimal(0)
    while True:
        start, end = period_of(programme.period, start)
        if end > today:
            break
        periods += 1
        rows = []
        for cid, volume in volumes(session, programme, start, end).items():
            rate, rebate = rebate_for(programme.tiers, volume)
            rows.append(
                {
                    "programme_id": programme.id,
                    "customer_id": cid,
                    "period_start": start,
                    "period_end": end,
                    "volume": volume,
                    "rate": rate,
                    "rebate": rebate,
                    "settled_at": now,
                }
            )
        if rows:
            stmt = (
                _insert(dialect)
                .on_conflict_do_nothing(index_elements=["programme_id", "customer_id", "period_start"])
                .returning(SETTLEMENTS.c.rebate)
            )
            done = [to_money(r) for r in session.scalars(stmt, rows)]
            written += len(done)
            total += sum(done, Decimal(0))
        start = end
    return SettlementRun(programme.code, periods, written, total)


def settle_all(session: Session, today: date | None = None) -> list[SettlementRun]:
    """Settle every active programme (see :func:`settle`)."""
    require_programme(session, _("settle rebates"))
    return [settle(session, p, today) for p in list_programmes(session) if p.active]


def statement(session: Session, customer_id: int, today: date | None = None) -> dict[str, Any]:
    """A distributor's rebate statement: settled periods and the running accrual, per programme.

    ``customer_id`` is one the acting user sees (looked up by code with the record rules)."""
    rows = (
        session.execute(
            select(
                PROGRAMMES.c.code,
                SETTLEMENTS.c.period_start,
                SETTLEMENTS.c.period_end,
                SETTLEMENTS.c.volume,
                SETTLEMENTS.c.rate,
                SETTLEMENTS.c.rebate,
                SETTLEMENTS.c.settled_at,
            )
            .join(PROGRAMMES, PROGRAMMES.c.id == SETTLEMENTS.c.programme_id)
            .where(SETTLEMENTS.c.customer_id == customer_id)
            .order_by(PROGRAMMES.c.code, SETTLEMENTS.c.period_start)
        )
        .mappings()
        .all()
    )
    settled = [dict(r) for r in rows]
    running = [
        a for p in list_programmes(session) if p.active for a in accruals(session, p, today, customer_id)
    ]
    return {
        "settled": settled,
        "settled_total": sum((r["rebate"] for r in settled), Decimal(0)).quantize(CENT),
        "accruing": running,
    }
