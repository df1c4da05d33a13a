"""The sales pipeline (销售漏斗): opportunities with a stage, a probability and a close date.

Only ``status`` decides whether an opportunity is open, won or lost. A probability of 0 or
100% is just a probability: an open opportunity at 0% stays open (it weighs nothing), and one
at 100% is not won until someone says so (Odoo inferred won/lost from 0/100, odoo#127470).
Open opportunities count in the forecast as ``amount × probability`` in their close period;
they are project sales (项目性销售) on top of the routine sales (例行性销售) the history shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import numpy as np
from attrs import frozen
from sqlalchemy import func, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core import validation as v
from kehu_core.access import customer_condition, require, visible_customers
from kehu_core.choices import Choice, Vocabulary
from kehu_core.errors import Conflict, NotFound, Problem, ValidationError
from kehu_core.i18n import N_, messages
from kehu_core.models import Customer, Interaction
from kehu_core.privacy import require_not_forgotten
from kehu_core.validation import FieldError
from kehu_forecast.csvimport import import_rows
from kehu_forecast.models import opportunities as T
from kehu_forecast.names import pick
from kehu_forecast.periods import Freq
from kehu_forecast.rates import rate
from kehu_forecast.security import OPPORTUNITY

_ = messages("kehu_forecast").gettext

STATUSES = ("open", "won", "lost")
#: The statuses as people name them (跟进中, 赢单, 丢单).
STATUS_NAMES = Vocabulary(
    "kehu_forecast",
    N_("status"),
    [
        Choice("open", N_("open"), aliases=("跟进中", "进行中", "未结")),
        Choice("won", N_("won"), aliases=("赢单", "成交", "已成交")),
        Choice("lost", N_("lost"), aliases=("丢单", "失败", "已丢单")),
    ],
)
#: Default stages and their probabilities, used when a probability is not given.
STAGES = {
    "线索": Decimal("0.10"),
    "需求确认": Decimal("0.25"),
    "方案报价": Decimal("0.50"),
    "商务谈判": Decimal("0.75"),
    "签约中": Decimal("0.90"),
}
IMPORT_COLUMNS = (
    "ref",
    "customer",
    "salesperson",
    "amount",
    "stage",
    "probability",
    "close_date",
    "status",
    "note",
)
REQUIRED_COLUMNS = ("customer", "amount", "close_date")


@frozen
class Opportunity:
    """One opportunity, as the CLI and the API show it."""

    ref: str
    customer: str
    customer_name: str
    salesperson: str
    amount: Decimal
    stage: str
    probability: Decimal
    weighted: Decimal
    close_date: date
    status: str
    note: str | None


def parse_probability(value: Any) -> Decimal:
    """A probability between 0 and 1: ``0.6`` or ``60%``."""
    return rate(value).quantize(Decimal("0.0001"))


def known_salespeople(session: Session) -> set[str]:
    """Salespeople kehu knows: account owners and the salespeople on interactions."""
    stmt = union(
        select(Customer.owner).where(Customer.owner.is_not(None)),
        select(Interaction.salesperson).where(Interaction.salesperson.is_not(None)),
    )
    return {s for s in session.scalars(stmt) if s}


def _clean(
    session: Session,
    values: Mapping[str, Any],
    row: int | None,
    *,
    known: set[str],
    customers: Mapping[str, tuple[int, str | None]],
    partial: bool = False,
) -> tuple[dict[str, Any], list[Any]]:
    """Validate one opportunity's fields; returns clean values and the problems found."""
    problems: list[Problem] = []
    clean: dict[str, Any] = {}

    def check(name: str, parse: Any) -> None:
        raw = values.get(name)
        if v.blank(raw):
            return
        try:
            clean[name] = parse(raw)
        except FieldError as exc:
            problems.append(Problem(name, str(exc), row, str(raw)))

    check("ref", lambda x: v.text(x, 64))
    check("amount", v.money)
    check("stage", lambda x: v.text(x, 100))
    check("probability", parse_probability)
    check("close_date", v.day)
    check("status", lambda x: v.choice(x, STATUS_NAMES))
    check("note", lambda x: v.text(x, 10_000))
    check("salesperson", lambda x: v.text(x, 100))
    if not partial:
        code = values.get("customer")
        if v.blank(code):
            problems.append(Problem("customer", _("required"), row))
        elif str(code).strip() not in customers:
            problems.append(Problem("customer", _("no customer with this code"), row, str(code)))
        else:
            clean["customer_id"], owner = customers[str(code).strip()]
            clean.setdefault("salesperson", owner)
        for name in ("amount", "close_date"):
            if v.blank(values.get(name)):
                problems.append(Problem(name, _("required"), row))
        if "probability" not in clean and not any(p.field == "probability" for p in problems):
            stage = clean.get("stage")
            if stage in STAGES:
                clean["probability"] = STAGES[stage]
            else:
                problems.append(
                    Problem(
                        "probability",
                        _("required unless the stage is one of {stages}").format(stages=", ".join(STAGES)),
                        row,
                    )
                )
        clean.setdefault(
            "stage", next((s for s, p in STAGES.items() if p >= clean.get("probability", 0)), "签约中")
        )
        clean.setdefault("status", "open")
    sp = clean.get("salesperson")
    if sp is not None and sp not in known:
        problems.append(
            Problem(
                "salesperson",
                _("unknown salesperson (not the owner of any customer nor on any interaction)"),
                row,
                sp,
            )
        )
    if not partial and not clean.get("salesperson") and not any(p.field == "customer" for p in problems):
        problems.append(Problem("salesperson", _("required: the customer has no owner"), row))
    return clean, problems


