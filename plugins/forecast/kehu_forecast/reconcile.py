"""Reconciliation: one plan from the bottom-up run (and the top-down run, if any) that adds up.

Methods:

* ``bottom-up``: the customers' forecasts, summed up.
* ``top-down``: the company total (the top-down run's, else the company series' own forecast)
  split to customers by proportions (``average_proportions``, ``proportion_averages``, or
  ``forecast_proportions`` = the bottom-up shares).
* ``middle-out``: forecasts at the region or salesperson level (the region figures of a
  top-down run by region where there is one), summed up above and split down below.
* ``mint-ols`` / ``mint-wls``: MinTrace optimal combination (Wickramasuriya, Athanasopoulos
  & Hyndman 2019) of the forecasts at every level, with hierarchicalforecast's sparse
  implementation; identity (ols) or structural (wls_struct) weights. Upper-level inputs are
  each node's own forecast, and the top-down figures where a top-down run gives them, so
  MinT balances 由上而下 against 由下而上 rather than picking one.

Whatever the method, the customer values are rounded to cents so that they sum to the
rounded reconciled company total, and every node is the exact sum of its customers.
"""

from __future__ import annotations

import numpy as np
from hierarchicalforecast.methods import MinTraceSparse
from sqlalchemy.orm import Session

from kehu_core.errors import Problem, ValidationError
from kehu_forecast import engine as E
from kehu_forecast import hierarchy as H
from kehu_forecast.history import load_history
from kehu_forecast.money import round_coherent
from kehu_forecast.plan import Plan, load
from kehu_forecast.runs import latest_run
from kehu_forecast.topdown import proportions as historical

METHODS = ("bottom-up", "top-down", "middle-out", "mint-ols", "mint-wls")
PROPORTIONS = ("average_proportions", "proportion_averages", "forecast_proportions")


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


def recent_history(session: Session, plan: Plan, window: int = 12) -> np.ndarray:
    """The customers' last ``window`` periods of history before the plan (customers × periods)."""
    history = load_history(session, plan.freq, as_of=plan.periods[0])
    src = {int(c): i for i, c in enumerate(history.customers["id"])}
    y = np.zeros((plan.hierarchy.n_bottom, min(window, len(history.periods))))
    for i, cid in enumerate(plan.hierarchy.customer_ids):
        k = src.get(int(cid))
        if k is not None and y.shape[1]:
            y[i] = history.values[k, -y.shape[1] :]
    return y


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
    """
    if method == "bottom-up":
        return bottom_now
    if method in ("top-down", "middle-out"):
        nodes = h.levels["company"] if method == "top-down" else h.levels[middle_level]
        return split_down(h, y_hat, nodes, proportions, history, bottom_now)
    tags = {level: h.levels[level] for level in H.LEVELS}
    result = MinTraceSparse(method="ols" if method == "mint-ols" else "wls_struct").fit_predict(
        S=h.S.astype(float), y_hat=y_hat, tags=tags
    )
    return np.asarray(result["mean"])[h.levels["customer"]]


def upper_forecasts(session: Session, bu: Plan) -> np.ndarray:
    """Every node's forecast of its own aggregated history plus its pipeline (nodes × periods, yuan).

    Customer rows keep the bottom-up run's values; upper nodes are modelled with the run's
    method settings on the history the run was made from.
    """
    h = bu.hierarchy
    history = load_history(session, bu.freq, as_of=bu.periods[0])
    src = {int(c): i for i, c in enumerate(history.customers["id"])}
    y = np.zeros((h.n_bottom, len(history.periods)))
    for i, cid in enumerate(h.customer_ids):
        k = src.get(int(cid))
        if k is not None:
            y[i] = history.values[k]
    upper = h.levels["customer"][0] if h.n_bottom else len(h.keys)
    result = bu.value.astype(float) / 100
    if len(history.periods) and upper:
        params = bu.params
        fc = E.forecast(
            np.asarray(h.S @ y)[:upper],
            bu.freq,
            len(bu.periods),
            bu.periods[0],
            method=params.get("method") or "auto",
            regular=params.get("regular") or "theta",
            intermittent=params.get("intermittent"),
        )
        pipe = (bu.pipeline[:upper].astype(float) / 100) if bu.pipeline is not None else 0.0
        result[:upper] = fc.mean + pipe
    return result


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
    if method not in METHODS:
        raise ValidationError([Problem("method", f"must be one of {', '.join(METHODS)}", value=method)])
    if proportions not in PROPORTIONS:
        raise ValidationError(
            [Problem("proportions", f"must be one of {', '.join(PROPORTIONS)}", value=proportions)]
        )
    if middle_level not in ("region", "salesperson"):
        raise ValidationError([Problem("middle-level", "must be region or salesperson", value=middle_level)])
    bu = load(session, bu_run, kind="bottomup")
    if td_run is None and latest_run(session, "topdown") is not None:
        td_run = latest_run(session, "topdown")
    td = load(session, td_run, kind="topdown") if td_run is not None else None
    if td is not None and (td.freq != bu.freq or td.periods[0] != bu.periods[0]):
        td = None  # a top-down run for other periods cannot inform this one
    h = bu.hierarchy
    y_hat = (
        upper_forecasts(session, bu)
        if method in ("top-down", "middle-out", "mint-ols", "mint-wls")
        else bu.value.astype(float) / 100
    )
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
    history = (
        recent_history(session, bu)
        if method in ("top-down", "middle-out") and proportions != "forecast_proportions"
        else None
    )
    bottom = combine(
        h, method, y_hat, bottom_now, proportions=proportions, history=history, middle_level=middle_level
    )
    cents = round_coherent(bottom)
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
            "scenario": "the bottom-up run's spread around the reconciled value",
            **sources,
        },
    )
    if bu.low is not None and bu.high is not None:
        # Scenarios keep the bottom-up run's spread at each node, around the reconciled value.
        plan.low = np.maximum(plan.value - (bu.value - bu.low), 0)
        plan.high = plan.value + (bu.high - bu.value)
    return plan
