"""Business time: working hours on working days, with China's public holidays and swapped days.

Which days are working days, in order of precedence:

1. the company's own exceptions (table ``complaints_calendar_days``: a day off or a working day);
2. China's public holidays and the weekend days moved to working days (调休上班), as announced
   each year by the State Council, from the ``chinese_calendar`` package;
3. Monday to Friday for years the package does not cover yet (a warning says so; add the
   year's days as exceptions, or upgrade the package when it is published).

Working hours are windows in local time (default 09:00-12:00 and 13:00-18:00, Asia/Shanghai).
All durations here are business seconds: only the overlap with working windows counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from attrs import field, frozen
from chinese_calendar import constants

from kehu_core.i18n import N_, messages

_ = messages("kehu_complaints").gettext

#: How far ahead :meth:`BusinessCalendar.add` looks for working time before giving up.
MAX_SEARCH_DAYS = 3660


class CalendarError(ValueError):
    """The calendar has no working time (every day off, or no working window)."""


def parse_windows(raw: Sequence[Sequence[str]]) -> tuple[tuple[time, time], ...]:
    """Working windows from ``[["09:00", "12:00"], ...]``; sorted, non-overlapping, start < end."""
    windows = []
    for pair in raw:
        if len(pair) != 2:
            raise ValueError(_("a working window is [start, end], got {pair}").format(pair=repr(pair)))
        start, end = (time.fromisoformat(str(p)) for p in pair)
        if not start < end:
            raise ValueError(
                _("a working window must start before it ends, got {start}-{end}").format(
                    start=pair[0], end=pair[1]
                )
            )
        windows.append((start, end))
    windows.sort()
    for (_start, end), (start, _end) in zip(windows, windows[1:]):
        if start < end:
            raise ValueError(_("working windows overlap"))
    return tuple(windows)


#: The holidays ``chinese_calendar`` names, marked for translation (shown with ``_(name)``).
HOLIDAY_NAMES = (
    N_("New Year's Day"),
    N_("Spring Festival"),
    N_("Tomb-sweeping Day"),
    N_("Labour Day"),
    N_("Dragon Boat Festival"),
    N_("National Day"),
    N_("Mid-autumn Festival"),
    N_("Anti-Fascist 70th Day"),
)


def _statutory_source() -> tuple[Mapping[date, object], Mapping[date, object]]:
    return constants.holidays, constants.workdays


@frozen
class BusinessCalendar:
    """Working days and hours; converts between wall-clock spans and business seconds."""

    zone: ZoneInfo = field(factory=lambda: ZoneInfo("Asia/Shanghai"))
    windows: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13), time(18)))
    exceptions: Mapping[date, bool] = field(factory=dict)
    chinese_holidays: bool = True

    @cached_property
    def _tables(self) -> tuple[Mapping[date, object], Mapping[date, object], int, int]:
        if not self.chinese_holidays:
            return {}, {}, 0, -1
        holidays, workdays = _statutory_source()
        years = [d.year for d in holidays]
        return holidays, workdays, min(years), max(years)

    @property
    def covered_years(self) -> tuple[int, int] | None:
        """First and last year whose Chinese holidays are known, or ``None`` if not used."""
        _holidays, _workdays, first, last = self._tables
        return (first, last) if first <= last else None

    def is_covered(self, day: date) -> bool:
        """True when the day's year has official holiday data (or holidays are not used)."""
        span = self.covered_years
        return span is None or span[0] <= day.year <= span[1]

    def is_workday(self, day: date) -> bool:
        """True when ``day`` is a working day."""
        if day in self.exceptions:
            return self.exceptions[day]
        holidays, workdays, first, last = self._tables
        if first <= day.year <= last:
            if day in workdays:
                return True
            if day in holidays:
                return False
        return day.weekday() < 5

    def holiday_name(self, day: date) -> str | None:
        """The official name of a public holiday or swapped working day, if any (in English, as
        ``chinese_calendar`` gives it; :data:`HOLIDAY_NAMES` translates it)."""
        holidays, workdays, _first, _last = self._tables
        value = holidays.get(day) or workdays.get(day)
        return None if value is None else str(getattr(value, "value", value))

    # -- windows ------------------------------------------------------------------------
    def _day_windows(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_workday(day):
            return []
        return [
            (datetime.combine(day, start, self.zone), datetime.combine(day, end, self.zone))
            for start, end in self.windows
        ]

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("naive datetime: pass timezone-aware times")
        return moment.astimezone(self.zone)

    def business_seconds(self, start: datetime, end: datetime) -> int:
        """Working seconds between ``start`` and ``end`` (0 when ``end`` is not after ``start``)."""
        start, end = self._local(start), self._local(end)
        if end <= start:
            return 0
        total = 0.0
        day = start.date()
        while day <= end.date():
            for w_start, w_end in self._day_windows(day):
                overlap = (min(end, w_end) - max(start, w_start)).total_seconds()
                if overlap > 0:
                    total += overlap
            day += timedelta(days=1)
        return int(round(total))

    def add(self, start: datetime, seconds: int) -> datetime:
        """The moment ``seconds`` of working time after ``start`` (in UTC).

        A start outside working hours begins counting at the next working window. A target
        that ends exactly at the end of a window is due at that end (18:00, not 09:00 next day).
        """
        if seconds < 0:
            raise ValueError("business seconds must not be negative")
        cursor = self._local(start)
        if seconds == 0:
            return cursor.astimezone(UTC)
        remaining = float(seconds)
        day = cursor.date()
        for _day in range(MAX_SEARCH_DAYS):
            for w_start, w_end in self._day_windows(day):
                begin = max(cursor, w_start)
                available = (w_end - begin).total_seconds()
                if available <= 0:
                    continue
                if remaining <= available:
                    return (begin + timedelta(seconds=remaining)).astimezone(UTC)
                remaining -= available
            day += timedelta(days=1)
        raise CalendarError(
            _("no working time within {days} days: check the working hours and days off").format(
                days=MAX_SEARCH_DAYS
            )
        )
