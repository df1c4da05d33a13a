"""A forecast plan: values at every node and period in integer cents, stored as a run.

Every plan is coherent by construction: only the customer (bottom) values are rounded to
cents, and every upper node is the exact integer sum of its customers, so children add up
to their parent to the cent at every level, whatever method produced the numbers.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from attrs import define, field, frozen
from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core import sql
from kehu_core.access import customer_condition, require
from kehu_core.app import Kehu
from kehu_core.errors import NotFound
from kehu_core.i18n import N_, messages
from kehu_core.models import Customer
from kehu_forecast import hierarchy as H
from kehu_forecast import periods as P
from kehu_forecast.history import NO_REGION
from kehu_forecast.models import runs, values
from kehu_forecast.money import cents_to_decimal
from kehu_forecast.runs import latest_run
from kehu_forecast.security import RUN

_ = messages("kehu_forecast").gettext

#: What to say when there is no run of a kind yet, and the command that makes one.
NO_RUN_YET = {
    "": N_("no forecast run yet: make one with `kehu forecast run`"),
    "bottomup": N_("no bottom-up forecast run yet: make one with `kehu forecast run`"),
    "topdown": N_("no top-down forecast run yet: make one with `kehu forecast topdown`"),
    "reconciled": N_("no reconciled forecast run yet: make one with `kehu forecast reconcile`"),
}


@define
class Plan:
    """Values (cents, nodes × periods) over a hierarchy; ``base``/``low``/``high``/``pipeline`` optional."""

    kind: str
    method: str
    freq: P.Freq
    periods: list[date]
    history_end: date
    hierarchy: H.Hierarchy
    value: np.ndarray
    base: np.ndarray | None = None
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    pipeline: np.ndarray | None = None
    models: list[str] | None = None
    params: dict[str, Any] = field(factory=dict)
    run_id: int | None = None

    @classmethod
    def from_bottom(cls, hierarchy: H.Hierarchy, bottom_cents: np.ndarray, **kwargs: Any) -> Plan:
        """A coherent plan from customer values in cents: every node is the sum of its customers."""
        value = np.asarray(hierarchy.S.astype(np.int64) @ bottom_cents.astype(np.int64))
        return cls(hierarchy=hierarchy, value=value, **kwargs)

    def bottom(self) -> np.ndarray:
        """The customer rows of ``value`` (cents)."""
        return self.value[self.hierarchy.levels["customer"]]

    def subset(self, keep: np.ndarray) -> Plan:
        """The plan of only the customers where ``keep`` (a mask over the customer rows) is true,
        every upper node summed again from them (scenario bounds too: a plain sum there)."""
        h = self.hierarchy
        customers = h.customers[np.asarray(keep, dtype=bool)].reset_index(drop=True)
        sub = H.build(customers)
        src = {int(c): i for i, c in enumerate(h.customer_ids)}
        rows = np.asarray(h.levels["customer"], dtype=np.int64)[[src[int(c)] for c in sub.customer_ids]]
        summing = sub.S.astype(np.int64)

        def summed(matrix: np.ndarray | None) -> np.ndarray | None:
            if matrix is None:
                return None
            return np.asarray(summing @ matrix[rows]).reshape(len(sub.keys), len(self.periods))

        value = summed(self.value)
        assert value is not None
        models = None
        if self.models is not None:
            models = ["sum"] * (len(sub.keys) - sub.n_bottom) + [self.models[i] for i in rows]
        return Plan(
            kind=self.kind,
            method=self.method,
            freq=self.freq,
            periods=self.periods,
            history_end=self.history_end,
            hierarchy=sub,
            value=value,
            base=summed(self.base),
            low=summed(self.low),
            high=summed(self.high),
            pipeline=summed(self.pipeline),
            models=models,
            params=self.params,
            run_id=self.run_id,
        )

    def totals(self, level: str) -> list[tuple[str, int]]:
        """``(node key, cents over the whole horizon)`` for every node of ``level``."""
        idx = self.hierarchy.levels[level]
        sums = self.value[idx].sum(axis=1)
        return [(self.hierarchy.keys[i], int(s)) for i, s in zip(idx, sums)]


@frozen
class SavedRun:
    """A run just saved, as ``kehu_forecast_saved`` reports it."""

    run_id: int
    kind: str
    method: str
    freq: str
    first_period: date
    last_period: date
    history_end: date
    #: The company total over the horizon, in yuan.
    total: Decimal
    source: str
    #: The values at every node and period (integer cents), with the hierarchy.
    plan: Plan


def store(app: Kehu, session: Session, plan: Plan, source: str = "cli") -> int:
    """Save ``plan`` as a new run with one row per node and period (bulk insert); returns its id.

    Fires ``kehu_forecast_saved`` once the values are written, in the same transaction. Needs
    permission ``forecast.run``; the acting user's login is kept in the run's ``params["by"]``.
    """
    actor = require(session, RUN, "store forecast runs")
    run_id = session.scalar(
        runs.insert()
        .values(
            kind=plan.kind,
            method=plan.method,
            freq=plan.freq,
            first_period=plan.periods[0],
            horizon=len(plan.periods),
            history_end=plan.history_end,
            params={**plan.params, "by": actor.login},
            source=source,
        )
        .returning(runs.c.id)
    )
    _insert_values(session, plan, int(run_id))
    plan.run_id = int(run_id)
    saved = SavedRun(
        run_id=plan.run_id,
        kind=plan.kind,
        method=plan.method,
        freq=plan.freq,
        first_period=plan.periods[0],
        last_period=plan.periods[-1],
        history_end=plan.history_end,
        total=cents_to_decimal(int(plan.value[0].sum())) if len(plan.value) else Decimal("0.00"),
        source=source,
        plan=plan,
    )
    app.hook.kehu_forecast_saved(session=session, run=saved)
    return plan.run_id


def _insert_values(session: Session, plan: Plan, run_id: int) -> None:
    """Bulk insert of the run's rows through the driver's executemany.

    A run is nodes × periods rows (130,000 for 10,000 customers over a year). The values are
    already exact integer cents, so they go straight to the driver, skipping the per-value
    Decimal work of the ORM types: as decimal strings to PostgreSQL, and as floats to SQLite,
    whose NUMERIC columns store a decimal string as the nearest double anyway (cents / 100,
    correctly rounded, is that double), so the stored values are the same and no string is
    made or parsed.
    """
    h = plan.hierarchy
    n, horizon = plan.value.shape
    bottom_start = int(h.levels["customer"][0]) if h.n_bottom else n
    columns = [
        "run_id",
        "level",
        "node",
        "parent",
        "period",
        "customer_id",
        "value",
        "base",
        "low",
        "high",
        "pipeline",
        "method",
    ]

    sqlite = sql.dialect_of(session) == "sqlite"

    def text(matrix: np.ndarray | None) -> list[str | float | None]:
        if matrix is None:
            return [None] * (n * horizon)
        cents = matrix.reshape(-1).astype(np.int64)
        if sqlite:
            return list((cents / 100).tolist())
        # Exact: a count of cents below 2**53 / 100 is within 0.005 of its double / 100.
        return [f"{c / 100:.2f}" for c in cents.tolist()]

    period_values = [p.isoformat() if sqlite else p for p in plan.periods]
    money: dict[str, list[str | float | None]] = {}
    done: list[tuple[np.ndarray, list[str | float | None]]] = []
    for name in ("value", "base", "low", "high", "pipeline"):
        matrix = getattr(plan, name)
        # The base is often the value, the pipeline often all zeros: each distinct matrix once.
        same = next((t for m, t in done if matrix is not None and np.array_equal(m, matrix)), None)
        money[name] = same if same is not None else text(matrix)
        if matrix is not None and same is None:
            done.append((matrix, money[name]))
    parents = [h.parent_key(i) for i in range(n)]
    customer = [int(h.customer_ids[i - bottom_start]) if i >= bottom_start else None for i in range(n)]
    models: list[str | None] = list(plan.models) if plan.models else [None] * n

    def each(per_node: list[Any]) -> list[Any]:
        return [x for x in per_node for _ in range(horizon)]

    rows = list(
        zip(
            [run_id] * (n * horizon),
            each([h.level_of[i] for i in range(n)]),
            each(list(h.keys)),
            each(parents),
            period_values * n,
            each(customer),
            money["value"],
            money["base"],
            money["low"],
            money["high"],
            money["pipeline"],
            each(models),
        )
    )
    mark = "?" if sqlite else "%s"
    statement = (
        f"INSERT INTO {values.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    )
    conn = session.connection()
    for begin in range(0, len(rows), 20_000):
        conn.exec_driver_sql(statement, rows[begin : begin + 20_000])


def load(session: Session, run_id: int | None = None, kind: str | None = None) -> Plan:
    """Read a run back as a :class:`Plan` (the newest of ``kind`` when no id is given)."""
    if run_id is None:
        run_id = latest_run(session, kind)
        if run_id is None:
            raise NotFound(_(NO_RUN_YET.get(kind or "", NO_RUN_YET[""])))
    run = session.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
    if run is None:
        raise NotFound(_("no forecast run {id}; see `kehu forecast runs`").format(id=run_id))
    frame = pd.DataFrame(
        session.execute(
            select(
                values.c.level,
                values.c.node,
                values.c.parent,
                values.c.period,
                values.c.customer_id,
                values.c.value,
                values.c.base,
                values.c.low,
                values.c.high,
                values.c.pipeline,
                values.c.method,
            ).where(values.c.run_id == run_id)
        )
        .mappings()
        .all()
    )
    period_list = P.periods(run["first_period"], run["horizon"], run["freq"])
    cust = frame[frame["level"] == "customer"].drop_duplicates("node")
    if len(cust):
        # A salesperson node is "<region>/<name>"; its parent row names the region, so a region
        # or a name that itself contains "/" still splits right.
        sp_rows = frame[frame["level"] == "salesperson"].drop_duplicates("node")
        region_of = dict(zip(sp_rows["node"], sp_rows["parent"]))
        regions = [region_of.get(p, NO_REGION) for p in cust["parent"]]
        names = [p[len(r) + len(H.SEP) :] for p, r in zip(cust["parent"], regions)]
        customers = pd.DataFrame(
            {
                "id": cust["customer_id"].astype("int64").to_numpy(),
                "code": cust["node"].to_numpy(),
                "region": regions,
                "salesperson": names,
            }
        )
    else:
        customers = pd.DataFrame(
            {c: pd.Series(dtype=object) for c in ("id", "code", "region", "salesperson")}
        )
    h = H.build(customers)
    index = h.index()
    col = {p: j for j, p in enumerate(period_list)}
    rows = np.array([index[(lv, k)] for lv, k in zip(frame["level"], frame["node"])], dtype=np.int64)
    cols = np.array([col[p] for p in frame["period"]], dtype=np.int64)

    def matrix(name: str) -> np.ndarray | None:
        if frame[name].isna().all():
            return None
        m = np.zeros((len(h.keys), len(period_list)), dtype=np.int64)
        m[rows, cols] = np.rint(frame[name].fillna(0).astype(float).to_numpy() * 100).astype(np.int64)
        return m

    value = matrix("value")
    if value is None:  # a run of no customers has no rows
        value = np.zeros((len(h.keys), len(period_list)), dtype=np.int64)
    models = [""] * len(h.keys)
    for r, name in zip(rows, frame["method"]):
        models[r] = name or ""
    return Plan(
        kind=run["kind"],
        method=run["method"],
        freq=run["freq"],
        periods=period_list,
        history_end=run["history_end"],
        hierarchy=h,
        value=value,
        base=matrix("base"),
        low=matrix("low"),
        high=matrix("high"),
        pipeline=matrix("pipeline"),
        models=models,
        params=dict(run["params"] or {}),
        run_id=int(run_id),
    )


def visible_plan(session: Session, plan: Plan) -> Plan:
    """``plan`` as the acting user may see it: only the customers their record rules allow,
    every node above summed from those (the plan itself when they see every customer)."""
    rule = customer_condition(session)
    if rule is None:
        return plan
    ids = [int(c) for c in plan.hierarchy.customer_ids]
    seen: set[int] = set()
    for begin in range(0, len(ids), 500):
        chunk = ids[begin : begin + 500]
        seen.update(session.scalars(select(Customer.id).where(Customer.id.in_(chunk), rule)))
    return plan.subset(np.array([c in seen for c in ids], dtype=bool))
