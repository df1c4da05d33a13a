"""The company calendar at its edges, with hand-written values (issue 21): the instant a local
day begins and ends and one second either side, filters "from" and "until" a day, a quarter's
first and last month, the zone's fixed offset (Shanghai) or its absence (Berlin, a change in
1992, five weeks of another offset in 2000), units that are not the calendar's, and the local
day, month and quarter in SQL at every quarter's edge."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from kehu_core import calendar, customers
from kehu_core.interactions import log_interaction
from kehu_core.models import Interaction

pytestmark = pytest.mark.core_alone


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


def test_a_zone_whose_offset_changed_during_1992_has_no_fixed_offset(company_zone):
    """A change after 1 January 1992, early in the year, is a change since 1992."""
    company_zone("Asia/Ashgabat")  # +04:00 until 19 January 1992, then +05:00
    assert calendar.fixed_offset_minutes() is None
    company_zone("Australia/Brisbane")  # summer time (+11:00) until 1 March 1992, then +10:00
    assert calendar.fixed_offset_minutes() is None


def test_a_zone_that_kept_another_offset_for_five_weeks_has_no_fixed_offset(company_zone):
    """Santo Domingo was -05:00 from 29 October to 3 December 2000 and -04:00 before and after."""
    company_zone("America/Santo_Domingo")
    assert calendar.fixed_offset_minutes() is None
    assert calendar.day_start(date(2000, 11, 15)) == utc("2000-11-15T05:00:00")
    assert calendar.day_start(date(2000, 12, 4)) == utc("2000-12-04T04:00:00")


#: Strings that are not calendar units, sorting before, between and after the five names.
NOT_UNITS = ["", "annual", "Day", "days", "hour", "months", "other", "quarters", "this", "weeks", "yearly"]
NOT_UNITS += ["zzz"]


@pytest.mark.parametrize("unit", NOT_UNITS)
def test_a_unit_that_is_not_a_calendar_unit_is_refused_whatever_it_sorts_next_to(unit):
    """period_start, shift and sql_period_start refuse any other text, on either dialect."""
    with pytest.raises(ValueError, match="unknown calendar unit"):
        calendar.period_start(date(2026, 3, 1), unit)
    with pytest.raises(ValueError, match="unknown calendar unit"):
        calendar.shift(date(2026, 3, 1), 1, unit)
    for dialect in ("sqlite", "postgresql"):
        with pytest.raises(ValueError, match="unknown calendar unit"):
            calendar.sql_period_start(Interaction.occurred_at, unit, dialect)


def _read(name: str) -> str:
    """``name`` as a new string object, as a unit read from a file, a setting or a database is
    (not the interned literal of the code)."""
    text = "".join(list(name))
    assert text == name and text is not name
    return text


def test_a_unit_read_at_run_time_is_the_unit_it_names():
    """Each unit is recognised by its text, not by being the same object as a literal."""
    day = date(2026, 8, 15)  # a Saturday in the third quarter
    starts = {"day": date(2026, 8, 15), "week": date(2026, 8, 10), "month": date(2026, 8, 1)}
    starts |= {"quarter": date(2026, 7, 1), "year": date(2026, 1, 1)}
    ends = {"day": date(2026, 8, 15), "week": date(2026, 8, 16), "month": date(2026, 8, 31)}
    ends |= {"quarter": date(2026, 9, 30), "year": date(2026, 12, 31)}
    shifted = {"day": date(2026, 8, 14), "week": date(2026, 8, 8), "month": date(2026, 7, 1)}
    shifted |= {"quarter": date(2026, 5, 1), "year": date(2025, 8, 1)}
    for name in calendar.UNITS:
        assert calendar.period_start(day, _read(name)) == starts[name], name
        assert calendar.period_end(day, _read(name)) == ends[name], name
        assert calendar.shift(day, -1, _read(name)) == shifted[name], name


def _sql_days(app, moments: list[str], units: tuple[str, ...] = calendar.UNITS) -> list[tuple]:
    """Store one interaction per UTC moment; each one's local day, month index, day number and
    the starts of ``units``, computed in SQL."""
    with app.session() as s:
        customers.add_customer(app, s, {"code": "C1", "name": "甲"})
        ids = [
            log_interaction(app, s, {"customer_code": "C1", "kind": "call", "occurred_at": utc(m)}).id
            for m in moments
        ]
    at, dialect = Interaction.occurred_at, app.dialect
    stmt = select(
        Interaction.id,
        calendar.sql_local_day(at, dialect),
        calendar.sql_month_index(at, dialect),
        calendar.sql_day_number(at, dialect),
        *(calendar.sql_period_start(at, unit, dialect) for unit in units),
    ).where(Interaction.id.in_(ids))
    with app.session() as s:
        rows = {row[0]: tuple(row[1:]) for row in s.execute(stmt)}
    return [rows[i] for i in ids]


def test_sql_local_day_month_and_quarter_at_each_quarter_s_edges_in_shanghai(kehu_app):
    """The last second of each quarter (local) and the first of the next, in SQL."""
    got = _sql_days(
        kehu_app,
        [
            "2026-03-31T15:59:59",  # 23:59:59 on 31 March, local
            "2026-03-31T16:00:00",  # 00:00:00 on 1 April
            "2026-05-15T04:00:00",
            "2026-06-30T15:59:59",
            "2026-06-30T16:00:00",
            "2026-08-15T04:00:00",
            "2026-09-30T15:59:59",
            "2026-09-30T16:00:00",
            "2026-12-31T15:59:59",
            "2026-12-31T16:00:00",
        ],
    )
    # (local day, year * 12 + month - 1, days since 1970-01-01, day, week, month, quarter, year)
    assert got == [
        ("2026-03-31", 24314, 20543, "2026-03-31", "2026-03-30", "2026-03-01", "2026-01-01", "2026-01-01"),
        ("2026-04-01", 24315, 20544, "2026-04-01", "2026-03-30", "2026-04-01", "2026-04-01", "2026-01-01"),
        ("2026-05-15", 24316, 20588, "2026-05-15", "2026-05-11", "2026-05-01", "2026-04-01", "2026-01-01"),
        ("2026-06-30", 24317, 20634, "2026-06-30", "2026-06-29", "2026-06-01", "2026-04-01", "2026-01-01"),
        ("2026-07-01", 24318, 20635, "2026-07-01", "2026-06-29", "2026-07-01", "2026-07-01", "2026-01-01"),
        ("2026-08-15", 24319, 20680, "2026-08-15", "2026-08-10", "2026-08-01", "2026-07-01", "2026-01-01"),
        ("2026-09-30", 24320, 20726, "2026-09-30", "2026-09-28", "2026-09-01", "2026-07-01", "2026-01-01"),
        ("2026-10-01", 24321, 20727, "2026-10-01", "2026-09-28", "2026-10-01", "2026-10-01", "2026-01-01"),
        ("2026-12-31", 24323, 20818, "2026-12-31", "2026-12-28", "2026-12-01", "2026-10-01", "2026-01-01"),
        ("2027-01-01", 24324, 20819, "2027-01-01", "2026-12-28", "2027-01-01", "2027-01-01", "2027-01-01"),
    ]


def test_sql_period_starts_of_units_read_at_run_time(kehu_app):
    """sql_period_start recognises each unit by its text, on either database."""
    got = _sql_days(kehu_app, ["2026-08-15T04:00:00"], tuple(_read(name) for name in calendar.UNITS))
    row = ("2026-08-15", 24319, 20680, "2026-08-15", "2026-08-10", "2026-08-01", "2026-07-01", "2026-01-01")
    assert got == [row]


def test_sql_local_days_in_santo_domingo_s_five_weeks_at_minus_five_hours(kehu_app, company_zone):
    """Local midnight is 04:00 UTC before 29 October 2000 and after 3 December, 05:00 between."""
    company_zone("America/Santo_Domingo")
    got = _sql_days(
        kehu_app,
        [
            "2000-10-28T03:59:59",
            "2000-10-28T04:00:00",
            "2000-11-15T04:59:59",  # 23:59:59 on 14 November at -05:00 (00:59:59 at -04:00)
            "2000-11-15T05:00:00",
            "2000-12-04T03:59:59",
            "2000-12-04T04:00:00",
        ],
        ("week", "month"),
    )
    assert got == [
        ("2000-10-27", 24009, 11257, "2000-10-23", "2000-10-01"),
        ("2000-10-28", 24009, 11258, "2000-10-23", "2000-10-01"),
        ("2000-11-14", 24010, 11275, "2000-11-13", "2000-11-01"),
        ("2000-11-15", 24010, 11276, "2000-11-13", "2000-11-01"),
        ("2000-12-03", 24011, 11294, "2000-11-27", "2000-12-01"),
        ("2000-12-04", 24011, 11295, "2000-12-04", "2000-12-01"),
    ]


def test_sql_day_numbers_before_1970_count_back_from_it(kehu_app):
    """The last second of 31 December 1969 (local) is day -1 in SQL, the next second day 0."""
    got = _sql_days(kehu_app, ["1969-12-31T15:59:59", "1969-12-31T16:00:00"])
    assert got == [
        ("1969-12-31", 23639, -1, "1969-12-31", "1969-12-29", "1969-12-01", "1969-10-01", "1969-01-01"),
        ("1970-01-01", 23640, 0, "1970-01-01", "1969-12-29", "1970-01-01", "1970-01-01", "1970-01-01"),
    ]
