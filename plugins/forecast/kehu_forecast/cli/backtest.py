"""``kehu forecast backtest``: rolling-origin MASE, sMAPE and 80% band coverage against seasonal naive."""

from __future__ import annotations

import warnings
from datetime import date

import click
from attrs import asdict

from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import Progress, emit_rows, list_output_options
from kehu_core.cli.params import DAY
from kehu_core.i18n import messages
from kehu_forecast import api
from kehu_forecast.cli.options import FOLDS, FREQ, HISTORY_HELP, HORIZON, LEVEL, PERIODS
from kehu_forecast.methods import model_label

_ = messages("kehu_forecast").gettext


@click.command(cls=TranslatedCommand, name="backtest")
@click.option(
    "--level",
    type=LEVEL,
    default="salesperson",
    show_default=True,
)
@click.option("--freq", type=FREQ, default="month", show_default=True)
@click.option("--horizon", type=HORIZON, default=3, show_default=True)
@click.option("--folds", type=FOLDS, default=3, show_default=True)
@click.option("--methods", default="auto,theta,ets,croston,snaive", show_default=True)
@click.option("--as-of", "as_of", type=DAY, help="History up to the period before DATE (default: today).")
@click.option("--history", type=PERIODS, help=HISTORY_HELP)
@list_output_options
def backtest_cmd(
    level: str,
    freq: str,
    horizon: int,
    folds: int,
    methods: str,
    as_of: date | None,
    history: int | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Rolling-origin backtest on equal folds: MASE, sMAPE and the 80% band's coverage per
    method, and MASE relative to seasonal naive.

    \b
    coverage  percent of held-out points inside the method's 80% band (about 80 is honest)
    fitted    series x origins scored; unfitted: those with too short a history for the method

    \b
    Example:
      kehu forecast backtest --level company --horizon 12 --folds 1
    """
    chosen = tuple(m.strip() for m in methods.split(",") if m.strip())
    with (
        Progress(_("backtest")) as progress,
        transaction() as (_app, session),
        warnings.catch_warnings(),
    ):
        # The library's numeric warnings (a model that divides by zero on a tiny fold) are not
        # the reader's business: such a fit counts as unfitted or scores as it is.
        warnings.simplefilter("ignore", RuntimeWarning)
        scores = api.backtest(
            session,
            level=level,
            freq=freq,
            horizon=horizon,
            folds=folds,
            methods=chosen,
            as_of=as_of,
            history=history,
            progress=progress,
        )
    keys = ["method", "mase", "smape", "relative_mase", "coverage", "series", "fitted", "unfitted"]
    headers = [
        _("method"),
        "MASE",
        "sMAPE",
        _("relative MASE"),
        _("coverage"),
        _("series"),
        _("fitted"),
        _("unfitted"),
    ]
    rows = [asdict(s) for s in scores]
    if not as_json and not as_csv:
        rows = [{**r, "method": model_label(r["method"])} for r in rows]
    emit_rows(headers, rows, keys, as_json=as_json, as_csv=as_csv)
