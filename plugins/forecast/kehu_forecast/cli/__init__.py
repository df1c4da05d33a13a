"""``kehu forecast ...``: the plugin's command group, built from the commands in this package.

Each sibling module defines the commands for one job (forecasts, opportunities, market inputs
and top-down, the gap, reconciliation, targets, backtest); this module only puts them in the
group, by import path: a command's module (and the services, models and plotting it needs)
loads only when that command runs or shows its help. Commands parse, call the services (the
functions :mod:`kehu_forecast.api` makes public) and print; the rules live in the services.
Only the modules of the commands that fit models (``run``, ``reconcile``, ``backtest``) import
statsforecast (and the Dask glue it brings), and only those that draw (``run``, ``gap``,
``track``) import matplotlib: the other commands, and their ``--help``, load neither.
"""

from __future__ import annotations

import click

from kehu_core.cli.context import PluginGroup
from kehu_core.i18n import N_


# PluginGroup: where the plugin is not installed, every command says "kehu plugins install forecast".
# The first paragraph is the manifest's short help, which `kehu --help` translates with this one.
@click.group("forecast", cls=PluginGroup, plugin="forecast")
def forecast() -> None:
    """Sales forecasts (销售预测): bottom-up, top-down, the gap, targets.

    \b
    kehu forecast run                      bottom-up from history and pipeline
    kehu forecast market set 2026-01 region 华东 --potential 5000000 --share 0.12
    kehu forecast topdown                  market potential x share, allocated down
    kehu forecast gap                      top-down against bottom-up, at every level
    kehu forecast reconcile --method mint-wls  one plan that adds up
    kehu forecast targets                  SMART targets per salesperson
    kehu forecast track                    targets against actuals
    kehu forecast backtest                 MASE and sMAPE against seasonal naive
    kehu forecast plan check               sales plans: situation, targets, assumptions, actions, budget
    """


#: name: (module:attribute, short help shown by ``kehu forecast --help`` without importing it;
#: marked N_ so the catalog has each, translated where the group lists them)
COMMANDS = {
    "run": (
        "kehu_forecast.cli.run:run_cmd",
        N_("Bottom-up forecast (由下而上) of every customer, summed up the hierarchy, and saved as a run."),
    ),
    "runs": ("kehu_forecast.cli.forecasts:runs_cmd", N_("The saved forecast runs, newest first.")),
    "show": (
        "kehu_forecast.cli.forecasts:show_cmd",
        N_("Values of a run (default: the newest) at one level, per period."),
    ),
    "history": (
        "kehu_forecast.cli.forecasts:history_cmd",
        N_("Net purchases (refunds deducted) per node and period: what the forecasts start from."),
    ),
    "opportunity": (
        "kehu_forecast.cli.opportunities:opportunity",
        N_("The sales pipeline: opportunities with stage, probability and close date."),
    ),
    "market": (
        "kehu_forecast.cli.market:market",
        N_("Top-down inputs: market potential and expected share (or growth) per month."),
    ),
    "topdown": (
        "kehu_forecast.cli.market:topdown_cmd",
        N_("Top-down forecast (由上而下): market potential × share, allocated down, saved as a run."),
    ),
    "gap": ("kehu_forecast.cli.gap:gap_cmd", N_("Gap report: top-down against bottom-up at every level.")),
    "reconcile": (
        "kehu_forecast.cli.reconcile:reconcile_cmd",
        N_("One plan from bottom-up and top-down that adds up at every level, saved as a run."),
    ),
    "targets": ("kehu_forecast.cli.targets:targets_cmd", N_("SMART targets per salesperson and period.")),
    "track": (
        "kehu_forecast.cli.track:track_cmd",
        N_("Targets against actual purchases so far: on track or behind."),
    ),
    "backtest": (
        "kehu_forecast.cli.backtest:backtest_cmd",
        N_("Rolling-origin backtest on equal folds: MASE, sMAPE and the 80% band's coverage."),
    ),
    "plan": (
        "kehu_forecast.cli.planning:plan",
        N_("Sales plans (销售计划): how the forecast's numbers will be reached."),
    ),
}

for name, (path, short_help) in COMMANDS.items():
    forecast.add_lazy_command(name, path, short_help)
