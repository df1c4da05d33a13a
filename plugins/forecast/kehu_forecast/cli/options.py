"""Options shared by several ``kehu forecast`` commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from kehu_core.cli.params import VocabularyType
from kehu_core.i18n import N_
from kehu_forecast.hierarchy import LEVEL_NAMES
from kehu_forecast.periods import FREQ_NAMES

#: A level of the hierarchy.
LEVEL = VocabularyType(LEVEL_NAMES)
#: A frequency: month (月) or week (周).
FREQ = VocabularyType(FREQ_NAMES)
#: A run's id (64-bit): anything else is refused in one line, not a traceback.
RUN_ID = click.IntRange(1, 2**63 - 1)
#: Periods ahead (the services allow 1 to 104).
HORIZON = click.IntRange(1, 104)
#: Periods or months of history, or months a market figure applies to: up to a century of months.
PERIODS = click.IntRange(1, 1200)
#: The help of ``--history`` on every command that fits models.
HISTORY_HELP = N_("Periods of history to fit on (default: all of it, from the first purchase).")
#: Backtest folds.
FOLDS = click.IntRange(1, 100)
#: Processes for the forecasting library.
JOBS = click.IntRange(1, 256)


def plot_option(help: str) -> Callable[[Any], Any]:  # noqa: A002 - extraction finds help=
    """``--plot FILE`` (the parameter ``plot_path``): write a PNG; ``help`` is the option's whole
    help text, a literal (``help="Write a PNG: ..."``), so that the catalog extraction finds it."""
    return click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help=help)
