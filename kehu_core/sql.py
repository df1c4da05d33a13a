"""SQL that differs between SQLite and PostgreSQL, written once for the core and every plugin.

Each helper takes the dialect's name (``app.dialect`` or ``session.get_bind().dialect.name``)
and returns a SQLAlchemy expression or statement that means the same on both databases.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Table, cast, func, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement


def dialect_of(session: Session) -> str:
    """The dialect's name of the session's database: ``sqlite`` or ``postgresql``."""
    return session.get_bind().dialect.name


def cents(column: Any) -> ColumnElement[int]:
    """A money column as integer cents: exact sums, ties stay ties on every database."""
    return cast(func.round(column * 100), BigInteger)


def least(a: Any, b: Any, dialect: str) -> Any:
    """The smaller of two values (SQLite's two-argument ``min``, PostgreSQL's ``LEAST``)."""
    return func.min(a, b) if dialect == "sqlite" else func.least(a, b)


def greatest(a: Any, b: Any, dialect: str) -> Any:
    """The larger of two values."""
    return func.max(a, b) if dialect == "sqlite" else func.greatest(a, b)


def insert(table: Table, dialect: str) -> Any:
    """The dialect's INSERT, which offers ``on_conflict_do_update`` / ``on_conflict_do_nothing``."""
    return (sqlite if dialect == "sqlite" else postgresql).insert(table)


def json_object(pairs: list[tuple[str, Any]], dialect: str) -> Any:
    """A JSON object built in SQL from (key, expression) pairs."""
    args: list[Any] = []
    for key, value in pairs:
        args += [literal(key), value]
    return func.json_object(*args) if dialect == "sqlite" else func.json_build_object(*args)


def seconds_between(later: Any, earlier: Any, dialect: str) -> Any:
    """``later - earlier`` in seconds, for two UTC timestamp columns."""
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)
