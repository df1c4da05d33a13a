"""Small dialect helpers (SQLite and PostgreSQL) shared by the tiering queries."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Integer, cast, func, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement

_EPOCH = date(1970, 1, 1)
_JULIAN_OFFSET = 1721424  # julianday('0001-01-01') - 0.5 - toordinal(0001-01-01)


def cents(column: Any) -> ColumnElement[int]:
    """A money column as integer cents: exact sums, ties stay ties on every database."""
    return cast(func.round(column * 100), BigInteger)


def utc(column: Any, dialect: str) -> Any:
    """The timestamp as UTC wall time (PostgreSQL's session zone must not shift months or days)."""
    return func.timezone("UTC", column) if dialect == "postgresql" else column


def month_index(column: Any, dialect: str) -> ColumnElement[int]:
    """``year * 12 + month - 1`` of a UTC timestamp: consecutive months are consecutive integers."""
    if dialect == "sqlite":
        return (
            cast(func.strftime("%Y", column), Integer) * 12 + cast(func.strftime("%m", column), Integer) - 1
        )
    t = utc(column, dialect)
    return cast(func.extract("year", t) * 12 + func.extract("month", t) - 1, Integer)


def month_of(day: date) -> int:
    """:func:`month_index` of a Python date."""
    return day.year * 12 + day.month - 1


def day_number(column: Any, dialect: str) -> ColumnElement[int]:
    """The UTC calendar day of a timestamp as an integer (differences are whole days)."""
    if dialect == "sqlite":
        return cast(func.julianday(func.date(column)), Integer)
    return cast(utc(column, dialect), postgresql.DATE) - literal(_EPOCH, postgresql.DATE)


def day_key(column: Any, dialect: str) -> Any:
    """Something that compares like the UTC calendar day of a timestamp, as cheaply as possible.

    SQLite: the stored text's date part (``YYYY-MM-DD``, UTC), no date arithmetic;
    PostgreSQL: :func:`day_number`. Compare only with :func:`day_key_of` or another key.
    """
    return func.substr(column, 1, 10) if dialect == "sqlite" else day_number(column, dialect)


def day_key_of(day: date, dialect: str) -> Any:
    """:func:`day_key` of a Python date."""
    return day.isoformat() if dialect == "sqlite" else day_of(day, dialect)


def day_of(day: date, dialect: str) -> int:
    """:func:`day_number` of a Python date, computed in Python."""
    return day.toordinal() + _JULIAN_OFFSET if dialect == "sqlite" else day.toordinal() - _EPOCH.toordinal()


def least(a: Any, b: Any, dialect: str) -> Any:
    """The smaller of two values (SQLite's two-argument ``min``, PostgreSQL's ``LEAST``)."""
    return func.min(a, b) if dialect == "sqlite" else func.least(a, b)


def greatest(a: Any, b: Any, dialect: str) -> Any:
    """The larger of two values."""
    return func.max(a, b) if dialect == "sqlite" else func.greatest(a, b)


def insert(table: Any, dialect: str) -> Any:
    """The dialect's INSERT (with ``on_conflict_do_update``)."""
    return (sqlite if dialect == "sqlite" else postgresql).insert(table)


def json_object(pairs: list[tuple[str, Any]], dialect: str) -> Any:
    """A JSON object built in SQL from (key, expression) pairs."""
    args: list[Any] = []
    for key, value in pairs:
        args += [literal(key), value]
    return func.json_object(*args) if dialect == "sqlite" else func.json_build_object(*args)
