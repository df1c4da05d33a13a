"""Forecast periods: months or ISO weeks of the company calendar (:mod:`kehu_core.calendar`).

The calendar itself (which local month or week an instant falls in, in Python and in SQL)
is the core's; this module holds what forecasting adds: the frequencies a forecast may use,
their pandas aliases and season lengths, and runs of consecutive periods.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from kehu_core import calendar
from kehu_core.errors import Problem, ValidationError

Freq = Literal["month", "week"]
FREQS: tuple[Freq, ...] = ("month", "week")
#: The statsforecast/pandas frequency alias and the season length of each frequency.
PANDAS_FREQ = {"month": "MS", "week": "W-MON"}
SEASON = {"month": 12, "week": 52}
DEFAULT_HORIZON = {"month": 12, "week": 13}
DEFAULT_HISTORY = {"month": 36, "week": 156}


def check_freq(freq: str) -> Freq:
    """``month`` or ``week``, or a clear error naming the field."""
    if freq not in FREQS:
        raise ValidationError([Problem("freq", f"must be one of {', '.join(FREQS)}", value=freq)])
    return freq


def periods(first: date, count: int, freq: Freq) -> list[date]:
    """``count`` consecutive period starts from ``first``."""
    return [calendar.shift(first, i, freq) for i in range(count)]


def periods_between(start: date, end: date, freq: Freq) -> int:
    """How many whole periods from the period starting at ``start`` to the one starting at ``end``."""
    if freq == "week":
        return (end - start).days // 7
    return calendar.month_index(end) - calendar.month_index(start)
