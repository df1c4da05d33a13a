"""Earn rules: declarative attrs values, evaluated a whole batch of interactions at a time.

A rule either gives points per yuan of the interaction's amount (an *amount rule*) or a
fixed number of points (a *bonus rule*). Amount rules matching one interaction are summed
into one ledger entry; bonus rules each write their own entry. Plugins add rules through
the ``kehu_loyalty_earn_rules`` hook; the built-in ones come from the programme settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import field, frozen, validators

from kehu_core.errors import KehuError
from kehu_loyalty.settings import Settings

ONCE_PER = (None, "customer", "year", "month")
BENEFICIARIES = ("customer", "referrer")
BUILTIN_NAMES = ("base", "birthday", "first_purchase", "referral", "feedback")


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@frozen
class EarnRule:
    """One earn rule.

    Attributes:
        name: unique name; appears in the ledger's ``rule`` column.
        kinds: interaction kinds it applies to (``purchase``, ``feedback`` ...).
        points_per_yuan: points per yuan of amount (an amount rule), multiplied by the
            customer's tier multiplier when ``tier_multiplier`` is set.
        fixed_points: a fixed bonus per matching interaction (a bonus rule).
        categories, channels, products: when non-empty, the interaction must match one.
        min_amount: the interaction's amount must be at least this.
        birthday_month: only in the customer's birthday month (local time).
        once_per: bonus rules only: award at most once per ``customer``, ``year`` or ``month``.
        beneficiary: ``customer``, or ``referrer`` (whoever referred the buyer).
        valid_from, valid_until: the promotion's period (``valid_until`` exclusive).
    """

    name: str = field(validator=validators.matches_re(r"^[a-z][a-z0-9_]{0,63}$"))
    kinds: tuple[str, ...] = field(default=("purchase",), converter=_strings)
    points_per_yuan: Decimal = field(default=Decimal(0), converter=Decimal)
    fixed_points: int = 0
    categories: tuple[str, ...] = field(default=(), converter=_strings)
    channels: tuple[str, ...] = field(default=(), converter=_strings)
    products: tuple[str, ...] = field(default=(), converter=_strings)
    min_amount: Decimal | None = None
    birthday_month: bool = False
    once_per: str | None = field(default=None, validator=validators.in_(ONCE_PER))
    beneficiary: str = field(default="customer", validator=validators.in_(BENEFICIARIES))
    tier_multiplier: bool = True
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    description: str = ""

    def __attrs_post_init__(self) -> None:
        amount_rule = self.points_per_yuan > 0
        if amount_rule == (self.fixed_points > 0):
            raise ValueError(
                f"earn rule {self.name!r}: give either points_per_yuan or fixed_points (> 0), not both"
            )
        if amount_rule and (self.once_per or self.beneficiary != "customer"):
            raise ValueError(f"earn rule {self.name!r}: once_per and beneficiary apply to fixed bonuses only")

    @property
    def is_amount_rule(self) -> bool:
        """True when the rule gives points per yuan rather than a fixed bonus."""
        return self.points_per_yuan > 0

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
        )

    def scope(self, customer_id: int, interaction_id: int, local: datetime) -> tuple[Any, ...]:
        """What ``once_per`` counts once: the same scope as :meth:`scope_key`, cheaper to build."""
        if self.once_per == "customer":
            return (self.name, customer_id)
        if self.once_per == "year":
            return (self.name, customer_id, local.year)
        if self.once_per == "month":
            return (self.name, customer_id, local.year, local.month)
        return (self.name, interaction_id)

    def matches(self, row: Mapping[str, Any], local_month: int, birthday_month: int | None) -> bool:
        """Whether an interaction row (as in ``batch.rows``) qualifies, ignoring ``once_per``."""
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


def builtin_rules(settings: Settings) -> list[EarnRule]:
    """The programme's own rules, from its settings (a rule worth 0 points is left out)."""
    rules = []
    if settings.points_per_yuan > 0:
        rules.append(
            EarnRule(
                "base",
                points_per_yuan=settings.points_per_yuan,
                description=f"{settings.points_per_yuan} point(s) per yuan spent",
            )
        )
    extra = settings.points_per_yuan * (settings.birthday_multiplier - 1)
    if extra > 0:
        rules.append(
            EarnRule(
                "birthday",
                points_per_yuan=extra,
                birthday_month=True,
                description=f"×{settings.birthday_multiplier} points in the birthday month",
            )
        )
    if settings.first_purchase_bonus:
        rules.append(
            EarnRule(
                "first_purchase",
                fixed_points=settings.first_purchase_bonus,
                once_per="customer",
                min_amount=Decimal("0.01"),
                description="bonus on the first purchase as a member",
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
                description="bonus to the referrer when the referred customer first buys",
            )
        )
    if settings.feedback_bonus:
        rules.append(
            EarnRule(
                "feedback",
                kinds=("feedback",),
                fixed_points=settings.feedback_bonus,
                once_per="month",
                description="bonus for giving feedback, once a month",
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
            raise KehuError(f"an earn rule must be a kehu_loyalty.rules.EarnRule, got {type(rule).__name__}")
        if rule.name in seen:
            raise KehuError(f"two earn rules are named {rule.name!r}; rule names must be unique")
        seen.add(rule.name)
    return rules
