"""The company calendar: which local day, week, month and quarter an instant falls in, and back.

kehu stores every time as UTC. People and reports think in the company's local calendar: a
purchase at 00:30 on 1 March in Shanghai belongs to March, although it is still February in
UTC. Every plugin buckets time through this module, in Python and in SQL, so that tiering,
loyalty, complaints and forecasts agree on the calendar, and every date printed is local.

The company's zone is ``KEHU_TIMEZONE`` (default Asia/Shanghai). A date given without a time
means that local day: from its local midnight up to the next.

In SQL, PostgreSQL converts with the zone's own rules. SQLite has no zone database, so the
zone's offset is applied as a fixed number of minutes; for zones that change their offset
(daylight saving time) kehu registers a function on each SQLite connection that converts
with Python's zone rules instead (``kehu_local_time``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import Any, Literal

from sqlalchemy import Integer, cast, func, literal, type_coerce
from sqlalchemy.dialects.postgresql import DATE
from sqlalchemy.sql import ColumnElement

from kehu_core.choices import Choice, Vocabulary
from kehu_core.i18n import N_
from kehu_core.types import utcnow
from kehu_core.validation import local_zone

Unit = Literal["day", "week", "month", "quarter", "year"]
UNITS: tuple[Unit, ...] = ("day", "week", "month", "quarter", "year")


#: The calendar units as people name them (``季度`` → ``quarter``), for options and filters.
UNIT_NAMES = Vocabulary(
    "kehu_core",
    N_("period"),
    [
        Choice("day", N_("day"), aliases=("日", "天", "每日")),
        Choice("week", N_("week"), aliases=("周", "星期", "每周")),
        Choice("month", N_("month"), aliases=("月", "月度", "每月")),
        Choice("quarter", N_("quarter"), aliases=("季", "季度", "每季")),
        Choice("year", N_("year"), aliases=("年", "年度", "每年")),
    ],
)

#: The SQL function registered on SQLite connections for zones with changing offsets.
SQLITE_LOCAL_TIME = "kehu_local_time"
_FIXED_SINCE = datetime(1992, 1, 1, tzinfo=UTC)  # China's last daylight saving ended in 1991


def zone() -> tzinfo:
    """The company's time zone (``KEHU_TIMEZONE``, default Asia/Shanghai), read once per process
    (tests switch it with the ``company_zone`` fixture)."""
    return local_zone()


def local_time(instant: datetime) -> datetime:
    """``instant`` (aware) as the company's local wall time."""
    return instant.astimezone(zone())


def local_day(instant: datetime) -> date:
    """The company-local day of ``instant``."""
    return local_time(instant).date()


def today(now: datetime | None = None) -> date:
    """Today in the company's calendar."""
    return local_day(now or utcnow())


def day_start(day: date) -> datetime:
    """The UTC instant at which local ``day`` begins (its local midnight)."""
    return datetime.combine(day, time(), tzinfo=zone()).astimezone(UTC)


def day_end(day: date) -> datetime:
    """The UTC instant at which local ``day`` ends: the next day's start (exclusive)."""
    return day_start(day + timedelta(days=1))


def lower_bound(value: date | datetime) -> datetime:
    """The first instant a filter "from ``value``" includes: an instant as it is, a date
    (a local day) from its local midnight (:func:`day_start`)."""
    return value if isinstance(value, datetime) else day_start(value)


def upper_bound(value: date | datetime) -> datetime:
    """The first instant a filter "until ``value``" excludes: an instant as it is, a date
    (a local day) at its end (:func:`day_end`), so that the whole local day is included."""
    return value if isinstance(value, datetime) else day_end(value)


def period_start(day: date, unit: Unit) -> date:
    """The first day of the week (Monday), month, quarter or year that holds ``day``."""
    if unit == "day":
        return day
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if unit == "year":
        return date(day.year, 1, 1)
    raise ValueError(f"unknown calendar unit {unit!r}; use one of {', '.join(UNITS)}")


