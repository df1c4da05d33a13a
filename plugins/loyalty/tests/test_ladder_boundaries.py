"""The ladder's time edges at a fixed date (issue 21): a purchase exactly at the date, the edges
of the four 91-day quarters, the oldest instant of the year, and the report's movements.

``D`` is the date the stage is computed at; the quarters before it are ``[D-91d, D)``,
``[D-182d, D-91d)``, ``[D-273d, D-182d)`` and ``[D-364d, D-273d)``. The customers are created
today, after ``D``: one who had not bought before ``D`` is not on the ladder yet (None).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kehu_core.types import utcnow
from kehu_loyalty import api
from kehu_loyalty.accounts import require_customer
from kehu_loyalty.ladder import ladder, stage_of

D = datetime(2024, 6, 1, 4, 0, tzinfo=UTC)
DAY, US = timedelta(days=1), timedelta(microseconds=1)


def stage(shop, code, as_of=D, loyal_quarters=3):
    with shop.app.session() as s:
        return stage_of(s, require_customer(s, code).id, as_of, loyal_quarters)


def buyer(shop, *moments):
    code = shop.customer(member=False)
    for when in moments:
        shop.log(code, amount="10", at=when.isoformat())
    return code


def test_a_purchase_exactly_at_the_date_is_not_before_it(shop):
    code = buyer(shop, D)
    assert stage(shop, code) is None  # not on file at D, and no purchase before it
    assert stage(shop, code, D + US) == "first_time"
    two = buyer(shop, D - US, D)
    assert stage(shop, two) == "first_time"
    assert stage(shop, two, D + US) == "repeat"


@pytest.mark.parametrize(
    ("moments", "expected"),
    [
        # D-91d exactly is in the first quarter, D-182d exactly in the second: two quarters.
        ((D - DAY, D - 91 * DAY, D - 182 * DAY), "repeat"),
        # A microsecond earlier each: the second and third quarters, with the first: three.
        ((D - DAY, D - 91 * DAY - US, D - 182 * DAY - US), "loyal"),
        # The oldest instant of the year is in the fourth quarter ...
        ((D - DAY, D - 100 * DAY, D - 364 * DAY), "loyal"),
        # ... and a microsecond before it in none.
        ((D - DAY, D - 100 * DAY, D - 364 * DAY - US), "repeat"),
        # The three older quarters, none in the newest: three.
        ((D - 100 * DAY, D - 190 * DAY, D - 280 * DAY), "loyal"),
        # One purchase in each quarter, at each quarter's newest instant.
        ((D - US, D - 91 * DAY - US, D - 182 * DAY - US, D - 273 * DAY - US), "loyal"),
    ],
)
def test_quarter_edges(shop, moments, expected):
    assert stage(shop, buyer(shop, *moments)) == expected


def test_four_quarters_meet_a_loyal_quarters_of_four_and_three_do_not(shop):
    four = buyer(shop, D - DAY, D - 92 * DAY, D - 183 * DAY, D - 274 * DAY)
    three = buyer(shop, D - DAY, D - 92 * DAY, D - 183 * DAY)
    assert stage(shop, four, loyal_quarters=4) == "loyal"
    assert stage(shop, three, loyal_quarters=4) == "repeat"
    assert stage(shop, three, loyal_quarters=3) == "loyal"


def test_the_report_counts_starts_ends_and_moves(shop):
    """Since S = now - 5 days: A moves first_time -> repeat, B stays first_time, C and E are new
    (created today, no purchase before S), E as a first-time buyer and C as a prospect."""
    now = utcnow()
    since = now - 5 * DAY
    a = buyer(shop, now - 10 * DAY, now - 3 * DAY)
    buyer(shop, now - 10 * DAY)  # B
    shop.customer(member=False)  # C
    buyer(shop, now - 2 * DAY)  # E
    end = utcnow()  # after C was created: C is on file
    with shop.app.session() as s:
        report = ladder(s, since, end)
    counts = {c.stage: (c.start, c.end, c.moved_in, c.moved_out) for c in report.stages}
    assert counts == {
        "prospect": (0, 1, 0, 0),
        "first_time": (2, 2, 0, 1),
        "repeat": (0, 1, 1, 0),
        "loyal": (0, 0, 0, 0),
        "member": (0, 0, 0, 0),
        "advocate": (0, 0, 0, 0),
    }
    assert report.transitions == ((None, "first_time", 1), (None, "prospect", 1), ("first_time", "repeat", 1))
    assert (report.moved, report.new) == (1, 2)
    assert (report.since, report.as_of) == (since, end)
    assert stage(shop, a, end) == "repeat"


def test_transitions_are_sorted_by_size_first(shop):
    now = utcnow()
    for _ in range(2):
        buyer(shop, now - 10 * DAY, now - 3 * DAY)  # first_time -> repeat, twice
    buyer(shop, now - 2 * DAY)  # new
    with shop.app.session() as s:
        report = ladder(s, now - 5 * DAY, now + US)
    assert report.transitions == (("first_time", "repeat", 2), (None, "first_time", 1))
    assert (report.moved, report.new) == (2, 1)


@pytest.mark.parametrize("referrer_first", [False, True])
def test_an_advocate_needs_the_referred_customer_to_have_bought_before_the_date(shop, referrer_first):
    """Either order of creation: only the referred customer's own purchases count for advocacy."""
    if referrer_first:
        advocate = buyer(shop, D - 30 * DAY)
        referred = buyer(shop, D + DAY)  # buys only after D
    else:
        referred = buyer(shop, D + DAY)
        advocate = buyer(shop, D - 30 * DAY)
    with shop.app.session() as s:
        api.refer(s, advocate, referred, now=D - 10 * DAY)
    assert stage(shop, advocate) == "first_time"
    assert stage(shop, advocate, D + 2 * DAY) == "advocate"


