"""Business-time arithmetic against hand-computed cases: weekends, lunch, Chinese holidays,
swapped working days (调休上班), company exceptions, years without official data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu_complaints.calendar import BusinessCalendar, CalendarError, parse_windows

SH = ZoneInfo("Asia/Shanghai")
CAL = BusinessCalendar()  # 09:00-12:00, 13:00-18:00, Asia/Shanghai, Chinese holidays
H = 3600


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.mark.parametrize(
    "start, hours, due, why",
    [
        ("2025-03-03 11:00", 2, "2025-03-03 14:00", "lunch 12-13 does not count"),
        ("2025-03-03 17:00", 1, "2025-03-03 18:00", "ends exactly at the end of the day"),
        ("2025-03-07 17:00", 2, "2025-03-10 10:00", "Friday to Monday over an ordinary weekend"),
        ("2025-03-08 20:00", 1, "2025-03-10 10:00", "a start on Saturday night counts from Monday 09:00"),
        (
            "2025-09-26 17:00",
            2,
            "2025-09-28 10:00",
            "Sunday 28 Sept 2025 is a swapped working day (National Day)",
        ),
        ("2025-09-30 16:00", 4, "2025-10-09 11:00", "National Day + Mid-Autumn: 1-8 Oct off"),
        ("2025-10-10 17:00", 8, "2025-10-11 17:00", "Saturday 11 Oct 2025 is a swapped working day"),
        (
            "2025-01-24 17:30",
            3,
            "2025-01-26 11:30",
            "Sunday 26 Jan 2025 is a swapped working day (Spring Festival)",
        ),
        ("2025-01-27 15:00", 16, "2025-02-06 15:00", "Spring Festival 28 Jan - 4 Feb off"),
        ("2025-02-07 17:00", 2, "2025-02-08 10:00", "Saturday 8 Feb 2025 is a swapped working day"),
        ("2026-02-13 17:00", 2, "2026-02-14 10:00", "Saturday 14 Feb 2026 is a swapped working day"),
        ("2026-02-14 17:00", 2, "2026-02-24 10:00", "Spring Festival 2026: 15-23 Feb off"),
    ],
)
def test_due_times_hand_computed(start, hours, due, why):
    assert CAL.add(at(start), hours * H) == at(due).astimezone(UTC), why


@pytest.mark.parametrize(
    "start, end, hours",
    [
        ("2025-09-30 17:00", "2025-10-09 10:00", 2),  # 1h on 30 Sept, holiday week, 1h on 9 Oct
        ("2025-03-03 10:00", "2025-03-06 10:00", 24),  # three full working days
        ("2025-03-08 09:00", "2025-03-09 18:00", 0),  # a weekend
        ("2025-09-27 09:00", "2025-09-28 18:00", 8),  # Saturday off, swapped Sunday worked
        ("2025-03-03 12:10", "2025-03-03 12:50", 0),  # inside lunch
    ],
)
def test_business_seconds_hand_computed(start, end, hours):
    assert CAL.business_seconds(at(start), at(end)) == hours * H


def test_company_exception_overrides_official_calendar():
    cal = BusinessCalendar(exceptions={date(2025, 3, 10): False, date(2025, 10, 3): True})
    assert cal.add(at("2025-03-07 17:00"), 2 * H) == at("2025-03-11 10:00").astimezone(UTC)
    assert cal.add(at("2025-09-30 17:00"), 2 * H) == at("2025-10-03 10:00").astimezone(UTC)


def test_year_without_official_data_falls_back_to_weekdays():
    first, last = CAL.covered_years
    year = last + 2
    assert not CAL.is_covered(date(year, 1, 1))
    monday = date(year, 3, 1) + timedelta(days=(7 - date(year, 3, 1).weekday()) % 7)
    friday = datetime.combine(monday - timedelta(days=3), datetime.min.time(), SH).replace(hour=17)
    assert CAL.add(friday, 2 * H) == datetime.combine(monday, datetime.min.time(), SH).replace(
        hour=10
    ).astimezone(UTC)


def test_without_chinese_holidays_1_october_is_an_ordinary_wednesday():
    cal = BusinessCalendar(chinese_holidays=False)
    assert cal.is_workday(date(2025, 10, 1)) and not cal.is_workday(date(2025, 9, 28))


def test_windows_are_checked():
    with pytest.raises(ValueError, match="start before it ends"):
        parse_windows([["18:00", "09:00"]])
    with pytest.raises(ValueError, match="overlap"):
        parse_windows([["09:00", "13:00"], ["12:00", "18:00"]])


def test_a_calendar_without_working_days_says_so():
    cal = BusinessCalendar(
        chinese_holidays=False, exceptions={date(2025, 1, 1) + timedelta(days=n): False for n in range(4000)}
    )
    with pytest.raises(CalendarError, match="no working time"):
        cal.add(at("2025-01-01 09:00"), H)


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="naive"):
        CAL.add(datetime(2025, 3, 3, 9), H)


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2024, 12, 1), max_value=datetime(2026, 11, 30)),
    seconds=st.integers(min_value=0, max_value=40 * 8 * H),
)
def test_add_and_measure_agree(start, seconds):
    begin = start.replace(tzinfo=SH)
    due = CAL.add(begin, seconds)
    assert due >= begin
    assert CAL.business_seconds(begin, due) == seconds
