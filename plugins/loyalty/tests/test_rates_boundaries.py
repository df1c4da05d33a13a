"""The points of an amount at their limits (issue 21): rates, tier factors, multiplier rules,
the 64-bit ceiling, the rounding of cents and the widths of the rule and reason columns.

Pure functions: every expected value is worked out by hand in the comment beside it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from kehu_loyalty.models import MAX_POINTS, REASON_WIDTH, RULE_WIDTH
from kehu_loyalty.rates import (
    PointsOutOfRange,
    Rate,
    amount_reason,
    cents_of,
    number,
    rate_of,
    rule_column,
    suffix_rule,
)
from kehu_loyalty.rules import EarnRule

D = Decimal
BASE = EarnRule("base", points_per_yuan=D(1))
FLAT = EarnRule("flat", points_per_yuan=D("0.5"), tier_multiplier=False)
DOUBLE = EarnRule("double", multiplier=D(2))
TRIPLE = EarnRule("triple", multiplier=D(3))
ALSO_DOUBLE = EarnRule("also_double", multiplier=D(2))


def test_one_rule_without_tier_is_its_own_rate():
    rate = rate_of([BASE], None)
    # 1 point per yuan = 1 point per 100 cents
    assert rate == Rate(1, 100, "1 pt/¥ (base)", "base")
    assert rate.points(10099) == 100  # floor(100.99)
    assert rate.points(100) == 1 and rate.points(99) == 0  # one yuan exactly, and a cent short


def test_a_tier_factor_scales_the_rules_that_take_it():
    rate = rate_of([BASE], (D("1.5"), "VIP"))
    assert (rate.numerator, rate.denominator) == (3, 200)  # 1 × 1.5 = 3/2 per yuan
    assert rate.suffix == "1 pt/¥ (base) × 1.5 tier VIP"
    assert rate.rule == "base"
    assert rate.points(10099) == 151  # floor(100.99 × 1.5) = floor(151.485)
    assert rate.points(200) == 3 and rate.points(199) == 2  # floor(2.985)


def test_a_rule_without_tier_multiplier_alone_under_a_tier():
    rate = rate_of([FLAT], (D("1.5"), "VIP"))
    assert (rate.numerator, rate.denominator) == (1, 200)  # 0.5 per yuan, the tier not applied
    assert rate.suffix == "0.5 pt/¥ (flat), not multiplied by tier VIP"


def test_a_rule_without_tier_multiplier_and_no_tier():
    rate = rate_of([FLAT], None)
    assert (rate.numerator, rate.denominator) == (1, 200)
    assert rate.suffix == "0.5 pt/¥ (flat)"


def test_both_kinds_of_rule_under_a_tier_and_a_multiplier_rule():
    rate = rate_of([BASE, FLAT, DOUBLE], (D("1.5"), "VIP"))
    assert (rate.numerator, rate.denominator) == (4, 100)  # (1 × 1.5 + 0.5) × 2 = 4 per yuan
    assert rate.suffix == "(1 pt/¥ (base) × 1.5 tier VIP + 0.5 pt/¥ (flat)) × 2 (double)"
    assert rate.rule == "base+flat+double"
    assert rate.points(1001) == 40  # floor(10.01 × 4) = floor(40.04)


def test_both_kinds_of_rule_under_a_tier_without_multiplier_rule():
    rate = rate_of([BASE, FLAT], (D(2), "GOLD"))
    assert (rate.numerator, rate.denominator) == (5, 200)  # 1 × 2 + 0.5 = 5/2 per yuan
    assert rate.suffix == "1 pt/¥ (base) × 2 tier GOLD + 0.5 pt/¥ (flat)"
    assert rate.rule == "base+flat"


def test_a_multiplier_rule_without_plain_rules_takes_no_brackets():
    rate = rate_of([BASE, DOUBLE], None)
    assert (rate.numerator, rate.denominator) == (2, 100)
    assert rate.suffix == "1 pt/¥ (base) × 2 (double)"
    assert rate.rule == "base+double"


def test_the_largest_multiplier_rule_applies_and_equals_go_by_rule_order():
    assert rate_of([BASE, DOUBLE, TRIPLE], None).numerator == 3  # 3 > 2: never 6 (no stacking)
    assert rate_of([BASE, TRIPLE, DOUBLE], None).rule == "base+triple"
    assert rate_of([BASE, DOUBLE, ALSO_DOUBLE], None).rule == "base+double"  # first of equals
    assert rate_of([BASE, ALSO_DOUBLE, DOUBLE], None).rule == "base+also_double"


def test_points_up_to_the_ledger_ceiling_and_one_past_it():
    one = Rate(1, 1, "1 pt/cent", "x")
    assert one.points(MAX_POINTS) == MAX_POINTS == 9223372036854775807
    with pytest.raises(PointsOutOfRange) as refused:
        one.points(MAX_POINTS + 1)
    assert str(refused.value) == (
        "¥92233720368547758.08 × 1 pt/cent earns 9223372036854775808 points, more than a ledger entry "
        "holds (at most 9223372036854775807): lower the earn rate; nothing was written"
    )


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        ("100.99", 10099),
        ("0.01", 1),
        ("0.005", 0),  # half to even: 0.00
        ("0.015", 2),  # half to even: 0.02
        ("0.025", 2),  # half to even: 0.02
        ("-10.00", -1000),
        ("7", 700),
    ],
)
def test_cents_of_rounds_as_money_is_stored(amount, cents):
    assert cents_of(D(amount)) == cents


@pytest.mark.parametrize(("value", "text"), [("2.00", "2"), ("1.50", "1.5"), ("10", "10"), ("1E+1", "10")])
def test_number_has_no_trailing_zeros_nor_exponent(value, text):
    assert number(D(value)) == text


def test_rule_column_fits_its_width_exactly_and_cuts_one_past():
    fits = "r" * RULE_WIDTH
    assert rule_column(fits) == fits
    assert rule_column("r" * (RULE_WIDTH - 1)) == "r" * (RULE_WIDTH - 1)
    cut = rule_column("r" * (RULE_WIDTH + 1))
    assert len(cut) == RULE_WIDTH and cut == "r" * (RULE_WIDTH - 1) + "…"


def test_suffix_rule_joins_names():
    assert suffix_rule([BASE, FLAT]) == "base+flat"
    assert suffix_rule([]) == ""


def test_amount_reason_writes_cents_and_fits_the_reason_column():
    rate = rate_of([BASE], None)
    assert amount_reason(5, rate) == "¥0.05 × 1 pt/¥ (base)"
    assert amount_reason(10099, rate) == "¥100.99 × 1 pt/¥ (base)"
    assert amount_reason(100, rate) == "¥1.00 × 1 pt/¥ (base)"
    long = Rate(1, 100, "x" * REASON_WIDTH, "x")
    assert len(amount_reason(100, long)) == REASON_WIDTH
    assert amount_reason(100, long) == ("¥1.00 × " + "x" * REASON_WIDTH)[:REASON_WIDTH]
