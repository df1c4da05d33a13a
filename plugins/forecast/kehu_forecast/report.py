"""Plain-data views of plans for the CLI and JSON (money as Decimal)."""

from __future__ import annotations

from typing import Any

from kehu_forecast.money import cents_to_decimal as D
from kehu_forecast.plan import Plan


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
