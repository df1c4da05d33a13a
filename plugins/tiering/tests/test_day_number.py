"""The statistics' local day numbers (recency, tenure, days late) equal the calendar's, at the edges.

:func:`kehu_tiering.stats.day_number` computes on SQLite, for a zone with a fixed offset, in one
date function what :func:`kehu_core.calendar.sql_day_number` computes in three. Checked on the
stored text of instants at a local midnight and one step either side (a microsecond, a
millisecond, half a millisecond), before 1970, on a leap day, in zones east and west of UTC,
and in a zone with daylight saving time (the calendar's expression itself).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, Table, insert, select

from kehu_core import calendar
from kehu_core.models import BigId
from kehu_core.types import UTCDateTime
from kehu_tiering.stats import day_number

ZONES = ("Asia/Shanghai", "UTC", "America/Bogota", "Asia/Kathmandu", "Europe/Berlin")
LOCAL_MIDNIGHTS = (
    datetime(2026, 11, 1),
    datetime(2024, 2, 29),  # a leap day
    datetime(2024, 3, 1),
    datetime(1969, 12, 31),  # before the epoch: day numbers are negative
    datetime(1970, 1, 1),
    datetime(1950, 6, 15),
)
STEPS = (
    timedelta(0),
    timedelta(microseconds=1),
    timedelta(microseconds=-1),
    timedelta(microseconds=500),
    timedelta(microseconds=-500),
    timedelta(milliseconds=1),
    timedelta(milliseconds=-1),
    timedelta(hours=12),
    timedelta(hours=-12),
)


def _instants(zone: Any) -> list[datetime]:
    """UTC instants at each local midnight of LOCAL_MIDNIGHTS in ``zone``, and steps either side."""
    return [
        (midnight.replace(tzinfo=zone) + step).astimezone(UTC)
        for midnight in LOCAL_MIDNIGHTS
        for step in STEPS
    ]


@pytest.mark.parametrize("zone_name", ZONES)
def test_day_number_matches_the_calendar(
    kehu_app: Any, company_zone: Callable[[str], None], zone_name: str
) -> None:
    company_zone(zone_name)
    dialect = kehu_app.dialect
    table = Table(
        "tiering_test_instants",
        MetaData(),
        Column("id", BigId, primary_key=True),
        Column("at", UTCDateTime),
    )
    instants = _instants(calendar.zone())
    with kehu_app.session() as session:
        table.create(session.connection())
        try:
            session.execute(insert(table), [{"id": n, "at": at} for n, at in enumerate(instants, 1)])
            rows = session.execute(
                select(
                    table.c.id,
                    day_number(table.c.at, dialect),
                    calendar.sql_day_number(table.c.at, dialect),
                ).order_by(table.c.id)
            ).all()
        finally:
            table.drop(session.connection())
    assert len(rows) == len(instants)
    for (_, fast, reference), at in zip(rows, instants):
        # The local day as Python sees it, to the microsecond; SQLite rounds stored text to the
        # millisecond, so half a millisecond before midnight may count as the next day: the
        # two SQL expressions must agree with each other in every case, and with Python
        # whenever the instant is not within a millisecond of a local midnight.
        assert fast == reference, (zone_name, at)
        local = calendar.local_time(at)
        expected = calendar.day_number(local.date())
        near_midnight = min(
            local - datetime.combine(local.date(), datetime.min.time(), local.tzinfo),
            datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), local.tzinfo) - local,
        )
        # Before 1992 a zone's offset may have been another (Kathmandu: +5:30 until 1986); the
        # calendar applies today's fixed offset throughout, and so does day_number.
        offset = local.utcoffset()
        fixed = calendar.fixed_offset_minutes()
        same_offset = fixed is None or (offset is not None and offset == timedelta(minutes=fixed))
        if near_midnight >= timedelta(milliseconds=1) and same_offset:
            assert fast == expected, (zone_name, at)


def test_day_number_by_hand(kehu_app: Any, company_zone: Callable[[str], None]) -> None:
    """Shanghai (UTC+8): 16:00 UTC is the next local midnight; one microsecond before is the day before."""
    company_zone("Asia/Shanghai")
    table = Table(
        "tiering_test_instants", MetaData(), Column("id", BigId, primary_key=True), Column("at", UTCDateTime)
    )
    cases = {
        1: datetime(2026, 10, 31, 16, 0, tzinfo=UTC),  # 2026-11-01 00:00 local
        2: datetime(2026, 10, 31, 15, 59, 59, 999000, tzinfo=UTC),  # 2026-10-31 23:59:59.999 local
        3: datetime(2026, 10, 31, 16, 0, 0, 1000, tzinfo=UTC),  # 2026-11-01 00:00:00.001 local
        4: datetime(1969, 12, 31, 16, 0, tzinfo=UTC),  # 1970-01-01 00:00 local: day 0
        5: datetime(1969, 12, 31, 15, 59, 59, 999000, tzinfo=UTC),  # 1969-12-31 local: day -1
    }
    with kehu_app.session() as session:
        table.create(session.connection())
        try:
            session.execute(insert(table), [{"id": n, "at": at} for n, at in cases.items()])
            got = dict(session.execute(select(table.c.id, day_number(table.c.at, kehu_app.dialect))).all())
        finally:
            table.drop(session.connection())
    nov_1 = (date(2026, 11, 1) - date(1970, 1, 1)).days
    assert got == {1: nov_1, 2: nov_1 - 1, 3: nov_1, 4: 0, 5: -1}
