"""Earn rules: declarative attrs values, evaluated a whole batch of interactions at a time.

A rule either gives points per yuan of the interaction's amount (an *amount rule*), a fixed
number of points (a *bonus rule*), or multiplies what the amount rules give (a *multiplier
rule*, "double points"). Amount rules matching one interaction are summed into one ledger
entry, multiplied by the tier multiplier and by the largest matching multiplier rule; bonus
rules each write their own entry. Plugins add rules through the ``kehu_loyalty_earn_rules``
hook (built in Python or read from a TOML rule file with :func:`load_rule_file`); the
built-in ones come from the programme settings. A bad rule is refused with one line naming
the rule and the field (:class:`EarnRuleError`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from attrs import field, fields, frozen

from kehu_core import calendar
from kehu_core.choices import Choice, Vocabulary
from kehu_core.errors import KehuError
from kehu_core.i18n import N_, messages
from kehu_core.vocab import KNOWN_INTERACTION_KINDS
from kehu_loyalty.models import MAX_POINTS, RULE_WIDTH
from kehu_loyalty.settings import Settings

_ = messages("kehu_loyalty").gettext

#: How often a bonus rule awards: once per customer, year or month (None: every time).
ONCE_PER_CHOICE = Vocabulary(
    "kehu_loyalty",
    N_("once per"),
    [
        Choice(
            "customer",
            N_("once per customer"),
            aliases=("每位客户一次", "每个客户一次", "每人一次", "每位客户"),
        ),
        Choice("year", N_("once a year"), aliases=("每年一次", "每年", "一年一次")),
        Choice("month", N_("once a month"), aliases=("每月一次", "每月", "一月一次")),
    ],
)
ONCE_PER = (None, *ONCE_PER_CHOICE.codes)
#: Who a bonus rule rewards: the buyer, or whoever referred the buyer.
BENEFICIARY = Vocabulary(
    "kehu_loyalty",
    N_("beneficiary"),
    [
        Choice("customer", N_("buyer"), aliases=("购买者", "买家", "客户本人", "本人")),
        Choice("referrer", N_("referrer"), aliases=("推荐人", "介绍人")),
    ],
)
BENEFICIARIES = BENEFICIARY.codes
BUILTIN_NAMES = ("base", "birthday", "first_purchase", "referral", "feedback")
#: Rule names: lower-case words of letters, digits and ``_``, joined by dots (``acme.double_11``).
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
_MONTH_DAY = re.compile(r"(\d{1,2})-(\d{1,2})")
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # 02-29: in leap years only


class EarnRuleError(KehuError, ValueError):
    """An earn rule was refused: the message is one line naming the rule and the field.

    A :class:`~kehu_core.errors.KehuError`, so the CLI prints it without a traceback (and a
    ``ValueError``, as attrs validation errors are)."""


def _problem(name: Any, what: str, reason: str, value: Any = None) -> EarnRuleError:
    if value is None:
        return EarnRuleError(
            _("earn rule {name!r}: {field}: {reason}").format(name=name, field=what, reason=reason)
        )
    return EarnRuleError(
        _("earn rule {name!r}: {field}: {reason} (got {value!r})").format(
            name=name, field=what, reason=reason, value=value
        )
    )


def _named(vocabulary: Vocabulary) -> Any:
    """A converter: a name of ``vocabulary`` (its code, label or Chinese name) as its code;
    anything else as given, for the check to refuse naming the field."""

    def convert(value: Any) -> Any:
        if isinstance(value, str):
            return vocabulary.names().get(value.strip().casefold().replace("-", "_").replace(" ", "_"), value)
        return value

    return convert


def _once_per(value: Any) -> Any:
    """``once_per`` as its code (``每年`` is ``year``)."""
    return _named(ONCE_PER_CHOICE)(value)


def _beneficiary(value: Any) -> Any:
    """``beneficiary`` as its code (``推荐人`` is ``referrer``)."""
    return _named(BENEFICIARY)(value)


def _kinds(value: Any) -> Any:
    """Interaction kinds as codes (``购买`` is ``purchase``); a plugin's own kind stays as given."""
    kinds = _strings(value)
    if not isinstance(kinds, tuple):
        return kinds
    return tuple(_named(KNOWN_INTERACTION_KINDS)(k) for k in kinds)


