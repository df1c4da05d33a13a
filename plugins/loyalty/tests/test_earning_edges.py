"""Automatic earning's rules on both paths, with hand-computed ledgers (issue 21): the birthday
month by the local day at a month's edge, a referrer's bonus, planned purchases and other kinds,
amounts given past the cent, tier multipliers beside members without one, refunds by members and
by others, and forcing SQL on a batch that cannot be compiled.

``path``: ``sql`` is what an import uses; ``python`` forces the row-by-row path. Defaults: 1
point per yuan, twice that in the birthday month, a first-purchase bonus of 100, a referral
bonus of 200 to the referrer, a feedback bonus of 20 once a local month; Shanghai's calendar
(UTC+8), so a local month starts at 16:00 UTC the day before.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from kehu_core import hookimpl
from kehu_core.hooktypes import InteractionBatch
from kehu_core.models import Customer
from kehu_loyalty import earning
from kehu_loyalty.api import refer
from kehu_loyalty.earning import EarnResult, earn_batch
from kehu_loyalty.models import ALLOCATIONS, LEDGER
from kehu_loyalty.rules import EarnRule
from kehu_loyalty.settings import set_setting

SINCE = "2024-03-01T00:00:00+08:00"


def test_the_birthday_month_starts_at_the_local_first_of_the_month(shop, path):
    code = shop.customer(since=SINCE, birthday="1990-04-15")
    other = shop.customer(since=SINCE)  # no birthday: never doubled
    shop.bring_in(
        ("P1", code, "purchase", "", "2024-03-31T23:59:59+08:00", "100"),  # March, local: 100
        ("P2", code, "purchase", "", "2024-04-01T00:00:00+08:00", "100"),  # April, local: 200
        ("P3", code, "purchase", "", "2024-04-30T23:59:59+08:00", "10.50"),  # April: floor(21.00)
        ("P4", code, "purchase", "", "2024-05-01T00:00:00+08:00", "10.50"),  # May: floor(10.50)
        ("P5", other, "purchase", "", "2024-04-01T00:00:00+08:00", "100"),
    )
    assert shop.entries(code) == [
        ("bonus", "first_purchase", 100),
        ("earn", "base", 10),
        ("earn", "base", 100),
        ("earn", "base+birthday", 21),
        ("earn", "base+birthday", 200),
    ]
    assert shop.entries(other) == [("bonus", "first_purchase", 100), ("earn", "base", 100)]
    # Both paths write a purchase's earn entry before its bonus, with nothing short.
    assert [(e["kind"], e["shortfall"]) for e in shop.ledger(other)] == [("earn", 0), ("bonus", 0)]


def test_planned_and_cancelled_purchases_and_other_kinds_earn_nothing(shop, path):
    code = shop.customer(since=SINCE)
    shop.bring_in(
        ("P1", code, "purchase", "planned", "2024-04-01T12:00:00+08:00", "100"),
        ("P0", code, "purchase", "cancelled", "2024-04-01T12:00:00+08:00", "100"),
        ("V1", code, "visit", "", "2024-04-01T12:00:00+08:00", "100"),
        ("F1", code, "feedback", "planned", "2024-04-01T12:00:00+08:00", ""),
    )
    assert shop.entries(code) == []
    shop.bring_in(("P2", code, "purchase", "done", "2024-04-02T12:00:00+08:00", "7"))
    assert shop.entries(code) == [("bonus", "first_purchase", 100), ("earn", "base", 7)]


def test_the_referrer_earns_once_from_the_referred_customers_first_purchase(shop, path):
    referrer = shop.customer(since=SINCE)
    friend = shop.customer(since=SINCE)
    outsider_friend = shop.customer(member=False)  # referred but not a member: the referrer still earns
    shop.run(refer, referrer, friend)
    shop.run(refer, referrer, outsider_friend)
    shop.bring_in(
        ("P2", friend, "purchase", "", "2024-04-02T12:00:00+08:00", "5"),
        ("P1", friend, "purchase", "", "2024-04-01T12:00:00+08:00", "3"),
        ("P3", outsider_friend, "purchase", "", "2024-04-03T12:00:00+08:00", "9"),
    )
    assert shop.entries(friend) == [
        ("bonus", "first_purchase", 100),
        ("earn", "base", 3),
        ("earn", "base", 5),
    ]
    got = sorted((e["points"], e["reason"], e["occurred_at"]) for e in shop.ledger(referrer))
    friend_id, outsider_id = (shop.run(lambda s, c=c: _id(s, c)) for c in (friend, outsider_friend))
    assert got == [
        (
            200,
            f"bonus to the referrer when the referred customer first buys (customer #{friend_id})",
            datetime(2024, 4, 1, 4, tzinfo=UTC),
        ),
        (
            200,
            f"bonus to the referrer when the referred customer first buys (customer #{outsider_id})",
            datetime(2024, 4, 3, 4, tzinfo=UTC),
        ),
    ]


def _id(session, code):
    return session.scalar(select(Customer.id).where(Customer.code == code))


@pytest.mark.parametrize(
    ("given", "stored", "expected"),
    [
        ("0.004", "0.00", []),  # no bonus (its minimum is 0.01), no point
        ("0.005", "0.00", []),  # half to even, as the core stores money
        ("0.009", "0.01", [("bonus", "first_purchase", 100)]),  # the bonus's minimum exactly
        ("0.015", "0.02", [("bonus", "first_purchase", 100)]),  # half to even
        ("0.995", "1.00", [("bonus", "first_purchase", 100), ("earn", "base", 1)]),  # one point
        ("1.994", "1.99", [("bonus", "first_purchase", 100), ("earn", "base", 1)]),
    ],
)
def test_an_amount_handed_over_past_the_cent_earns_as_stored(shop, path, given, stored, expected):
    """Imports and logs refuse a third decimal, but a batch handed to earning (by a plugin that
    writes interactions) may carry the amount as given: both paths earn what is stored."""
    code = shop.customer(since=SINCE)
    shop.earn_as_given(code, stored, given, path)
    assert shop.entries(code) == expected


class Tiers:
    """THE tier: VIP (x1.5) for customers with an even id, "ordinary" (no multiplier) for odd ones."""

    @hookimpl
    def kehu_customer_tiers(self, session, customer_ids, method):
        if method is not None:
            return None
        return {cid: "VIP" if cid % 2 == 0 else "ordinary" for cid in customer_ids}


def test_tier_multipliers_beside_members_without_one(shop, path, kehu_register_plugin):
    kehu_register_plugin(Tiers(), "tiers_by_id")
    shop.run(set_setting, "first_purchase_bonus", "0")
    codes = [shop.customer(since=SINCE) for _ in range(4)]
    ids = {c: shop.run(lambda s, c=c: _id(s, c)) for c in codes}
    vip, small_vip = (c for c in codes if ids[c] % 2 == 0)
    plain = next(c for c in codes if ids[c] % 2 == 1)
    shop.bring_in(
        ("P1", vip, "purchase", "", "2024-04-01T12:00:00+08:00", "100.99"),  # floor(151.485)
        ("P2", plain, "purchase", "", "2024-04-01T12:00:00+08:00", "100.99"),  # floor(100.99)
        ("F1", vip, "feedback", "", "2024-04-01T12:00:00+08:00", ""),  # no amount: 20, not multiplied
        ("R1", vip, "purchase", "", "2024-04-02T12:00:00+08:00", "-10"),  # floor(10 x 1.5)
        ("P3", small_vip, "purchase", "", "2024-04-01T12:00:00+08:00", "0.99"),  # floor(1.485): 1
    )
    assert shop.entries(small_vip) == [("earn", "base", 1)]
    assert shop.entries(vip) == [("bonus", "feedback", 20), ("earn", "base", 151), ("refund", "base", -15)]
    assert shop.entries(plain) == [("earn", "base", 100)]
    [earn] = [e for e in shop.ledger(vip) if e["kind"] == "earn"]
    assert earn["reason"] == "¥100.99 × 1 pt/¥ (base) × 1.5 tier VIP"


def test_refunds_by_members_only_and_only_of_purchases(shop, path):
    shop.run(set_setting, "first_purchase_bonus", "0")
    code = shop.customer(since=SINCE)
    outsider = shop.customer(member=False)
    shop.bring_in(("P1", code, "purchase", "", "2024-04-01T12:00:00+08:00", "100"))
    shop.bring_in(
        ("R1", code, "purchase", "", "2024-04-02T12:00:00+08:00", "-30"),
        ("R2", outsider, "purchase", "", "2024-04-02T12:00:00+08:00", "-30"),
        ("R4", code, "purchase", "planned", "2024-04-02T12:00:00+08:00", "-5"),  # not done: nothing
        ("R5", code, "purchase", "cancelled", "2024-04-02T12:00:00+08:00", "-5"),  # nor this
    )
    assert shop.entries(code) == [("earn", "base", 100), ("refund", "base", -30)]
    assert shop.balance(code) == 70
    shop.bring_in(("R6", code, "purchase", "", "2024-04-03T12:00:00+08:00", "-1"))  # one yuan: 1 point
    assert shop.balance(code) == 69


def test_a_batch_of_refunds_by_others_takes_back_nothing(shop, path):
    shop.run(set_setting, "first_purchase_bonus", "0")
    outsider = shop.customer(member=False)
    shop.bring_in(("R1", outsider, "purchase", "", "2024-04-02T12:00:00+08:00", "-30"))
    with shop.app.session() as s:
        assert earn_batch(shop.app, s, InteractionBatch(shop.batch_rows(s)), path=path) == EarnResult(
            0, 0, 0, 0, 0
        )


class Bonuses:
    """Two bonus rules of a plugin, after the programme's own: one for big purchases, one for any."""

    @hookimpl
    def kehu_loyalty_earn_rules(self):
        return [
            EarnRule("big_buy", fixed_points=50, min_amount=D(1000)),
            EarnRule("any_buy", fixed_points=7),
        ]


