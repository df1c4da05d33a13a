"""``--jobs``: the run's pool of worker processes gives the forecasts of one process, to the cent.

Generated customer logs shaped like real ones (mostly one-time buyers, a long tail of
occasional ones, regular buyers with a season, refunds, customers with no purchase) are
forecast with one process and with two workers, and compared model by model; the rules the
pool follows (how series are cut into chunks, one thread per worker, one pool per run) are
checked at their edges. SQLite's storage of money as floats is checked against the decimal
strings it replaced."""

from __future__ import annotations

import sqlite3
from datetime import date

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_info

from kehu_forecast import customerbase as CB
from kehu_forecast import engine as E
from kehu_forecast.bottomup import Options, forecast_history
from kehu_forecast.history import SalesHistory
from kehu_forecast.money import to_cents

DAY = date(2026, 1, 1)
MONTHS = 30


def _logs(n: int = 160, seed: int = 7) -> np.ndarray:
    """Customers × months of net sales: 45% buy once, 25% now and then, 20% every month with
    a season, 5% joined lately, 5% bought nothing; about 2% of purchase months are refunds."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(5, n, p=(0.45, 0.25, 0.20, 0.05, 0.05))
    level = rng.lognormal(7.0, 1.0, n)
    season = 1 + 0.2 * np.sin(2 * np.pi * np.arange(MONTHS) / 12)
    y = np.zeros((n, MONTHS))
    for i in range(n):
        if kind[i] == 0:
            y[i, rng.integers(0, MONTHS)] = level[i]
        elif kind[i] == 1:
            buys = rng.random(MONTHS) < 0.2
            y[i, buys] = level[i] * rng.lognormal(0, 0.8, buys.sum())
        elif kind[i] == 2:
            y[i] = level[i] * season * rng.gamma(10, 0.1, MONTHS)
        elif kind[i] == 3:
            y[i, MONTHS - 4 :] = level[i] * rng.gamma(10, 0.1, 4)
    refunds = (y > 0) & (rng.random(y.shape) < 0.02)
    y[refunds] = -np.round(y[refunds] * 0.5, 2)
    return np.round(y, 2)


def _history(values: np.ndarray) -> SalesHistory:
    n = len(values)
    customers = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "code": [f"C{i:04d}" for i in range(1, n + 1)],
            "name": [f"客户{i}" for i in range(1, n + 1)],
            "salesperson": [f"销售{i % 4}" for i in range(n)],
            "region": [("华东", "华北", "华南")[i % 3] for i in range(n)],
            "industry": [""] * n,
        }
    )
    periods = [date(2023 + (7 + k) // 12, (7 + k) % 12 + 1, 1) for k in range(MONTHS)]
    return SalesHistory(freq="month", periods=periods, customers=customers, values=values)


@pytest.fixture(scope="module")
def logs() -> np.ndarray:
    return _logs()


@pytest.mark.parametrize("method", ["auto", "theta", "croston"])
def test_two_workers_give_the_forecasts_of_one_process(logs, method):
    one = E.forecast(logs, "month", 6, DAY, method=method, n_jobs=1)
    two = E.forecast(logs, "month", 6, DAY, method=method, n_jobs=2)
    assert (one.model == two.model).all() and (one.classes == two.classes).all()
    assert set(one.model) >= ({"theta", "bgnbd", "zero"} if method == "auto" else {method, "zero"})
    # The library's optimiser can differ in the last bits with where a series lies in memory
    # (as with its own n_jobs); never by a cent.
    assert np.allclose(one.mean, two.mean, rtol=1e-9, atol=1e-9)
    assert np.allclose(one.sigma, two.sigma, rtol=1e-9, atol=1e-9)
    assert np.array_equal(to_cents(one.mean), to_cents(two.mean))
    # The customer-base model is fitted in this process either way: the very same numbers.
    rows = one.model == "bgnbd"
    assert np.array_equal(one.mean[rows], two.mean[rows])
    assert (one.customer_base is None) == (two.customer_base is None)
    if one.customer_base is not None:
        assert one.customer_base.params() == two.customer_base.params()


def test_a_bottom_up_plan_with_two_workers_is_the_plan_of_one_to_the_cent(logs):
    history = _history(logs)
    one = forecast_history(None, history, Options(horizon=6, n_jobs=1))
    two = forecast_history(None, history, Options(horizon=6, n_jobs=2))
    for name in ("value", "base", "low", "high", "pipeline"):
        assert np.array_equal(getattr(one, name), getattr(two, name)), name
    assert one.models == two.models and one.params == two.params


def test_progress_with_workers_counts_every_series_once(logs):
    calls: list[tuple[int, int]] = []
    E.forecast(logs, "month", 3, DAY, n_jobs=2, progress=lambda d, t: calls.append((d, t)))
    n = len(logs)
    assert calls[0] == (int((logs <= 0).all(axis=1).sum()), n)
    assert calls[-1] == (n, n)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


@pytest.mark.parametrize(
    ("series", "jobs", "chunks"),
    [
        (0, 2, 1),  # at least one
        (15, 2, 1),  # under MIN_CHUNK (16): one chunk
        (16, 2, 1),
        (31, 2, 1),
        (32, 2, 2),  # two chunks of 16: the edge
        (33, 2, 2),
        (511, 2, 31),
        (512, 2, 32),  # 16 chunks per worker × 2 workers: the cap
        (513, 2, 32),
        (10_000, 2, 32),
        (512, 1, 16),
        (10_000, 4, 64),
    ],
)
def test_chunks_are_sixteen_per_worker_of_at_least_sixteen_series(series, jobs, chunks):
    assert E.chunk_count(series, jobs) == chunks


def _threads() -> int:
    return max((int(lib["num_threads"]) for lib in threadpool_info()), default=1)


def test_one_pool_per_block_and_one_thread_per_worker():
    with E.workers(1) as none:
        assert none is None
    with E.workers(2) as outer:
        assert outer is not None and outer.jobs == 2
        with E.workers(3) as inner:
            assert inner is outer  # a run's later calls keep its pool
        with E.workers(1) as inner:
            assert inner is outer
        assert outer.pool.submit(_threads).result() == 1
    with E.workers(1) as after:
        assert after is None


@pytest.mark.parametrize(("buyers", "fits"), [(19, False), (20, True), (21, True)])
def test_the_customer_base_model_needs_twenty_buyers(buyers, fits):
    values = np.zeros((buyers + 5, 6))
    values[:buyers, 2] = 100.0
    values[buyers:, 3] = -50.0  # refunds only: not a purchase
    assert CB.can_fit(values) is fits
    assert (CB.fit(values) is not None) is fits


@pytest.mark.parametrize(
    "cents", [0, 1, -1, 5, 10, 50, 99, 100, 101, -99, 12_345, 123_456_789, 9_007_199_254_740_99]
)
def test_sqlite_stores_a_float_of_cents_as_it_stored_the_decimal_string(cents):
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (a NUMERIC(16, 2), b NUMERIC(16, 2))")
    con.execute("INSERT INTO t VALUES (?, ?)", (f"{cents / 100:.2f}", cents / 100))
    a, b, kind_a, kind_b = con.execute("SELECT a, b, typeof(a), typeof(b) FROM t").fetchone()
    assert (a, kind_a) == (b, kind_b)
    assert round(a * 100) == cents
