"""Base forecasts per series: Nixtla's statsforecast for regular series, the customer-base
model (:mod:`kehu_forecast.customerbase`, BG/NBD with Gamma-Gamma) for customers who buy now
and then.

Series are grouped by the model their demand class calls for, and each statsforecast group
goes to the library in one ``StatsForecast.forecast`` call over a long data frame, which is
how the library is fastest. Every series, under every method, starts at its first purchase
(the zeros before it are not demand). History is net: a period whose refunds exceed its
purchases is fitted as the negative amount it is; only the forecast is clipped at zero.

A series whose history from its first purchase is shorter than its model needs
(:data:`MIN_PERIODS`: AutoETS 7 periods, AutoTheta 6, Croston, ADIDA and TSB 3) is
forecast by its historic average, and the run's model column says ``average``.

The 80% band: with at least ``5 × horizon`` periods of history beyond the model's minimum,
split conformal intervals (statsforecast's ``ConformalIntervals``: the model refitted at the
last 5 to 8 origins, one horizon apart, and its errors there give the band, see
:func:`conformal_windows`); with less, the model's own interval (AutoTheta, AutoETS,
seasonal naive, historic average), or the forecast ± 1.2816 × the series' spread for
Croston, ADIDA and TSB, which have none. The customer-base model's band is its own
(:func:`kehu_forecast.customerbase.outlook`).

``auto`` chooses per customer (see :func:`choose`):

* smooth or erratic (a purchase in most periods, ADI < 1.32), at least 6 periods since the
  first purchase, and a purchase within the last 6 months (26 weeks): AutoTheta (or AutoETS);
* intermittent, lumpy, short (new), dormant: the customer-base model ``bgnbd``, fitted on
  these customers; with fewer than 20 of them it is not fitted and these classes keep the
  series models (Croston, ADIDA, historic average, TSB for dormant);
* no purchase: zero.

With ``n_jobs`` above 1 (``kehu forecast run --jobs``), the library's series go to a pool of
worker processes that kehu starts once per run (:func:`workers`) and keeps for every model
and level: each worker is a fork of this process (nothing imported again), is limited to one
BLAS/OpenMP thread (two workers do not fight over two cores), and gets the series in chunks
(:data:`CHUNKS_PER_JOB` per worker) that it forecasts with ``StatsForecast(n_jobs=1)``. Each
series is fitted on its own, so the forecasts are those of a run with one process, to the
bit. While the workers fit, this process fits the customer-base model. :func:`start` queues a
call's series with the workers and returns at once (:meth:`Started.result` collects them), so
a bottom-up run queues the customers' models and, right behind them, the upper nodes' (for
their bands): the workers go from one to the other without waiting for this process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from attrs import define, frozen
from statsforecast import StatsForecast
from statsforecast import models as M
from statsforecast.utils import ConformalIntervals
from threadpoolctl import threadpool_limits

from kehu_core import calendar
from kehu_core.choices import Choice, Vocabulary
from kehu_core.errors import Problem, ValidationError
from kehu_core.i18n import N_, messages
from kehu_forecast import classify as C
from kehu_forecast import customerbase as CB
from kehu_forecast import distributed
from kehu_forecast import periods as P

_ = messages("kehu_forecast").gettext

#: Methods a user can ask for; ``auto`` picks per series by demand class and history.
METHODS = ("auto", "theta", "ets", "croston", "adida", "tsb", "snaive", "average", "bgnbd")
#: The forecasting methods; the models keep their names, the plain ones have Chinese names too.
METHOD_NAMES = Vocabulary(
    "kehu_forecast",
    N_("method"),
    [
        Choice("auto", N_("auto"), aliases=("自动",)),
        Choice("theta", "theta"),
        Choice("ets", "ets"),
        Choice("croston", "croston"),
        Choice("adida", "adida"),
        Choice("tsb", "tsb"),
        Choice("snaive", N_("seasonal naive"), aliases=("季节朴素", "季节性朴素")),
        Choice("average", N_("average"), aliases=("平均", "平均值")),
        Choice("bgnbd", "bgnbd"),
    ],
)
INTERMITTENT = ("croston", "adida", "tsb")
#: The model ``auto`` gives customers who buy now and then.
CUSTOMER_BASE = "bgnbd"
#: The fewest periods of history each method can work with.
MIN_PERIODS = {
    "auto": 2,
    "theta": 6,
    # AutoETS refuses n <= parameters + 4 ("tiny datasets"): simple exponential smoothing
    # has 2 (alpha and the initial level), so 7 is the fewest it fits.
    "ets": 7,
    "croston": 3,
    "adida": 3,
    "tsb": 3,
    "average": 1,
    "bgnbd": 1,
}
Z80 = 1.2815515655446004  # the 90% normal quantile: an 80% two-sided interval
LEVEL = 80
#: Conformal windows: at least this many horizons of history beyond the model's minimum ...
CONFORMAL_MIN_WINDOWS = 5
#: ... and no more than this many (older windows say little about the next horizon).
CONFORMAL_MAX_WINDOWS = 8
#: A progress callback: ``(series done, series in all)``.
ProgressFn = Callable[[int, int], None]
#: Chunks of series per worker process: enough that the workers finish together (series
#: differ in cost), few enough that each is worth sending to a process.
CHUNKS_PER_JOB = 16
#: The fewest series in a chunk.
MIN_CHUNK = 16
#: Thread pools each worker process keeps to one thread (read by the libraries that start later).
ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


@frozen
class Workers:
    """A pool of worker processes for the library's models, and how many it has."""

    pool: ProcessPoolExecutor
    jobs: int