def test_a_bonus_rule_that_does_not_match_leaves_the_next_one_to_match(shop, path, kehu_register_plugin):
    kehu_register_plugin(Bonuses(), "bonuses")
    code = shop.customer(since=SINCE)
    shop.bring_in(
        ("P0", code, "purchase", "", "2024-03-31T12:00:00+08:00", "0"),  # nothing bought: any_buy still
        ("P1", code, "purchase", "", "2024-04-01T12:00:00+08:00", "999.99"),  # under 1000: any_buy only
        ("P2", code, "purchase", "", "2024-04-02T12:00:00+08:00", "1000"),  # both
    )
    assert shop.entries(code) == [
        ("bonus", "any_buy", 7),
        ("bonus", "any_buy", 7),
        ("bonus", "any_buy", 7),
        ("bonus", "big_buy", 50),
        ("bonus", "first_purchase", 100),  # on P1: P0 is under its minimum of 0.01
        ("earn", "base", 999),
        ("earn", "base", 1000),
    ]


def test_a_batch_counts_what_it_earned_and_took_back(shop, path):
    shop.run(set_setting, "first_purchase_bonus", "0")
    code = shop.customer(since=SINCE)
    shop.bring_in(
        (
            "P0",
            code,
            "purchase",
            "",
            "2024-03-31T12:00:00+08:00",
            "0",
        ),  # nothing: neither earned nor refunded
        ("P1", code, "purchase", "", "2024-04-01T12:00:00+08:00", "100"),  # 100
        ("P2", code, "purchase", "", "2024-04-02T12:00:00+08:00", "12.50"),  # 12
        ("F1", code, "feedback", "", "2024-04-02T12:00:00+08:00", ""),  # 20
        ("R1", code, "purchase", "", "2024-04-03T12:00:00+08:00", "-30"),  # takes back 30
        ("P3", code, "purchase", "", "2024-04-04T12:00:00+08:00", "10"),  # 10, after the refund
    )
    assert shop.balance(code) == 112
    # Earn the same rows again in one batch, the ledger emptied first: the counts by hand.
    with shop.app.session() as s:
        s.execute(ALLOCATIONS.delete())
        s.execute(LEDGER.delete())
        result = earn_batch(shop.app, s, InteractionBatch(shop.batch_rows(s)), path=path)
    assert result == EarnResult(4, 142, 1, 30, 0)
    assert shop.balance(code) == 112


