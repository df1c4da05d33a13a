"""Rolling-origin backtest: MASE and sMAPE per method, against seasonal naive.

For each of ``folds`` origins (the last ``folds × horizon`` periods, stepping by
``horizon``), every method is fitted on the history before the origin and scored on the
``horizon`` periods after it.

* MASE = mean |error| / mean |y_t − y_{t−m}| over the training history (m = 12 months or
  52 weeks when the history has more than one season, else 1); series whose scale is zero
  are skipped. Values below 1 beat the in-sample seasonal naive.
* sMAPE = mean of 200·|error| / (|y| + |ŷ|) over points where both are not zero (0 to 200).
"""

from __future__ import annotations

from datetime import date

import numpy as np
from attrs import frozen
from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.errors import Problem, ValidationError
from kehu_forecast import engine as E
from kehu_forecast import hierarchy as H
from kehu_forecast import periods as P
from kehu_forecast.history import load_history
from kehu_forecast.visibility import require_levels

DEFAULT_METHODS = ("auto", "theta", "ets", "croston", "snaive")


@frozen
class Score:
    """One method's scores over every series and fold."""

    method: str
    mase: float | None
    smape: float | None
    relative_mase: float | None
    series: int


def _scale(train: np.ndarray, season: int) -> np.ndarray:
    m = season if train.shape[1] > season else 1
    return np.abs(train[:, m:] - train[:, :-m]).mean(axis=1) if train.shape[1] > m else np.zeros(len(train))


def backtest(
    values: np.ndarray,
    freq: P.Freq,
    *,
    horizon: int = 3,
    folds: int = 3,
    methods: tuple[str, ...] = DEFAULT_METHODS,
    first_period: date | None = None,
) -> list[Score]:
    """Score ``methods`` on ``values`` (series × periods) by rolling origin."""
    values = np.asarray(values, dtype=float)
    t = values.shape[1]
    if horizon < 1 or folds < 1:
        raise ValidationError([Problem("horizon" if horizon < 1 else "folds", "must be at least 1")])
    first_origin = t - folds * horizon
    for method in methods:
        E.check_length(method, freq, max(first_origin, 0), field="history")
    season = P.SEASON[freq]
    start = first_period or date(2000, 1, 1)
    abs_err: dict[str, list[np.ndarray]] = {m: [] for m in methods}
    sm: dict[str, list[np.ndarray]] = {m: [] for m in methods}
    for k in range(folds):
        origin = first_origin + k * horizon
        train, test = values[:, :origin], values[:, origin : origin + horizon]
        scale = _scale(train, season)
        ok = scale > 0
        for method in methods:
            fc = E.forecast(train, freq, horizon, calendar.shift(start, origin, freq), method=method).mean
            err = np.abs(test - fc)
            abs_err[method].append(err[ok].mean(axis=1) / scale[ok])
            denom = np.abs(test) + np.abs(fc)
            with np.errstate(divide="ignore", invalid="ignore"):
                s = np.where(denom > 0, 200 * err / denom, np.nan)
            sm[method].append(s[~np.isnan(s)])
    scores = []
    base = None
    means = {
        m: float(np.concatenate(abs_err[m]).mean()) if np.concatenate(abs_err[m]).size else None
        for m in methods
    }
    base = means.get("snaive")
    for m in methods:
        smape = np.concatenate(sm[m])
        mase = means[m]
        scores.append(
            Score(
                method=m,
                mase=None if mase is None else round(mase, 4),
                smape=round(float(smape.mean()), 2) if smape.size else None,
                relative_mase=round(mase / base, 4) if base and mase is not None else None,
                series=int(values.shape[0]),
            )
        )
    return scores


def backtest_history(
    session: Session,
    *,
    level: str = "salesperson",
    freq: str = "month",
    horizon: int = 3,
    folds: int = 3,
    methods: tuple[str, ...] = DEFAULT_METHODS,
    as_of: date | None = None,
) -> list[Score]:
    """Rolling-origin backtest on the sales history at one level: MASE and sMAPE per method, and
    MASE relative to seasonal naive (added when not among ``methods``).

    Only the customers the acting user sees count; the region and company levels need
    permission ``forecast.company``. Nothing is stored, so no other permission is needed.
    """
    if level not in H.LEVELS:
        raise ValidationError([Problem("level", f"must be one of {', '.join(H.LEVELS)}", value=level)])
    require_levels(session, [level])
    for m in methods:
        if m not in E.METHODS:
            raise ValidationError(
                [Problem("methods", f"unknown method; choose from {', '.join(E.METHODS)}", value=m)]
            )
    if "snaive" not in methods:
        methods = (*methods, "snaive")
    history = load_history(session, freq, as_of=as_of, visible=True)
    h = H.build(history.customers)
    order = {int(c): i for i, c in enumerate(history.customers["id"])}
    bottom = history.values[[order[int(c)] for c in h.customer_ids]] if len(order) else history.values
    series = h.aggregate(bottom)[h.levels[level]] if h.n_bottom else bottom
    first = history.periods[0] if history.periods else None
    return backtest(series, history.freq, horizon=horizon, folds=folds, methods=methods, first_period=first)