_WORKERS: ContextVar[Workers | None] = ContextVar("kehu_forecast_workers", default=None)


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
        raise ValidationError(
            [
                Problem(
                    "method",
                    _("must be one of {accepted}").format(accepted=METHOD_NAMES.accepted()),
                    value=method,
                )
            ]
        )
    need = min_periods(method, freq)
    if length < need:
        hint = (
            _("record more purchases, or use --method auto")
            if method != "auto"
            else _("record more purchases")
        )
        raise ValidationError(
            [
                Problem(
                    field,
                    (
                        _(
                            "too short for method {method}: {length} month(s) of sales history, "
                            "at least {need} needed ({hint})"
                        )
                        if freq == "month"
                        else _(
                            "too short for method {method}: {length} week(s) of sales history, "
                            "at least {need} needed ({hint})"
                        )
                    ).format(method=method, length=length, need=need, hint=hint),
                )
            ]
        )


def _model(name: str, season: int, intervals: ConformalIntervals | None = None) -> Any:
    """The statsforecast model ``name``, with conformal intervals when they are given."""
    if name == "theta":
        return M.AutoTheta(season_length=season, prediction_intervals=intervals)
    if name == "ets":
        # Seasonal ETS only with two full seasons; the library checks the rest.
        return M.AutoETS(season_length=season, prediction_intervals=intervals)
    if name == "croston":
        return M.CrostonOptimized(prediction_intervals=intervals)
    if name == "adida":
        return M.ADIDA(prediction_intervals=intervals)
    if name == "tsb":
        return M.TSB(alpha_d=0.2, alpha_p=0.2, prediction_intervals=intervals)
    if name == "snaive":
        return M.SeasonalNaive(season_length=season, prediction_intervals=intervals)
    if name == "average":
        return M.HistoricAverage(prediction_intervals=intervals)
    raise ValueError(name)


def conformal_windows(name: str, freq: str, length: np.ndarray, horizon: int) -> np.ndarray:
    """Conformal windows each series gets: ``(length − minimum) // horizon`` capped at
    :data:`CONFORMAL_MAX_WINDOWS`, or 0 (the model's own interval) when under
    :data:`CONFORMAL_MIN_WINDOWS`. ``length`` counts periods from the first purchase; the
    minimum is :func:`min_periods` (so the earliest window still has what the model needs)."""
    extra = (np.asarray(length) - min_periods(name, freq)) // horizon
    windows = np.minimum(extra, CONFORMAL_MAX_WINDOWS)
    return np.where(windows >= CONFORMAL_MIN_WINDOWS, windows, 0).astype(int)


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
    progress: ProgressFn | None = None,
) -> Forecasts:
    """Forecast every row of ``values`` (series × periods) ``horizon`` periods ahead.

    ``n_jobs`` above 1 runs the library's models in worker processes (:func:`workers`; the
    pool of an enclosing ``workers`` block, else one for this call), with the same results.
    ``progress`` is called with ``(series done, series in all)``: first for the series with
    no purchase, then after each group (each chunk, with workers) of series the library (or
    the customer-base model) has forecast."""
    with workers(n_jobs):
        return start(
            values,
            freq,
            horizon,
            first_period,
            method=method,
            regular=regular,
            intermittent=intermittent,
            n_jobs=n_jobs,
            progress=progress,
        ).result()


