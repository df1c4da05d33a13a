"""Bottom-up forecast (由下而上): each customer from its own history plus its weighted pipeline,
summed up through salesperson and region to the company.

The upper levels' own forecasts (of their aggregated series), which middle-out and MinT
combine with the bottom-up sums, are made by ``reconcile`` when a method needs them.

Scenarios: the 80% band of :func:`kehu_forecast.intervals.node_bands` (each customer's own
model interval, each upper node's own model interval on its own history, and the pipeline's
p(1 − p)·amount² under every node), or stated adjustments (``optimistic=+0.15``,
``pessimistic=-0.20``) applied to the base. The pipeline lands as in
:func:`kehu_forecast.pipeline.pipeline_by_period`; the run records ``as_of`` and
``pipeline_variance`` for ``reconcile``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
from attrs import evolve, frozen
from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.errors import Problem, ValidationError
from kehu_core.i18n import messages
from kehu_forecast import engine as E
from kehu_forecast import hierarchy as H
from kehu_forecast import intervals
from kehu_forecast import periods as P
from kehu_forecast.history import SalesHistory, load_history
from kehu_forecast.money import to_cents
from kehu_forecast.names import pick
from kehu_forecast.pipeline import pipeline_by_period
from kehu_forecast.plan import Plan

_ = messages("kehu_forecast").gettext


@frozen
class Options:
    """What a bottom-up run uses; the defaults suit monthly B2B sales."""

    freq: P.Freq = "month"
    horizon: int | None = None
    method: str = "auto"
    regular: str = "theta"
    intermittent: str | None = None
    as_of: date | None = None
    history: int | None = None
    pipeline: bool = True
    optimistic: float | None = None
    pessimistic: float | None = None
    n_jobs: int = 1
    #: A plan above this multiple of its trailing 12 months is flagged (``plausibility``).
    plausible_multiple: float = 2.0


def named(options: Options) -> Options:
    """``options`` with the frequency and methods given by name (月, 自动, 季节朴素 ...) as codes;
    an unknown one is refused naming the option and listing the accepted values."""
    return evolve(
        options,
        freq=P.check_freq(options.freq),
        method=pick("method", options.method, E.METHOD_NAMES),
        regular=pick("regular", options.regular, E.METHOD_NAMES),
        intermittent=None
        if options.intermittent is None
        else pick("intermittent", options.intermittent, E.METHOD_NAMES),
    )


def check_options(options: Options) -> None:
    """Refuse options that make no sense, naming the option (give them :func:`named` first)."""
    P.check_freq(options.freq)
    problems = []
    if options.method not in E.METHODS:
        problems.append(
            Problem(
                "method",
                _("must be one of {accepted}").format(accepted=E.METHOD_NAMES.accepted()),
                value=options.method,
            )
        )
    if options.regular not in ("theta", "ets"):
        problems.append(Problem("regular", _("must be theta or ets"), value=options.regular))
    if options.intermittent not in (None, *E.INTERMITTENT):
        problems.append(
            Problem(
                "intermittent",
                _("must be one of {accepted}").format(accepted=", ".join(E.INTERMITTENT)),
                value=options.intermittent,
            )
        )
    if options.horizon is not None and not 1 <= options.horizon <= 104:
        problems.append(
            Problem("horizon", _("must be between 1 and 104 periods"), value=str(options.horizon))
        )
    if options.optimistic is not None and options.optimistic < 0:
        problems.append(
            Problem("optimistic", _("must be zero or more (0.15 for +15%)"), value=str(options.optimistic))
        )
    if not options.plausible_multiple > 0:
        problems.append(
            Problem(
                "plausible_multiple",
                _("must be more than 0 (2 for twice the trailing year)"),
                value=str(options.plausible_multiple),
            )
        )
    if options.pessimistic is not None and not -1 <= options.pessimistic <= 0:
        problems.append(
            Problem(
                "pessimistic", _("must be between -1 and 0 (-0.2 for -20%)"), value=str(options.pessimistic)
            )
        )
    if problems:
        raise ValidationError(problems)


#: Customers listed by name in a run's plausibility warning (the largest excesses first).
LISTED = 20


def plausibility(
    history: np.ndarray,
    plan_cents: np.ndarray,
    freq: P.Freq,
    multiple: float,
    keys: list[str],
) -> dict[str, Any]:
    """The plans (rows: company first, then customers) above ``multiple`` × their trailing year.

    The plan's year is its first 12 months (52 weeks), or its whole horizon scaled to a year
    when shorter. The trailing year is the last 12 months (52 weeks) of net sales recorded;
    for a node with none in that year, its yearly average over the whole history. A node with
    no sales in the history at all is not judged (nothing to compare with).
    """
    year = 12 if freq == "month" else 52
    horizon = plan_cents.shape[1]
    planned = plan_cents[:, :year].sum(axis=1) / 100 * (year / min(horizon, year))
    trailing = history[:, -year:].sum(axis=1)
    average = history.sum(axis=1) * year / max(history.shape[1], 1)
    reference = np.where(trailing > 0, trailing, average)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(reference > 0, planned / reference, np.nan)
    flagged = np.flatnonzero(ratio > multiple)
    rows: list[dict[str, Any]] = [
        {
            "node": keys[i],
            "plan_year": round(float(planned[i]), 2),
            "trailing_year": round(float(reference[i]), 2),
            "multiple": round(float(ratio[i]), 2),
        }
        for i in flagged
    ]
    company = next((r for r, i in zip(rows, flagged) if i == 0), None)
    customers = sorted(
        (r for r, i in zip(rows, flagged) if i > 0), key=lambda r: r["trailing_year"] - r["plan_year"]
    )
    return {
        "multiple": multiple,
        "company": company,
        "customers_flagged": len(customers),
        "customers": customers[:LISTED],
    }


def plausibility_lines(check: dict[str, Any] | None, freq: str = "month") -> list[str]:
    """The plausibility warning in words, one line per flagged node: the company first, then
    the customers listed (largest excess first), then how many more were flagged, e.g.
    ``plan is 12.0x the trailing 12 months for customer C0042``. Empty when none is flagged."""
    if not check:
        return []
    monthly = freq == "month"
    lines = []
    if check.get("company"):
        x = f"{check['company']['multiple']:.1f}"
        lines.append(
            _("plan is {x}x the trailing 12 months for the company").format(x=x)
            if monthly
            else _("plan is {x}x the trailing 52 weeks for the company").format(x=x)
        )
    for c in check.get("customers") or []:
        x = f"{c['multiple']:.1f}"
        lines.append(
            _("plan is {x}x the trailing 12 months for customer {customer}").format(x=x, customer=c["node"])
            if monthly
            else _("plan is {x}x the trailing 52 weeks for customer {customer}").format(
                x=x, customer=c["node"]
            )
        )
    more = int(check.get("customers_flagged") or 0) - len(check.get("customers") or [])
    if more > 0:
        x = f"{check['multiple']:g}"
        lines.append(
            _("and {more} more customer(s) planned above {x}x the trailing 12 months").format(more=more, x=x)
            if monthly
            else _("and {more} more customer(s) planned above {x}x the trailing 52 weeks").format(
                more=more, x=x
            )
        )
    return lines


def bottom_up(session: Session, options: Options = Options(), progress: E.ProgressFn | None = None) -> Plan:
    """Forecast every customer and node; returns the (unsaved) coherent plan.

    ``progress`` is called with ``(customers forecast, customers in all)`` as the models run."""
    options = named(options)
    history = load_history(session, options.freq, as_of=options.as_of, length=options.history)
    return forecast_history(session, history, options, progress)


def forecast_history(
    session: Session | None,
    history: SalesHistory,
    options: Options,
    progress: E.ProgressFn | None = None,
) -> Plan:
    """The bottom-up plan for an already loaded history (the pipeline is read from ``session``);
    ``progress`` as in :func:`bottom_up`."""
    options = named(options)
    check_options(options)
    if not history.periods:
        raise ValidationError(
            [
                Problem(
                    "history", _("no purchases recorded before the forecast start: nothing to forecast from")
                )
            ]
        )
    E.check_length(options.method, options.freq, len(history.periods))
    horizon = options.horizon or P.DEFAULT_HORIZON[options.freq]
    h = H.build(history.customers)
    order = {int(c): i for i, c in enumerate(history.customers["id"])}
    bottom_y = history.values[[order[int(c)] for c in h.customer_ids]]
    first = history.next_period
    # Only the customers are modelled here: a bottom-up forecast needs nothing else. The
    # upper levels' own forecasts are made by `reconcile`, for the methods that use them.
    # One pool of worker processes (--jobs) for the customers' models and the upper nodes'.
    with E.workers(options.n_jobs):
        return _forecast(session, history, options, h, bottom_y, horizon, first, progress)


def _forecast(
    session: Session | None,
    history: SalesHistory,
    options: Options,
    h: H.Hierarchy,
    bottom_y: np.ndarray,
    horizon: int,
    first: date,
    progress: E.ProgressFn | None,
) -> Plan:
    customers = E.start(
        bottom_y,
        options.freq,
        horizon,
        first,
        method=options.method,
        regular=options.regular,
        intermittent=options.intermittent,
        n_jobs=options.n_jobs,
        progress=progress,
    )
    stated = options.optimistic is not None or options.pessimistic is not None
    node_history = history.node_values(h)
    # The upper nodes' own models (for their bands) are queued right behind the customers':
    # with workers, neither waits for the other, nor for the pipeline read below.
    upper = (
        None
        if stated
        else intervals.start_upper(
            h,
            node_history,
            horizon,
            freq=options.freq,
            first=first,
            method=options.method,
            regular=options.regular,
            intermittent=options.intermittent,
        )
    )
    fc = customers.result()
    future = P.periods(first, horizon, options.freq)
    if options.pipeline and session is not None:
        pipe, pipe_var = pipeline_by_period(session, h.customer_ids, future, options.freq, options.as_of)
    else:
        pipe, pipe_var = np.zeros((h.n_bottom, horizon)), np.zeros((h.n_bottom, horizon))
    bottom_cents = to_cents(fc.mean + pipe)
    pipe_all = h.aggregate(to_cents(pipe))
    value = np.asarray(h.S.astype(np.int64) @ bottom_cents)
    base = value.copy()
    if stated:
        high = to_cents(value * (1 + (options.optimistic or 0.0)) / 100)
        low = to_cents(value * (1 + (options.pessimistic or 0.0)) / 100)
        scenario = "stated adjustments"
    else:
        low, high = intervals.node_bands(
            h,
            value,
            node_history,
            fc.mean,
            fc.sigma,
            pipe_var,
            upper,
        )
        scenario = "80% interval: each node's own model, with the pipeline's p(1-p)·amount²"
    models = ["sum"] * (len(h.keys) - h.n_bottom) + [str(m) for m in fc.model]
    params = {
        "method": options.method,
        "regular": options.regular,
        "intermittent": options.intermittent,
        "pipeline": options.pipeline,
        intervals.PIPELINE_VARIANCE: scenario != "stated adjustments",
        "as_of": (options.as_of or calendar.today()).isoformat(),
        "scenario": scenario,
        "optimistic": options.optimistic,
        "pessimistic": options.pessimistic,
        "history_periods": len(history.periods),
        "history_start": history.periods[0].isoformat(),
        "classes": {str(k): int(v) for k, v in zip(*np.unique(fc.classes.astype(str), return_counts=True))},
        "customer_base": fc.customer_base.params() if fc.customer_base is not None else None,
        "plausibility": plausibility(
            np.vstack([bottom_y.sum(axis=0, keepdims=True), bottom_y]),
            np.vstack([value[:1], value[h.levels["customer"]]]),
            options.freq,
            options.plausible_multiple,
            [h.keys[0], *[h.keys[i] for i in h.levels["customer"]]],
        ),
    }
    return Plan(
        kind="bottomup",
        method=f"bottom-up ({options.method})",
        freq=options.freq,
        periods=future,
        history_end=history.history_end,
        hierarchy=h,
        value=value,
        base=base,
        low=low,
        high=high,
        pipeline=pipe_all,
        models=models,
        params=params,
    )
