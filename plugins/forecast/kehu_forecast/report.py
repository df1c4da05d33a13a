"""Plain-data views of saved plans for the CLI and JSON (money as Decimal), as the acting user
may see them.

This module and the ones it imports need no forecasting library: the commands that only read
saved runs (``runs``, ``show``, ``gap``, ``targets``) start without statsforecast, Dask or
matplotlib. :mod:`kehu_forecast.api` re-exports the public functions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kehu_forecast import hierarchy as H
from kehu_forecast.money import cents_to_decimal as D
from kehu_forecast.names import pick
from kehu_forecast.plan import Plan, load, visible_plan
from kehu_forecast.visibility import require_levels, sees_company


def newest_run(session: Session, kind: str | None = None, run_id: int | None = None) -> Plan:
    """The newest saved run of ``kind`` (``bottomup``, ``topdown``, ``reconciled``; any kind when
    ``None``), or run ``run_id``. Raises :class:`~kehu_core.errors.NotFound` naming the command
    that makes one.

    The plan holds only the customers the acting user sees, every node above summed from
    them (so its company node is the company's only for a user who sees every customer)."""
    return visible_plan(session, load(session, run_id, kind=kind))


def run_rows(
    session: Session, level: str = "region", run_id: int | None = None
) -> tuple[Plan, list[dict[str, Any]]]:
    """The newest run (or run ``run_id``) as the acting user may see it, and one row per node
    of ``level`` (node, parent, each period, total). Region and company need permission
    ``forecast.company``; customers and salespeople count only the customers the user sees."""
    level = pick("level", level, H.LEVEL_NAMES)
    require_levels(session, [level])
    plan = newest_run(session, run_id=run_id)
    return plan, level_rows(plan, level)


def summary(session: Session, plan: Plan) -> dict[str, Any]:
    """A saved plan's summary (:func:`plan_summary`): run, periods, company total, scenarios and
    region totals. The company and region figures are left out (``None`` and no regions) for a
    user without permission ``forecast.company``."""
    return plan_summary(plan, company_figures=sees_company(session))


def plan_summary(plan: Plan, *, company_figures: bool = True) -> dict[str, Any]:
    """Run id, periods, company total and scenarios, and the total per region and period.

    Without ``company_figures`` (a reader without permission ``forecast.company``) the company and
    region figures are ``None`` and the regions empty: only the run itself is described.
    """
    h = plan.hierarchy
    company = plan.value[0]
    summary: dict[str, Any] = {
        "run_id": plan.run_id,
        "kind": plan.kind,
        "method": plan.method,
        "freq": plan.freq,
        "first_period": plan.periods[0],
        "last_period": plan.periods[-1],
        "history_end": plan.history_end,
        "total": D(int(company.sum())),
        "low": D(int(plan.low[0].sum())) if plan.low is not None else None,
        "high": D(int(plan.high[0].sum())) if plan.high is not None else None,
        "periods": [
            {
                "period": p,
                "value": D(int(v)),
                "low": D(int(plan.low[0, j])) if plan.low is not None else None,
                "high": D(int(plan.high[0, j])) if plan.high is not None else None,
            }
            for j, (p, v) in enumerate(zip(plan.periods, company))
        ],
        "regions": [{"region": k, "total": D(c)} for k, c in plan.totals("region")],
        "customers": int(h.n_bottom),
    }
    if not company_figures:
        summary.update(total=None, low=None, high=None, periods=[], regions=[], customers=None)
    return summary


def level_rows(plan: Plan, level: str) -> list[dict[str, Any]]:
    """One row per node of ``level``: its parent, each period, and the total."""
    h = plan.hierarchy
    rows = []
    for i in h.levels[level]:
        row: dict[str, Any] = {"node": h.keys[i], "parent": h.parent_key(int(i))}
        for j, p in enumerate(plan.periods):
            row[p.isoformat()] = D(int(plan.value[i, j]))
        row["total"] = D(int(plan.value[i].sum()))
        rows.append(row)
    return rows
