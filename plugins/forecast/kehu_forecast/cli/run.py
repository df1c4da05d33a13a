"""``kehu forecast run``: the bottom-up run, which fits the models (statsforecast, the
customer-base model) and can plot; the commands that only read runs are in
:mod:`kehu_forecast.cli.forecasts`."""

from __future__ import annotations

from datetime import date

import click

from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import Progress, json_option
from kehu_core.cli.params import DAY, VocabularyType
from kehu_core.i18n import messages
from kehu_core.plotfonts import missing_font_advice
from kehu_forecast import api, distributed, plot
from kehu_forecast.cli.options import FREQ, HISTORY_HELP, HORIZON, JOBS, PERIODS, plot_option
from kehu_forecast.cli.summary import emit_plan_summary
from kehu_forecast.periods import Freq

_ = messages("kehu_forecast").gettext


@click.command(cls=TranslatedCommand, name="run")
@click.option("--freq", type=FREQ, default="month", show_default=True)
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
    type=VocabularyType(distributed.ENGINE_NAMES),
    default="local",
    show_default=True,
    help="Where the customer models run: this machine, or a Dask cluster (pip install kehu-forecast[dask]).",
)
@click.option(
    "--engine-address",
    help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default $KEHU_DASK_SCHEDULER, else 2 local workers).",
)
@plot_option(help="Write a PNG: history, forecast and interval.")
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
    Example:
      kehu forecast run --horizon 6 --plot forecast.png
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
        Progress(_("forecast")) as progress,
        distributed.engine(engine, engine_address),
        transaction() as (app, session),
    ):
        plan = api.run_forecast(app, session, options, progress=progress)
        if plot_path:
            plot.plot_plan(plan, api.company_history(session, freq, as_of=as_of, length=history), plot_path)
            advice = missing_font_advice()
            if advice:
                click.echo(advice, err=True)
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
            click.echo(_("warning: {message}").format(message=line))
