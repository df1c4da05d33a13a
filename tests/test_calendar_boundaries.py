"""The company calendar at its edges, with hand-written values (issue 21): the instant a local
day begins and ends and one second either side, filters "from" and "until" a day, a quarter's
first and last month, and the zone's fixed offset (Shanghai) or its absence (Berlin)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from kehu_core import calendar


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


SECOND = timedelta(seconds=1)


def test_a_local_day_begins_at_its_local_midnight_and_ends_at_the_next():
    # Shanghai is UTC+8: 1 March 2026 begins at 28 February 16:00 UTC.
    assert calendar.day_start(date(2026, 3, 1)) == utc("2026-02-28T16:00:00")
    assert calendar.day_end(date(2026, 3, 1)) == utc("2026-03-01T16:00:00")
    assert calendar.day_end(date(2026, 2, 28)) == calendar.day_start(date(2026, 3, 1))
    edge = utc("2026-02-28T16:00:00")
    assert calendar.local_day(edge - SECOND) == date(2026, 2, 28)
    assert calendar.local_day(edge) == date(2026, 3, 1)
    assert calendar.local_day(edge + SECOND) == date(2026, 3, 1)


def test_from_and_until_a_day_take_the_whole_local_day_and_instants_as_they_are():
    day = date(2026, 3, 1)
    assert calendar.lower_bound(day) == utc("2026-02-28T16:00:00")
    assert calendar.upper_bound(day) == utc("2026-03-01T16:00:00")
    moment = utc("2026-03-01T05:06:07")
    assert calendar.lower_bound(moment) == moment
    assert calendar.upper_bound(moment) == moment


def test_today_is_the_local_day_of_now():
    assert calendar.today(utc("2026-12-31T15:59:59")) == date(2026, 12, 31)
    assert calendar.today(utc("2026-12-31T16:00:00")) == date(2027, 1, 1)


@pytest.mark.parametrize(
    "month, first",
    [(1, 1), (2, 1), (3, 1), (4, 4), (5, 4), (6, 4), (7, 7), (8, 7), (9, 7), (10, 10), (11, 10), (12, 10)],
)
def test_each_month_belongs_to_its_quarter(month, first):
    start = calendar.period_start(date(2026, month, 15), "quarter")
    assert start == date(2026, first, 1)
    assert calendar.period_end(start, "quarter") == calendar.shift(start, 1, "quarter") - timedelta(days=1)


@pytest.mark.parametrize(
    "start, count, unit, shifted",
    [
        (date(2026, 12, 1), 1, "month", date(2027, 1, 1)),
        (date(2026, 1, 1), -1, "month", date(2025, 12, 1)),
        (date(2026, 11, 1), 1, "month", date(2026, 12, 1)),
        (date(2026, 10, 1), 1, "quarter", date(2027, 1, 1)),
        (date(2026, 1, 1), -1, "year", date(2025, 1, 1)),
        (date(2026, 3, 2), 2, "week", date(2026, 3, 16)),
        (date(2026, 3, 2), -1, "day", date(2026, 3, 1)),
    ],
)
def test_shift_across_a_year_end(start, count, unit, shifted):
    assert calendar.shift(start, count, unit) == shifted


def test_month_index_and_day_number_at_their_origins():
    assert calendar.month_index(date(1970, 1, 1)) == 1970 * 12
    assert calendar.month_index(date(2026, 12, 31)) + 1 == calendar.month_index(date(2027, 1, 1))
    assert calendar.day_number(date(1970, 1, 1)) == 0
    assert calendar.day_number(date(1969, 12, 31)) == -1
    assert calendar.day_number(date(1970, 1, 2)) == 1


def test_printed_days_and_times_are_local_and_none_is_a_dash():
    assert calendar.format_day(None) == "-"
    assert calendar.format_time(None) == "-"
    assert calendar.format_day(utc("2026-02-28T16:00:00")) == "2026-03-01"
    assert calendar.format_day(utc("2026-02-28T15:59:59")) == "2026-02-28"
    assert calendar.format_time(utc("2026-02-28T16:00:00")) == "2026-03-01 00:00"


def test_the_fixed_offset_of_a_zone_without_daylight_saving(company_zone):
    assert calendar.fixed_offset_minutes() == 480  # Shanghai: +08:00 since 1992
    company_zone("America/Sao_Paulo")  # no daylight saving since 2019, but there was in 1992
    assert calendar.fixed_offset_minutes() is None
    company_zone("Asia/Kolkata")  # +05:30 throughout
    assert calendar.fixed_offset_minutes() == 330
    company_zone("America/Caracas")  # -04:30 from 2007 to 2016, -04:00 before and after
    assert calendar.fixed_offset_minutes() is None
    company_zone("America/Panama")  # -05:00 throughout: a negative offset
    assert calendar.fixed_offset_minutes() == -300
    company_zone("Europe/Berlin")
    assert calendar.fixed_offset_minutes() is None


def test_sqlite_local_time_keeps_none_and_converts_at_midnight():
    assert calendar.sqlite_local_time(None) is None
    assert calendar.sqlite_local_time("2026-02-28 16:00:00") == "2026-03-01 00:00:00"
    assert calendar.sqlite_local_time("2026-02-28 15:59:59") == "2026-02-28 23:59:59"