def shift(start: date, count: int, unit: Unit) -> date:
    """The period start ``count`` periods after ``start`` (before, when negative)."""
    if unit == "day":
        return start + timedelta(days=count)
    if unit == "week":
        return start + timedelta(weeks=count)
    months = {"month": 1, "quarter": 3, "year": 12}.get(unit)
    if months is None:
        raise ValueError(f"unknown calendar unit {unit!r}; use one of {', '.join(UNITS)}")
    index = start.year * 12 + start.month - 1 + count * months
    return date(index // 12, index % 12 + 1, 1)


def period_end(start: date, unit: Unit) -> date:
    """The last day of the period that starts on ``start``."""
    return shift(period_start(start, unit), 1, unit) - timedelta(days=1)


def month_index(day: date) -> int:
    """``year * 12 + month - 1``: consecutive months are consecutive integers."""
    return day.year * 12 + day.month - 1


def day_number(day: date) -> int:
    """Days since 1970-01-01: differences between days are whole days."""
    return (day - date(1970, 1, 1)).days


def format_day(instant: datetime | None) -> str:
    """The local day of ``instant`` as ``YYYY-MM-DD`` (``-`` for none), for people."""
    return "-" if instant is None else local_day(instant).isoformat()


def format_time(instant: datetime | None) -> str:
    """``instant`` as local ``YYYY-MM-DD HH:MM`` (``-`` for none), for people."""
    return "-" if instant is None else local_time(instant).strftime("%Y-%m-%d %H:%M")


# -- SQL ------------------------------------------------------------------------------------


def fixed_offset_minutes() -> int | None:
    """The zone's UTC offset in minutes if it has not changed since 1992 (nor will through
    2100 by today's rules), else ``None``."""
    return _fixed_offset_minutes(zone())


@cache
def _fixed_offset_minutes(tz: tzinfo) -> int | None:
    """:func:`fixed_offset_minutes` of ``tz``, sampled once a day (about 40,000 samples: 70 ms,
    once per zone): a change kept for a few weeks counts too (Santo Domingo's EST from 29
    October to 3 December 2000, which samples 73 days apart missed)."""
    offsets = set()
    moment = _FIXED_SINCE
    while moment.year <= 2100:
        offset = moment.astimezone(tz).utcoffset()
        offsets.add(int(offset.total_seconds() // 60) if offset is not None else 0)
        moment += timedelta(days=1)
    return offsets.pop() if len(offsets) == 1 else None


def sqlite_local_time(value: str | None) -> str | None:
    """The SQLite function :data:`SQLITE_LOCAL_TIME`: stored UTC text to local wall-time text."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return moment.astimezone(zone()).replace(tzinfo=None).isoformat(sep=" ")


def sql_local_time(column: Any, dialect: str) -> Any:
    """The local wall time of a stored UTC timestamp column, as the dialect's timestamp (text on SQLite)."""
    if dialect == "postgresql":
        return func.timezone(str(zone()), column)
    minutes = fixed_offset_minutes()
    if minutes is None:
        return getattr(func, SQLITE_LOCAL_TIME)(column)
    return func.datetime(column, f"{minutes:+d} minutes")


def sql_local_day(column: Any, dialect: str) -> Any:
    """The local day of a UTC timestamp column as text ``YYYY-MM-DD`` (sorts and compares as days)."""
    local = sql_local_time(column, dialect)
    if dialect == "postgresql":
        return func.to_char(local, "YYYY-MM-DD")
    return func.date(local)


def sql_month_index(column: Any, dialect: str) -> ColumnElement[int]:
    """:func:`month_index` of the local day of a UTC timestamp column."""
    local = sql_local_time(column, dialect)
    if dialect == "sqlite":
        return cast(func.strftime("%Y", local), Integer) * 12 + cast(func.strftime("%m", local), Integer) - 1
    return cast(func.extract("year", local) * 12 + func.extract("month", local) - 1, Integer)


def sql_day_number(column: Any, dialect: str) -> ColumnElement[int]:
    """:func:`day_number` of the local day of a UTC timestamp column."""
    local = sql_local_time(column, dialect)
    if dialect == "sqlite":
        return cast(func.julianday(func.date(local)) - 2440587.5, Integer)
    # date - date is an integer on PostgreSQL; SQLAlchemy only needs telling.
    return type_coerce(cast(local, DATE) - literal(date(1970, 1, 1), DATE), Integer)


def sql_period_start(column: Any, unit: Unit, dialect: str) -> Any:
    """The first local day of the period holding a UTC timestamp column, as text ``YYYY-MM-DD``."""
    if unit not in UNITS:
        raise ValueError(f"unknown calendar unit {unit!r}; use one of {', '.join(UNITS)}")
    local = sql_local_time(column, dialect)
    if dialect == "postgresql":
        trunc = {"day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year"}[unit]
        return func.to_char(func.date_trunc(trunc, local), "YYYY-MM-DD")
    if unit == "day":
        return func.date(local)
    if unit == "week":
        return func.date(local, "-6 days", "weekday 1")
    if unit == "month":
        return func.strftime("%Y-%m-01", local)
    if unit == "year":
        return func.strftime("%Y-01-01", local)
    month = cast(func.strftime("%m", local), Integer)
    first = (month - 1) // 3 * 3 + 1
    return func.printf("%s-%02d-01", func.strftime("%Y", local), first)