def start(
    values: np.ndarray,
    freq: P.Freq,
    horizon: int,
    first_period: date,
    *,
    method: str = "auto",
    regular: str = "theta",
    intermittent: str | None = None,
    n_jobs: int = 1,
    progress: ProgressFn | None = None,
) -> Started:
    """Begin :func:`forecast`: its forecasts come from :meth:`Started.result`.

    Inside a :func:`workers` block with a pool, the library's series go to the workers now, in
    chunks queued behind those of earlier calls, so that a run can queue the customers' and
    the upper nodes' models together and keep both workers busy while this process fits the
    customer-base model and reads the pipeline; :meth:`Started.result` must then be called
    inside the same block. Without a pool, the models run in :meth:`Started.result` (with
    ``StatsForecast(n_jobs=n_jobs)``). The arguments are those of :func:`forecast`; a
    method the history cannot serve is refused here."""
    n, t = values.shape
    classes, _adi, _cv2 = C.classify(values, dormant=C.DORMANT[freq])
    # The customer-base model is fitted on the customers it is for: regular buyers, whose
    # purchase rates are of another kind, would stretch the population's rate distribution.
    wanted = {"short", "dormant"} | (set() if intermittent else {"intermittent", "lumpy"})
    members = np.isin(classes, sorted(wanted)) if method == "auto" else classes != "none"
    needed = method == CUSTOMER_BASE or (method == "auto" and bool(members.any()))
    fits = needed and CB.can_fit(values[members])
    if method == CUSTOMER_BASE and not fits:
        raise ValidationError(
            [
                Problem(
                    "method",
                    _("bgnbd needs at least {n} customers with a purchase to fit; use --method auto").format(
                        n=CB.MIN_CUSTOMERS
                    ),
                )
            ]
        )
    # Every method fits each series from its first purchase.
    begin = C.active_start(values)
    models = fit_short(choose(classes, method, regular, intermittent, customer_base=fits), t - begin)
    season = P.SEASON[freq]
    pool = _WORKERS.get()
    tasks = [
        (Group(name, freq, season, horizon, first_period, 1 if pool else n_jobs), rows, m, w)
        for name in sorted(set(models) - {"zero", CUSTOMER_BASE})
        for rows, m, w in _calls(name, freq, season, horizon, t - begin, np.flatnonzero(models == name))
    ]
    started = Started(
        values=values,
        horizon=horizon,
        classes=classes,
        models=models,
        members=members,
        fits=fits,
        begin=begin,
        tasks=tasks,
        chunks=_submit(pool, tasks, values, begin) if pool is not None else None,
        report=progress or _silent,
    )
    started.report(int((models == "zero").sum()), n)
    return started


@define
class Started:
    """A :func:`forecast` under way (see :func:`start`); :meth:`result` gives its forecasts."""

    values: np.ndarray
    horizon: int
    classes: np.ndarray
    models: np.ndarray
    #: The series the customer-base model is fitted on, and whether it can be.
    members: np.ndarray
    fits: bool
    #: Each series' first period with a purchase.
    begin: np.ndarray
    tasks: list[tuple[Group, np.ndarray, int, int]]
    #: The chunks sent to the workers, by future; None when the models run in :meth:`result`.
    chunks: dict[Future[tuple[np.ndarray, np.ndarray]], np.ndarray] | None
    report: ProgressFn
    _forecasts: Forecasts | None = None

    def result(self) -> Forecasts:
        """The forecasts: the library's models fitted here or collected from the workers, the
        customer-base model fitted here meanwhile. Computed once; later calls return them."""
        if self._forecasts is None:
            self._forecasts = self._collect()
        return self._forecasts

    def _collect(self) -> Forecasts:
        values, horizon, models, report = self.values, self.horizon, self.models, self.report
        n = len(values)
        mean = np.zeros((n, horizon))
        sigma = np.zeros((n, horizon))
        done = int((models == "zero").sum())
        if self.chunks is None:
            for group, rows, m, w in self.tasks:
                mean[rows], sigma[rows] = _library(group, values[rows], self.begin[rows], m, w)
                done += len(rows)
                report(done, n)
        # With workers, the customer-base model is fitted here while they run.
        base = CB.fit(values[self.members]) if self.fits else None
        rows = np.flatnonzero(models == CUSTOMER_BASE)
        if len(rows) and base is not None:
            seen = CB.outlook(base, values[rows], horizon)
            mean[rows], sigma[rows] = seen.mean, seen.sigma
            if self.chunks is None:
                report(n, n)
        if self.chunks is not None:
            done += len(rows) if base is not None else 0
            for future in as_completed(self.chunks):
                rows = self.chunks[future]
                mean[rows], sigma[rows] = future.result()
                done += len(rows)
                report(done, n)
        return Forecasts(
            mean=np.maximum(mean, 0.0), sigma=sigma, model=models, classes=self.classes, customer_base=base
        )