def test_forcing_sql_on_a_batch_that_cannot_be_compiled_is_refused(shop, company_zone):
    company_zone("Asia/Shanghai")
    row = {
        "id": 1,
        "customer_id": 1,
        "kind": "purchase",
        "status": "done",
        "occurred_at": datetime(2024, 4, 1, tzinfo=UTC),
        "amount": D(2**63),  # yuan: past 64 bits of points on both databases
    }
    with shop.app.session() as s:
        if s.get_bind().dialect.name == "sqlite":
            why = "amounts too large for 64-bit integer points on SQLite"
        else:
            why = "points that could pass 64 bits"
        with pytest.raises(ValueError, match=f"cannot be earned in SQL: {why}"):
            earn_batch(shop.app, s, InteractionBatch([row]), path="sql")


def test_a_batch_earned_again_writes_nothing(shop, path):
    """A backfill over interactions earned already: every entry's key is there, nothing is written."""
    code = shop.customer(since=SINCE)
    shop.bring_in(
        ("P1", code, "purchase", "", "2024-04-01T12:00:00+08:00", "100"),
        ("P2", code, "purchase", "", "2024-04-02T12:00:00+08:00", "5"),
        ("F1", code, "feedback", "", "2024-04-02T12:00:00+08:00", ""),
    )
    before = shop.ledger(code)
    assert sorted(e["points"] for e in before) == [5, 20, 100, 100]
    with shop.app.session() as s:
        again = earn_batch(shop.app, s, InteractionBatch(shop.batch_rows(s)), path=path)
    assert again == EarnResult(0, 0, 0, 0, 0)
    assert shop.ledger(code) == before


