"""Rolling-origin backtest: MASE, sMAPE and the 80% band's coverage per method, against
seasonal naive, on equal folds.

The origins are the last ``folds × horizon`` periods, stepping by ``horizon``. At every
origin, every method is tried on every series, fitted on that series' history from its first
purchase up to the origin (the zeros before a customer's first purchase are not demand and
are never fitted), and scored on the ``horizon`` periods after it.

* A series with no purchase before an origin is not scored there (by any method).
* A method that cannot fit a series at an origin (its history from the first purchase is
  shorter than the method needs: seasonal naive needs 13 months or 53 weeks; or the library
  cannot fit it) is counted in ``unfitted`` for that method; it does not stop the backtest.
* MASE = mean |error| / mean |y_t − y_{t−m}| over the series' training history from its first
  purchase (m = 12 months or 52 weeks when that history is longer than one season, else 1),
  averaged over every fitted series and origin; series whose scale is zero are not scored.
  Values below 1 beat the in-sample seasonal naive.
* ``relative_mase`` is the method's mean MASE over the series and origins seasonal naive was
  also fitted at, divided by seasonal naive's over the same ones (equal folds).
* sMAPE = mean of 200·|error| / (|y| + |ŷ|) over points where both are not zero (0 to 200).
* ``coverage`` is the share (in percent) of scored points inside the method's 80% band: the
  model's own level-80 prediction interval (theta, ets, snaive, average), or the forecast ±
  1.2816 × the series' spread for the Croston-type models, which give no interval.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
from attrs import frozen
from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.errors import Problem, ValidationError
from kehu_core.i18n import messages
from kehu_forecast import classify as C
from kehu_forecast import engine as E
from kehu_forecast import hierarchy as H
from kehu_forecast import periods as P
from kehu_forecast.history import load_history
from kehu_forecast.names import pick
from kehu_forecast.visibility import require_levels

_ = messages("kehu_forecast").gettext

DEFAULT_METHODS = ("auto", "theta", "ets", "croston", "snaive")
#: Methods fitted on every series at once, which find each customer's first purchase
#: themselves (``auto``'s customer-base model is fitted across the customers).
TOGETHER = ("auto", "bgnbd")
#: A progress callback: ``(steps done, steps in all)``.
ProgressFn = Callable[[int, int], None]


@frozen
class Score:
    """One method's scores over every series and origin it could be fitted at."""

    method: str
    mase: float | None
    smape: float | None
    relative_mase: float | None
    #: Percent of scored points inside the 80% band.
    coverage: float | None
    #: Series scored at least once.
    series: int
    #: Series × origins scored.
    fitted: int
    #: Series × origins with history the method could not be fitted on (too short).
    unfitted: int


def _scale(train: np.ndarray, season: int) -> float:
    """The in-sample (seasonal) naive mean absolute error of one series' training history."""
    m = season if len(train) > season else 1
    return float(np.abs(train[m:] - train[:-m]).mean()) if len(train) > m else 0.0


def _check_options(horizon: int, folds: int, methods: tuple[str, ...]) -> None:
    """Refuse a horizon or folds under 1 and unknown methods, in one line naming the field."""
    if horizon < 1 or folds < 1:
        raise ValidationError([Problem("horizon" if horizon < 1 else "folds", _("must be at least 1"))])
    for method in methods:
        if method not in E.METHODS:
            raise ValidationError(
                [
                    Problem(
                        "methods",
                        _("unknown method; choose from {accepted}").format(
                            accepted=E.METHOD_NAMES.accepted()
                        ),
                        value=method,
                    )
                ]
            )


def _first_origin(
    values: np.ndarray, freq: P.Freq, horizon: int, folds: int, methods: tuple[str, ...]
) -> int:
    """The first origin, or a one-line refusal when no method can be fitted there."""
    _check_options(horizon, folds, methods)
    t = values.shape[1]
    first_origin = t - folds * horizon
    need = min(E.min_periods(m, freq) for m in methods)
    if first_origin < need:
        raise ValidationError(
            [
                Problem(
                    "history",
                    (
                        _(
                            "too short for {folds} fold(s) of {horizon} month(s): "
                            "{t} month(s) of sales history, at least {need} needed "
                            "(fewer --folds or a shorter --horizon)"
                        )
                        if freq == "month"
                        else _(
                            "too short for {folds} fold(s) of {horizon} week(s): "
                            "{t} week(s) of sales history, at least {need} needed "
                            "(fewer --folds or a shorter --horizon)"
                        )
                    ).format(folds=folds, horizon=horizon, t=t, need=folds * horizon + need),
                )
            ]
        )
    return first_origin


#: What the library raises on a series it cannot fit (too few points for a model, a singular
#: fit): that series is reported as not fitted at that origin.
FIT_ERRORS = (ValueError, ArithmeticError, NotImplementedError, np.linalg.LinAlgError, ValidationError)
Group = tuple[np.ndarray, np.ndarray, np.ndarray]


def _fit(
    train: np.ndarray,
    rows: np.ndarray,
    keep: np.ndarray,
    freq: P.Freq,
    horizon: int,
    day: date,
    method: str,
) -> list[Group]:
    """``(rows, mean, sigma)`` of the kept series the method could be fitted on: in one call,
    or, when the library refuses the group, one series at a time (fitted together for the
    methods in :data:`TOGETHER`, so those are all or nothing)."""
    if not len(rows) or not keep.any():
        return []
    try:
        fc = E.forecast(train, freq, horizon, day, method=method)
        return [(rows[keep], fc.mean[keep], fc.sigma[keep])]
    except FIT_ERRORS:
        if method in TOGETHER or len(rows) == 1:
            return []
    groups: list[Group] = []
    for i in np.flatnonzero(keep):
        groups += _fit(train[i : i + 1], rows[i : i + 1], keep[i : i + 1], freq, horizon, day, method)
    return groups


