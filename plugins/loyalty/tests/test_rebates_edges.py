"""Rebate programmes' rates at their limits (issue 21): a rate is more than 0 and less than 100%,
so a negative rate and a rate of 100% or more are refused, on either side of the limit, written as
a percentage or as a fraction.
"""

from __future__ import annotations

import pytest

from kehu_core.errors import ValidationError
from kehu_loyalty.rebates import add_programme, list_programmes


@pytest.mark.parametrize(
    ("tier", "rate"),
    [
        ("100000:-1%", None),  # negative
        ("100000:-0.0001", None),
        ("100000:100.01%", None),  # past 100%
        ("100000:150%", None),
        ("100000:1.5", None),
        ("100000:99.99%", "0.9999"),  # just under 100%
        ("100000:0.9999", "0.9999"),
        ("100000:0.01%", "0.0001"),  # just over 0
    ],
)
def test_a_rate_is_over_0_and_under_100_percent(shop, tier, rate):
    if rate is None:
        with pytest.raises(ValidationError, match="the rate between 0 and 100%"):
            shop.run(add_programme, "P", "", "month", [tier])
        assert shop.run(list_programmes) == []
    else:
        [(threshold, kept)] = shop.run(add_programme, "P", "", "month", [tier]).tiers
        assert (str(threshold), str(kept)) == ("100000.00", rate)
