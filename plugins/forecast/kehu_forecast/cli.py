"""``kehu forecast ...``: the command line. It parses, calls the services, and prints; no rules here."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from kehu_core.cli.context import PluginGroup, transaction
from kehu_core.cli.params import DAY, MONEY
from kehu_core.cli.output import emit_json, emit_pairs, emit_rows, json_option, list_output_options


@click.group("forecast", cls=PluginGroup, plugin="forecast")
def forecast() -> None:
    """Sales forecasts (销售预测): bottom-up, top-down, the gap, a reconciled plan, SMART targets.

    \b
    kehu forecast run                      bottom-up from history and pipeline
    kehu forecast market set 2026-01 region 华东 --potential 5000000 --share 0.12
    kehu forecast topdown                  market potential x share, allocated down
    kehu forecast gap                      top-down against bottom-up, at every level
    kehu forecast reconcile --method mint-wls  one plan that adds up
    kehu forecast targets                  SMART targets per salesperson
    kehu forecast track                    targets against actuals
    kehu forecast backtest                 MASE and sMAPE against seasonal naive
    """


def _emit_plan_summary(plan: Any, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    from kehu_forecast import report

    summary = report.plan_summary(plan)
    if as_json:
        emit_json({**summary, **(extra or {})})
        return
    emit_pairs(
        f"forecast run {plan.run_id}: {plan.method}",
        [
            ("periods", f"{summary['first_period']} .. {summary['last_period']} ({summary['freq']})"),
            ("history up to", summary["history_end"]),
            ("company total", summary["total"]),
            ("pessimistic / optimistic", f"{summary['low']} / {summary['high']}"),
            *[(k, v) for k, v in (extra or {}).items() if not isinstance(v, (dict, list))],
        ],
    )
    emit_rows(["region", "total"], summary["regions"], ["region", "total"], as_json=False, as_csv=False)


@forecast.command("run")
@click.option("--freq", type=click.Choice(["month", "week"]), default="month", show_default=True)
@click.option("--horizon", type=int, help="Periods ahead (default 12 months or 13 weeks).")
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
    "--as-of", "as_of", type=DAY,
    help="Forecast as if today were DATE (history ends the period before).",
)
@click.option("--history", type=int, help="Periods of history to use (default 36 months / 156 weeks).")
@click.option("--no-pipeline", is_flag=True, help="Leave open opportunities out.")
@click.option("--optimistic", type=float, help="Stated adjustment for the optimistic scenario, e.g. 0.15.")
@click.option("--pessimistic", type=float, help="Stated adjustment for the pessimistic scenario, e.g. -0.2.")
@click.option("--jobs", "n_jobs", type=int, default=1, show_default=True, help="Processes for the library.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Write a PNG: history, forecast and interval.")
@json_option
def run_cmd(
    freq: str,
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
    plot: str | None,
    as_json: bool,
) -> None:
    """Bottom-up forecast (由下而上) of every customer, summed up the hierarchy, and saved as a run.

    \b
    Example: kehu forecast run --horizon 6 --plot forecast.png
    """
    from kehu_forecast.bottomup import Options, bottom_up
    from kehu_forecast.plan import store

    options = Options(
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
    with transaction() as (_app, session):
        plan = bottom_up(session, options)
        store(session, plan)
        if plot:
            from kehu_forecast import plot as plotting
            from kehu_forecast.history import load_history

            plotting.plot_plan(plan, load_history(session, freq, as_of=options.as_of, length=history), plot)
    _emit_plan_summary(plan, as_json, {"classes": plan.params.get("classes"), "plot": plot})


@forecast.command("runs")
@list_output_options
def runs_cmd(as_json: bool, as_csv: bool) -> None:
    """The saved forecast runs, newest first."""
    from kehu_forecast.runs import list_runs

    with transaction() as (_app, session):
        rows = list_runs(session)
    emit_rows(
        ["id", "kind", "method", "freq", "from", "periods", "total", "source", "created"],
        rows,
        ["id", "kind", "method", "freq", "first_period", "horizon", "total", "source", "created_at"],
        as_json=as_json,
        as_csv=as_csv,
    )


@forecast.command("show")
@click.argument("run_id", type=int, required=False)
@click.option(
    "--level",
    type=click.Choice(["company", "region", "salesperson", "customer"]),
    default="region",
    show_default=True,
)
@list_output_options
def show_cmd(run_id: int | None, level: str, as_json: bool, as_csv: bool) -> None:
    """Values of a run (default: the newest) at one level, per period."""
    from kehu_forecast import report
    from kehu_forecast.plan import load

    with transaction() as (_app, session):
        plan = load(session, run_id)
    rows = report.level_rows(plan, level)
    keys = ["node", "parent", *[p.isoformat() for p in plan.periods], "total"]
    emit_rows(keys, rows, keys, as_json=as_json, as_csv=as_csv)


@forecast.command("history")
@click.option("--freq", type=click.Choice(["month", "week"]), default="month", show_default=True)
@click.option(
    "--level",
    type=click.Choice(["company", "region", "salesperson", "customer"]),
    default="region",
    show_default=True,
)
@click.option("--by-category", is_flag=True, help="Split each node by product category (a second dimension).")
@click.option("--periods", "length", type=int, help="Periods of history (default 36 months / 156 weeks).")
@click.option("--as-of", "as_of", type=DAY)
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
    from kehu_forecast.history import history_rows

    with transaction() as (_app, session):
        period_list, rows = history_rows(
            session,
            freq=freq,
            level=level,
            by_category=by_category,
            as_of=as_of,
            length=length,
        )
    keys = ["node", *(["category"] if by_category else []), *[p.isoformat() for p in period_list], "total"]
    emit_rows(keys, rows, keys, as_json=as_json, as_csv=as_csv)


from kehu_forecast import cli_more  # noqa: E402,F401  (registers the other commands on ``forecast``)