def _strings(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    try:
        return tuple(value)
    except TypeError:
        return value  # refused by the check, naming the field


def _decimal(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value)) if isinstance(value, int | float | str) else value
    except InvalidOperation:
        return value  # refused by the check, naming the field


@lru_cache(maxsize=256)
def yearly_span(text: str) -> tuple[int, int]:
    """``"MM-DD"`` or ``"MM-DD..MM-DD"`` as ``(first, last)`` month-day numbers (``1111`` for
    11-11), both days included; raises ``ValueError`` with the reason."""
    parts = text.split("..")
    if len(parts) > 2:
        raise ValueError(_("one day MM-DD or one range MM-DD..MM-DD"))
    days = []
    for part in parts:
        found = _MONTH_DAY.fullmatch(part.strip())
        if not found:
            raise ValueError(_("a local day of the year as MM-DD, or a range MM-DD..MM-DD"))
        month, day = int(found[1]), int(found[2])
        if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
            raise ValueError(_("{day} is no day of the year").format(day=part.strip()))
        days.append(month * 100 + day)
    return days[0], days[-1]


def month_day(day: date) -> int:
    """``day`` as the month-day number :func:`yearly_span` compares (``1111`` for 11-11)."""
    return day.month * 100 + day.day


def in_span(span: tuple[int, int], value: int) -> bool:
    """Whether month-day ``value`` is in ``span``; a span whose end comes before its start
    runs over the new year (``12-30..01-02``)."""
    first, last = span
    return first <= value <= last if first <= last else value >= first or value <= last


