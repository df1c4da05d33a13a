"""Enumerated values accept their code, label and Chinese names, and refuse anything else by name."""

from __future__ import annotations

import pytest

from kehu_core import i18n
from kehu_core.choices import Choice, Vocabulary
from kehu_core.validation import FieldError

SOURCES = Vocabulary(
    "kehu_core",
    "source",
    [
        Choice("referral", "referral", aliases=("转介绍", "朋友介绍")),
        Choice("trade_magazine", "trade magazine", aliases=("行业杂志",)),
        Choice("other", "other", aliases=("其他",)),
    ],
)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("referral", "referral"),
        ("Referral", "referral"),  # case does not matter
        (" referral ", "referral"),
        ("朋友介绍", "referral"),
        ("转介绍", "referral"),
        ("trade magazine", "trade_magazine"),  # the English label
        ("trade-magazine", "trade_magazine"),
        ("行业杂志", "trade_magazine"),
    ],
)
def test_every_name_gives_the_code(typed: str, code: str) -> None:
    assert SOURCES.parse(typed) == code


@pytest.mark.parametrize("typed", ["", "referra", "referrals", "朋友", "foo"])
def test_an_unknown_value_is_refused_with_the_accepted_ones(typed: str) -> None:
    with i18n.using("en"), pytest.raises(FieldError) as caught:
        SOURCES.parse(typed)
    assert str(caught.value) == (f"unknown source {typed!r}; use one of: referral, trade_magazine, other")


def test_a_name_given_to_two_codes_is_a_declaration_error() -> None:
    clash = Vocabulary(
        "kehu_core", "kind", [Choice("a", "a", aliases=("甲",)), Choice("b", "b", aliases=("甲",))]
    )
    with pytest.raises(ValueError, match="'甲' names both a and b"):
        clash.parse("a")


def test_codes_keep_their_order_and_unknown_codes_show_as_themselves() -> None:
    assert SOURCES.codes == ("referral", "trade_magazine", "other")
    assert "other" in SOURCES and "nope" not in SOURCES
    assert SOURCES.label("nope") == "nope"