def backtest(
    values: np.ndarray,
    freq: P.Freq,
    *,
    horizon: int = 3,
    folds: int = 3,
    methods: tuple[str, ...] = DEFAULT_METHODS,
    first_period: date | None = None,
    progress: ProgressFn | None = None,
) -> list[Score]:
    """Score ``methods`` on ``values`` (series × periods) by rolling origin, on equal folds.

    ``progress`` is called with ``(done, total)`` after each method at each origin.
    """
    values = np.asarray(values, dtype=float)
    first_origin = _first_origin(values, freq, horizon, folds, methods)
    season = P.SEASON[freq]
    start_day = first_period or date(2000, 1, 1)
    n = values.shape[0]
    # Per method and origin: each series' MASE, sMAPE terms, covered points; NaN = not scored.
    mase = {m: np.full((folds, n), np.nan) for m in methods}
    smape: dict[str, list[np.ndarray]] = {m: [] for m in methods}
    inside: dict[str, list[np.ndarray]] = {m: [] for m in methods}
    unfitted = dict.fromkeys(methods, 0)
    total_steps, done = folds * len(methods), 0
    for k in range(folds):
        origin = first_origin + k * horizon
        train, test = values[:, :origin], values[:, origin : origin + horizon]
        start = C.active_start(train)
        scale = np.array([_scale(train[i, start[i] :], season) for i in range(n)])
        scored = (start < origin) & (scale > 0)
        for method in methods:
            fits = scored & (origin - start >= E.min_periods(method, freq))
            unfitted[method] += int((scored & ~fits).sum())
            day = calendar.shift(start_day, origin, freq)
            if method in TOGETHER:
                bought = np.flatnonzero(start < origin)
                groups = _fit(train[bought], bought, fits[bought], freq, horizon, day, method)
            else:
                groups = []
                for s in np.unique(start[fits]):
                    rows = np.flatnonzero(fits & (start == s))
                    groups += _fit(
                        train[rows, s:], rows, np.ones(len(rows), bool), freq, horizon, day, method
                    )
            failed = int(fits.sum()) - sum(len(g[0]) for g in groups)
            unfitted[method] += failed
            for rows, mean, sigma in groups:
                err = np.abs(test[rows] - mean)
                mase[method][k, rows] = err.mean(axis=1) / scale[rows]
                denom = np.abs(test[rows]) + np.abs(mean)
                with np.errstate(divide="ignore", invalid="ignore"):
                    terms = np.where(denom > 0, 200 * err / denom, np.nan)
                smape[method].append(terms[~np.isnan(terms)])
                half = E.Z80 * sigma
                inside[method].append(((test[rows] >= mean - half) & (test[rows] <= mean + half)).reshape(-1))
            done += 1
            if progress is not None:
                progress(done, total_steps)
    base = mase.get("snaive")
    scores = []
    for m in methods:
        got = ~np.isnan(mase[m])
        terms = np.concatenate(smape[m]) if smape[m] else np.zeros(0)
        hits = np.concatenate(inside[m]) if inside[m] else np.zeros(0, dtype=bool)
        relative = None
        if base is not None:
            both = got & ~np.isnan(base)
            if both.any() and base[both].mean() > 0:
                relative = round(float(mase[m][both].mean() / base[both].mean()), 4)
        scores.append(
            Score(
                method=m,
                mase=round(float(mase[m][got].mean()), 4) if got.any() else None,
                smape=round(float(terms.mean()), 2) if terms.size else None,
                relative_mase=relative,
                coverage=round(100 * float(hits.mean()), 1) if hits.size else None,
                series=int(got.any(axis=0).sum()),
                fitted=int(got.sum()),
                unfitted=unfitted[m],
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
    history: int | None = None,
    progress: ProgressFn | None = None,
) -> list[Score]:
    """Rolling-origin backtest on the sales history at one level: MASE, sMAPE and the 80% band's
    coverage per method, and MASE relative to seasonal naive (added when not among ``methods``).

    ``history`` is the number of periods of history to use (default: all of it, from the first
    purchase); the folds are the last ``folds × horizon`` of them. Archived and forgotten
    customers' past sales count at the levels above the customer. Only the customers the
    acting user sees count; the region and company levels need permission ``forecast.company``.
    Nothing is stored, so no other permission is needed. ``progress`` is called with
    ``(done, total)`` steps.
    """
    level = pick("level", level, H.LEVEL_NAMES)
    require_levels(session, [level])
    freq = P.check_freq(freq)
    methods = tuple(pick("methods", m, E.METHOD_NAMES) for m in methods)
    if "snaive" not in methods:
        methods = (*methods, "snaive")
    _check_options(horizon, folds, methods)
    loaded = load_history(session, freq, as_of=as_of, length=history, visible=True)
    h = H.build(loaded.customers)
    series = loaded.node_values(h)[h.levels[level]]
    first = loaded.periods[0] if loaded.periods else None
    return backtest(
        series,
        loaded.freq,
        horizon=horizon,
        folds=folds,
        methods=methods,
        first_period=first,
        progress=progress,
    )
