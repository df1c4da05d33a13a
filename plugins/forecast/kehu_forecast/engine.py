"""Base forecasts per series: Nixtla's statsforecast for regular series, the customer-base
model (:mod:`kehu_forecast.customerbase`, BG/NBD with Gamma-Gamma) for customers who buy now
and then.

Series are grouped by the model their demand class calls for, and each statsforecast group
goes to the library in one ``StatsForecast.forecast`` call over a long data frame, which is
how the library is fastest. Every series starts at its first purchase (leading zeros are not
demand). Negative periods (net refunds) count as zero demand for the series models.

``auto`` chooses per customer (see :func:`choose`):

* smooth or erratic (a purchase in most periods, ADI < 1.32), at least 6 periods since the
  first purchase, and a purchase within the last 6 months (26 weeks): AutoTheta (or AutoETS);
* intermittent, lumpy, short (new), dormant: the customer-base model ``bgnbd``, fitted on
  these customers; with fewer than 20 of them it is not fitted and these classes keep the
  series models (Croston, ADIDA, historic average, TSB for dormant);
* no purchase: zero.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from attrs import frozen
from statsforecast import StatsForecast
from statsforecast import models as M

from kehu_core import calendar
from kehu_core.errors import Problem, ValidationError
from kehu_forecast import classify as C
from kehu_forecast import customerbase as CB
from kehu_forecast import distributed
from kehu_forecast import periods as P

#: Methods a user can ask for; ``auto`` picks per series by demand class and history.
METHODS = ("auto", "theta", "ets", "croston", "adida", "tsb", "snaive", "average", "bgnbd")
INTERMITTENT = ("croston", "adida", "tsb")
#: The model ``auto`` gives customers who buy now and then.
CUSTOMER_BASE = "bgnbd"
#: The fewest periods of history each method can work with.
MIN_PERIODS = {
    "auto": 2,
    "theta": 6,
    "ets": 6,
    "croston": 3,
    "adida": 3,
    "tsb": 3,
    "average": 1,
    "bgnbd": 1,
}
Z80 = 1.2815515655446004  # the 90% normal quantile: an 80% two-sided interval
LEVEL = 80


@frozen
class Forecasts:
    """Point forecasts and their standard deviations (series × horizon), and the model of each."""

    mean: np.ndarray
    sigma: np.ndarray
    model: np.ndarray
    classes: np.ndarray
    #: The fitted customer-base model, when some series used it.
    customer_base: CB.CustomerBase | None = None


def min_periods(method: str, freq: str) -> int:
    """The fewest periods of history ``method`` needs."""
    return P.SEASON[freq] + 1 if method == "snaive" else MIN_PERIODS[method]


def check_length(method: str, freq: str, length: int, field: str = "history") -> None:
    """Refuse a history too short for ``method``, naming the field and both numbers."""
    if method not in METHODS:
        raise ValidationError([Problem("method", f"must be one of {', '.join(METHODS)}", value=method)])
    need = min_periods(method, freq)
    if length < need:
        hint = "record more purchases" + (", or use --method auto" if method != "auto" else "")
        raise ValidationError(
            [
                Problem(
                    field,
                    f"too short for method {method}: {length} {freq}(s) of sales history, "
                    f"at least {need} needed ({hint})",
                )
            ]
        )


def _model(name: str, season: int) -> Any:
    if name == "theta":
        return M.AutoTheta(season_length=season)
    if name == "ets":
        # Seasonal ETS only with two full seasons; the library checks the rest.
        return M.AutoETS(season_length=season)
    if name == "croston":
        return M.CrostonOptimized()
    if name == "adida":
        return M.ADIDA()
    if name == "tsb":
        return M.TSB(alpha_d=0.2, alpha_p=0.2)
    if name == "snaive":
        return M.SeasonalNaive(season_length=season)
    if name == "average":
        return M.HistoricAverage()
    raise ValueError(name)


#: Models whose intervals the library gives; the others get the series' own spread.
HAS_INTERVALS = {"theta", "ets", "snaive", "average"}


def choose(
    classes: np.ndarray,
    method: str,
    regular: str = "theta",
    intermittent: str | None = None,
    customer_base: bool = True,
) -> np.ndarray:
    """The model name of each series: fixed by ``method``, or by demand class for ``auto``.

    Under ``auto``: smooth and erratic series get ``regular``; intermittent and lumpy ones get
    ``intermittent`` when it is named, else the customer-base model; short (new) and dormant
    customers get the customer-base model. Without ``customer_base`` (too few customers to
    fit it) those classes get Croston, ADIDA, the historic average and TSB.
    """
    if method != "auto":
        chosen = np.full(len(classes), method, dtype=object)
        chosen[classes == "none"] = "zero"
        return chosen
    base = CUSTOMER_BASE if customer_base else None
    table = {
        "smooth": regular,
        "erratic": regular,
        "intermittent": intermittent or base or "croston",
        "lumpy": intermittent or base or "adida",
        "short": base or "average",
        "dormant": base or "tsb",
        "none": "zero",
    }
    return np.array([table[c] for c in classes], dtype=object)


def forecast(
    values: np.ndarray,
    freq: P.Freq,
    horizon: int,
    first_period: date,
    *,
    method: str = "auto",
    regular: str = "theta",
    intermittent: str | None = None,
    n_jobs: int = 1,
) -> Forecasts:
    """Forecast every row of ``values`` (series × periods) ``horizon`` periods ahead."""
    n, t = values.shape
    classes, _, _ = C.classify(values, dormant=C.DORMANT[freq])
    # The customer-base model is fitted on the customers it is for: regular buyers, whose
    # purchase rates are of another kind, would stretch the population's rate distribution.
    wanted = {"short", "dormant"} | (set() if intermittent else {"intermittent", "lumpy"})
    members = np.isin(classes, sorted(wanted)) if method == "auto" else classes != "none"
    needed = method == CUSTOMER_BASE or (method == "auto" and bool(members.any()))
    base = CB.fit(values[members]) if needed else None
    if method == CUSTOMER_BASE and base is None:
        raise ValidationError(
            [
                Problem(
                    "method",
                    f"bgnbd needs at least {CB.MIN_CUSTOMERS} customers with a purchase "
                    "to fit; use --method auto",
                )
            ]
        )
    models = choose(classes, method, regular, intermittent, customer_base=base is not None)
    mean = np.zeros((n, horizon))
    sigma = np.zeros((n, horizon))
    start = C.active_start(values)
    if method != "auto":
        start = np.minimum(start, 0)  # a fixed method sees the whole history
    season = P.SEASON[freq]
    for name in sorted(set(models) - {"zero", CUSTOMER_BASE}):
        rows = np.flatnonzero(models == name)
        m, s = _run_group(values[rows], start[rows], name, freq, season, horizon, first_period, n_jobs)
        mean[rows], sigma[rows] = m, s
    rows = np.flatnonzero(models == CUSTOMER_BASE)
    if len(rows) and base is not None:
        seen = CB.outlook(base, values[rows], horizon)
        mean[rows], sigma[rows] = seen.mean, seen.sigma
    return Forecasts(
        mean=np.maximum(mean, 0.0), sigma=sigma, model=models, classes=classes, customer_base=base
    )


def _run_group(
    values: np.ndarray,
    start: np.ndarray,
    name: str,
    freq: P.Freq,
    season: int,
    horizon: int,
    first_period: date,
    n_jobs: int,
) -> tuple[np.ndarray, np.ndarray]:
    """One library call for the series of one model; seasonal models get two full seasons or none."""
    n, t = values.shape
    mean = np.zeros((n, horizon))
    sigma = np.zeros((n, horizon))
    lengths = t - start
    # Seasonal naive needs one full season; the others two, or they run without seasonality.
    seasonal = lengths > season if name == "snaive" else lengths >= 2 * season
    for use_season in (True, False):
        rows = np.flatnonzero(seasonal == use_season)
        if not len(rows):
            continue
        m = season if use_season else 1
        mean[rows], sigma[rows] = _library(
            values[rows], start[rows], name, m, freq, horizon, first_period, n_jobs
        )
    return mean, sigma


def _library(
    values: np.ndarray,
    start: np.ndarray,
    name: str,
    season: int,
    freq: P.Freq,
    horizon: int,
    first_period: date,
    n_jobs: int,
) -> tuple[np.ndarray, np.ndarray]:
    n, t = values.shape
    ds = pd.date_range(
        end=pd.Timestamp(calendar.shift(first_period, -1, freq)), periods=t, freq=P.PANDAS_FREQ[freq]
    )
    mask = np.arange(t)[None, :] >= start[:, None]
    row_idx, col_idx = np.nonzero(mask)
    frame = pd.DataFrame(
        {
            "unique_id": row_idx.astype(np.int64),
            "ds": ds.values[col_idx],
            "y": np.maximum(values[row_idx, col_idx], 0.0),
        }
    )
    intervals = name in HAS_INTERVALS
    sf = StatsForecast(models=[_model(name, season)], freq=P.PANDAS_FREQ[freq], n_jobs=n_jobs)
    # Here, or on the Dask cluster of an enclosing `distributed.engine(...)` block (--engine).
    result = distributed.forecast(sf, frame, horizon, [LEVEL] if intervals else None)
    model_col = [
        c for c in result.columns if c not in ("unique_id", "ds") and "-lo-" not in c and "-hi-" not in c
    ][0]
    order = result["unique_id"].to_numpy().astype(np.int64)
    mean = np.zeros((n, horizon))
    mean[order.reshape(-1, horizon)[:, 0]] = result[model_col].to_numpy().reshape(-1, horizon)
    sigma = np.zeros((n, horizon))
    if intervals:
        hi = result[f"{model_col}-hi-{LEVEL}"].to_numpy().reshape(-1, horizon)
        lo = result[f"{model_col}-lo-{LEVEL}"].to_numpy().reshape(-1, horizon)
        sigma[order.reshape(-1, horizon)[:, 0]] = np.abs(hi - lo) / (2 * Z80)
    else:
        # Croston-type models give no interval: use the spread of the series itself.
        active = np.where(mask, np.maximum(values, 0.0), np.nan)
        sigma[:] = np.nanstd(active, axis=1)[:, None]
    return np.nan_to_num(mean), np.nan_to_num(sigma)
