"""Periods: months or ISO weeks in the local time zone, as SQL buckets and as Python dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

FREQS = ("month", "week")
#: The statsforecast/pandas frequency alias and the season length of each frequency.
PANDAS_FREQ = {"month": "MS", "week": "W-MON"}
SEASON = {"month": 12, "week": 52}
DEFAULT_HORIZON = {"month": 12, "week": 13}
DEFAULT_HISTORY = {"month": 36, "week": 156}


def check_freq(freq: str) -> str:
    """``month`` or ``week``, or a clear error naming the field."""
    from kehu_core.errors import Problem, ValidationError

    if freq not in FREQS:
        raise ValidationError([Problem("freq", f"must be one of {', '.join(FREQS)}", value=freq)])
    return freq


def period_start(day: date, freq: str) -> date:
    """The first day of the period that contains ``day``."""
    if freq == "month":
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())


def shift(start: date, n: int, freq: str) -> date:
    """The period ``n`` periods after (or before, negative) the one starting at ``start``."""
    if freq == "week":
        return start + timedelta(weeks=n)
    index = start.year * 12 + start.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def period_end(start: date, freq: str) -> date:
    """The last day of the period starting at ``start``."""
    return shift(start, 1, freq) - timedelta(days=1)


def periods(first: date, count: int, freq: str) -> list[date]:
    """``count`` consecutive period starts from ``first``."""
    return [shift(first, i, freq) for i in range(count)]


def local_today(now: datetime | None = None) -> date:
    """Today in kehu's local zone (``KEHU_TIMEZONE``)."""
    from kehu_core.types import utcnow
    from kehu_core.validation import local_zone

    return (now or utcnow()).astimezone(local_zone()).date()


def local_midnight_utc(day: date) -> datetime:
    """The UTC instant at which ``day`` starts in the local zone."""
    from datetime import time

    from kehu_core.validation import local_zone

    return datetime.combine(day, time(), tzinfo=local_zone()).astimezone(UTC)


def bucket_sql(column: Any, freq: str, dialect: str) -> Any:
    """A SQL expression giving the period start (text ``YYYY-MM-DD``) of a UTC timestamp column.

    PostgreSQL converts with the zone's rules; SQLite has no zone database, so the zone's
    current UTC offset is applied (exact for zones without daylight saving, like Asia/Shanghai).
    """
    from sqlalchemy import func

    from kehu_core.validation import local_zone

    zone = local_zone()
    if dialect == "postgresql":
        local = func.timezone(str(zone), column)
        unit = "month" if freq == "month" else "week"
        return func.to_char(func.date_trunc(unit, local), "YYYY-MM-DD")
    from kehu_core.types import utcnow

    minutes = int(utcnow().astimezone(zone).utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
    modifier = f"{minutes:+d} minutes"
    if freq == "month":
        return func.strftime("%Y-%m-01", column, modifier)
    return func.date(column, modifier, "-6 days", "weekday 1")