def test_the_report_puts_only_the_referrer_on_the_advocate_rung(shop):
    """W (created first), the referrer R, X whom R referred, and Y (created last) all bought once:
    only R is an advocate, whatever the order the customers were created in."""
    now = utcnow()
    buyer(shop, now - 40 * DAY)  # W
    r = buyer(shop, now - 30 * DAY)
    x = buyer(shop, now - 20 * DAY)
    buyer(shop, now - 10 * DAY)  # Y
    with shop.app.session() as s:
        api.refer(s, r, x, now=now - 25 * DAY)
    end = utcnow()
    with shop.app.session() as s:
        report = ladder(s, end - DAY, end)
    ends = {c.stage: c.end for c in report.stages if c.end}
    assert ends == {"advocate": 1, "first_time": 3}
    assert stage(shop, r, end) == "advocate"


@pytest.mark.parametrize("status", ["planned", "cancelled"])
def test_a_purchase_not_done_is_not_buying(shop, status):
    code = buyer(shop, D - 10 * DAY)
    shop.log(code, amount="10", at=(D - 5 * DAY).isoformat(), status=status)
    assert stage(shop, code) == "first_time"


def test_the_default_loyal_quarters_is_three(shop):
    three = buyer(shop, D - DAY, D - 100 * DAY, D - 190 * DAY)
    two = buyer(shop, D - DAY, D - 100 * DAY)
    with shop.app.session() as s:
        assert stage_of(s, require_customer(s, three).id, D) == "loyal"
        assert stage_of(s, require_customer(s, two).id, D) == "repeat"


def test_an_advocate_with_two_purchases_is_still_an_advocate(shop):
    referred = buyer(shop, D - 20 * DAY)
    advocate = buyer(shop, D - 30 * DAY, D - 25 * DAY)
    with shop.app.session() as s:
        api.refer(s, advocate, referred, now=D - 28 * DAY)
    assert stage(shop, advocate) == "advocate"


def test_an_amount_on_another_kind_is_not_buying(shop):
    code = buyer(shop, D - 10 * DAY)
    shop.log(code, kind="feedback", amount="10", at=(D - 5 * DAY).isoformat())
    assert stage(shop, code) == "first_time"


def test_transitions_of_equal_size_are_sorted_by_the_stage_left(shop):
    """R becomes an advocate (referral 3 days ago), E is new: (None, first_time) comes before
    (first_time, advocate), though "advocate" sorts before "first_time"."""
    now = utcnow()
    r = buyer(shop, now - 30 * DAY)
    x = buyer(shop, now - 20 * DAY)
    buyer(shop, now - 2 * DAY)  # E
    with shop.app.session() as s:
        api.refer(s, r, x, now=now - 3 * DAY)
    end = utcnow()
    with shop.app.session() as s:
        report = ladder(s, now - 5 * DAY, end)
    assert report.transitions == ((None, "first_time", 1), ("first_time", "advocate", 1))