class Listener:
    def __init__(self):
        self.entries = []

    @hookimpl
    def kehu_points_earned(self, session, entries):
        self.entries.extend((e.kind, e.points) for e in entries)


def test_a_listener_is_handed_nothing_when_a_batch_earns_nothing(shop, path, kehu_register_plugin):
    listener = Listener()
    kehu_register_plugin(listener, "listener")
    shop.run(set_setting, "first_purchase_bonus", "0")
    code = shop.customer(since=SINCE)
    shop.bring_in(("P1", code, "purchase", "", "2024-04-01T12:00:00+08:00", "0.99"))  # floor: 0 points
    assert listener.entries == [] and shop.ledger(code) == []
    shop.bring_in(("P2", code, "purchase", "", "2024-04-02T12:00:00+08:00", "2"))
    assert listener.entries == [("earn", 2)]


def test_two_batches_of_one_write_earn_each_months_feedback_bonus(shop, company_zone):
    """What one write remembers of once-per-customer bonuses is not applied to once-a-month ones:
    a second batch of the same write still earns the next month's feedback bonus (SQL path)."""
    company_zone("Asia/Shanghai")
    code = shop.customer(since=SINCE)
    shop.bring_in(
        ("P1", code, "purchase", "", "2024-03-30T12:00:00+08:00", "10"),  # 10 and the first-purchase 100
        ("F1", code, "feedback", "", "2024-03-31T12:00:00+08:00", ""),  # March: 20
        ("P2", code, "purchase", "", "2024-04-01T12:00:00+08:00", "5"),  # 5, no second first-purchase bonus
        ("F2", code, "feedback", "", "2024-04-01T12:00:00+08:00", ""),  # April: 20
    )
    assert shop.balance(code) == 155
    with shop.app.session() as s:
        s.execute(LEDGER.delete())
        march, april = shop.batch_rows(s)[:2], shop.batch_rows(s)[2:]
        earn_batch(shop.app, s, InteractionBatch(march), path="sql")
        earn_batch(shop.app, s, InteractionBatch(april), path="sql")
        earning.forget_awarded(s)
    assert shop.entries(code) == [
        ("bonus", "feedback", 20),
        ("bonus", "feedback", 20),
        ("bonus", "first_purchase", 100),
        ("earn", "base", 5),
        ("earn", "base", 10),
    ]
