"""Where the per-customer statsforecast models run: on this machine, or on a Dask cluster.

``local`` (the default) calls ``StatsForecast.forecast`` on a pandas frame in this process,
spread over ``--jobs`` processes. ``dask`` hands the same long frame, as a Dask DataFrame, to
statsforecast's own distributed backend (Fugue's ``transform``, partitioned by series), so
each worker fits the very models the local run fits, series by series:

>>> with distributed.engine("dask"):                      # a local cluster of 2 workers
...     plan = api.run_forecast(app, session, api.Options())
>>> with distributed.engine("dask", "tcp://10.0.0.5:8786"):  # an existing cluster
...     ...

Dask is an optional extra (``pip install kehu-forecast[dask]``), imported only when the
engine is asked for: it takes about a second to import, which a local run should not pay.
The workers of an existing cluster need the same statsforecast version as this machine.

One difference from the library's backend as shipped: its output schema stores forecasts
as 32-bit floats (7 significant digits: a forecast of 1,234,567.89 comes back as
1,234,567.875). kehu plans to the cent, so the schema here keeps them as 64-bit floats,
and the distributed run gives the same cents as the local one.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from importlib import import_module
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
from attrs import frozen
from statsforecast import StatsForecast

from kehu_core.choices import Choice, Vocabulary
from kehu_core.errors import Problem, ValidationError
from kehu_core.i18n import N_, messages
from kehu_forecast.names import pick

_ = messages("kehu_forecast").gettext

#: The engines ``kehu forecast run --engine`` accepts.
ENGINES = ("local", "dask")
#: The engines as people name them (本机, Dask 集群).
ENGINE_NAMES = Vocabulary(
    "kehu_forecast",
    N_("engine"),
    [
        Choice("local", N_("this machine"), aliases=("本机", "本地")),
        Choice("dask", N_("Dask cluster"), aliases=("集群", "dask集群")),
    ],
)
#: The environment variable naming an existing Dask scheduler, when ``--engine-address`` is not given.
SCHEDULER_ENV = "KEHU_DASK_SCHEDULER"
#: What to install for ``--engine dask``.
INSTALL = "pip install kehu-forecast[dask]"
#: Workers of the local cluster started when no scheduler address is given.
LOCAL_WORKERS = 2
#: Seconds to wait for an existing scheduler to answer.
CONNECT_TIMEOUT = 10
#: Fugue's Dask engine groups with a pandas call that warns of a future change on every group.
GROUPBY_WARNING = "DataFrameGroupBy.apply operated on the grouping columns"
#: The optional extra's modules, by the name this module uses.
_EXTRA = {
    "dd": "dask.dataframe",
    "distributed": "distributed",
    "fugue_dask": "fugue_dask",
    "fugue_api": "fugue.api",
    "backend": "statsforecast.distributed.fugue",
    "pa": "pyarrow",
}


@frozen
class Cluster:
    """A Dask client in use, with the Fugue engine and statsforecast backend class that run on it."""

    client: Any
    fugue_engine: Any
    backend: Any
    workers: int
    modules: dict[str, ModuleType]


_ACTIVE: ContextVar[Cluster | None] = ContextVar("kehu_forecast_engine", default=None)


def check_engine(name: str, address: str | None = None) -> str:
    """Refuse an unknown engine, or a scheduler address without ``dask``, naming the option."""
    name = pick("engine", name, ENGINE_NAMES)
    if address and name != "dask":
        raise ValidationError(
            [Problem("engine-address", _("is only used with --engine dask"), value=address)]
        )
    return name


def modules() -> dict[str, ModuleType]:
    """The modules of the ``dask`` extra, or a one-line error saying how to install it."""
    loaded = {}
    for key, name in _EXTRA.items():
        try:
            loaded[key] = import_module(name)
        except ImportError as exc:
            missing = exc.name or name
            raise ValidationError(
                [
                    Problem(
                        "engine",
                        _("dask needs the optional extra ({missing} is not installed): {install}").format(
                            missing=missing, install=INSTALL
                        ),
                    )
                ]
            ) from None
    return loaded


@contextmanager
def engine(
    name: str = "local",
    address: str | None = None,
    *,
    workers: int = LOCAL_WORKERS,
    processes: bool = True,
) -> Iterator[Cluster | None]:
    """Run the statsforecast calls made inside the block on engine ``name``.

    ``local`` changes nothing. ``dask`` connects to the scheduler at ``address`` (default:
    the ``KEHU_DASK_SCHEDULER`` environment variable), or starts a local cluster of
    ``workers`` workers (separate processes unless ``processes=False``) and stops it after
    the block. Yields the cluster in use, or None for ``local``.
    """
    name = check_engine(name, address)
    if name == "local":
        yield None
        return
    loaded = modules()
    distributed = loaded["distributed"]
    address = address or os.environ.get(SCHEDULER_ENV) or None
    # The scheduler logs every shuffle it starts at WARNING: noise on a user's terminal.
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
    cluster = None
    if address:
        try:
            client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, ValueError, TypeError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ValidationError(
                [
                    Problem(
                        "engine-address",
                        _("no Dask scheduler answers there ({reason})").format(reason=reason),
                        value=address,
                    )
                ]
            ) from None
    else:
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = distributed.Client(cluster)
        if processes:
            client.run(_quiet)  # the workers' own processes write to this terminal
    try:
        active = Cluster(
            client=client,
            fugue_engine=loaded["fugue_dask"].DaskExecutionEngine(dask_client=client),
            backend=_double_backend(loaded["backend"].FugueBackend, loaded["pa"]),
            workers=max(1, len(client.scheduler_info().get("workers", {})) or workers),
            modules=loaded,
        )
        token = _ACTIVE.set(active)
        try:
            with warnings.catch_warnings():
                _quiet()  # workers that are threads of this process
                yield active
        finally:
            _ACTIVE.reset(token)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _quiet() -> None:
    warnings.filterwarnings("ignore", message=GROUPBY_WARNING, category=FutureWarning)


def active() -> Cluster | None:
    """The Dask cluster the current block runs on, or None when the models run locally."""
    return _ACTIVE.get()


def forecast(sf: StatsForecast, frame: pd.DataFrame, h: int, level: list[int] | None) -> pd.DataFrame:
    """``sf.forecast(df=frame, h=h, level=level)`` on the engine in use.

    Locally, the library's own call. On Dask, the frame goes to the cluster and the result
    comes back as a pandas frame with the local run's columns and types, sorted by series
    and date as the local run's is.
    """
    cluster = _ACTIVE.get()
    if cluster is None:
        return sf.forecast(df=frame, h=h, level=level)
    series = int(frame["unique_id"].nunique())
    parts = max(1, min(series, 4 * cluster.workers))
    dask_frame = cluster.modules["dd"].from_pandas(frame, npartitions=parts, sort=False)
    backend = cluster.backend(cluster.fugue_engine)
    result = backend.forecast(
        df=dask_frame,
        freq=sf.freq,
        models=sf.models,
        fallback_model=sf.fallback_model,
        X_df=None,
        h=h,
        level=level,
        fitted=False,
        prediction_intervals=None,
        id_col="unique_id",
        time_col="ds",
        target_col="y",
    )
    out = cluster.modules["fugue_api"].as_pandas(result)
    out["unique_id"] = out["unique_id"].astype(np.int64)
    out["ds"] = pd.to_datetime(out["ds"]).astype("datetime64[ns]")
    values = [c for c in out.columns if c not in ("unique_id", "ds")]
    out[values] = out[values].astype(np.float64)
    return out.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)


def _double_backend(fugue_backend: type, pa: ModuleType) -> type:
    """statsforecast's FugueBackend with its forecast columns as 64-bit floats (see the module doc).

    Made here, not at module level, so that this module imports without the extra; a class
    made in a function also travels to the workers by value, so they need no kehu installed.
    """

    class DoubleFugueBackend(fugue_backend):
        def _get_output_schema(self, **kwargs: Any) -> Any:
            schema = super()._get_output_schema(**kwargs)
            fields = [
                field.with_type(pa.float64()) if pa.types.is_floating(field.type) else field
                for field in schema.fields
            ]
            return type(schema)(fields)

    return DoubleFugueBackend
