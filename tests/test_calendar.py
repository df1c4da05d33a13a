"""The company calendar (kehu_core.calendar) against hand-written values: periods at year ends,
local days at the 23:59:59 / 00:00:00 boundaries in Python and in SQL on both backends, and a
zone with daylight saving time (Europe/Berlin: SQLite converts with the registered
kehu_local_time function, PostgreSQL with its own zone rules)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from kehu_core import calendar, customers
from kehu_core.interactions import log_interaction
from kehu_core.models import Interaction
from kehu_core.validation import FieldError, day, day_or_time, timestamp


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- periods ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day_, unit, start, end",
    [
        # 2026-12-31 is a Thursday, 2027-01-01 a Friday: their week began on Monday 28 December.
        (date(2026, 12, 31), "week", date(2026, 12, 28), date(2027, 1, 3)),
        (date(2027, 1, 1), "week", date(2026, 12, 28), date(2027, 1, 3)),
        (date(2024, 12, 30), "week", date(2024, 12, 30), date(2025, 1, 5)),  # a Monday
        (date(2025, 1, 5), "week", date(2024, 12, 30), date(2025, 1, 5)),  # a Sunday
        (date(2026, 12, 31), "month", date(2026, 12, 1), date(2026, 12, 31)),
        (date(2027, 1, 1), "month", date(2027, 1, 1), date(2027, 1, 31)),
        (date(2024, 2, 10), "month", date(2024, 2, 1), date(2024, 2, 29)),
        (date(2025, 2, 28), "month", date(2025, 2, 1), date(2025, 2, 28)),
        (date(2026, 12, 31), "quarter", date(2026, 10, 1), date(2026, 12, 31)),
        (date(2027, 1, 1), "quarter", date(2027, 1, 1), date(2027, 3, 31)),
        (date(2026, 9, 30), "quarter", date(2026, 7, 1), date(2026, 9, 30)),
        (date(2026, 12, 31), "year", date(2026, 1, 1), date(2026, 12, 31)),
        (date(2027, 1, 1), "year", date(2027, 1, 1), date(2027, 12, 31)),
        (date(2026, 12, 31), "day", date(2026, 12, 31), date(2026, 12, 31)),
    ],
)
def test_period_start_and_end(day_, unit, start, end):
    assert calendar.period_start(day_, unit) == start
    assert calendar.period_end(day_, unit) == end


@pytest.mark.parametrize(
    "start, count, unit, shifted",
    [
        (date(2026, 12, 28), 1, "week", date(2027, 1, 4)),
        (date(2027, 1, 4), -1, "week", date(2026, 12, 28)),
        (date(2026, 12, 1), 1, "month", date(2027, 1, 1)),
        (date(2027, 1, 1), -1, "month", date(2026, 12, 1)),
        (date(2026, 1, 1), -13, "month", date(2024, 12, 1)),
        (date(2026, 10, 1), 1, "quarter", date(2027, 1, 1)),
        (date(2027, 1, 1), -1, "quarter", date(2026, 10, 1)),
        (date(2027, 1, 1), -5, "quarter", date(2025, 10, 1)),
        (date(2026, 1, 1), 1, "year", date(2027, 1, 1)),
        (date(2026, 1, 1), -2, "year", date(2024, 1, 1)),
        (date(2026, 12, 31), 1, "day", date(2027, 1, 1)),
    ],
)
def test_shift(start, count, unit, shifted):
    assert calendar.shift(start, count, unit) == shifted


def test_an_unknown_unit_is_refused():
    with pytest.raises(ValueError, match="unknown calendar unit"):
        calendar.period_start(date(2026, 1, 1), "fortnight")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown calendar unit"):
        calendar.shift(date(2026, 1, 1), 1, "fortnight")  # type: ignore[arg-type]


def test_month_index_and_day_number():
    assert calendar.month_index(date(2026, 12, 31)) == 2026 * 12 + 11
    assert calendar.month_index(date(2027, 1, 1)) == 2026 * 12 + 12
    assert calendar.day_number(date(1970, 1, 1)) == 0
    assert calendar.day_number(date(2027, 1, 1)) - calendar.day_number(date(2026, 12, 31)) == 1


# -- local days in Python -----------------------------------------------------------------------


def test_local_days_in_shanghai():
    assert calendar.fixed_offset_minutes() == 480
    assert calendar.day_start(date(2026, 3, 31)) == utc("2026-03-30 16:00")
    assert calendar.day_end(date(2026, 3, 31)) == utc("2026-03-31 16:00")
    assert calendar.local_day(utc("2026-03-31 15:59:59")) == date(2026, 3, 31)
    assert calendar.local_day(utc("2026-03-31 16:00:00")) == date(2026, 4, 1)
    assert calendar.local_day(utc("2026-12-31 16:00:00")) == date(2027, 1, 1)
    assert calendar.format_time(utc("2026-03-31 15:59:59")) == "2026-03-31 23:59"
    assert calendar.format_time(utc("2025-02-10 21:00")) == "2025-02-11 05:00"
    assert calendar.format_day(utc("2026-03-31 16:00")) == "2026-04-01"
    assert calendar.format_day(None) == calendar.format_time(None) == "-"
    assert calendar.today(utc("2026-12-31 16:00")) == date(2027, 1, 1)


def test_local_days_across_daylight_saving_in_berlin(company_zone):
    company_zone("Europe/Berlin")
    assert calendar.fixed_offset_minutes() is None
    # 29 March 2026 has 23 hours (CET +01:00 to CEST +02:00), 25 October 25 (back to CET).
    assert calendar.day_start(date(2026, 3, 29)) == utc("2026-03-28 23:00")
    assert calendar.day_end(date(2026, 3, 29)) == utc("2026-03-29 22:00")
    assert calendar.day_start(date(2026, 10, 25)) == utc("2026-10-24 22:00")
    assert calendar.day_end(date(2026, 10, 25)) == utc("2026-10-25 23:00")
    assert calendar.local_day(utc("2026-03-31 21:59:59")) == date(2026, 3, 31)
    assert calendar.local_day(utc("2026-03-31 22:00:00")) == date(2026, 4, 1)
    assert calendar.format_time(utc("2026-10-31 22:59:59")) == "2026-10-31 23:59"
    assert calendar.format_time(utc("2026-10-31 23:00:00")) == "2026-11-01 00:00"


def test_date_only_input_is_the_whole_local_day(company_zone):
    assert timestamp("2026-03-31") == calendar.day_start(date(2026, 3, 31)) == utc("2026-03-30 16:00")
    assert day_or_time("2026-03-31") == day_or_time("2026/03/31") == date(2026, 3, 31)
    assert day_or_time("2026-03-31 23:59") == utc("2026-03-31 15:59")
    assert calendar.upper_bound(date(2026, 3, 31)) == utc("2026-03-31 16:00")
    assert calendar.lower_bound(date(2026, 3, 31)) == utc("2026-03-30 16:00")
    assert calendar.upper_bound(utc("2026-03-31 04:00")) == utc("2026-03-31 04:00")
    assert day(utc("2026-03-31 16:00")) == date(2026, 4, 1)  # an aware time gives its local day
    with pytest.raises(FieldError, match="not a date"):
        day_or_time("2026-02-30")
    with pytest.raises(FieldError, match="year out of range"):
        day_or_time("1800-01-01")
    company_zone("Europe/Berlin")
    assert calendar.upper_bound(date(2026, 3, 29)) == utc("2026-03-29 22:00")
    assert timestamp("2026-10-25") == utc("2026-10-24 22:00")


def test_sqlite_local_time_function(company_zone):
    assert calendar.sqlite_local_time(None) is None
    assert calendar.sqlite_local_time("2026-03-31 16:00:00.000000") == "2026-04-01 00:00:00"
    company_zone("Europe/Berlin")
    assert calendar.sqlite_local_time("2026-03-31 21:59:59.500000") == "2026-03-31 23:59:59.500000"
    assert calendar.sqlite_local_time("2026-12-31 23:00:00") == "2027-01-01 00:00:00"


# -- local days in SQL --------------------------------------------------------------------------


def _sql_calendar(app, moments: list[datetime]) -> list[tuple]:
    """Store one interaction per moment; each one's local day, month index, day number and
    week, month, quarter and year starts, computed in SQL."""
    with app.session() as s:
        customers.add_customer(app, s, {"code": "C1", "name": "甲"})
        ids = [
            log_interaction(app, s, {"customer_code": "C1", "kind": "call", "occurred_at": m}).id
            for m in moments
        ]
    i = Interaction
    at, dialect = i.occurred_at, app.dialect
    stmt = select(
        i.id,
        calendar.sql_local_day(at, dialect),
        calendar.sql_month_index(at, dialect),
        calendar.sql_day_number(at, dialect),
        *(
            calendar.sql_period_start(at, unit, dialect)
            for unit in ("day", "week", "month", "quarter", "year")
        ),
    ).where(i.id.in_(ids))
    with app.session() as s:
        rows = {row[0]: tuple(row[1:]) for row in s.execute(stmt)}
    return [rows[i] for i in ids]


def _expected(day_: str, week: str, quarter: str) -> tuple:
    d = date.fromisoformat(day_)
    month = f"{day_[:7]}-01"
    year = f"{day_[:4]}-01-01"
    return (day_, d.year * 12 + d.month - 1, (d - date(1970, 1, 1)).days, day_, week, month, quarter, year)


SHANGHAI = [
    # (UTC instant, local day, its week's Monday, its quarter's first day)
    ("2026-03-31 15:59:59", "2026-03-31", "2026-03-30", "2026-01-01"),  # 23:59:59 on 31 March
    ("2026-03-31 16:00:00", "2026-04-01", "2026-03-30", "2026-04-01"),  # 00:00:00 on 1 April
    ("2026-02-28 16:30:00", "2026-03-01", "2026-02-23", "2026-01-01"),  # 00:30 on 1 March
    ("2026-12-31 15:59:59", "2026-12-31", "2026-12-28", "2026-10-01"),
    ("2026-12-31 16:00:00", "2027-01-01", "2026-12-28", "2027-01-01"),
    ("2024-02-29 15:59:59", "2024-02-29", "2024-02-26", "2024-01-01"),
]

BERLIN = [
    ("2026-03-28 22:59:59", "2026-03-28", "2026-03-23", "2026-01-01"),  # 23:59:59 CET
    ("2026-03-28 23:00:00", "2026-03-29", "2026-03-23", "2026-01-01"),  # 00:00 on the 23-hour day
    ("2026-03-29 21:59:59", "2026-03-29", "2026-03-23", "2026-01-01"),  # 23:59:59 CEST
    ("2026-03-29 22:00:00", "2026-03-30", "2026-03-30", "2026-01-01"),
    ("2026-03-31 21:59:59", "2026-03-31", "2026-03-30", "2026-01-01"),
    ("2026-03-31 22:00:00", "2026-04-01", "2026-03-30", "2026-04-01"),
    ("2026-10-25 22:59:59", "2026-10-25", "2026-10-19", "2026-10-01"),  # 23:59:59 CET, a 25-hour day
    ("2026-10-31 22:59:59", "2026-10-31", "2026-10-26", "2026-10-01"),
    ("2026-10-31 23:00:00", "2026-11-01", "2026-10-26", "2026-10-01"),
    ("2026-12-31 22:59:59", "2026-12-31", "2026-12-28", "2026-10-01"),
    ("2026-12-31 23:00:00", "2027-01-01", "2026-12-28", "2027-01-01"),
]


def test_sql_calendar_at_local_midnight_in_shanghai(kehu_app):
    got = _sql_calendar(kehu_app, [utc(m) for m, *_ in SHANGHAI])
    assert got == [_expected(d, w, q) for _, d, w, q in SHANGHAI]
    if kehu_app.dialect == "sqlite":  # a fixed offset: plain SQL, no Python function
        sql = str(calendar.sql_local_day(Interaction.occurred_at, "sqlite").compile(dialect=sqlite.dialect()))
        assert calendar.SQLITE_LOCAL_TIME not in sql


def test_sql_calendar_across_daylight_saving_in_berlin(kehu_app, company_zone):
    company_zone("Europe/Berlin")
    got = _sql_calendar(kehu_app, [utc(m) for m, *_ in BERLIN])
    assert got == [_expected(d, w, q) for _, d, w, q in BERLIN]
    if kehu_app.dialect == "sqlite":  # the offset changes: the registered function converts
        sql = str(calendar.sql_local_day(Interaction.occurred_at, "sqlite").compile(dialect=sqlite.dialect()))
        assert calendar.SQLITE_LOCAL_TIME in sql


def test_sql_and_python_agree_on_every_hour_around_a_year_end(kehu_app, company_zone):
    company_zone("America/Los_Angeles")  # behind UTC, and with daylight saving time
    moments = [utc("2026-12-31 00:00") + timedelta(hours=n) for n in range(36)]
    got = _sql_calendar(kehu_app, moments)
    for moment, row in zip(moments, got):
        local = calendar.local_day(moment)
        assert row[0] == local.isoformat(), moment
        assert row[1] == calendar.month_index(local), moment
        assert row[4] == calendar.period_start(local, "week").isoformat(), moment
        assert row[7] == calendar.period_start(local, "year").isoformat(), moment
    # 2026-12-31 23:59 in Los Angeles (PST, -08:00) is 2027-01-01 07:59 UTC: still December there.
    assert got[31][0] == "2026-12-31" and got[32][0] == "2027-01-01"
