"""SMART targets (目标设定法则) per salesperson and period, saved from a plan, and tracking.

* Specific: one salesperson, the named customers that make up the target.
* Measurable: an amount of net purchases, compared with recorded purchases.
* Achievable: the target against the same period a year earlier (the baseline); a target more
  than :data:`STRETCH` above it is marked as a stretch.
* Result-oriented: revenue, not activity.
* Time-bound: a first and a last day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from attrs import frozen
from sqlalchemy import ColumnElement, delete, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kehu_core import audit, calendar
from kehu_core.access import customer_condition, require, visible_customers
from kehu_core.app import Kehu
from kehu_core.choices import Choice, Vocabulary
from kehu_core.errors import Conflict, Problem, ValidationError
from kehu_core.i18n import N_, messages
from kehu_core.models import Customer, Interaction
from kehu_core.types import to_money
from kehu_forecast.history import NO_SALESPERSON
from kehu_forecast.models import target_lines, targets
from kehu_forecast.money import cents_to_decimal as D
from kehu_forecast.names import pick
from kehu_forecast.plan import load
from kehu_forecast.security import PLAN, RUN

_ = messages("kehu_forecast").gettext

STRETCH = 0.30
#: The audit trail's entity for targets (``kehu audit --entity forecast.target``).
AUDIT_ENTITY = "forecast.target"
GROUPINGS = ("month", "quarter")
#: The target periods as people name them (月, 季).
GROUPING_NAMES = Vocabulary(
    "kehu_forecast",
    N_("target period"),
    [
        Choice("month", N_("month"), aliases=("月", "月度", "每月")),
        Choice("quarter", N_("quarter"), aliases=("季", "季度", "每季")),
    ],
)


@frozen
class Target:
    """A saved target with its customers."""

    id: int
    salesperson: str
    period_start: date
    period_end: date
    amount: Decimal
    baseline: Decimal
    customers: list[dict[str, Any]]
    note: str


@frozen
class Progress:
    """A target against actual purchases of its customers so far."""

    target_id: int
    salesperson: str
    period_start: date
    period_end: date
    amount: Decimal
    actual: Decimal
    expected_to_date: Decimal
    achieved_pct: float | None
    elapsed_pct: float
    status: str


@frozen
class TargetStatusChange:
    """A target whose status moved, as ``kehu_forecast_target_status_changed`` reports it."""

    target_id: int
    salesperson: str
    period_start: date
    period_end: date
    #: The status recorded before (``None`` the first time the target is judged).
    old_status: str | None
    #: ``on track``, ``behind``, ``met`` or ``missed``.
    new_status: str
    amount: Decimal
    actual: Decimal
    #: The local day the status was judged on.
    as_of: date


def window_start(period: date, grouping: str) -> date:
    """The first day of the target period (month or calendar quarter) holding ``period``."""
    return calendar.period_start(period, "quarter" if grouping == "quarter" else "month")


def windows(periods: list[date], grouping: str) -> list[tuple[date, date, list[int], list[date]]]:
    """Target windows over a monthly plan: whole months or whole calendar quarters.

    Each is ``(first day, last day, plan columns, recorded months)``. A quarter always covers
    its three months. A plan that starts inside a quarter (a run in February) gives that
    quarter's target from its first day: the months before the plan (January) count at
    their recorded sales, the rest at the plan. A quarter the plan ends inside gets no target
    (its last months are not planned).
    """
    found: dict[date, list[int]] = {}
    for j, p in enumerate(periods):
        found.setdefault(window_start(p, grouping), []).append(j)
    result = []
    months = 3 if grouping == "quarter" else 1
    for start, cols in found.items():
        end = calendar.period_end(calendar.shift(start, months - 1, "month"), "month")
        if calendar.period_end(periods[cols[-1]], "month") != end:
            continue
        recorded = []
        month = start
        while month < periods[cols[0]]:
            recorded.append(month)
            month = calendar.shift(month, 1, "month")
        result.append((start, end, cols, recorded))
    return result


def _owned_by(salesperson: str) -> ColumnElement[bool]:
    """The customers of ``salesperson`` (the account owner; the unassigned label: no owner)."""
    if salesperson == NO_SALESPERSON:
        return or_(Customer.owner.is_(None), Customer.owner == "")
    return Customer.owner == salesperson


def salesperson_actuals(
    session: Session, salesperson: str, start: date, end_exclusive: date, *, visible: bool = False
) -> dict[int, Decimal]:
    """Net purchases per customer of ``salesperson`` (every customer they own, new ones and
    archived ones included) from local day ``start`` up to ``end_exclusive``; with ``visible``,
    only the customers the acting user sees."""
    stmt = (
        select(Interaction.customer_id, func.sum(Interaction.amount))
        .join(Customer, Customer.id == Interaction.customer_id)
        .where(
            _owned_by(salesperson),
            Interaction.kind == "purchase",
            Interaction.status == "done",
            Interaction.amount.is_not(None),
            Interaction.occurred_at >= calendar.day_start(start),
            Interaction.occurred_at < calendar.day_start(end_exclusive),
        )
        .group_by(Interaction.customer_id)
    )
    if visible and customer_condition(session) is not None:
        stmt = stmt.where(visible_customers(session, Interaction.__table__.c.customer_id))
    return {int(cid): to_money(total) for cid, total in session.execute(stmt)}


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _codes(session: Session, ids: list[int]) -> dict[int, str]:
    codes: dict[int, str] = {}
    for begin in range(0, len(ids), 500):
        chunk = ids[begin : begin + 500]
        codes.update(session.execute(select(Customer.id, Customer.code).where(Customer.id.in_(chunk))).all())
    return {int(k): str(v) for k, v in codes.items()}


def save_targets(
    app: Kehu, session: Session, *, run_id: int | None = None, grouping: str = "quarter"
) -> list[Target]:
    """Targets per salesperson and month or quarter from a plan (default: the newest reconciled run).

    Windows are whole periods (:func:`windows`). A target's lines are its salesperson's
    customers, each with its planned amount plus, for the months of the period before the
    plan, its recorded purchases; the target is the exact sum of its lines. The baseline is
    the same period a year earlier, over every customer of the salesperson. A target for the
    same salesperson and start date is replaced (with its lines). Needs permission
    ``forecast.plan``; each target set is written to the audit trail (entity
    ``forecast.target``, key ``<salesperson>/<first day>``, the amounts old and new).
    """
    require(session, PLAN, "set sales targets")
    grouping = pick("period", grouping, GROUPING_NAMES)
    plan = load(session, run_id, kind=None if run_id else "reconciled")
    if plan.freq != "month":
        raise ValidationError(
            [Problem("run", _("targets are set from a monthly plan"), value=str(plan.run_id))]
        )
    h = plan.hierarchy
    bottom = plan.bottom()
    by_sp: dict[str, list[int]] = {}
    for i, sp in enumerate(h.customers["salesperson"]):
        by_sp.setdefault(sp, []).append(i)
    codes = dict(zip((int(c) for c in h.customer_ids), h.customers["code"].tolist()))
    saved = []
    for start, end, cols, recorded in windows(plan.periods, grouping):
        after = end + timedelta(days=1)
        for sp, rows in sorted(by_sp.items()):
            per_customer: dict[int, int] = {int(h.customer_ids[i]): int(bottom[i, cols].sum()) for i in rows}
            if recorded:
                for cid, total in salesperson_actuals(session, sp, start, plan.periods[0]).items():
                    per_customer[cid] = per_customer.get(cid, 0) + _cents(total)
            amount = sum(per_customer.values())
            if amount <= 0:
                continue
            last_year = salesperson_actuals(
                session, sp, calendar.shift(start, -12, "month"), calendar.shift(after, -12, "month")
            )
            baseline = sum(last_year.values(), Decimal("0.00"))
            missing = [cid for cid in per_customer if cid not in codes]
            codes.update(_codes(session, missing))
            lines = [
                {"customer_id": cid, "code": codes[cid], "amount": D(c)}
                for cid, c in sorted(per_customer.items(), key=lambda x: (-x[1], codes[x[0]]))
                if c != 0
            ]
            top = [(ln["code"], ln["amount"]) for ln in lines[:3]]
            note = smart_note(sp, len(lines), top, D(amount), baseline, end, _as_written)
            old = session.execute(
                select(targets.c.id, targets.c.period_end, targets.c.amount, targets.c.baseline).where(
                    targets.c.salesperson == sp, targets.c.period_start == start
                )
            ).first()
            if old is not None:
                # Lines first: a database that does not cascade, and reuses the id, must not
                # leave the old lines under the new target.
                session.execute(delete(target_lines).where(target_lines.c.target_id == old.id))
                session.execute(delete(targets).where(targets.c.id == old.id))
            fields: dict[str, Any] = dict(
                salesperson=sp,
                period_start=start,
                period_end=end,
                amount=D(amount),
                baseline=baseline,
                note=note,
            )
            try:
                tid = session.scalar(
                    targets.insert().values(run_id=plan.run_id, **fields).returning(targets.c.id)
                )
            except IntegrityError as exc:
                raise Conflict(
                    _(
                        "another command saved a target for {salesperson} from {start} at the same time; "
                        "nothing was written, try again"
                    ).format(salesperson=sp, start=start)
                ) from exc
            session.execute(
                target_lines.insert(),
                [
                    {"target_id": tid, "customer_id": ln["customer_id"], "amount": ln["amount"]}
                    for ln in lines
                ],
            )
            before = {} if old is None else dict(old._mapping)
            after_values = {"period_end": end, "amount": D(amount), "baseline": baseline}
            audit.record(
                session,
                AUDIT_ENTITY,
                f"{sp}/{start.isoformat()}",
                "set" if old is None else "replaced",
                {**audit.changes_of(before, after_values, personal=()), "run_id": plan.run_id},
            )
            saved.append(Target(id=int(tid), customers=lines, **fields))
    return saved


#: The SMART note, one whole sentence per case of the baseline (A: achievable).
NOTES = {
    "growth": N_(
        "S: {salesperson}, {customers} customer(s), top: {top}; M: ¥{amount} net purchases; "
        "A: {growth} vs same period last year (¥{baseline}); R: revenue; T: by {end}"
    ),
    "stretch": N_(
        "S: {salesperson}, {customers} customer(s), top: {top}; M: ¥{amount} net purchases; "
        "A: {growth} vs same period last year (¥{baseline}); stretch; R: revenue; T: by {end}"
    ),
    "new": N_(
        "S: {salesperson}, {customers} customer(s), top: {top}; M: ¥{amount} net purchases; "
        "A: no sales in the same period last year: new business; R: revenue; T: by {end}"
    ),
}


def smart_note(
    salesperson: str,
    customers: int,
    top: list[tuple[str, Decimal]],
    amount: Decimal,
    baseline: Decimal,
    end: date,
    translate: Callable[[str], str] = _,
) -> str:
    """The target's SMART note: who and how many customers, the ``top`` three (code, amount),
    how much, against the same period a year earlier, revenue, by when. In the reader's
    language (``translate``); the note saved with a target is the English one."""
    shown_top = "、".join(f"{code} ¥{value:,}" for code, value in top[:3])
    case = "new"
    growth = 0.0
    if baseline > 0:
        growth = float(amount / baseline - 1)
        case = "stretch" if growth > STRETCH else "growth"
    return translate(NOTES[case]).format(
        salesperson=salesperson,
        customers=customers,
        top=shown_top,
        amount=f"{amount:,}",
        growth=f"{growth:+.0%}",
        baseline=f"{baseline:,}",
        end=end.isoformat(),
    )


def _as_written(message: str) -> str:
    return message


def _top_lines(session: Session, target_ids: list[int]) -> dict[int, list[tuple[str, Decimal]]]:
    """The three largest lines of each target (customer code and amount), as the note names them."""
    top: dict[int, list[tuple[str, Decimal]]] = {}
    for begin in range(0, len(target_ids), 500):
        rank = func.row_number().over(
            partition_by=target_lines.c.target_id, order_by=(target_lines.c.amount.desc(), Customer.code)
        )
        ranked = (
            select(target_lines.c.target_id, Customer.code, target_lines.c.amount, rank.label("rank"))
            .join(Customer, Customer.id == target_lines.c.customer_id)
            .where(target_lines.c.target_id.in_(target_ids[begin : begin + 500]))
            .subquery()
        )
        stmt = (
            select(ranked.c.target_id, ranked.c.code, ranked.c.amount)
            .where(ranked.c.rank <= 3)
            .order_by(ranked.c.target_id, ranked.c.rank)
        )
        for tid, code, value in session.execute(stmt):
            top.setdefault(int(tid), []).append((str(code), to_money(value)))
    return top


def visible_targets(session: Session) -> ColumnElement[bool] | None:
    """The targets the acting user may see: those all of whose customers they see (a target
    names its customers in its note), or ``None`` for all."""
    if customer_condition(session) is None:
        return None
    hidden = select(target_lines.c.target_id).where(
        target_lines.c.target_id == targets.c.id,
        ~visible_customers(session, target_lines.c.customer_id),
    )
    return ~exists(hidden)


def list_targets(session: Session, salesperson: str | None = None) -> list[dict[str, Any]]:
    """Saved targets with their customer count; only those the acting user may see
    (:func:`visible_targets`)."""
    count = select(func.count()).where(target_lines.c.target_id == targets.c.id).scalar_subquery()
    stmt = select(targets, count.label("customers")).order_by(targets.c.period_start, targets.c.salesperson)
    rule = visible_targets(session)
    if rule is not None:
        stmt = stmt.where(rule)
    if salesperson:
        stmt = stmt.where(targets.c.salesperson == salesperson)
    rows = [dict(r) for r in session.execute(stmt).mappings()]
    top = _top_lines(session, [int(r["id"]) for r in rows])
    for r in rows:
        r["note"] = smart_note(
            r["salesperson"],
            int(r["customers"]),
            top.get(int(r["id"]), []),
            to_money(r["amount"]),
            to_money(r["baseline"]),
            r["period_end"],
        )
    return rows


def track(session: Session, *, as_of: date | None = None, salesperson: str | None = None) -> list[Progress]:
    """Each target that has started: the actual purchases so far of every customer of its
    salesperson (new customers too, not only the target's lines) against it; only the
    targets the acting user may see (:func:`visible_targets`), and only the customers they see."""
    today = as_of or calendar.today()
    stmt = (
        select(targets)
        .where(targets.c.period_start <= today)
        .order_by(targets.c.period_start, targets.c.salesperson)
    )
    rule = visible_targets(session)
    if rule is not None:
        stmt = stmt.where(rule)
    if salesperson:
        stmt = stmt.where(targets.c.salesperson == salesperson)
    result = []
    for t in session.execute(stmt).mappings():
        upto = min(today + timedelta(days=1), t["period_end"] + timedelta(days=1))
        found = salesperson_actuals(session, t["salesperson"], t["period_start"], upto, visible=True)
        actual = sum(found.values(), Decimal("0.00"))
        days = (t["period_end"] - t["period_start"]).days + 1
        elapsed = min(days, (upto - t["period_start"]).days) / days
        amount = Decimal(t["amount"])
        expected = (amount * Decimal(repr(elapsed))).quantize(Decimal("0.01"))
        achieved = float(actual / amount * 100) if amount else None
        if elapsed >= 1:
            status = "met" if actual >= amount else "missed"
        else:
            status = "on track" if actual >= expected else "behind"
        result.append(
            Progress(
                target_id=int(t["id"]),
                salesperson=t["salesperson"],
                period_start=t["period_start"],
                period_end=t["period_end"],
                amount=amount,
                actual=actual,
                expected_to_date=expected,
                achieved_pct=None if achieved is None else round(achieved, 1),
                elapsed_pct=round(elapsed * 100, 1),
                status=status,
            )
        )
    return result


def update_statuses(app: Kehu, session: Session, now: datetime | None = None) -> list[TargetStatusChange]:
    """Record the status of every started target as of the local day of ``now`` (default: the
    present); returns the changes and fires ``kehu_forecast_target_status_changed`` with them.

    Recording is idempotent: a second call on the same day finds no change and fires nothing.
    Needs permission ``forecast.run`` (the daily job runs as kehu itself).
    """
    require(session, RUN, "record the targets' statuses")
    as_of = calendar.today(now)
    recorded = dict(
        session.execute(select(targets.c.id, targets.c.status).where(targets.c.period_start <= as_of)).all()
    )
    changes = []
    for progress in track(session, as_of=as_of):
        old = recorded.get(progress.target_id)
        if old == progress.status:
            continue
        session.execute(
            targets.update()
            .where(targets.c.id == progress.target_id)
            .values(status=progress.status, status_as_of=as_of)
        )
        changes.append(
            TargetStatusChange(
                target_id=progress.target_id,
                salesperson=progress.salesperson,
                period_start=progress.period_start,
                period_end=progress.period_end,
                old_status=old,
                new_status=progress.status,
                amount=progress.amount,
                actual=progress.actual,
                as_of=as_of,
            )
        )
    if changes:
        app.hook.kehu_forecast_target_status_changed(session=session, changes=changes)
    return changes
