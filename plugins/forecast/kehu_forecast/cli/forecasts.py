"""``kehu forecast run | runs | show | history``: bottom-up runs, saved runs, and the history behind them."""

from __future__ import annotations

from datetime import date

import click

from kehu_core import calendar
from kehu_core.cli.context import transaction
from kehu_core.cli.output import Progress, emit_rows, json_option, list_output_options
from kehu_core.cli.params import DAY
from kehu_forecast import api, distributed, plot
from kehu_forecast.cli.options import HISTORY_HELP, HORIZON, JOBS, PERIODS, RUN_ID, plot_option
from kehu_forecast.cli.summary import emit_plan_summary
from kehu_forecast.periods import Freq

LEVEL = click.Choice(["company", "region", "salesperson", "customer"])


@click.command("run")
@click.option("--freq", type=click.Choice(["month", "week"]), default="month", show_default=True)
@click.option("--horizon", type=HORIZON, help="Periods ahead (default 12 months or 13 weeks).")
@click.option(
    "--method",
    default="auto",
    show_default=True,
    help="auto (by demand class), theta, ets, croston, adida, tsb, snaive, average.",
)
@click.option(
    "--regular", default="theta", show_default=True, help="Model for regular series under auto: theta or ets."
)
@click.option(
    "--intermittent", default=None, help="Model for intermittent series under auto: croston, adida or tsb."
)
@click.option(
    "--as-of", "as_of", type=DAY, help="Forecast as if today were DATE (history ends the period before)."
)
@click.option("--history", type=PERIODS, help=HISTORY_HELP)
@click.option("--no-pipeline", is_flag=True, help="Leave open opportunities out.")
@click.option("--optimistic", type=float, help="Stated adjustment for the optimistic scenario, e.g. 0.15.")
@click.option("--pessimistic", type=float, help="Stated adjustment for the pessimistic scenario, e.g. -0.2.")
@click.option("--jobs", "n_jobs", type=JOBS, default=1, show_default=True, help="Processes for the library.")
@click.option(
    "--engine",
    type=click.Choice(distributed.ENGINES),
    default="local",
    show_default=True,
    help="Where the customer models run: this machine, or a Dask cluster (pip install kehu-forecast[dask]).",
)
@click.option(
    "--engine-address",
    help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default $KEHU_DASK_SCHEDULER, else 2 local workers).",
)
@plot_option("history, forecast and interval")
@json_option
def run_cmd(
    freq: Freq,
    horizon: int | None,
    method: str,
    regular: str,
    intermittent: str | None,
    as_of: date | None,
    history: int | None,
    no_pipeline: bool,
    optimistic: float | None,
    pessimistic: float | None,
    n_jobs: int,
    engine: str,
    engine_address: str | None,
    plot_path: str | None,
    as_json: bool,
) -> None:
    """Bottom-up forecast (由下而上) of every customer, summed up the hierarchy, and saved as a run.

    \b
    Example: kehu forecast run --horizon 6 --plot forecast.png
    """
    options = api.Options(
        freq=freq,
        horizon=horizon,
        method=method,
        regular=regular,
        intermittent=intermittent,
        as_of=as_of,
        history=history,
        pipeline=not no_pipeline,
        optimistic=optimistic,
        pessimistic=pessimistic,
        n_jobs=n_jobs,
    )
    with (
        Progress("forecast") as progress,
        distributed.engine(engine, engine_address),
        transaction() as (app, session),
    ):
        plan = api.run_forecast(app, session, options, progress=progress)
        if plot_path:
            plot.plot_plan(plan, api.company_history(session, freq, as_of=as_of, length=history), plot_path)
        summary = api.summary(session, plan)
        check, warnings = api.plausibility(session, plan)
    emit_plan_summary(
        summary,
        as_json,
        {
            "classes": plan.params.get("classes"),
            "plot": plot_path,
            "plausibility": check,
            "warnings": warnings,
        },
    )
    if not as_json:
        for line in warnings:
            click.echo(f"warning: {line}")


@click.command("runs")
@list_output_options
def runs_cmd(as_json: bool, as_csv: bool) -> None:
    """The saved forecast runs, newest first (``created`` is the local day, ``by`` who made it).

    ``total`` is the company's for a user who sees every customer, else that of the
    customers you see."""
    with transaction() as (_app, session):
        rows = [{**r, "created": calendar.format_day(r["created_at"])} for r in api.list_runs(session)]
    emit_rows(
        ["id", "kind", "method", "freq", "from", "periods", "total", "source", "by", "created"],
        rows,
        ["id", "kind", "method", "freq", "first_period", "horizon", "total", "source", "by", "created"],
        as_json=as_json,
        as_csv=as_csv,
    )


@click.command("show")
@click.argument("run_id", type=RUN_ID, required=False)
@click.option("--level", type=LEVEL, default="region", show_default=True)
@list_output_options
def show_cmd(run_id: int | None, level: str, as_json: bool, as_csv: bool) -> None:
    """Values of a run (default: the newest) at one level, per period.

    Region and company need permission forecast.company; customers and salespeople count only
    the customers you see."""
    with transaction() as (_app, session):
        plan, rows = api.run_rows(session, level, run_id)
    keys = ["node", "parent", *[p.isoformat() for p in plan.periods], "total"]
    emit_rows(keys, rows, keys, as_json=as_json, as_csv=as_csv)


@click.command("history")
@click.option("--freq", type=click.Choice(["month", "week"]), default="month", show_default=True)
@click.option("--level", type=LEVEL, default="region", show_default=True)
@click.option("--by-category", is_flag=True, help="Split each node by product category (a second dimension).")
@click.option("--periods", "length", type=PERIODS, help="Periods of history (default 36 months / 156 weeks).")
@click.option("--as-of", "as_of", type=DAY, help="History up to the period before DATE (default: today).")
@list_output_options
def history_cmd(
    freq: str,
    level: str,
    by_category: bool,
    length: int | None,
    as_of: date | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Net purchases (refunds deducted) per node and period: what the forecasts start from.

    \b
    Example: kehu forecast history --level salesperson --by-category --periods 12 --csv
    """
    with transaction() as (_app, session):
        period_list, rows = api.history_rows(
            session, freq=freq, level=level, by_category=by_category, as_of=as_of, length=length
        )
    keys = ["node", *(["category"] if by_category else []), *[p.isoformat() for p in period_list], "total"]
    emit_rows(keys, rows, keys, as_json=as_json, as_csv=as_csv)
