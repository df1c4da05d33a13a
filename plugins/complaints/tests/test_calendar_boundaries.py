"""Every comparison of the business calendar at its edge and one step either side, with the
expected value written by hand: windows that touch or overlap by a minute, a due time that
fills a window exactly, a second less or more, the first and last year with official data,
Friday and Saturday, and the search horizon (:data:`MAX_SEARCH_DAYS`) on its last day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from kehu_complaints import calendar as calendar_module
from kehu_complaints.calendar import MAX_SEARCH_DAYS, BusinessCalendar, CalendarError, parse_windows

SH = ZoneInfo("Asia/Shanghai")
CAL = BusinessCalendar()  # 09:00-12:00, 13:00-18:00, Asia/Shanghai, Chinese holidays
PLAIN = BusinessCalendar(chinese_holidays=False)  # Monday to Friday only


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def utc(text: str) -> datetime:
    return at(text).astimezone(UTC)


# -- parse_windows ------------------------------------------------------------------------------


@pytest.mark.parametrize("pair", [["09:00"], ["09:00", "12:00", "13:00"]])
def test_a_window_of_one_or_three_times_is_refused(pair):
    with pytest.raises(ValueError, match=r"a working window is \[start, end\]"):
        parse_windows([pair])


def test_a_window_must_start_before_it_ends_by_at_least_a_minute():
    with pytest.raises(ValueError, match="start before it ends"):
        parse_windows([["09:00", "09:00"]])  # on the edge: empty
    with pytest.raises(ValueError, match="start before it ends, got 09:01-09:00$"):
        parse_windows([["09:01", "09:00"]])  # a minute past
    assert parse_windows([["08:59", "09:00"]]) == ((time(8, 59), time(9, 0)),)  # a minute short


def test_windows_may_touch_but_not_overlap_and_come_out_sorted():
    touching = parse_windows([["13:00", "18:00"], ["09:00", "13:00"]])
    assert touching == ((time(9), time(13)), (time(13), time(18)))
    assert parse_windows([["09:00", "12:59"], ["13:00", "18:00"]]) == (
        (time(9), time(12, 59)),
        (time(13), time(18)),
    )
    with pytest.raises(ValueError, match="overlap"):
        parse_windows([["09:00", "13:01"], ["13:00", "18:00"]])


# -- which days work ----------------------------------------------------------------------------


def test_covered_years_and_their_edges():
    first, last = CAL.covered_years
    assert first <= 2025 <= last
    assert [CAL.is_covered(date(y, 6, 1)) for y in (first - 1, first, last, last + 1)] == [
        False,
        True,
        True,
        False,
    ]
    assert PLAIN.covered_years is None
    assert PLAIN.is_covered(date(1900, 1, 1)) and PLAIN.is_covered(date(2999, 1, 1))


def test_official_data_of_a_single_year(monkeypatch):
    """The package covering one year only (first == last), with a swapped working day listed
    for a year it has no holidays of: that day is not used, the year is not covered."""
    official = ({date(2025, 10, 1): "National Day"}, {date(2024, 9, 29): "National Day"})
    monkeypatch.setattr(calendar_module, "_statutory_source", lambda: official)
    cal = BusinessCalendar()
    assert cal.covered_years == (2025, 2025)
    assert [cal.is_covered(date(y, 6, 1)) for y in (2024, 2025, 2026)] == [False, True, False]
    assert not cal.is_workday(date(2025, 10, 1))  # Wednesday, a holiday
    assert not cal.is_workday(date(2024, 9, 29))  # Sunday of an uncovered year: the weekend


def test_friday_works_and_saturday_does_not_without_official_data():
    # 2025-03-07 is a Friday, 2025-03-08 a Saturday, 2025-03-09 a Sunday, 2025-03-10 a Monday.
    assert [PLAIN.is_workday(date(2025, 3, d)) for d in (7, 8, 9, 10)] == [True, False, False, True]
    _, last = CAL.covered_years
    friday = date(last + 1, 1, 1)
    while friday.weekday() != 4:
        friday += timedelta(days=1)
    assert CAL.is_workday(friday) and not CAL.is_workday(friday + timedelta(days=1))


def test_official_days_and_company_exceptions():
    # 1 Oct 2025 (Wednesday) is National Day; Sunday 28 Sept 2025 is a swapped working day.
    assert not CAL.is_workday(date(2025, 10, 1))
    assert CAL.is_workday(date(2025, 9, 28))
    assert CAL.is_workday(date(2025, 9, 29))  # an ordinary Monday
    company = BusinessCalendar(exceptions={date(2025, 10, 1): True, date(2025, 9, 29): False})
    assert company.is_workday(date(2025, 10, 1)) and not company.is_workday(date(2025, 9, 29))
    assert company.is_workday(date(2025, 9, 28))  # not an exception: the official calendar


def test_holiday_names():
    assert CAL.holiday_name(date(2025, 10, 1)) == "National Day"
    assert CAL.holiday_name(date(2025, 9, 28)) == "National Day"  # the swapped working day
    assert CAL.holiday_name(date(2025, 9, 29)) is None
    assert PLAIN.holiday_name(date(2025, 10, 1)) is None


# -- business_seconds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, end, seconds",
    [
        ("2025-03-03 10:00:00", "2025-03-03 10:00:00", 0),  # end == start
        ("2025-03-03 10:00:01", "2025-03-03 10:00:00", 0),  # end a second before start
        ("2025-03-03 10:00:00", "2025-03-03 10:00:01", 1),  # a second after
        ("2025-03-03 11:59:59", "2025-03-03 12:00:00", 1),  # the last second before lunch
        ("2025-03-03 12:00:00", "2025-03-03 13:00:00", 0),  # exactly lunch
        ("2025-03-03 11:59:59", "2025-03-03 13:00:01", 2),  # a second either side of lunch
        ("2025-03-03 08:59:59", "2025-03-03 09:00:01", 1),  # across the morning start
        ("2025-03-03 17:59:59", "2025-03-03 18:00:01", 1),  # across the evening end
        ("2025-03-03 17:00:00", "2025-03-04 10:00:00", 7200),  # the end's day counts
        ("2025-03-07 17:00:00", "2025-03-10 09:00:00", 3600),  # Friday to Monday's first second
        ("2025-03-07 17:00:00", "2025-03-10 09:00:01", 3601),
        ("2025-03-03 09:00:00", "2025-03-03 09:00:00.600000", 1),  # rounded to the nearest second
        ("2025-03-03 09:00:00", "2025-03-03 09:00:00.400000", 0),
        # A start 0.6 s after a window's end takes nothing off the next window.
        ("2025-03-03 12:00:00.600000", "2025-03-03 13:00:01", 1),
    ],
)
def test_business_seconds_at_the_edges(start, end, seconds):
    assert CAL.business_seconds(at(start), at(end)) == seconds


def test_business_seconds_of_times_in_another_zone():
    # 02:00 UTC is 10:00 in Shanghai; 04:30 UTC is 12:30 (lunch): 2 working hours between.
    start = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
    end = datetime(2025, 3, 3, 4, 30, tzinfo=UTC)
    assert CAL.business_seconds(start, end) == 7200


# -- add ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, seconds, due",
    [
        ("2025-03-03 11:00:00", 3599, "2025-03-03 11:59:59"),  # a second short of lunch
        ("2025-03-03 11:00:00", 3600, "2025-03-03 12:00:00"),  # fills the morning: due at 12:00
        ("2025-03-03 11:00:00", 3601, "2025-03-03 13:00:01"),  # a second into the afternoon
        ("2025-03-03 12:00:00", 1, "2025-03-03 13:00:01"),  # from the end of a window
        ("2025-03-03 18:00:00", 1, "2025-03-04 09:00:01"),  # from the end of the day
        ("2025-03-03 12:00:00.500000", 1, "2025-03-03 13:00:01"),  # 0.5 s past a window: none of it
        ("2025-03-03 17:59:59", 1, "2025-03-03 18:00:00"),  # the day's last second
        ("2025-03-03 08:59:59", 1, "2025-03-03 09:00:01"),  # before opening: counts from 09:00
        ("2025-03-08 20:00:00", 0, "2025-03-08 20:00:00"),  # nothing to add: the start itself
        ("2025-03-08 20:00:00", 1, "2025-03-10 09:00:01"),  # Saturday: Monday's first second
        ("2025-03-07 18:00:00", 8 * 3600, "2025-03-10 18:00:00"),  # a whole Monday
    ],
)
def test_add_at_the_edges(start, seconds, due):
    assert CAL.add(at(start), seconds) == utc(due)


def test_add_refuses_negative_seconds_and_accepts_zero():
    with pytest.raises(ValueError, match="must not be negative"):
        CAL.add(at("2025-03-03 10:00"), -1)
    assert CAL.add(at("2025-03-03 10:00"), 0) == utc("2025-03-03 10:00")


def test_add_returns_utc():
    due = CAL.add(at("2025-03-03 10:00"), 60)
    assert due.tzinfo is UTC and due == datetime(2025, 3, 3, 2, 1, tzinfo=UTC)


def only_working_day_after(offset: int) -> BusinessCalendar:
    """A calendar whose one working day is ``offset`` days after 1 Jan 2025."""
    start = date(2025, 1, 1)
    days = {start + timedelta(days=n): False for n in range(offset)}
    days[start + timedelta(days=offset)] = True
    return BusinessCalendar(chinese_holidays=False, exceptions=days)


def test_add_searches_exactly_max_search_days():
    assert MAX_SEARCH_DAYS == 3660
    last = only_working_day_after(MAX_SEARCH_DAYS - 1)  # the horizon's last day: found
    due_day = date(2025, 1, 1) + timedelta(days=MAX_SEARCH_DAYS - 1)
    assert last.add(at("2025-01-01 09:00"), 60) == datetime.combine(due_day, time(9, 1), SH).astimezone(UTC)
    beyond = only_working_day_after(MAX_SEARCH_DAYS)  # one day past it: not searched
    with pytest.raises(CalendarError, match="no working time within 3660 days"):
        beyond.add(at("2025-01-01 09:00"), 60)
