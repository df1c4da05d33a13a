"""Automatic earning, pinned where small plausible bugs survived the earning tests (issue 21's
mutation testing): what one write remembers of the customers holding a once-per-customer bonus,
up to its cap and exactly at it; a rule's minimum amount past the cent against an amount handed
over past the cent.

Defaults: 1 point per yuan and a first-purchase bonus of 100; Shanghai's calendar (UTC+8).
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import select

from kehu_core import hookimpl
from kehu_core.hooktypes import InteractionBatch
from kehu_core.models import Customer
from kehu_loyalty import earning
from kehu_loyalty.api import refer
from kehu_loyalty.earning import EarnResult, awarded, earn_batch
from kehu_loyalty.models import LEDGER
from kehu_loyalty.rules import EarnRule
from kehu_loyalty.settings import set_setting

SINCE = "2024-03-01T00:00:00+08:00"


@pytest.fixture
def buyers(shop, company_zone):
    """Three members with one purchase each, imported (and earned), then their entries removed
    so that a test earns the purchases again, in batches of one write."""
    company_zone("Asia/Shanghai")
    codes = [shop.customer(since=SINCE) for _ in range(3)]
    shop.bring_in(
        *[
            (f"P{n}", code, "purchase", "", f"2024-04-0{n}T12:00:00+08:00", "10")
            for n, code in enumerate(codes, 1)
        ],
    )
    with shop.app.session() as s:
        s.execute(LEDGER.delete())
    return codes


def _earn_in_one_write(shop, batches):
    """Earn the purchases in ``batches`` (lists of positions), one batch after the other in one
    write: the customers remembered after each batch, by position."""
    remembered = []
    with shop.app.session() as s:
        rows = shop.batch_rows(s)
        ids = [row["customer_id"] for row in rows]
        for batch in batches:
            earn_batch(shop.app, s, InteractionBatch([rows[n] for n in batch]), path="sql")
            remembered.append(sorted(ids.index(c) for c in awarded(s, "first_purchase")))
        earning.forget_awarded(s)
        assert awarded(s, "first_purchase") == set()  # nothing is remembered past the write
    return remembered


def test_one_write_remembers_who_holds_the_first_purchase_bonus(shop, buyers):
    """After a batch earns a first-purchase bonus, the write knows its holder: a later batch of
    the same write does not look them up again."""
    assert _earn_in_one_write(shop, [[0], [1, 2]]) == [[0], [0, 1, 2]]
    for code in buyers:
        assert shop.entries(code) == [("bonus", "first_purchase", 100), ("earn", "base", 10)]


@pytest.mark.parametrize(
    ("batches", "remembered"),
    [
        ([[0], [1]], [[0], [0]]),  # 0 < 1: the first is remembered; 1 is not below 1: the second is not
        ([[0, 1], [2]], [[0, 1], [0, 1]]),  # 0 < 1: both; then 2, past the cap, is not below it
    ],
)
def test_the_memo_stops_growing_at_its_cap(shop, buyers, monkeypatch, batches, remembered):
    """With room for one customer, a batch adds its holders only while fewer are remembered;
    every buyer still earns the bonus once."""
    monkeypatch.setattr(earning, "MAX_AWARDED", 1)
    assert _earn_in_one_write(shop, batches) == remembered
    for n in sorted({n for batch in batches for n in batch}):
        assert shop.entries(buyers[n]) == [("bonus", "first_purchase", 100), ("earn", "base", 10)]


class Rules:
    """A company plugin's earn rules."""

    def __init__(self, *rules):
        self.rules = list(rules)

    @hookimpl
    def kehu_loyalty_earn_rules(self):
        return self.rules


