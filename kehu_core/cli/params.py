"""Option types shared by every command: dates, times and money, parsed once with clear errors.

``DAY`` is a company-local calendar day, ``TIMESTAMP`` a moment (a time without an offset is
read in the company's time zone; the result is aware UTC), ``MONEY`` an exact ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click

from kehu_core.choices import Vocabulary
from kehu_core.validation import FieldError, day, money, timestamp

#: ``context_settings`` of a command whose VALUE argument may start with "-" (``-1``): click
#: would read it as an unknown option; with this it reaches the command, whose own check
#: then refuses it in words ("must be a non-negative amount ... (got '-1')").
NEGATIVE_VALUES: dict[str, Any] = {"ignore_unknown_options": True}


class _Parsed(click.ParamType):
    """A value parsed by a :mod:`kehu_core.validation` function; its :class:`FieldError` is the
    option's error, with the value as given."""

    def parse(self, value: Any) -> Any:
        raise NotImplementedError

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return self.parse(value)
        except FieldError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


class DayType(_Parsed):
    """A calendar day: ``2026-03-01`` or ``2026/03/01``."""

    name = "day"

    def parse(self, value: Any) -> date:
        return day(value)


class TimestampType(_Parsed):
    """A moment: ``2026-03-01``, ``2026-03-01 09:30`` or ISO 8601 with an offset; aware UTC."""

    name = "time"

    def parse(self, value: Any) -> datetime:
        return timestamp(value)


class MoneyType(_Parsed):
    """An amount of money, exact to the cent (``1999.90``); negative only when allowed."""

    name = "amount"

    def __init__(self, allow_negative: bool = False):
        self.allow_negative = allow_negative

    def parse(self, value: Any) -> Decimal:
        return money(value, allow_negative=self.allow_negative)


class VocabularyType(_Parsed):
    """One value of a :class:`~kehu_core.choices.Vocabulary`: its code, label or Chinese name,
    given to the command as the code (``--source 朋友介绍`` → ``referral``)."""

    def __init__(self, vocabulary: Vocabulary):
        self.vocabulary = vocabulary
        self.name = vocabulary.what

    def parse(self, value: Any) -> str:
        return self.vocabulary.parse(value)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        """``[referral|trade_magazine|...]``, as click shows a choice."""
        return "[" + "|".join(self.vocabulary.codes) + "]"

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        """The codes that start with what was typed."""
        return [
            click.shell_completion.CompletionItem(c)
            for c in self.vocabulary.codes
            if c.startswith(incomplete)
        ]


DAY = DayType()
TIMESTAMP = TimestampType()
MONEY = MoneyType()
SIGNED_MONEY = MoneyType(allow_negative=True)


def value_options(func: Callable[..., Any], fields: Iterable[tuple[str, str]]) -> Callable[..., Any]:
    """One ``--name`` option (text, default ``None``) per ``(name, help)`` of ``fields``, in that
    order; the command receives it as ``name``."""
    for name, help_ in reversed(list(fields)):
        func = click.option(f"--{name.replace('_', '-')}", name, default=None, help=help_)(func)
    return func


def given(values: Mapping[str, Any]) -> dict[str, Any]:
    """The options of ``values`` that were given (not ``None``)."""
    return {k: v for k, v in values.items() if v is not None}
