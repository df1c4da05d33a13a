"""Column types shared by the core and plugins: UTC timestamps and money."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

#: Money is stored with two decimals. The column has 16 digits, but kehu accepts at most 15
#: significant ones (below 10^13 yuan, :data:`kehu_core.validation.MAX_MONEY`): a double keeps
#: those exactly, and SQLite stores NUMERIC as a double.
MONEY_PRECISION = 16
MONEY_SCALE = 2
from kehu_core.vocab import CENT  # noqa: E402


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC.

    SQLite has no timezone type, so values are normalised to UTC on the way in and
    given back as aware UTC datetimes on the way out, on every dialect alike.
    Naive datetimes are refused: a naive time is ambiguous, and guessing loses data.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: kehu stores timezone-aware times only")
        value = value.astimezone(UTC)
        # SQLite stores text; strip tzinfo so every row has the same sortable format.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """A Decimal amount with two decimals (`Numeric(16, 2)`), never a float.

    SQLite keeps NUMERIC values as REAL (a double) or INTEGER; values are quantized back to
    cents, which gives every amount of at most 15 significant digits back exactly (the range
    :func:`kehu_core.validation.money` accepts), and sums read from either database compare
    equal.
    """

    impl = Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return Decimal(value).quantize(CENT)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).quantize(CENT)


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def to_money(value: Any) -> Decimal:
    """Convert a SQL aggregate result (int, float, Decimal or None) to cents."""
    if value is None:
        return Decimal("0.00")
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(CENT)
