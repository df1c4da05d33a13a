"""Top-down forecast (由上而下): market potential × expected share (or last year × growth) per
region, industry or the whole company, allocated down to customers and summed back up.

Allocation within a group (the customers of one region, industry, or all of them):

* ``average_proportions``: the mean over history periods of each customer's share of the
  group's sales that period (periods where the group sold nothing are skipped);
* ``proportion_averages``: each customer's total over the window divided by the group's;
* ``bottomup``: each customer's share of the group in the newest bottom-up run, per period.

Amounts are split to the cent with largest-remainder rounding, so a group's customers add up
exactly to the group's top-down figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kehu_core import audit, calendar
from kehu_core import validation as v
from kehu_core.access import require
from kehu_core.app import Kehu
from kehu_core.choices import Choice, Vocabulary
from kehu_core.errors import Conflict, Problem, ValidationError
from kehu_core.i18n import N_, messages
from kehu_core.validation import FieldError
from kehu_forecast import hierarchy as H
from kehu_forecast import periods as P
from kehu_forecast.csvimport import import_rows
from kehu_forecast.history import load_history
from kehu_forecast.models import market_inputs as T
from kehu_forecast.money import allocate_cents
from kehu_forecast.names import pick
from kehu_forecast.plan import Plan, load, store
from kehu_forecast.rates import rate
from kehu_forecast.security import PLAN, RUN
from kehu_forecast.visibility import require_company

_ = messages("kehu_forecast").gettext

DIMENSIONS = ("company", "region", "industry")
ALLOCATIONS = ("average_proportions", "proportion_averages", "bottomup")
#: The market dimensions as people name them (公司, 地区, 行业).
DIMENSION_NAMES = Vocabulary(
    "kehu_forecast",
    N_("dimension"),
    [
        Choice("company", N_("company"), aliases=("公司", "全公司")),
        Choice("region", N_("region"), aliases=("地区", "区域")),
        Choice("industry", N_("industry"), aliases=("行业",)),
    ],
)
#: How group figures are split to customers.
ALLOCATION_NAMES = Vocabulary(
    "kehu_forecast",
    N_("allocation"),
    [
        Choice("average_proportions", N_("average of proportions"), aliases=("比例平均值", "平均比例")),
        Choice("proportion_averages", N_("proportion of averages"), aliases=("平均值比例",)),
        Choice("bottomup", N_("bottom-up shares"), aliases=("由下而上", "由下而上比例")),
    ],
)
#: The audit trail's entity for market inputs (``kehu audit --entity forecast.market``).
AUDIT_ENTITY = "forecast.market"
MARKET_COLUMNS = ("period", "dimension", "key", "potential", "share", "growth")


def clean_market_input(values: Mapping[str, Any], row: int | None = None) -> tuple[dict[str, Any], list[Any]]:
    """Validate one market input: a period, a dimension and key, potential ≥ 0 with share, or growth."""
    clean: dict[str, Any] = {}
    problems: list[Problem] = []
    parsers = {
        "period": lambda x: calendar.period_start(
            v.day(str(x).strip() + ("-01" if len(str(x).strip()) <= 7 else "")), "month"
        ),
        "dimension": lambda x: v.choice(x, DIMENSION_NAMES),
        "key": lambda x: v.text(x, 100),
        "potential": lambda x: v.money(x),
        "share": rate,
        "growth": lambda x: rate(x, Decimal(-1), Decimal(100), "must be between -1 (-100%) and 100"),
    }
    for name, parse in parsers.items():
        raw = values.get(name)
        if v.blank(raw):
            if name in ("period", "dimension"):
                problems.append(Problem(name, _("required"), row))
            continue
        try:
            clean[name] = parse(raw)
        except FieldError as exc:
            problems.append(Problem(name, str(exc), row, str(raw)))
    if clean.get("dimension") == "company":
        clean["key"] = H.COMPANY
    elif "key" not in clean and not any(p.field == "key" for p in problems):
        problems.append(Problem("key", _("required: the region or industry"), row))
    has_share = "potential" in clean and "share" in clean
    if not problems and not has_share and "growth" not in clean:
        problems.append(Problem("share", _("give potential and share, or growth"), row))
    return clean, problems


def set_market_inputs(
    session: Session, rows: Sequence[Mapping[str, Any]], *, first_row: int | None = None
) -> int:
    """Insert or replace market inputs (by period, dimension, key); all or nothing.

    Needs permission ``forecast.plan``; each input set is written to the audit trail (entity
    ``forecast.market``, key ``<YYYY-MM>/<dimension>/<key>``, the figures old and new).
    """
    require(session, PLAN, "change market figures")
    cleaned, problems = [], []
    for i, values in enumerate(rows):
        clean, found = clean_market_input(values, None if first_row is None else first_row + i)
        cleaned.append(clean)
        problems += found
    if problems:
        raise ValidationError(problems, headline=_("market input refused; nothing was written:"))
    for clean in cleaned:
        where = (T.c.period == clean["period"], T.c.dimension == clean["dimension"], T.c.key == clean["key"])
        old = session.execute(select(T.c.potential, T.c.share, T.c.growth).where(*where)).first()
        session.execute(delete(T).where(*where))
        before = {} if old is None else dict(old._mapping)
        after = {name: clean.get(name) for name in ("potential", "share", "growth")}
        audit.record(
            session,
            AUDIT_ENTITY,
            f"{clean['period']:%Y-%m}/{clean['dimension']}/{clean['key']}",
            "set" if old is None else "changed",
            audit.changes_of(before, after, personal=()),
        )

    try:
        session.execute(
            T.insert(), [{"potential": None, "share": None, "growth": None, **c} for c in cleaned]
        )
    except IntegrityError as exc:
        raise Conflict(
            _(
                "another command wrote market inputs for the same period and key at the same time; "
                "nothing was written, try again"
            )
        ) from exc
    return len(cleaned)


def set_market_months(session: Session, period: str, values: Mapping[str, Any], *, months: int = 1) -> int:
    """Set the same market input for ``months`` consecutive months from ``period`` (``YYYY-MM``).

    Needs permission ``forecast.plan``."""
    require(session, PLAN, "change market figures")
    clean, problems = clean_market_input({**values, "period": period})
    if problems:
        raise ValidationError(problems, headline=_("market input refused; nothing was written:"))
    first = clean["period"]
    rows = [
        {**values, "period": calendar.shift(first, i, "month").isoformat()} for i in range(max(1, months))
    ]
    return set_market_inputs(session, rows)


def import_market_inputs(
    session: Session, source: str | Path | IO[bytes], encoding: str = "utf-8-sig"
) -> int:
    """Import market inputs from CSV (period, dimension, key, potential, share, growth); all or
    nothing. Needs permission ``forecast.plan``."""
    require(session, PLAN, "change market figures")
    return import_rows(
        source,
        encoding,
        MARKET_COLUMNS,
        ("period", "dimension"),
        lambda rows: set_market_inputs(session, rows, first_row=0),
    )


def list_market_inputs(session: Session) -> list[dict[str, Any]]:
    """Every market input with the top-down figure it gives (potential × share) where it can.

    Market figures are the company's and its regions': they need permission ``forecast.company``.
    """
    require_company(session, "see the market figures (regions, the company)")
    rows = []
    for r in session.execute(select(T).order_by(T.c.period, T.c.dimension, T.c.key)).mappings():
        figure = (
            (Decimal(r["potential"]) * Decimal(r["share"])).quantize(Decimal("0.01"))
            if r["potential"] is not None and r["share"] is not None
            else None
        )
        rows.append(
            {
                "period": r["period"],
                "dimension": r["dimension"],
                "key": r["key"],
                "potential": r["potential"],
                "share": r["share"],
                "growth": r["growth"],
                "figure": figure,
            }
        )
    return rows


def proportions(history: np.ndarray, method: str) -> np.ndarray:
    """Each row's share of the group (rows = customers, columns = history periods).

    ``average_proportions``: mean over periods with group sales of y_it / Σ_i y_it.
    ``proportion_averages``: Σ_t y_it / Σ_t Σ_i y_it. Net refunds count as zero.
    """
    y = np.maximum(np.asarray(history, dtype=float), 0.0)
    totals = y.sum(axis=0)
    if method == "proportion_averages":
        grand = totals.sum()
        return y.sum(axis=1) / grand if grand > 0 else np.zeros(y.shape[0])
    if method == "average_proportions":
        sold = totals > 0
        if not sold.any():
            return np.zeros(y.shape[0])
        return (y[:, sold] / totals[sold]).mean(axis=1)
    raise ValueError(method)


def _inputs(session: Session, dimension: str, periods: list[date]) -> dict[tuple[date, str], dict[str, Any]]:

    stmt = select(T).where(T.c.dimension == dimension, T.c.period.in_(periods))
    return {(r["period"], r["key"]): dict(r) for r in session.execute(stmt).mappings()}


def save_top_down(
    app: Kehu,
    session: Session,
    *,
    dimension: str | None = None,
    allocation: str = "average_proportions",
    horizon: int | None = None,
    as_of: date | None = None,
    window: int = 12,
    source: str = "cli",
) -> Plan:
    """The top-down plan (:func:`top_down`) saved as a run; needs permission ``forecast.run``
    (:func:`kehu_forecast.api.top_down`)."""
    require(session, RUN, "make forecast runs")
    plan = top_down(
        session, dimension=dimension, allocation=allocation, horizon=horizon, as_of=as_of, window=window
    )
    store(app, session, plan, source=source)
    return plan


def top_down(
    session: Session,
    *,
    dimension: str | None = None,
    allocation: str = "average_proportions",
    horizon: int | None = None,
    as_of: date | None = None,
    window: int = 12,
) -> Plan:
    """The top-down plan for the next ``horizon`` months from market inputs (unsaved)."""
    allocation = pick("allocation", allocation, ALLOCATION_NAMES)
    if dimension is None:
        dims = list(session.scalars(select(T.c.dimension).distinct()))
        if len(dims) != 1:
            raise ValidationError(
                [
                    Problem(
                        "dimension",
                        _("no market inputs yet: add them with `kehu forecast market set`")
                        if not dims
                        else _("inputs exist for {dimensions}: choose one").format(
                            dimensions=", ".join(sorted(dims))
                        ),
                    )
                ]
            )
        dimension = dims[0]
    else:
        dimension = pick("dimension", dimension, DIMENSION_NAMES)
    history = load_history(session, "month", as_of=as_of)
    if not history.periods:
        raise ValidationError([Problem("history", _("no purchases recorded: nothing to allocate by"))])
    h = H.build(history.customers)
    order = {int(c): i for i, c in enumerate(history.customers["id"])}
    y = history.values[[order[int(c)] for c in h.customer_ids]]
    horizon = horizon or 12
    future = P.periods(history.next_period, horizon, "month")
    inputs = _inputs(session, dimension, future)
    groups = (
        np.full(h.n_bottom, H.COMPANY, dtype=object)
        if dimension == "company"
        else h.customers[dimension].to_numpy(dtype=object)
    )
    bu = load(session, kind="bottomup") if allocation == "bottomup" else None
    bu_bottom = _align(bu, h, future) if bu is not None else None
    recent = y[:, -window:]
    bottom = np.zeros((h.n_bottom, horizon), dtype=np.int64)
    problems = []
    group_figures: dict[str, np.ndarray] = {}
    for group in dict.fromkeys(groups):
        rows = np.flatnonzero(groups == group)
        totals = np.zeros(horizon, dtype=np.int64)
        for j, period in enumerate(future):
            item = inputs.get((period, str(group)))
            if item is None:
                problems.append(
                    Problem(
                        "market input",
                        _("missing for {dimension} {group} in {period}").format(
                            dimension=DIMENSION_NAMES.label(dimension), group=group, period=f"{period:%Y-%m}"
                        ),
                    )
                )
                continue
            totals[j] = _figure(item, y[rows], history.periods, period, problems)
        group_figures[str(group)] = totals
        if allocation == "bottomup":
            weights = bu_bottom[rows]  # type: ignore[index]
        else:
            weights = np.repeat(proportions(recent[rows], allocation)[:, None], horizon, axis=1)
        bottom[rows] = allocate_cents(totals, weights)
    if problems:
        raise ValidationError(problems[:50], headline=_("top-down refused:"))
    plan = Plan.from_bottom(
        h,
        bottom,
        kind="topdown",
        method=f"top-down by {dimension} ({allocation})",
        freq="month",
        periods=future,
        history_end=history.history_end,
        params={"dimension": dimension, "allocation": allocation, "window": window},
    )
    base = plan.value.copy()
    plan.base = base
    return plan


def _figure(
    item: Mapping[str, Any], y: np.ndarray, periods: list[date], period: date, problems: list[Any]
) -> int:
    """The group's top-down figure in cents: potential × share, or last year's sales × (1 + growth)."""
    if item["potential"] is not None and item["share"] is not None:
        return int((Decimal(item["potential"]) * Decimal(item["share"]) * 100).to_integral_value())
    last_year = calendar.shift(period, -12, "month")
    if last_year not in periods:
        problems.append(
            Problem(
                "growth",
                _("{key} {period}: no sales history for {last_year} to grow from").format(
                    key=item["key"], period=f"{period:%Y-%m}", last_year=f"{last_year:%Y-%m}"
                ),
            )
        )
        return 0
    actual = Decimal(repr(float(y[:, periods.index(last_year)].sum())))
    return int((actual * (1 + Decimal(item["growth"])) * 100).to_integral_value())


def _align(plan: Plan, h: H.Hierarchy, periods: list[date]) -> np.ndarray:
    """The customer values of ``plan`` in ``h``'s customer order and ``periods`` (zeros where missing)."""
    out = np.zeros((h.n_bottom, len(periods)))
    src = {int(c): i for i, c in enumerate(plan.hierarchy.customer_ids)}
    cols = [plan.periods.index(p) if p in plan.periods else -1 for p in periods]
    bottom = plan.bottom()
    for i, cid in enumerate(h.customer_ids):
        k = src.get(int(cid))
        if k is not None:
            out[i] = [bottom[k, c] if c >= 0 else 0 for c in cols]
    return out
