"""The loyalty ladder's rungs at their edges (the course material's 忠诚阶梯, 客户的形成).

Each rung's rule is checked with data exactly on its edge and one step either side: the number
of purchases, the quarters bought in, the moment of enrolment and of a referral, and the buying
that membership and advocacy require. ``ladder_mode legacy`` gives the earlier ranking back.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from kehu_core.types import utcnow
from kehu_loyalty import api
from kehu_loyalty.accounts import enroll, require_customer
from kehu_loyalty.ladder import stage_of
from kehu_loyalty.settings import set_setting


def _stage(shop, code, as_of, mode=None, loyal_quarters=3):
    with shop.app.session() as s:
        return stage_of(s, require_customer(s, code).id, as_of, loyal_quarters, mode=mode)


def _buyer(shop, days_ago, member=False):
    """A customer with one purchase ``days_ago`` for each entry (days before now)."""
    code = shop.customer(member=member)
    for days in days_ago:
        shop.log(code, amount="10", at=f"-{days}")
    return code


@pytest.mark.parametrize(
    ("days_ago", "expected"),
    [
        ((), "prospect"),  # no purchase
        ((10,), "first_time"),  # exactly one
        ((10, 11), "repeat"),  # exactly two, one quarter
        ((10, 11, 12), "repeat"),  # three, still one quarter
        ((10, 100), "repeat"),  # two quarters: one fewer than loyal_quarters 3
        ((10, 100, 190), "loyal"),  # exactly three quarters
        ((10, 100, 190, 280), "loyal"),  # four quarters: one more
        ((10, 100, 365), "repeat"),  # the third purchase is older than the four quarters (364 days)
    ],
)
def test_buying_rungs_count_purchases_and_quarters(shop, days_ago, expected):
    code = _buyer(shop, days_ago)
    as_of = utcnow()
    assert _stage(shop, code, as_of) == expected
    assert _stage(shop, code, as_of, mode="legacy") == expected  # the buying rungs did not change


def test_a_refund_or_a_zero_purchase_is_not_buying(shop):
    code = shop.customer(member=False)
    shop.log(code, amount="-10", at="-5")
    shop.log(code, amount="0", at="-4")
    assert _stage(shop, code, utcnow()) == "prospect"
    shop.log(code, amount="0.01", at="-3")
    assert _stage(shop, code, utcnow()) == "first_time"


def test_loyal_quarters_is_the_edge(shop):
    code = _buyer(shop, (10, 100))
    as_of = utcnow()
    assert _stage(shop, code, as_of, loyal_quarters=2) == "loyal"  # exactly 2 of 2
    assert _stage(shop, code, as_of, loyal_quarters=3) == "repeat"  # one quarter short


def test_member_requires_a_purchase(shop):
    never = shop.customer(member=True)
    once = _buyer(shop, (10,), member=True)
    loyal = _buyer(shop, (10, 100, 190), member=True)
    loyal_outside = _buyer(shop, (10, 100, 190))
    as_of = utcnow()
    assert _stage(shop, never, as_of) == "prospect"  # enrolled non-buyer: not above anyone
    assert _stage(shop, once, as_of) == "member"
    assert _stage(shop, loyal, as_of) == "member"
    assert _stage(shop, loyal_outside, as_of) == "loyal"
    assert _stage(shop, never, as_of, mode="legacy") == "member"


def test_member_counts_from_the_enrolment_instant(shop):
    code = _buyer(shop, (10,))
    as_of = utcnow()
    with shop.app.session() as s:
        enroll(shop.app, s, [code], enrolled_at=as_of)
    assert _stage(shop, code, as_of) == "first_time"  # enrolled exactly at the date: not yet
    assert _stage(shop, code, as_of + timedelta(microseconds=1)) == "member"  # one instant later


def test_advocate_requires_a_purchase_and_a_referred_buyer(shop):
    referred_buyer = _buyer(shop, (20,))
    referred_idle = shop.customer(member=False)
    advocate = _buyer(shop, (30,))
    silent = shop.customer(member=False)  # referred a buyer but never bought
    idle_ref = _buyer(shop, (30,))  # bought, but referred a customer who never bought
    member_never = shop.customer(member=True)  # member, referred a buyer, never bought
    as_of = utcnow()
    with shop.app.session() as s:
        api.refer(s, advocate, referred_buyer, now=as_of - timedelta(seconds=1))
    extra = _buyer(shop, (20,))
    extra2 = _buyer(shop, (20,))
    with shop.app.session() as s:
        api.refer(s, silent, extra, now=as_of - timedelta(seconds=1))
        api.refer(s, idle_ref, referred_idle, now=as_of - timedelta(seconds=1))
        api.refer(s, member_never, extra2, now=as_of - timedelta(seconds=1))
    assert _stage(shop, advocate, as_of) == "advocate"
    assert _stage(shop, silent, as_of) == "prospect"
    assert _stage(shop, idle_ref, as_of) == "first_time"
    assert _stage(shop, member_never, as_of) == "prospect"
    # The earlier ranking put a non-buyer on top, the member who never bought on the advocate rung.
    assert _stage(shop, silent, as_of, mode="legacy") == "advocate"
    assert _stage(shop, member_never, as_of, mode="legacy") == "advocate"


def test_advocate_counts_from_the_referral_instant(shop):
    referred = _buyer(shop, (20,))
    advocate = _buyer(shop, (30,))
    as_of = utcnow()
    with shop.app.session() as s:
        api.refer(s, advocate, referred, now=as_of)
    assert _stage(shop, advocate, as_of) == "first_time"  # recorded exactly at the date: not yet
    assert _stage(shop, advocate, as_of + timedelta(microseconds=1)) == "advocate"


def test_ladder_mode_setting_gives_the_earlier_ranking(shop, kehu_cli):
    never = shop.customer(member=True)
    _buyer(shop, (10, 100, 190))
    report = kehu_cli("loyalty", "ladder", "--json")
    assert report.exit_code == 0, report.output
    ends = {s["stage"]: s["end"] for s in report.json["stages"]}
    assert (ends["prospect"], ends["loyal"], ends["member"]) == (1, 1, 0)
    changed = kehu_cli("loyalty", "settings", "set", "ladder_mode", "legacy")
    assert changed.exit_code == 0, changed.output
    legacy = kehu_cli("loyalty", "ladder", "--json").json
    ends = {s["stage"]: s["end"] for s in legacy["stages"]}
    assert (ends["prospect"], ends["loyal"], ends["member"]) == (0, 1, 1)
    with shop.app.session() as s:
        assert stage_of(s, require_customer(s, never).id, utcnow()) == "member"
    bad = kehu_cli("loyalty", "settings", "set", "ladder_mode", "members_first")
    assert bad.exit_code == 1
    assert "ladder_mode: must be one of buying, legacy (got 'members_first')" in bad.output


def test_setting_is_parsed(shop):
    with shop.app.session() as s:
        assert set_setting(s, "ladder_mode", " Legacy ") == {
            "key": "ladder_mode",
            "value": "legacy",
        }  # the code
