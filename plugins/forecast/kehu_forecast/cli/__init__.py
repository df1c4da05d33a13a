"""``kehu forecast ...``: the plugin's command group, built from the commands in this package.

Each sibling module defines the commands for one job (forecasts, opportunities, market inputs
and top-down, the gap, reconciliation, targets, backtest); this module only puts them in the
group. Commands parse, call :mod:`kehu_forecast.api` and print; the rules live in the services.
"""

from __future__ import annotations

import click

from kehu_core.cli.context import PluginGroup
from kehu_forecast.cli.backtest import backtest_cmd
from kehu_forecast.cli.forecasts import history_cmd, run_cmd, runs_cmd, show_cmd
from kehu_forecast.cli.gap import gap_cmd
from kehu_forecast.cli.market import market, topdown_cmd
from kehu_forecast.cli.opportunities import opportunity
from kehu_forecast.cli.planning import plan
from kehu_forecast.cli.reconcile import reconcile_cmd
from kehu_forecast.cli.targets import targets_cmd, track_cmd


# PluginGroup: where the plugin is not installed, every command says "kehu plugins install forecast".
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


for command in (
    run_cmd,
    runs_cmd,
    show_cmd,
    history_cmd,
    opportunity,
    market,
    topdown_cmd,
    gap_cmd,
    reconcile_cmd,
    targets_cmd,
    track_cmd,
    backtest_cmd,
    plan,
):
    forecast.add_command(command)
