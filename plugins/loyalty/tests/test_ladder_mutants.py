"""The ladder, pinned where small plausible bugs survived the ladder's tests (issue 21's
mutation testing): which interactions are buying, whatever their kind's place in the alphabet;
a customer created or enrolled exactly at the date and one instant either side; each of the four
quarters counted once; transitions of one size from one stage, in the order of the stage reached.

``D`` is the date the stage is computed at; the customers are created today, after ``D``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from kehu_core.models import Customer
from kehu_core.types import utcnow
from kehu_loyalty import api
from kehu_loyalty.accounts import enroll, require_customer
from kehu_loyalty.ladder import ladder, stage_of

D = datetime(2024, 6, 1, 4, 0, tzinfo=UTC)
DAY, US = timedelta(days=1), timedelta(microseconds=1)


def stage(shop, code, as_of=D, loyal_quarters=3):
    with shop.app.session() as s:
        return stage_of(s, require_customer(s, code).id, as_of, loyal_quarters)


@pytest.mark.parametrize("kind", ["feedback", "payment", "resale", "visit"])
def test_an_amount_on_any_other_kind_is_not_buying(shop, kind):
    """Only a purchase is buying: kinds that sort before ``purchase`` (feedback, payment) and
    after it (resale, visit) with an amount leave a one-time buyer a first-time buyer."""
    code = shop.customer(member=False)
    shop.log(code, amount="10", at=(D - 10 * DAY).isoformat())
    shop.log(code, kind=kind, amount="10", at=(D - 5 * DAY).isoformat())
    assert stage(shop, code) == "first_time"


def buyer(shop, *moments):
    code = shop.customer(member=False)
    for when in moments:
        shop.log(code, amount="10", at=when.isoformat())
    return code


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        (D + US, None),  # on file only after the date
        (D, None),  # on file exactly at the date: not yet before it
        (D - US, "prospect"),  # on file just before it, never bought
    ],
)
def test_a_customer_created_exactly_at_the_date_is_not_on_the_ladder_yet(shop, created, expected):
    code = shop.customer(member=False)
    with shop.app.session() as s:
        s.execute(update(Customer.__table__).where(Customer.code == code).values(created_at=created))
    assert stage(shop, code) == expected


def test_transitions_of_one_size_from_one_stage_are_sorted_by_the_stage_reached(shop):
    """Since S = now - 5 days, two first-time buyers move: R to advocate (R referred X, who
    bought 20 days ago, 3 days ago), A to repeat (a second purchase 2 days ago). Of equal size
    and from the same stage, they are sorted by the stage reached: advocate before repeat."""
    now = utcnow()
    r = buyer(shop, now - 30 * DAY)
    x = buyer(shop, now - 20 * DAY)
    buyer(shop, now - 10 * DAY, now - 2 * DAY)  # A
    with shop.app.session() as s:
        api.refer(s, r, x, now=now - 3 * DAY)
    with shop.app.session() as s:
        report = ladder(s, now - 5 * DAY, utcnow())
    assert report.transitions == (("first_time", "advocate", 1), ("first_time", "repeat", 1))
    assert (report.moved, report.new) == (2, 0)


@pytest.mark.parametrize(
    ("moments", "expected"),
    [
        ((D - DAY,), "first_time"),  # one purchase, one quarter: not a repeat buyer, so not loyal
        ((D - 2 * DAY, D - DAY), "loyal"),  # two purchases in one quarter: one quarter is enough
        ((D - DAY, D - 400 * DAY), "loyal"),  # two purchases ever, one of them in the last quarter
        ((D - 400 * DAY, D - 401 * DAY), "repeat"),  # two purchases, both past the four quarters
    ],
)
def test_with_one_quarter_loyal_still_needs_two_purchases(shop, moments, expected):
    """``--loyal-quarters 1`` (the least): a loyal customer is still a repeat buyer first."""
    assert stage(shop, buyer(shop, *moments), loyal_quarters=1) == expected


@pytest.mark.parametrize(
    ("enrolled", "expected"),
    [
        (D - US, "member"),  # enrolled just before the date
        (D, "first_time"),  # exactly at it: not yet
        (D + US, "first_time"),  # after it: not yet either
        (D + 30 * DAY, "first_time"),
    ],
)
def test_membership_counts_only_from_an_enrolment_before_the_date(shop, enrolled, expected):
    code = buyer(shop, D - 10 * DAY)
    with shop.app.session() as s:
        enroll(shop.app, s, [code], enrolled_at=enrolled)
    assert stage(shop, code) == expected


@pytest.mark.parametrize(
    ("moments", "expected"),
    [
        # the newest quarter and the two oldest, not the second: three quarters
        ((D - DAY, D - 190 * DAY, D - 280 * DAY), "loyal"),
        # the second and third quarters only: two, however many purchases in the second
        ((D - 100 * DAY, D - 110 * DAY, D - 190 * DAY), "repeat"),
    ],
)
def test_each_quarter_counts_once(shop, moments, expected):
    """Quarters ``[D-91d, D)``, ``[D-182d, D-91d)``, ``[D-273d, D-182d)``, ``[D-364d, D-273d)``."""
    assert stage(shop, buyer(shop, *moments)) == expected