def _customers_by_code(session: Session, codes: Sequence[str]) -> dict[str, tuple[int, str | None]]:
    """Id and owner by code of the customers the acting user sees: any other code is unknown."""
    found: dict[str, tuple[int, str | None]] = {}
    unique = sorted({c.strip() for c in codes if c})
    rule = customer_condition(session)
    for begin in range(0, len(unique), 500):
        chunk = unique[begin : begin + 500]
        stmt = select(Customer.id, Customer.code, Customer.owner).where(Customer.code.in_(chunk))
        if rule is not None:
            stmt = stmt.where(rule)
        for cid, code, owner in session.execute(stmt):
            found[code] = (cid, owner)
    return found


def _next_refs(session: Session, count: int) -> list[str]:

    top = session.scalar(select(func.max(T.c.id))) or 0
    return [f"OPP-{top + i + 1:05d}" for i in range(count)]


def add_opportunity(session: Session, values: Mapping[str, Any]) -> Opportunity:
    """Add one opportunity; the salesperson defaults to the customer's owner.

    Needs permission ``forecast.opportunity`` and a customer the acting user sees (any other
    code is "no customer with this code")."""
    return add_opportunities(session, [values])[0]


def add_opportunities(
    session: Session, rows: Sequence[Mapping[str, Any]], *, first_row: int | None = None
) -> list[Opportunity]:
    """Validate every row first, then insert them all in one statement (all or nothing).

    Needs permission ``forecast.opportunity``; only customers the acting user sees are known."""
    require(session, OPPORTUNITY, "add opportunities")
    known = known_salespeople(session)
    customers = _customers_by_code(session, [str(r.get("customer") or "") for r in rows])
    cleaned, problems = [], []
    for i, values in enumerate(rows):
        row = None if first_row is None else first_row + i
        clean, found = _clean(session, values, row, known=known, customers=customers)
        cleaned.append(clean)
        problems.extend(found)
    refs = [c["ref"] for c in cleaned if "ref" in c]
    dupes = {r for r in refs if refs.count(r) > 1}
    if refs:
        dupes |= set(session.scalars(select(T.c.ref).where(T.c.ref.in_(refs))))
    for i, clean in enumerate(cleaned):
        if clean.get("ref") in dupes:
            problems.append(
                Problem(
                    "ref",
                    _("already used by another opportunity"),
                    None if first_row is None else first_row + i,
                    clean["ref"],
                )
            )
    if problems:
        raise ValidationError(problems, headline=_("opportunity refused; nothing was written:"))
    _refuse_notes_of_forgotten(session, [c["customer_id"] for c in cleaned if c.get("note")])
    fresh = iter(_next_refs(session, sum(1 for c in cleaned if "ref" not in c)))
    for clean in cleaned:
        if "ref" not in clean:
            clean["ref"] = next(fresh)
    if not cleaned:
        return []
    try:
        session.execute(T.insert(), cleaned)
    except IntegrityError as exc:  # a concurrent writer took the same generated ref
        raise Conflict(
            _("another opportunity was added with the same ref at the same time; try again")
        ) from exc
    return list_opportunities(session, refs=[c["ref"] for c in cleaned])


