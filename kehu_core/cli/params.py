"""Option types shared by every command: dates, times and money, parsed once with clear errors.

``DAY`` is a company-local calendar day, ``TIMESTAMP`` a moment (a time without an offset is
read in the company's time zone; the result is aware UTC), ``MONEY`` an exact ``Decimal``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click

from kehu_core.validation import FieldError, day, money, timestamp


class DayType(click.ParamType):
    """A calendar day: ``2026-03-01`` or ``2026/03/01``."""

    name = "day"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        try:
            return day(value)
        except FieldError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


class TimestampType(click.ParamType):
    """A moment: ``2026-03-01``, ``2026-03-01 09:30`` or ISO 8601 with an offset; aware UTC."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        try:
            return timestamp(value)
        except FieldError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


class MoneyType(click.ParamType):
    """An amount of money, exact to the cent (``1999.90``); negative only when allowed."""

    name = "amount"

    def __init__(self, allow_negative: bool = False):
        self.allow_negative = allow_negative

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Decimal:
        try:
            return money(value, allow_negative=self.allow_negative)
        except FieldError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


DAY = DayType()
TIMESTAMP = TimestampType()
MONEY = MoneyType()
SIGNED_MONEY = MoneyType(allow_negative=True)