@contextmanager
def workers(n_jobs: int) -> Iterator[Workers | None]:
    """A pool of ``n_jobs`` worker processes for the library's models inside the block, started
    once and used by every :func:`forecast` call in it (a bottom-up run: the customers, then
    the upper nodes of the bands). Yields None (no pool) for one job, on a Dask engine
    (:func:`kehu_forecast.distributed.engine`), and inside another ``workers`` block, whose
    pool is kept."""
    active = _WORKERS.get()
    if n_jobs <= 1 or active is not None or distributed.active() is not None:
        yield active
        return
    # A fork shares what this process has imported; elsewhere a worker imports it once.
    fork = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if fork else None)
    with ProcessPoolExecutor(n_jobs, mp_context=context, initializer=_one_thread) as pool:
        token = _WORKERS.set(Workers(pool=pool, jobs=n_jobs))
        try:
            yield _WORKERS.get()
        except BaseException:
            # A failed (or interrupted) run does not wait for the chunks still queued.
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            _WORKERS.reset(token)


def _one_thread() -> None:
    """A worker's start: one thread for BLAS and OpenMP (loaded or still to load)."""
    for name in ONE_THREAD:
        os.environ[name] = "1"
    threadpool_limits(1)


def _calls(
    name: str, freq: P.Freq, season: int, horizon: int, lengths: np.ndarray, rows: np.ndarray
) -> list[tuple[np.ndarray, int, int]]:
    """The library calls for the series ``rows`` of one model, as ``(rows, season length,
    conformal windows)``: one per kind of series, seasonal or not (seasonal naive needs one
    full season, the other models two, or they run without seasonality), and by the conformal
    windows their history allows."""
    lengths = lengths[rows]
    seasonal = lengths > season if name == "snaive" else lengths >= 2 * season
    windows = conformal_windows(name, freq, lengths, horizon)
    calls = []
    for use_season in (True, False):
        for w in np.unique(windows[seasonal == use_season]):
            part = rows[(seasonal == use_season) & (windows == w)]
            calls.append((part, season if use_season else 1, int(w)))
    return calls


def chunk_count(series: int, jobs: int) -> int:
    """Chunks a library call of ``series`` series is cut into for ``jobs`` workers:
    :data:`CHUNKS_PER_JOB` per worker, as long as each has :data:`MIN_CHUNK` series; at least 1."""
    return max(1, min(CHUNKS_PER_JOB * jobs, series // MIN_CHUNK))


def _submit(
    pool: Workers,
    tasks: list[tuple[Group, np.ndarray, int, int]],
    values: np.ndarray,
    start: np.ndarray,
) -> dict[Future[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Every call of ``tasks`` to the workers, in chunks of series; the rows of each chunk by
    its future."""
    chunks = {}
    for group, rows, season, windows in tasks:
        for part in np.array_split(rows, chunk_count(len(rows), pool.jobs)):
            if len(part):
                future = pool.pool.submit(_library, group, values[part], start[part], season, windows)
                chunks[future] = part
    return chunks


def _silent(done: int, total: int) -> None:
    """No progress report."""


def fit_short(models: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``models`` with ``average`` for each series whose history from its first purchase
    (``lengths``) is shorter than its model needs (:data:`MIN_PERIODS`). Seasonal naive is
    not replaced: without a full season it runs as naive."""
    out = models.copy()
    for name in sorted(set(models) & {"theta", "ets", "croston", "adida", "tsb"}):
        out[(models == name) & (lengths < MIN_PERIODS[name])] = "average"
    return out


@frozen
class Group:
    """What one model's library calls share."""

    name: str
    freq: P.Freq
    season: int
    horizon: int
    first_period: date
    n_jobs: int


def _library(
    group: Group, values: np.ndarray, start: np.ndarray, season: int, windows: int
) -> tuple[np.ndarray, np.ndarray]:
    name, freq, horizon, first_period = group.name, group.freq, group.horizon, group.first_period
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
            "y": values[row_idx, col_idx],
        }
    )
    conformal = ConformalIntervals(h=horizon, n_windows=windows) if windows else None
    intervals = conformal is not None or name in HAS_INTERVALS
    model = _model(name, season, conformal)
    sf = StatsForecast(models=[model], freq=P.PANDAS_FREQ[freq], n_jobs=group.n_jobs)
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
        active = np.where(mask, values, np.nan)
        sigma[:] = np.nanstd(active, axis=1)[:, None]
    return np.nan_to_num(mean), np.nan_to_num(sigma)