def _refuse_notes_of_forgotten(session: Session, customer_ids: Sequence[int]) -> None:
    """A forgotten customer accepts no new personal data: no note on their opportunities."""
    ids = sorted(set(customer_ids))
    for begin in range(0, len(ids), 500):
        for customer in session.scalars(
            select(Customer).where(
                Customer.id.in_(ids[begin : begin + 500]), Customer.forgotten_at.is_not(None)
            )
        ):
            require_not_forgotten(customer, "it accepts no new personal data (the opportunity's note)")


def move_opportunity(session: Session, ref: str, values: Mapping[str, Any]) -> Opportunity:
    """Change stage, probability, amount, close date, salesperson or status of one opportunity.

    Needs permission ``forecast.opportunity``; an opportunity of a customer the acting user
    does not see is not found."""
    require(session, OPPORTUNITY, "change opportunities")
    current = session.execute(
        select(T.c.id).where(T.c.ref == ref, visible_customers(session, T.c.customer_id)).with_for_update()
    ).first()
    if current is None:
        raise NotFound(_("no opportunity {ref!r}; see `kehu forecast opportunity list`").format(ref=ref))
    clean, problems = _clean(
        session, values, None, known=known_salespeople(session), customers={}, partial=True
    )
    clean.pop("ref", None)
    if "stage" in clean and "probability" not in clean and clean["stage"] in STAGES:
        clean["probability"] = STAGES[clean["stage"]]
    if problems:
        raise ValidationError(problems, headline=_("opportunity {ref} not changed:").format(ref=ref))
    if clean.get("note"):
        _refuse_notes_of_forgotten(
            session, [session.scalars(select(T.c.customer_id).where(T.c.id == current.id)).one()]
        )
    if clean:
        session.execute(T.update().where(T.c.id == current.id).values(**clean))
    return list_opportunities(session, refs=[ref])[0]


def list_opportunities(
    session: Session,
    *,
    status: str | None = None,
    salesperson: str | None = None,
    customer: str | None = None,
    refs: Sequence[str] | None = None,
) -> list[Opportunity]:
    """Opportunities, by close date then ref: only those of customers the acting user sees."""
    stmt = select(T, Customer.code, Customer.name).join(Customer, Customer.id == T.c.customer_id)
    rule = customer_condition(session)
    if rule is not None:
        stmt = stmt.where(rule)
    if status:
        stmt = stmt.where(T.c.status == pick("status", status, STATUS_NAMES))
    if salesperson:
        stmt = stmt.where(T.c.salesperson == salesperson)
    if customer:
        stmt = stmt.where(Customer.code == customer)
    if refs is not None:
        stmt = stmt.where(T.c.ref.in_(list(refs)))
    result = []
    for r in session.execute(stmt.order_by(T.c.close_date, T.c.ref)).mappings():
        probability = Decimal(r["probability"]).quantize(Decimal("0.0001"))
        amount = Decimal(r["amount"])
        result.append(
            Opportunity(
                ref=r["ref"],
                customer=r["code"],
                customer_name=r["name"],
                salesperson=r["salesperson"],
                amount=amount,
                stage=r["stage"],
                probability=probability,
                weighted=(amount * probability).quantize(Decimal("0.01"))
                if r["status"] == "open"
                else Decimal("0.00"),
                close_date=r["close_date"],
                status=r["status"],
                note=r["note"],
            )
        )
    return result