@frozen
class EarnRule:
    """One earn rule.

    Attributes:
        name: unique name, lower case, dots allowed (``acme.double_11``); appears in the
            ledger's ``rule`` column.
        kinds: interaction kinds it applies to (``purchase``, ``feedback`` ...).
        points_per_yuan: points per yuan of amount (an amount rule), multiplied by the
            customer's tier multiplier when ``tier_multiplier`` is set.
        fixed_points: a fixed bonus per matching interaction (a bonus rule).
        multiplier: multiplies the points per yuan of the amount rules that match the same
            interaction (a multiplier rule: ``2`` is double points); more than 1. When several
            match, the largest applies; it multiplies the tier multiplier too.
        categories, channels, products: when non-empty, the interaction must match one.
        min_amount: the interaction's amount must be at least this.
        birthday_month: only in the customer's birthday month (local time).
        once_per: bonus rules only: award at most once per ``customer``, ``year`` or ``month``.
        beneficiary: ``customer``, or ``referrer`` (whoever referred the buyer).
        valid_from, valid_until: the promotion's period (``valid_until`` exclusive).
        every_year: only on these company-local days of every year: ``"11-11"``, or a range
            with both ends included, ``"11-11..11-12"`` (``"12-30..01-02"`` runs over the new year).
    """

    name: str
    kinds: tuple[str, ...] = field(default=("purchase",), converter=_kinds)
    points_per_yuan: Decimal = field(default=Decimal(0), converter=_decimal)
    fixed_points: int = 0
    categories: tuple[str, ...] = field(default=(), converter=_strings)
    channels: tuple[str, ...] = field(default=(), converter=_strings)
    products: tuple[str, ...] = field(default=(), converter=_strings)
    min_amount: Decimal | None = field(default=None, converter=_decimal)
    birthday_month: bool = False
    once_per: str | None = field(default=None, converter=_once_per)
    beneficiary: str = field(default="customer", converter=_beneficiary)
    tier_multiplier: bool = True
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    description: str = ""
    every_year: str | None = None
    multiplier: Decimal | None = field(default=None, converter=_decimal)

    def __attrs_post_init__(self) -> None:
        for problem in self.problems():
            raise _problem(self.name, *problem)
        if self.every_year is not None:
            first, last = yearly_span(self.every_year)
            normal = f"{first // 100:02d}-{first % 100:02d}"
            if last != first:
                normal += f"..{last // 100:02d}-{last % 100:02d}"
            object.__setattr__(self, "every_year", normal)

    def problems(self) -> list[tuple[str, str, Any]]:
        """What is wrong with the rule, as ``(field, reason, value)``; the first one refuses it."""
        name = self.name
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or len(name) > RULE_WIDTH:
            return [
                (
                    "name",
                    _("lower-case words of a-z, 0-9 and _, joined by dots, at most {n} characters").format(
                        n=RULE_WIDTH
                    ),
                    None,
                )
            ]
        found: list[tuple[str, str, Any]] = []
        for what in ("kinds", "categories", "channels", "products"):
            value = getattr(self, what)
            if not isinstance(value, tuple) or not all(isinstance(v, str) and v for v in value):
                found.append((what, _("names (text), one or a list"), value))
        if not self.kinds:
            found.append(("kinds", _("at least one interaction kind"), None))
        for what in ("points_per_yuan", "min_amount", "multiplier"):
            value = getattr(self, what)
            if value is not None and (not isinstance(value, Decimal) or not value.is_finite() or value < 0):
                found.append((what, _("a number, not negative"), value))
        if (
            isinstance(self.fixed_points, bool)
            or not isinstance(self.fixed_points, int)
            or not 0 <= self.fixed_points <= MAX_POINTS
        ):
            why = _("a whole number of points, 0 to {high}").format(high=MAX_POINTS)
            found.append(("fixed_points", why, self.fixed_points))
        for what in ("birthday_month", "tier_multiplier"):
            if not isinstance(getattr(self, what), bool):
                found.append((what, _("true or false"), getattr(self, what)))
        if self.once_per not in ONCE_PER:
            found.append(("once_per", _("one of customer, year, month (or none)"), self.once_per))
        if self.beneficiary not in BENEFICIARIES:
            found.append(("beneficiary", _("customer or referrer"), self.beneficiary))
        for what in ("valid_from", "valid_until"):
            value = getattr(self, what)
            if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
                found.append((what, _("a time with its time zone"), value))
        if found:
            return found
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            found.append(("valid_until", _("must be after valid_from"), None))
        if not isinstance(self.description, str):
            found.append(("description", _("text"), self.description))
        if self.every_year is not None:
            try:
                if not isinstance(self.every_year, str):
                    raise ValueError(_("a local day of the year as MM-DD, or a range MM-DD..MM-DD"))
                yearly_span(self.every_year)
            except ValueError as refused:
                found.append(("every_year", str(refused), self.every_year))
        if self.multiplier is not None and self.multiplier <= 1:
            found.append(("multiplier", _("more than 1 (2 is double points)"), self.multiplier))
        kinds_given = [self.points_per_yuan > 0, self.fixed_points > 0, self.multiplier is not None]
        if sum(kinds_given) != 1:
            found.append(
                (
                    "points_per_yuan",
                    _("give exactly one of points_per_yuan, fixed_points (> 0) or multiplier"),
                    None,
                )
            )
        elif not self.is_bonus_rule and (self.once_per or self.beneficiary != "customer"):
            found.append(("once_per", _("once_per and beneficiary apply to fixed bonuses only"), None))
        return found

    @property
    def is_amount_rule(self) -> bool:
        """True when the rule gives points per yuan."""
        return self.points_per_yuan > 0

    @property
    def is_bonus_rule(self) -> bool:
        """True when the rule gives a fixed bonus."""
        return self.fixed_points > 0

    @property
    def is_multiplier_rule(self) -> bool:
        """True when the rule multiplies the points per yuan of the amount rules."""
        return self.multiplier is not None

    @property
    def per_yuan(self) -> bool:
        """True for the rules that decide the points per yuan: amount and multiplier rules."""
        return self.multiplier is not None or self.points_per_yuan > 0

    @property
    def is_plain(self) -> bool:
        """True when only the interaction's kind decides whether the rule matches."""
        return not (
            self.categories
            or self.channels
            or self.products
            or self.min_amount is not None
            or self.birthday_month
            or self.valid_from
            or self.valid_until
            or self.every_year
        )

    @property
    def span(self) -> tuple[int, int] | None:
        """``every_year`` as month-day numbers (see :func:`yearly_span`), or None."""
        return yearly_span(self.every_year) if self.every_year is not None else None

    def scope(self, customer_id: int, interaction_id: int, local: datetime) -> tuple[Any, ...]:
        """What ``once_per`` counts once: the same scope as :meth:`scope_key`, cheaper to build."""
        if self.once_per == "customer":
            return (self.name, customer_id)
        if self.once_per == "year":
            return (self.name, customer_id, local.year)
        if self.once_per == "month":
            return (self.name, customer_id, local.year, local.month)
        return (self.name, interaction_id)

    def matches(
        self,
        row: Mapping[str, Any],
        local_month: int,
        birthday_month: int | None,
        local_day: date | None = None,
    ) -> bool:
        """Whether an interaction row (as in ``batch.rows``) qualifies, ignoring ``once_per``.

        ``local_month`` and ``local_day``: the month and the company-local day of the row's
        ``occurred_at`` (the day is worked out here when not given and the rule needs it)."""
        if row["kind"] not in self.kinds:
            return False
        if self.categories and row.get("category") not in self.categories:
            return False
        if self.channels and row.get("channel") not in self.channels:
            return False
        if self.products and row.get("product") not in self.products:
            return False
        amount = row.get("amount")
        if self.min_amount is not None and (amount is None or abs(amount) < self.min_amount):
            return False
        if self.birthday_month and local_month != birthday_month:
            return False
        when = row["occurred_at"]
        if self.every_year is not None and not in_span(
            yearly_span(self.every_year), month_day(local_day or calendar.local_day(when))
        ):
            return False
        if self.valid_from is not None and when < self.valid_from:
            return False
        return self.valid_until is None or when < self.valid_until

    def scope_key(self, customer_id: int, interaction_id: int, local: datetime) -> str:
        """The idempotency key of this rule's award: one per scope of ``once_per``."""
        if self.once_per == "customer":
            return f"bonus:{self.name}:c{customer_id}"
        if self.once_per == "year":
            return f"bonus:{self.name}:c{customer_id}:{local.year}"
        if self.once_per == "month":
            return f"bonus:{self.name}:c{customer_id}:{local.year}-{local.month:02d}"
        return f"bonus:{self.name}:i{interaction_id}"


