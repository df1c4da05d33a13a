"""``kehu forecast targets | track``: SMART targets per salesperson, and how they are going."""

from __future__ import annotations

from datetime import date

import click
from attrs import asdict

from kehu_core.cli.context import transaction
from kehu_core.cli.output import emit_rows, list_output_options
from kehu_core.cli.params import DAY
from kehu_forecast import api, plot
from kehu_forecast.cli.options import RUN_ID, plot_option


@click.command("targets")
@click.option(
    "--run", "run_id", type=RUN_ID, help="The plan to set targets from (default: newest reconciled run)."
)
@click.option(
    "--period", "grouping", type=click.Choice(["month", "quarter"]), default="quarter", show_default=True
)
@click.option("--list", "only_list", is_flag=True, help="Only list the saved targets.")
@list_output_options
def targets_cmd(run_id: int | None, grouping: str, only_list: bool, as_json: bool, as_csv: bool) -> None:
    """SMART targets per salesperson and period from a reconciled plan: who, which customers,
    how much, by when."""
    with transaction() as (app, session):
        if not only_list:
            api.set_targets(app, session, run_id=run_id, grouping=grouping)
        rows = api.list_targets(session)
    keys = ["salesperson", "period_start", "period_end", "amount", "baseline", "customers", "note"]
    emit_rows(keys, rows, keys, as_json=as_json, as_csv=as_csv)


@click.command("track")
@click.option("--as-of", "as_of", type=DAY, help="Default: today.")
@click.option("--salesperson")
@plot_option("target against actual per salesperson")
@list_output_options
def track_cmd(
    as_of: date | None, salesperson: str | None, plot_path: str | None, as_json: bool, as_csv: bool
) -> None:
    """Targets against actual purchases so far: achieved, expected by now, on track or behind."""
    with transaction() as (_app, session):
        rows = [asdict(p) for p in api.track(session, as_of=as_of, salesperson=salesperson)]
    if plot_path:
        plot.plot_bars(
            "Targets against actuals",
            [f"{r['salesperson']} {r['period_start']:%Y-%m}" for r in rows],
            {
                "target": [float(r["amount"]) for r in rows],
                "expected by now": [float(r["expected_to_date"]) for r in rows],
                "actual": [float(r["actual"]) for r in rows],
            },
            plot_path,
        )
    keys = [
        "salesperson",
        "period_start",
        "period_end",
        "amount",
        "expected_to_date",
        "actual",
        "achieved_pct",
        "elapsed_pct",
        "status",
    ]
    emit_rows(keys, rows, keys, as_json=as_json, as_csv=as_csv)
