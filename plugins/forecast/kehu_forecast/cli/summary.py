"""Printing a saved plan's summary, shared by ``run``, ``topdown`` and ``reconcile``."""

from __future__ import annotations

from typing import Any

from kehu_core.cli.output import emit_json, emit_pairs, emit_rows
from kehu_core.i18n import N_, messages
from kehu_forecast.methods import describe
from kehu_forecast.periods import FREQ_NAMES

_ = messages("kehu_forecast").gettext

#: What people read for the extra lines a command adds to the summary (``None`` shows as ``-``).
EXTRA_LABELS = {
    "plot": N_("plot"),
    "bottomup_run": N_("bottom-up run"),
    "topdown_run": N_("top-down run"),
}


def scenario_range(low: Any, high: Any) -> str:
    """``low / high``, or ``-`` for a plan without scenarios (top-down runs have none)."""
    if low is None or high is None:
        return "-"
    return f"{low} / {high}"


def emit_plan_summary(summary: dict[str, Any], as_json: bool, extra: dict[str, Any] | None = None) -> None:
    """The run id, periods, company total, scenarios and the total per region, or all as JSON
    (``summary``: :func:`kehu_forecast.api.summary`; a total it leaves out shows as ``-``)."""
    if as_json:
        emit_json({**summary, **(extra or {})})
        return
    total = "-" if summary["total"] is None else summary["total"]
    freq = FREQ_NAMES.label(summary["freq"])
    emit_pairs(
        _("forecast run {id}: {method}").format(
            id=summary["run_id"], method=describe(summary["kind"], summary["method"])
        ),
        [
            (
                _("periods"),
                f"{summary['first_period']} .. {summary['last_period']} ({freq})",
            ),
            (_("history up to"), summary["history_end"]),
            (_("company total"), total),
            (_("pessimistic / optimistic"), scenario_range(summary["low"], summary["high"])),
            *[
                (_(EXTRA_LABELS.get(k, k)), "-" if v is None else v)
                for k, v in (extra or {}).items()
                if not isinstance(v, (dict, list))
            ],
        ],
    )
    emit_rows([_("region"), _("total")], summary["regions"], ["region", "total"], as_json=False, as_csv=False)
