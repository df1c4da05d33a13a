"""Reconciliation: one plan from the bottom-up run (and the top-down run, if any) that adds up.

Methods:

* ``bottom-up``: the customers' forecasts, summed up.
* ``top-down``: the company total (the top-down run's, else the company series' own forecast)
  split to customers by proportions (``average_proportions``, ``proportion_averages``, or
  ``forecast_proportions`` = the bottom-up shares).
* ``middle-out``: forecasts at the region or salesperson level (the region figures of a
  top-down run by region where there is one), summed up above and split down below.
* ``mint-ols`` / ``mint-wls``: non-negative MinTrace optimal combination (Wickramasuriya,
  Athanasopoulos & Hyndman 2019) of the forecasts at every level, solved exactly on the tree
  (:mod:`kehu_forecast.mint`); identity (ols) or structural (wls_struct) weights. Upper-level
  inputs are each node's own forecast, and the top-down figures where a top-down run gives
  them, so MinT balances 由上而下 against 由下而上 rather than picking one.

The upper levels are modelled on the history window the bottom-up run was made from.
Whatever the method, the values are rounded to cents within each parent, top down from the
company (from the middle level for middle-out, which keeps its own totals): every level
adds up to the cent. Scenario bands: :mod:`kehu_forecast.intervals`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from attrs import frozen
from sqlalchemy.orm import Session

from kehu_forecast import engine as E
from kehu_forecast import hierarchy as H
from kehu_forecast import intervals, mint
from kehu_forecast.engine import Z80
from kehu_forecast.history import load_history
from kehu_forecast.methods import MIDDLE_LEVEL_NAMES, PROPORTION_NAMES, RECONCILE_METHOD_NAMES
from kehu_forecast.money import round_down_tree
from kehu_forecast.names import pick
from kehu_forecast.pipeline import pipeline_by_period
from kehu_forecast.plan import Plan, load
from kehu_forecast.runs import history_of, latest_run
from kehu_forecast.topdown import proportions as historical

METHODS = ("bottom-up", "top-down", "middle-out", "mint-ols", "mint-wls")
PROPORTIONS = ("average_proportions", "proportion_averages", "forecast_proportions")
#: The reconciliation methods, proportions and middle levels as people name them (declared in
#: :mod:`kehu_forecast.methods`, which the commands that only read runs import).
METHOD_NAMES = RECONCILE_METHOD_NAMES


def split_down(
    h: H.Hierarchy,
    node_values: np.ndarray,
    nodes: np.ndarray,
    proportions: str,
    history: np.ndarray | None = None,
    bottom_now: np.ndarray | None = None,
) -> np.ndarray:
    """Customer values (float) splitting each of ``nodes``' values over its customers.

    The shares are taken within each node: historical proportions of ``history`` (customers ×
    past periods) by ``average_proportions`` or ``proportion_averages``, or the customers'
    own forecasts ``bottom_now`` for ``forecast_proportions``. A node whose customers weigh
    nothing is split evenly.
    """
    out = np.zeros((h.n_bottom, node_values.shape[1]))
    S = h.S.tocsr()
    for node in nodes:
        rows = S[node].indices
        if proportions == "forecast_proportions":
            w = np.maximum(bottom_now[rows], 0.0)  # type: ignore[index]
        else:
            w = np.repeat(historical(history[rows], proportions)[:, None], node_values.shape[1], axis=1)  # type: ignore[index]
        sums = w.sum(axis=0)
        share = np.where(sums > 0, w / np.where(sums > 0, sums, 1), 1.0 / max(1, len(rows)))
        out[rows] = share * node_values[node]
    return out


def run_history(session: Session, plan: Plan) -> np.ndarray:
    """Every node's net sales per period (nodes in ``plan``'s order × periods) over the history
    window the run was made from.

    A bottom-up run records its first period and number of periods (``history_start``,
    :func:`kehu_forecast.runs.history_of`); the same window is read again, so the upper levels
    are modelled on what the run saw. Archived and forgotten customers' past sales count in
    the nodes above them (:meth:`kehu_forecast.history.SalesHistory.node_values`).
    """
    first = plan.params.get("history_start")
    history = load_history(
        session,
        plan.freq,
        as_of=plan.periods[0],
        length=history_of(plan.params),
        first=date.fromisoformat(first) if first else None,
    )
    return history.node_values(plan.hierarchy)


def combine(
    h: H.Hierarchy,
    method: str,
    y_hat: np.ndarray,
    bottom_now: np.ndarray,
    *,
    proportions: str = "average_proportions",
    history: np.ndarray | None = None,
    middle_level: str = "region",
) -> np.ndarray:
    """Reconciled customer values (floats, customers × periods) by ``method``.

    ``y_hat`` are the forecasts at every node (nodes × periods), ``bottom_now`` the
    customers' own; ``history`` the customers' recent history for historical proportions.
    Negative node forecasts count as zero; MinT is the exact non-negative solve of
    :mod:`kehu_forecast.mint`.
    """
    if method == "bottom-up":
        return bottom_now
    if method in ("top-down", "middle-out"):
        nodes = h.levels["company"] if method == "top-down" else h.levels[middle_level]
        # A negative figure (a growth rate over a month of net refunds) plans nothing.
        return split_down(h, np.maximum(y_hat, 0.0), nodes, proportions, history, bottom_now)
    return mint.nonnegative(h, y_hat, mint.METHODS[method]).bottom


def round_plan(h: H.Hierarchy, bottom: np.ndarray, anchor: str = "company") -> np.ndarray:
    """Customer cents from reconciled customer values, rounded within each parent.

    The ``anchor`` level (the company; the middle level for middle-out) keeps its own values
    rounded to the cent; each level below gets its parent's cents by largest remainder over
    its own values (:func:`kehu_forecast.money.round_down_tree`). Every level adds up to the
    cent, and no node is more than a cent from its share of its parent.
    """
    values = h.aggregate(np.asarray(bottom, dtype=float))
    k = H.LEVELS.index(anchor)
    cents = round_down_tree(h.parent, [h.levels[lv] for lv in H.LEVELS[k:]], values)
    return cents[h.levels["customer"]]


@frozen
class UpperForecasts:
    """Every node's own forecast (nodes × periods, yuan) and its model's standard deviation."""

    mean: np.ndarray
    sigma: np.ndarray


def upper_forecasts(session: Session, bu: Plan, nodes: np.ndarray | None = None) -> UpperForecasts:
    """Every node's forecast of its own aggregated history plus its pipeline (nodes × periods, yuan).

    Customer rows keep the bottom-up run's values (and a zero sigma: the customers' spread is
    the bottom-up run's); upper nodes are modelled with the run's method settings on the
    history the run was made from (``nodes``, default :func:`run_history`).
    """
    h = bu.hierarchy
    y = run_history(session, bu) if nodes is None else nodes
    upper = h.levels["customer"][0] if h.n_bottom else len(h.keys)
    result = bu.value.astype(float) / 100
    sigma = np.zeros(result.shape)
    if y.shape[1] and upper:
        params = bu.params
        fc = E.forecast(
            y[:upper],
            bu.freq,
            len(bu.periods),
            bu.periods[0],
            method=params.get("method") or "auto",
            regular=params.get("regular") or "theta",
            intermittent=params.get("intermittent"),
        )
        pipe = (bu.pipeline[:upper].astype(float) / 100) if bu.pipeline is not None else 0.0
        result[:upper] = fc.mean + pipe
        sigma[:upper] = fc.sigma
    return UpperForecasts(mean=result, sigma=sigma)


def reconcile(
    session: Session,
    method: str,
    *,
    proportions: str = "average_proportions",
    middle_level: str = "region",
    bu_run: int | None = None,
    td_run: int | None = None,
) -> Plan:
    """The reconciled plan (unsaved) from the bottom-up run and, where useful, the top-down run."""
    method = pick("method", method, METHOD_NAMES)
    proportions = pick("proportions", proportions, PROPORTION_NAMES)
    middle_level = pick("middle-level", middle_level, MIDDLE_LEVEL_NAMES)
    bu = load(session, bu_run, kind="bottomup")
    if td_run is None and latest_run(session, "topdown") is not None:
        td_run = latest_run(session, "topdown")
    td = load(session, td_run, kind="topdown") if td_run is not None else None
    if td is not None and (td.freq != bu.freq or td.periods[0] != bu.periods[0]):
        td = None  # a top-down run for other periods cannot inform this one
    h = bu.hierarchy
    nodes = run_history(session, bu)
    history = nodes[h.levels["customer"]]
    own = upper_forecasts(session, bu, nodes)
    y_hat = own.mean if method != "bottom-up" else bu.value.astype(float) / 100
    sources = {"bottomup_run": bu.run_id, "topdown_run": td.run_id if td else None}
    if td is not None:
        horizon = min(len(td.periods), len(bu.periods))
        index = td.hierarchy.index()
        for level in ("company", "region") if td.params.get("dimension") == "region" else ("company",):
            for i in h.levels[level]:
                k = index.get((level, h.keys[i]))
                if k is not None:
                    y_hat[i, :horizon] = td.value[k, :horizon] / 100
    bottom_now = bu.bottom().astype(float) / 100
    recent = history[:, -12:] if method in ("top-down", "middle-out") else None
    bottom = combine(
        h, method, y_hat, bottom_now, proportions=proportions, history=recent, middle_level=middle_level
    )
    cents = round_plan(h, bottom, middle_level if method == "middle-out" else "company")
    label = method + (f" ({proportions})" if method in ("top-down", "middle-out") else "")
    label += f" at {middle_level}" if method == "middle-out" else ""
    plan = Plan.from_bottom(
        h,
        cents,
        kind="reconciled",
        method=label,
        freq=bu.freq,
        periods=bu.periods,
        history_end=bu.history_end,
        base=(y_hat * 100).round().astype(np.int64),
        pipeline=bu.pipeline,
        models=bu.models,
        params={
            "method": method,
            "proportions": proportions,
            "middle_level": middle_level,
            "history_start": bu.params.get("history_start"),
            "history_periods": bu.params.get("history_periods"),
            "scenario": _scenario_label(bu),
            **sources,
        },
    )
    plan.low, plan.high = scenarios(session, bu, plan, own.sigma, history)
    return plan


def _scenario_label(bu: Plan) -> str:
    if bu.params.get("scenario") == "stated adjustments":
        return "stated adjustments"
    return "80% interval: each node's own model, with the pipeline's p(1-p)·amount²"


def scenarios(
    session: Session, bu: Plan, plan: Plan, upper_sigma: np.ndarray, history: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The reconciled plan's pessimistic and optimistic values (cents) at every node.

    With stated adjustments in the bottom-up run, the same adjustments of the reconciled
    value. Otherwise the 80% band of :mod:`kehu_forecast.intervals`: customers keep the
    bottom-up run's model spread (a spread for one-purchase customers), upper nodes their
    own model's, and the pipeline its p(1 − p)·amount² under each node.
    """
    params = bu.params
    if params.get("scenario") == "stated adjustments":
        up, down = params.get("optimistic") or 0.0, params.get("pessimistic") or 0.0
        high = np.rint(plan.value * (1 + float(up))).astype(np.int64)
        low = np.maximum(np.rint(plan.value * (1 + float(down))), 0).astype(np.int64)
        return low, high
    h = bu.hierarchy
    cust = h.levels["customer"]
    _, pipe_var = pipeline_by_period(
        session, h.customer_ids, bu.periods, bu.freq, _as_of(params.get("as_of"))
    )
    if not params.get("pipeline", True):
        pipe_var = np.zeros(pipe_var.shape)
    pipe_mean = bu.pipeline[cust] if bu.pipeline is not None else 0
    model_mean = np.maximum((bu.bottom() - pipe_mean).astype(float) / 100, 0.0)
    customer_sigma = np.zeros(model_mean.shape)
    if bu.high is not None:
        variance = np.square(np.maximum(bu.high[cust] - bu.value[cust], 0).astype(float) / 100 / Z80)
        if params.get(intervals.PIPELINE_VARIANCE):
            variance = variance - pipe_var[: len(cust)]  # the run's band has it already
        customer_sigma = np.sqrt(np.maximum(variance, 0.0))
    customer_sigma = intervals.one_purchase_sigma(history, model_mean, customer_sigma)
    sigma = intervals.node_sigma(h, customer_sigma, upper_sigma)
    return intervals.bands(plan.value, sigma, h.aggregate(pipe_var))


def _as_of(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None
