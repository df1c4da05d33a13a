"""The SQL functions a rule may use: the same meaning on SQLite and on PostgreSQL.

A rule's condition is built once and runs on whichever database kehu uses, so it must not
name a database's own functions (``julianday``, ``date_part``, ``LEAST`` differ or are
missing). These are SQL constructs compiled for the database at hand:

* :func:`days_between` ``(start, end)``: local days from ``start`` to ``end`` in the company
  calendar (``end - start``); each is a timestamp column of the statistics (UTC, such as
  ``last_purchase_at``), a date column, or a Python ``date`` / ``datetime`` (the run's
  :class:`~kehu_tiering.rules.RuleContext` dates). NULL when either is NULL.
* :func:`coalesce` ``(a, b, ...)``: the first value that is not NULL.
* :func:`least` / :func:`greatest` ``(a, b, ...)``: the smallest / largest value; NULL
  values are ignored (NULL only when every value is), as PostgreSQL's ``LEAST`` does.

Plain arithmetic (``+ - * /``), comparisons, ``&``, ``|``, ``~`` and ``in_`` need nothing
more. Anything else a rule calls is checked against the database before a run (and by
``kehu tier rules``); a function the database lacks is refused with the rule's name.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Integer, cast, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from kehu_core import calendar

__all__ = ["coalesce", "days_between", "greatest", "least"]

#: The function names a rule may use (also in rule files' conditions).
RULE_FUNCTIONS = ("days_between", "coalesce", "least", "greatest")


class _DayNumber(FunctionElement[int]):
    """:func:`kehu_core.calendar.day_number` of a SQL value's local day (a UTC timestamp or a date)."""

    type = Integer()
    inherit_cache = True
    name = "day_number"


@compiles(_DayNumber)
def _day_number_text(element: _DayNumber, compiler: SQLCompiler, **kw: Any) -> str:
    return f"day_number({compiler.process(element.clauses, **kw)})"


@compiles(_DayNumber, "sqlite")
@compiles(_DayNumber, "postgresql")
def _day_number_sql(element: _DayNumber, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = element.clauses.clauses
    dialect = compiler.dialect.name
    number: ColumnElement[int]
    if isinstance(value.type, Date) and dialect == "sqlite":
        number = cast(func.julianday(value) - 2440587.5, Integer)
    elif isinstance(value.type, Date):
        number = cast(value - literal(date(1970, 1, 1), Date), Integer)
    else:
        number = calendar.sql_day_number(value, dialect)
    return f"({compiler.process(number, **kw)})"  # an operand of the caller's arithmetic


def _day(value: Any) -> ColumnElement[int]:
    """A day number: a Python date or datetime becomes a number, a SQL value a :class:`_DayNumber`."""
    if isinstance(value, datetime):
        return literal(calendar.day_number(calendar.local_day(value)), Integer)
    if isinstance(value, date):
        return literal(calendar.day_number(value), Integer)
    return _DayNumber(value)


def days_between(start: Any, end: Any) -> ColumnElement[int]:
    """Local days from ``start`` to ``end`` (``end - start``; negative when ``end`` is earlier).

    ``start`` and ``end`` are SQL values (a UTC timestamp column such as
    ``STATS.c.last_purchase_at``, or a date column) or Python dates / datetimes. Days are
    counted in the company calendar: a purchase at 23:30 on the 1st is one day before the 2nd.
    Example: ``days_between(STATS.c.last_purchase_at, context.as_of) <= 30``.
    """
    return _day(end) - _day(start)


def coalesce(*values: Any) -> ColumnElement[Any]:
    """The first of ``values`` that is not NULL (NULL when all are).

    Example: ``coalesce(STATS.c.max_days_late, 0) <= 5``.
    """
    if len(values) < 2:
        raise ValueError("coalesce takes two values or more")
    return func.coalesce(*values)


class _Extreme(FunctionElement[Any]):
    """LEAST / GREATEST ignoring NULLs, on both databases."""

    inherit_cache = True
    name = "extreme"
    sqlite_name = ""


class _Least(_Extreme):
    name = "least"
    sqlite_name = "min"
    inherit_cache = True


class _Greatest(_Extreme):
    name = "greatest"
    sqlite_name = "max"
    inherit_cache = True


@compiles(_Least)
@compiles(_Greatest)
def _extreme_default(element: _Extreme, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{element.name}({compiler.process(element.clauses, **kw)})"


@compiles(_Least, "sqlite")
@compiles(_Greatest, "sqlite")
def _extreme_sqlite(element: _Extreme, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite's min(a, b) is NULL when either is: coalesce each value with the others first,
    # which never changes the answer (it is one of the values) and ignores NULLs like LEAST.
    values = list(element.clauses.clauses)
    args = [func.coalesce(v, *(o for o in values if o is not v)) for v in values]
    return f"{element.sqlite_name}({', '.join(compiler.process(a, **kw) for a in args)})"


def _extreme(kind: type[_Extreme], values: tuple[Any, ...]) -> ColumnElement[Any]:
    if len(values) < 2:
        raise ValueError(f"{kind.name} takes two values or more")
    element = kind(*values)
    element.type = element.clauses.clauses[0].type
    return element


def least(*values: Any) -> ColumnElement[Any]:
    """The smallest of ``values``, NULLs ignored (NULL only when all are NULL)."""
    return _extreme(_Least, values)


def greatest(*values: Any) -> ColumnElement[Any]:
    """The largest of ``values``, NULLs ignored (NULL only when all are NULL)."""
    return _extreme(_Greatest, values)
