"""Points given by hand (``adjust``) at the edge of "a positive whole number": one point is
given, zero and minus one are refused and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kehu_core.errors import ValidationError
from kehu_loyalty.models import LEDGER
from kehu_loyalty.rewards import adjust

GIVEN_AT = datetime(2024, 3, 10, 4, 0, tzinfo=UTC)


@pytest.fixture
def member(shop):
    """A member with no points."""
    code = shop.customer(since="2024-01-01")
    shop.run(lambda s: s.execute(LEDGER.delete()))
    return code


@pytest.mark.parametrize("points", [0, -1])
def test_zero_or_fewer_points_are_refused_and_nothing_is_written(shop, member, points):
    with pytest.raises(ValidationError, match="must be a positive whole number") as refused:
        shop.run_app(adjust, member, points, "补偿", now=GIVEN_AT)
    assert "points not awarded; nothing was changed" in str(refused.value)
    assert shop.ledger(member) == [] and shop.balance(member) == 0


def test_one_point_is_given(shop, member):
    assert shop.run_app(adjust, member, 1, "补偿", now=GIVEN_AT)["balance"] == 1
    assert [(e["kind"], e["points"]) for e in shop.ledger(member)] == [("adjust", 1)]