#: The keys a rule file's rule may have: the fields of :class:`EarnRule`.
RULE_FIELDS = tuple(f.name for f in fields(EarnRule))


def _file_time(value: Any, what: str, name: Any) -> Any:
    """A rule file's time: a TOML offset time, a local time (company time) or a date (its local midnight)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=calendar.zone())
    if isinstance(value, date):
        return calendar.day_start(value)
    if value is None:
        return None
    raise _problem(name, what, _("a TOML date or date-time (2025-11-11 or 2025-11-11T00:00:00+08:00)"), value)


def rule_from_mapping(values: Mapping[str, Any]) -> EarnRule:
    """An :class:`EarnRule` from a mapping of its fields (a rule file's table), refusing
    unknown or missing keys with one line naming the rule and the field."""
    name = values.get("name")
    if name is None:
        raise EarnRuleError(
            _('earn rule without a name: give name = "..." (keys: {keys})').format(
                keys=", ".join(sorted(values))
            )
        )
    unknown = sorted(set(values) - set(RULE_FIELDS))
    if unknown:
        why = _("no such field; the fields are {fields}").format(fields=", ".join(RULE_FIELDS))
        raise _problem(name, unknown[0], why)
    given = dict(values)
    for what in ("valid_from", "valid_until"):
        if what in given:
            given[what] = _file_time(given[what], what, name)
    return EarnRule(**given)


def load_rule_file(path: str | Path) -> list[EarnRule]:
    """The earn rules of a TOML rule file: one ``[[rule]]`` table per rule, keyed by
    :class:`EarnRule`'s fields (``name = "acme.double_11"``, ``every_year = "11-11"``,
    ``multiplier = 2``).

    A company plugin returns them from its ``kehu_loyalty_earn_rules``. A file that cannot be
    read, is not TOML, or holds a bad rule is refused with :class:`EarnRuleError`, one line
    naming the file, the rule and the field."""
    source = Path(path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EarnRuleError(
            _("{file}: cannot read the rule file: {error}").format(file=source, error=exc.strerror or exc)
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise EarnRuleError(
            _("{file}: not a TOML rule file: {error}").format(file=source, error=exc)
        ) from None
    extra = sorted(set(data) - {"rule"})
    if extra:
        raise EarnRuleError(
            _("{file}: unknown table {table!r}: write each rule as a [[rule]] table").format(
                file=source, table=extra[0]
            )
        )
    tables = data.get("rule", [])
    rules = []
    for number, table in enumerate(tables if isinstance(tables, list) else [tables], 1):
        if not isinstance(table, dict):
            raise EarnRuleError(
                _("{file}: rule {number}: write each rule as a [[rule]] table").format(
                    file=source, number=number
                )
            )
        try:
            rules.append(rule_from_mapping(table))
        except EarnRuleError as exc:
            raise EarnRuleError(_("{file}: {error}").format(file=source, error=exc)) from None
    return rules


def builtin_rules(settings: Settings) -> list[EarnRule]:
    """The programme's own rules, from its settings (a rule worth 0 points is left out)."""
    rules = []
    if settings.points_per_yuan > 0:
        rules.append(
            EarnRule(
                "base",
                points_per_yuan=settings.points_per_yuan,
                description=_("{rate} point(s) per yuan spent").format(rate=settings.points_per_yuan),
            )
        )
    extra = settings.points_per_yuan * (settings.birthday_multiplier - 1)
    if extra > 0:
        rules.append(
            EarnRule(
                "birthday",
                points_per_yuan=extra,
                birthday_month=True,
                description=_("{multiplier} times the points in the birthday month").format(
                    multiplier=settings.birthday_multiplier
                ),
            )
        )
    if settings.first_purchase_bonus:
        rules.append(
            EarnRule(
                "first_purchase",
                fixed_points=settings.first_purchase_bonus,
                once_per="customer",
                min_amount=Decimal("0.01"),
                description=_("bonus on the first purchase as a member"),
            )
        )
    if settings.referral_bonus:
        rules.append(
            EarnRule(
                "referral",
                fixed_points=settings.referral_bonus,
                once_per="customer",
                beneficiary="referrer",
                min_amount=Decimal("0.01"),
                description=_("bonus to the referrer when the referred customer first buys"),
            )
        )
    if settings.feedback_bonus:
        rules.append(
            EarnRule(
                "feedback",
                kinds=("feedback",),
                fixed_points=settings.feedback_bonus,
                once_per="month",
                description=_("bonus for giving feedback, once a month"),
            )
        )
    return rules


def all_rules(settings: Settings, contributed: Sequence[Sequence[EarnRule]]) -> list[EarnRule]:
    """Built-in rules plus those plugins contribute; refuses duplicate names."""
    rules = builtin_rules(settings)
    for batch in contributed:
        rules.extend(batch or ())
    seen: set[str] = set()
    for rule in rules:
        if not isinstance(rule, EarnRule):
            raise EarnRuleError(
                _("an earn rule must be a `kehu_loyalty.api.EarnRule`, got {type}: {rule!r}").format(
                    type=type(rule).__name__, rule=rule
                )[:300]
            )
        if rule.name in seen:
            raise EarnRuleError(
                _("earn rule {name!r}: name: two earn rules have it; names must be unique").format(
                    name=rule.name
                )
            )
        seen.add(rule.name)
    return rules
