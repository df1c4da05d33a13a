"""``--jobs``: the run's pool of worker processes gives the forecasts of one process, to the cent.

Generated customer logs shaped like real ones (mostly one-time buyers, a long tail of
occasional ones, regular buyers with a season, refunds, customers with no purchase) are
forecast with one process and with two workers, and compared model by model; the rules the
pool follows (how series are cut into chunks, one thread per worker, one pool per run) are
checked at their edges. SQLite's storage of money as floats is checked against the decimal
strings it replaced."""

from __future__ import annotations

import sqlite3
import time
from datetime import date

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_info

from kehu_forecast import customerbase as CB
from kehu_forecast import engine as E
from kehu_forecast import hierarchy as H
from kehu_forecast import intervals
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


def test_started_forecasts_are_those_of_forecast_and_made_once(logs):
    made = E.forecast(logs, "month", 6, DAY)
    started = E.start(logs, "month", 6, DAY)
    assert started.chunks is None  # no pool: the models run in result()
    got = started.result()
    assert got is started.result()
    assert np.array_equal(got.mean, made.mean) and np.array_equal(got.sigma, made.sigma)
    assert (got.model == made.model).all()


def test_with_workers_the_upper_nodes_are_queued_before_the_customers_are_collected(logs):
    history = _history(logs)
    h = H.build(history.customers)
    nodes = history.node_values(h)
    alone = intervals.start_upper(h, nodes, 6, freq="month", first=DAY).result()
    bottom = history.values[[int(c) - 1 for c in h.customer_ids]]
    with E.workers(2) as pool:
        assert pool is not None
        customers = E.start(bottom, "month", 6, DAY)
        upper = intervals.start_upper(h, nodes, 6, freq="month", first=DAY)
        # Both calls' chunks are with the workers before either is collected.
        assert customers.chunks and upper is not None and upper.chunks
        queued = set(customers.chunks) | set(upper.chunks)
        assert len(queued) == len(customers.chunks) + len(upper.chunks)
        got_customers, got_upper = customers.result(), upper.result()
    assert all(future.done() for future in queued)
    upper_rows = int(h.levels["customer"][0])
    assert got_upper.sigma.shape == (upper_rows, 6) and (got_upper.sigma > 0).all()
    assert np.array_equal(to_cents(got_upper.sigma), to_cents(alone.sigma))
    assert np.array_equal(to_cents(got_customers.mean), to_cents(E.forecast(bottom, "month", 6, DAY).mean))


@pytest.mark.parametrize(("periods", "started"), [(0, False), (1, True), (2, True)])
def test_upper_nodes_are_modelled_with_a_period_of_history_or_more(logs, periods, started):
    history = _history(logs)
    h = H.build(history.customers)
    nodes = history.node_values(h)[:, MONTHS - periods :] if periods else np.zeros((len(h.keys), 0))
    own = intervals.start_upper(h, nodes, 3, freq="month", first=DAY)
    assert (own is not None) is started
    if own is not None:
        assert own.result().sigma.shape == (int(h.levels["customer"][0]), 3)


def test_node_bands_take_each_upper_node_s_sigma_from_the_models_begun_for_it(logs):
    history = _history(logs)
    h = H.build(history.customers)
    nodes = history.node_values(h)
    bottom = history.values[[int(c) - 1 for c in h.customer_ids]]
    fc = E.forecast(bottom, "month", 6, DAY)
    value = np.asarray(h.S.astype(np.int64) @ to_cents(fc.mean))
    upper = int(h.levels["customer"][0])
    begun = intervals.start_upper(h, nodes, 6, freq="month", first=DAY)
    low, high = intervals.node_bands(h, value, nodes, fc.mean, fc.sigma, None, begun)
    # Each upper node's half-width is z80 x its own model's sigma, to the cent.
    own = E.forecast(nodes[:upper], "month", 6, DAY).sigma
    assert np.array_equal(high[:upper] - value[:upper], np.rint(E.Z80 * own * 100).astype(np.int64))
    # Without the upper models (a hierarchy with none), the upper nodes get no spread of their own.
    flat = intervals.node_bands(h, value, nodes, fc.mean, fc.sigma, None, None)
    assert np.array_equal(flat[1][:upper], value[:upper]) and not np.array_equal(flat[1], high)


def _slow(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_a_failing_run_does_not_wait_for_the_chunks_still_queued():
    begin = time.perf_counter()
    with pytest.raises(RuntimeError, match="refused"), E.workers(2) as pool:
        assert pool is not None
        futures = [pool.pool.submit(_slow, 0.5) for _ in range(40)]
        futures[0].result()  # the workers run
        raise RuntimeError("refused")
    # 40 chunks of half a second on 2 workers take 10 s; those not yet begun are cancelled.
    assert time.perf_counter() - begin < 6
    assert sum(f.cancelled() for f in futures) >= 30
