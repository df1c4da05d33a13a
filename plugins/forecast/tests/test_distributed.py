"""``--engine dask``: the customer models on a two-worker Dask cluster give the local forecasts
to the cent, through statsforecast's own distributed backend; and the engine's one-line errors.

The cluster is a local one with its two workers as threads of the test process (what a
cluster of processes or machines runs is the same pickled work); the module takes about
10 seconds, so it runs in ``make test``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest
from distributed import LocalCluster, get_task_stream
from sqlalchemy import select

from kehu_core.errors import ValidationError
from kehu_forecast import distributed as D
from kehu_forecast import engine as E
from kehu_forecast.models import values as V
from kehu_forecast.money import to_cents


def customer_log(customers: int = 120, months: int = 36, seed: int = 7) -> np.ndarray:
    """Monthly net purchases shaped like a real customer log: most customers buy once, some
    now and then, a few every month; long-tailed amounts (up to millions), some refunds."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(4, customers, p=(0.55, 0.2, 0.2, 0.05))  # once, now and then, regular, new
    size = rng.lognormal(7.5, 1.6, customers)  # long tail: a few customers buy in millions
    y = np.zeros((customers, months))
    for i in range(customers):
        if kind[i] == 0:
            y[i, rng.integers(0, months)] = size[i]
        elif kind[i] == 1:
            buys = rng.random(months) < 0.25
            y[i, buys] = size[i] * rng.gamma(2, 0.5, buys.sum())
        elif kind[i] == 2:
            season = 1 + 0.3 * np.sin(2 * np.pi * (np.arange(months) + 1) / 12)  # the new-year peak
            y[i] = size[i] * season * rng.gamma(10, 0.1, months)
        else:
            y[i, months - 3 :] = size[i] * rng.gamma(5, 0.2, 3)
    y[np.flatnonzero(kind == 2)[:2]] *= 1000  # two key accounts buy millions a month
    refunds = (rng.random((customers, months)) < 0.03) & (y > 0)
    y[refunds] = -0.4 * y[refunds]
    return np.round(y, 2)


@pytest.fixture(scope="module")
def two_workers() -> Any:
    """A local cluster of two single-thread workers, for the module."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        yield cluster


def test_dask_engine_gives_the_local_forecasts_to_the_cent(two_workers, monkeypatch):
    y = customer_log()
    assert np.abs(y).max() > 1_000_000  # amounts a 32-bit float would not keep to the cent
    first = date(2026, 1, 1)
    for method in ("auto", "theta", "croston", "average"):
        local = E.forecast(y, "month", 12, first, method=method)
        monkeypatch.setenv(D.SCHEDULER_ENV, two_workers.scheduler_address)
        with D.engine("dask") as cluster, get_task_stream(client=cluster.client) as tasks:
            assert cluster.workers == 2 and D.active() is cluster
            remote = E.forecast(y, "month", 12, first, method=method)
        monkeypatch.delenv(D.SCHEDULER_ENV)
        assert D.active() is None
        assert tasks.data, "the models ran on the cluster"
        assert (remote.model == local.model).all()
        assert method != "auto" or "theta" in set(local.model)  # the regular customers' own model
        assert (to_cents(remote.mean) == to_cents(local.mean)).all(), method
        assert (to_cents(remote.sigma) == to_cents(local.sigma)).all(), method
        assert to_cents(local.mean).sum() > 0


def test_a_frame_of_one_series_and_the_result_layout(two_workers):
    """The edge of the partitioning: one series (one partition), and the local layout back."""
    y = np.array([[100.0, 0.0, 250.5, 80.25, 0.0, 300.0, 120.0]])
    local = E.forecast(y, "month", 3, date(2026, 1, 1), method="theta")
    with D.engine("dask", two_workers.scheduler_address):
        remote = E.forecast(y, "month", 3, date(2026, 1, 1), method="theta")
    assert (to_cents(remote.mean) == to_cents(local.mean)).all()


def test_run_engine_dask_stores_the_plan_of_a_local_run(fc, company, kehu_cli, two_workers, monkeypatch):
    runs = {}
    for engine in ("local", "dask"):
        if engine == "dask":
            monkeypatch.setenv(D.SCHEDULER_ENV, two_workers.scheduler_address)
        result = kehu_cli(
            "forecast", "run", "--as-of", fc.AS_OF, "--horizon", "6", "--engine", engine, "--json"
        )
        assert result.exit_code == 0, result.output
        runs[engine] = result.json["run_id"]
    with company.session() as session:
        stored = {
            engine: session.execute(
                select(V.c.level, V.c.node, V.c.period, V.c.value, V.c.low, V.c.high)
                .where(V.c.run_id == run)
                .order_by(V.c.level, V.c.node, V.c.period)
            ).all()
            for engine, run in runs.items()
        }
    assert len(stored["local"]) > 30 and stored["dask"] == stored["local"]


@pytest.mark.parametrize(
    ("name", "address", "field"),
    [
        ("local", None, None),
        ("dask!", None, "engine"),  # surrounding spaces are forgiven, as by every vocabulary
        ("ray", None, "engine"),
        ("local", "tcp://x:1", "engine-address"),
    ],
)
def test_engine_names_and_address_checked(name, address, field):
    if field is None:
        D.check_engine(name, address)
        with D.engine(name, address) as cluster:
            assert cluster is None and D.active() is None
        return
    with pytest.raises(ValidationError) as error:
        D.check_engine(name, address)
    assert str(error.value).startswith(f"{field}:") and "\n" not in str(error.value)


def test_missing_extra_is_one_line_naming_the_install(monkeypatch, kehu_cli, company, fc):
    real = D.import_module

    def without_distributed(name: str) -> Any:
        if name == "distributed":
            raise ModuleNotFoundError("No module named 'distributed'", name="distributed")
        return real(name)

    monkeypatch.setattr(D, "import_module", without_distributed)
    with pytest.raises(ValidationError) as error:
        D.modules()
    message = str(error.value)
    assert message == (
        "engine: dask needs the optional extra (distributed is not installed): "
        "pip install kehu-forecast[dask]"
    )
    result = kehu_cli("forecast", "run", "--as-of", fc.AS_OF, "--engine", "dask")
    assert result.exit_code != 0 and "pip install kehu-forecast[dask]" in result.output
    assert "Traceback" not in result.output


def test_unreachable_scheduler_is_one_line(monkeypatch):
    monkeypatch.setattr(D, "CONNECT_TIMEOUT", 1)
    with pytest.raises(ValidationError) as error, D.engine("dask", "tcp://127.0.0.1:9"):
        pass
    message = str(error.value)
    assert message.startswith("engine-address: no Dask scheduler answers there") and "\n" not in message
    assert "tcp://127.0.0.1:9" in message
