"""Forecast periods: months or ISO weeks of the company calendar (:mod:`kehu_core.calendar`).

The calendar itself (which local month or week an instant falls in, in Python and in SQL)
is the core's; this module holds what forecasting adds: the frequencies a forecast may use,
their pandas aliases and season lengths, and runs of consecutive periods.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, cast

from kehu_core import calendar
from kehu_core.choices import Choice, Vocabulary
from kehu_core.i18n import N_
from kehu_forecast.names import pick

Freq = Literal["month", "week"]
FREQS: tuple[Freq, ...] = ("month", "week")
#: The frequencies as people name them (月, 周).
FREQ_NAMES = Vocabulary(
    "kehu_forecast",
    N_("frequency"),
    [
        Choice("month", N_("month"), aliases=("月", "月度", "按月")),
        Choice("week", N_("week"), aliases=("周", "星期", "按周")),
    ],
)
#: The statsforecast/pandas frequency alias and the season length of each frequency.
PANDAS_FREQ = {"month": "MS", "week": "W-MON"}
SEASON = {"month": 12, "week": 52}
DEFAULT_HORIZON = {"month": 12, "week": 13}
DEFAULT_HISTORY = {"month": 36, "week": 156}


def check_freq(freq: str) -> Freq:
    """``month`` or ``week`` (or its name, 月 or 周), or a clear error naming the field."""
    return cast(Freq, pick("freq", freq, FREQ_NAMES))


def periods(first: date, count: int, freq: Freq) -> list[date]:
    """``count`` consecutive period starts from ``first``."""
    return [calendar.shift(first, i, freq) for i in range(count)]


def periods_between(start: date, end: date, freq: Freq) -> int:
    """How many whole periods from the period starting at ``start`` to the one starting at ``end``."""
    if freq == "week":
        return (end - start).days // 7
    return calendar.month_index(end) - calendar.month_index(start)
