"""Printing a saved plan's summary, shared by ``run``, ``topdown`` and ``reconcile``."""

from __future__ import annotations

from typing import Any

from kehu_core.cli.output import emit_json, emit_pairs, emit_rows
from kehu_forecast.plan import Plan
from kehu_forecast.report import plan_summary


def scenario_range(low: Any, high: Any) -> str:
    """``low / high``, or ``-`` for a plan without scenarios (top-down runs have none)."""
    if low is None or high is None:
        return "-"
    return f"{low} / {high}"


def emit_plan_summary(plan: Plan, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    """The run id, periods, company total, scenarios and the total per region, or all as JSON."""
    summary = plan_summary(plan)
    if as_json:
        emit_json({**summary, **(extra or {})})
        return
    emit_pairs(
        f"forecast run {plan.run_id}: {plan.method}",
        [
            ("periods", f"{summary['first_period']} .. {summary['last_period']} ({summary['freq']})"),
            ("history up to", summary["history_end"]),
            ("company total", summary["total"]),
            ("pessimistic / optimistic", scenario_range(summary["low"], summary["high"])),
            *[(k, v) for k, v in (extra or {}).items() if not isinstance(v, (dict, list))],
        ],
    )
    emit_rows(["region", "total"], summary["regions"], ["region", "total"], as_json=False, as_csv=False)