def import_opportunities(
    session: Session, source: str | Path | IO[bytes], encoding: str = "utf-8-sig"
) -> int:
    """Import opportunities from CSV: every row is checked first; any bad row means none is
    written. Needs permission ``forecast.opportunity``; only customers the acting user sees
    are known."""
    require(session, OPPORTUNITY, "add opportunities")
    return import_rows(
        source,
        encoding,
        IMPORT_COLUMNS,
        REQUIRED_COLUMNS,
        lambda rows: len(add_opportunities(session, rows, first_row=0)),
    )


def weighted_pipeline(session: Session, as_of: date | None = None) -> list[tuple[int, date, float]]:
    """Open opportunities as ``(customer_id, close_date, amount × probability)``.

    With ``as_of``, only those recorded by the end of that local day: a forecast made as of a
    past day must not know opportunities that did not exist yet.
    """
    stmt = select(T.c.customer_id, T.c.close_date, T.c.amount, T.c.probability).where(T.c.status == "open")
    if as_of is not None:
        stmt = stmt.where(T.c.created_at < calendar.day_end(as_of))
    return [(cid, day, float(Decimal(a) * Decimal(p))) for cid, day, a, p in session.execute(stmt).all()]


def pipeline_moments(session: Session, as_of: date | None = None) -> list[tuple[int, date, float, float]]:
    """Open opportunities as ``(customer_id, close_date, mean, variance)``.

    An open opportunity is won (the amount) or not (nothing): its mean is amount × p and its
    variance p(1 − p)·amount². With ``as_of``, only those recorded by the end of that local
    day (as :func:`weighted_pipeline`).
    """
    stmt = select(T.c.customer_id, T.c.close_date, T.c.amount, T.c.probability).where(T.c.status == "open")
    if as_of is not None:
        stmt = stmt.where(T.c.created_at < calendar.day_end(as_of))
    result = []
    for cid, day, a, p in session.execute(stmt).all():
        amount, prob = float(Decimal(a)), float(Decimal(p))
        result.append((int(cid), day, amount * prob, prob * (1.0 - prob) * amount * amount))
    return result


def pipeline_by_period(
    session: Session,
    customer_ids: Sequence[int] | np.ndarray,
    periods: list[date],
    freq: Freq,
    as_of: date | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The weighted pipeline and its variance per customer and forecast period (yuan, yuan²).

    An opportunity still open after its close date lands in the first period (it is late, not
    lost); one closing after the last period is left out; with ``as_of``, those recorded
    after that day are left out. Opportunities are independent: variances add.
    """
    row_of = {int(c): i for i, c in enumerate(customer_ids)}
    col_of = {p: j for j, p in enumerate(periods)}
    mean = np.zeros((len(row_of), len(periods)))
    variance = np.zeros((len(row_of), len(periods)))
    if not periods:
        return mean, variance
    for cid, day, m, var in pipeline_moments(session, as_of):
        i = row_of.get(int(cid))
        start = calendar.period_start(day, freq)
        j = 0 if start < periods[0] else col_of.get(start)
        if i is not None and j is not None:
            mean[i, j] += m
            variance[i, j] += var
    return mean, variance


def export_opportunities(session: Session, customer_code: str) -> dict[str, Any] | None:
    """The customer's opportunities, for ``kehu customer export`` (``None`` when there are none)."""
    opps = list_opportunities(session, customer=customer_code)
    if not opps:
        return None
    return {
        "opportunities": [
            {
                "ref": o.ref,
                "amount": o.amount,
                "stage": o.stage,
                "probability": o.probability,
                "close_date": o.close_date,
                "status": o.status,
                "salesperson": o.salesperson,
                "note": o.note,
            }
            for o in opps
        ]
    }


def erase_notes(session: Session, customer_ids: Sequence[int]) -> None:
    """Drop the notes (free text that may name people) of the customers' opportunities."""
    ids = list(customer_ids)
    for begin in range(0, len(ids), 500):
        session.execute(T.update().where(T.c.customer_id.in_(ids[begin : begin + 500])).values(note=None))
