"""``kehu forecast backtest``: rolling-origin MASE and sMAPE against seasonal naive."""

from __future__ import annotations

from datetime import date

import click
from attrs import asdict

from kehu_core.cli.context import transaction
from kehu_core.cli.output import emit_rows, list_output_options
from kehu_core.cli.params import DAY
from kehu_forecast import api
from kehu_forecast.cli.options import FOLDS, HORIZON


@click.command("backtest")
@click.option(
    "--level",
    type=click.Choice(["company", "region", "salesperson", "customer"]),
    default="salesperson",
    show_default=True,
)
@click.option("--freq", type=click.Choice(["month", "week"]), default="month", show_default=True)
@click.option("--horizon", type=HORIZON, default=3, show_default=True)
@click.option("--folds", type=FOLDS, default=3, show_default=True)
@click.option("--methods", default="auto,theta,ets,croston,snaive", show_default=True)
@click.option("--as-of", "as_of", type=DAY, help="History up to the period before DATE (default: today).")
@list_output_options
def backtest_cmd(
    level: str,
    freq: str,
    horizon: int,
    folds: int,
    methods: str,
    as_of: date | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Rolling-origin backtest: MASE and sMAPE per method, and MASE relative to seasonal naive."""
    chosen = tuple(m.strip() for m in methods.split(",") if m.strip())
    with transaction() as (_app, session):
        scores = api.backtest(
            session, level=level, freq=freq, horizon=horizon, folds=folds, methods=chosen, as_of=as_of
        )
    keys = ["method", "mase", "smape", "relative_mase", "series"]
    emit_rows(keys, [asdict(s) for s in scores], keys, as_json=as_json, as_csv=as_csv)