@pytest.mark.parametrize(
    ("given", "stored", "expected"),
    [
        # 2.004 is stored as 2.00, below the minimum of 2.004 (which the amount as given meets)
        ("2.004", "2.00", [("bonus", "first_purchase", 100), ("earn", "base", 2)]),
        ("2.005", "2.00", [("bonus", "first_purchase", 100), ("earn", "base", 2)]),  # half to even
        # 2.006 is stored as 2.01: the minimum is met, 5 points more
        ("2.006", "2.01", [("bonus", "acme.big", 5), ("bonus", "first_purchase", 100), ("earn", "base", 2)]),
    ],
)
def test_a_minimum_past_the_cent_is_met_by_the_stored_amount(
    shop, path, kehu_register_plugin, given, stored, expected
):
    """A rule's ``min_amount`` may have a third decimal; a batch handed over with the amount as
    given (not as stored) is compared on both paths as stored, half to even."""
    kehu_register_plugin(Rules(EarnRule("acme.big", fixed_points=5, min_amount=D("2.004"))), "acme_big")
    code = shop.customer(since=SINCE)
    shop.earn_as_given(code, stored, given, path)
    assert shop.entries(code) == expected


def _refused(*args, **kwargs):
    raise AssertionError("this path must not run")


@pytest.mark.parametrize(
    ("planned", "skipped"),
    [
        (None, "_earn_python"),  # the plan allows SQL: auto takes it
        (earning.Plan("python", "say the batch cannot be compiled"), "_earn_sql"),
    ],
)
def test_auto_takes_the_path_the_plan_chooses(shop, monkeypatch, company_zone, planned, skipped):
    """``path="auto"`` (what an import uses) earns in SQL whenever :func:`plan` allows it, and
    in Python only when it does not; ``python`` never runs the SQL path."""
    company_zone("Asia/Shanghai")
    shop.run(set_setting, "first_purchase_bonus", "0")
    code = shop.customer(since=SINCE)
    shop.bring_in(("P1", code, "purchase", "", "2024-04-01T12:00:00+08:00", "10"))
    with shop.app.session() as s:
        s.execute(LEDGER.delete())
        [row] = shop.batch_rows(s)
        if planned is not None:
            monkeypatch.setattr(earning, "plan", lambda *a, **k: planned)
        kept = getattr(earning, skipped)
        monkeypatch.setattr(earning, skipped, _refused)
        found = earn_batch(shop.app, s, InteractionBatch([row]))
        s.execute(LEDGER.delete())
        monkeypatch.setattr(earning, skipped, kept)
        monkeypatch.setattr(earning, "_earn_sql", _refused)
        again = earn_batch(shop.app, s, InteractionBatch([row]), path="python")
    assert found == again == EarnResult(1, 10, 0, 0, 0)
    assert shop.entries(code) == [("earn", "base", 10)]


def test_only_a_referrers_bonus_names_the_buyer(shop, path):
    """A bonus paid to the buyer says what it is for; only one paid to the referrer adds which
    customer bought (both paths)."""
    referrer, friend = shop.customer(since=SINCE), shop.customer(since=SINCE)
    shop.run(refer, referrer, friend)
    shop.bring_in(("P1", friend, "purchase", "", "2024-04-01T12:00:00+08:00", "10"))
    with shop.app.session() as s:
        friend_id = s.scalar(select(Customer.id).where(Customer.code == friend))
    assert [(e["kind"], e["reason"]) for e in shop.ledger(friend) if e["kind"] == "bonus"] == [
        ("bonus", "bonus on the first purchase as a member")
    ]
    assert [e["reason"] for e in shop.ledger(referrer)] == [
        f"bonus to the referrer when the referred customer first buys (customer #{friend_id})"
    ]


def test_a_programme_that_only_pays_referrers_still_pays_them(shop, path):
    """With the referral bonus as the only rule (no points per yuan, no first-purchase or
    feedback bonus), a referred member's purchase still pays the referrer its 200 (both paths)."""
    for name in ("points_per_yuan", "first_purchase_bonus", "feedback_bonus"):
        shop.run(set_setting, name, "0")
    referrer, friend = shop.customer(since=SINCE), shop.customer(since=SINCE)
    shop.run(refer, referrer, friend)
    shop.bring_in(("P1", friend, "purchase", "", "2024-04-01T12:00:00+08:00", "10"))
    assert shop.entries(referrer) == [("bonus", "referral", 200)]
    assert shop.entries(friend) == []
