"""Points of an amount: the rounding both earning paths (SQL and Python) and refunds share.

``points = floor(amount × Σ rates of the matched amount rules × tier multiplier × the largest
matching multiplier rule)`` (the tier multiplier applies to the rules with
``tier_multiplier``, the default; a multiplier rule to all of them), computed
in integers: the amount in whole cents times the rate's numerator, floor-divided by 100 ×
its denominator. No floats anywhere, so SQLite, PostgreSQL and Python agree to the point.
The reason text names the amount (two decimals), the rate, the rules and the tier.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from attrs import frozen

from kehu_core.errors import KehuError
from kehu_core.i18n import messages
from kehu_loyalty.models import MAX_POINTS, REASON_WIDTH, RULE_WIDTH
from kehu_loyalty.rules import EarnRule

_ = messages("kehu_loyalty").gettext

CENT = Decimal("0.01")


@frozen
class Rate:
    """What a set of matched amount rules (and a tier multiplier) gives per cent of amount."""

    numerator: int
    denominator: int  # of points per cent: 100 × the rate's denominator
    suffix: str  # the reason text after "¥<amount> × "
    rule: str  # the ledger's rule column: matched rule names joined with "+"

    def points(self, cents: int) -> int:
        """Whole points for ``cents`` (floored; cents are positive). More than a ledger entry
        holds (:data:`~kehu_loyalty.models.MAX_POINTS`) is refused with :class:`PointsOutOfRange`."""
        points = cents * self.numerator // self.denominator
        if points > MAX_POINTS:
            raise PointsOutOfRange(
                _(
                    "{amount} × {rate} earns {points} points, more than a ledger entry holds (at most "
                    "{high}): lower the earn rate; nothing was written"
                ).format(
                    amount=f"¥{cents // 100}.{cents % 100:02d}",
                    rate=self.suffix,
                    points=points,
                    high=MAX_POINTS,
                )
            )
        return points


class PointsOutOfRange(KehuError):
    """An amount times its earn rate gives more points than 64 bits hold."""


def cents_of(amount: Decimal) -> int:
    """The amount in whole cents, rounded as the core stores money (half to even)."""
    return int(Decimal(amount).quantize(CENT) * 100)


def number(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: 2, 1.5, 10."""
    return format(value.normalize(), "f")


def suffix_rule(matched: Sequence[EarnRule]) -> str:
    """The ``rule`` column of an earn entry: the names of the amount rules that matched."""
    return "+".join(r.name for r in matched)


def rate_of(matched: Sequence[EarnRule], multiplier: tuple[Decimal, str] | None) -> Rate:
    """The rate of these matched amount and multiplier rules under a tier multiplier ``(factor, tier)``.

    The factor applies to the amount rules with ``tier_multiplier`` set (the default); a rule
    without it earns its own rate in every tier. The largest matching multiplier rule (the
    first of equals, in rule order) then multiplies the whole: ``(Σ tier rates × factor +
    Σ other rates) × multiplier``. Several multiplier rules never stack.
    """
    factor, tier = multiplier if multiplier else (Decimal(1), None)
    amounts = [r for r in matched if r.is_amount_rule]
    boosts = [r for r in matched if r.is_multiplier_rule]
    boost = max(boosts, key=_boost_of) if boosts else None
    scaled = [r for r in amounts if r.tier_multiplier or tier is None]
    plain = [r for r in amounts if not (r.tier_multiplier or tier is None)]
    scaled_rate = sum((r.points_per_yuan for r in scaled), Decimal(0))
    plain_rate = sum((r.points_per_yuan for r in plain), Decimal(0))
    exact = Fraction(scaled_rate) * Fraction(factor) + Fraction(plain_rate)
    # The reason is written in the language of the moment, as a note would be.
    if not plain and tier:
        text = _("{rate} pt/¥ ({rules}) × {factor} tier {tier}").format(
            rate=number(scaled_rate), rules=suffix_rule(amounts), factor=number(factor), tier=tier
        )
    elif not plain:
        text = _("{rate} pt/¥ ({rules})").format(rate=number(scaled_rate), rules=suffix_rule(amounts))
    elif not scaled:
        text = _("{rate} pt/¥ ({rules}), not multiplied by tier {tier}").format(
            rate=number(plain_rate), rules=suffix_rule(amounts), tier=tier
        )
    else:
        text = _("{rate} pt/¥ ({rules}) × {factor} tier {tier} + {other_rate} pt/¥ ({other_rules})").format(
            rate=number(scaled_rate),
            rules=suffix_rule(scaled),
            factor=number(factor),
            tier=tier,
            other_rate=number(plain_rate),
            other_rules=suffix_rule(plain),
        )
    names = suffix_rule(amounts)
    if boost is not None and boost.multiplier is not None:
        exact *= Fraction(boost.multiplier)
        text = f"({text})" if plain and scaled else text
        text = _("{rate} × {multiplier} ({rule})").format(
            rate=text, multiplier=number(boost.multiplier), rule=boost.name
        )
        names += f"+{boost.name}"
    return Rate(exact.numerator, exact.denominator * 100, text, rule_column(names))


def _boost_of(rule: EarnRule) -> Decimal:
    return rule.multiplier or Decimal(1)


def rule_column(names: str) -> str:
    """Matched rule names as the ledger's ``rule`` column holds them: several long names
    together can pass its width (``RULE_WIDTH``), and are then cut with a final ``…`` (the
    reason text, up to ``REASON_WIDTH`` characters, names them in full as far as it goes)."""
    return names if len(names) <= RULE_WIDTH else names[: RULE_WIDTH - 1] + "…"


def amount_reason(cents: int, rate: Rate) -> str:
    """The reason of an earn entry: ``¥<amount> × <rate> pt/¥ (<rules>)[ × <factor> tier <tier>]``."""
    return f"¥{cents // 100}.{cents % 100:02d} × {rate.suffix}"[:REASON_WIDTH]
