"""Rewards and points by hand at their edges (issue 21): a validity period open at one end, a
restock that leaves the reward offered, the stock of one reward among several, what the audit
trail records of a redemption and of an award (points, balance, entry), and the ledger entry a
listener of ``kehu_points_earned`` is handed for an award.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kehu_core import hookimpl
from kehu_core.errors import KehuError, ValidationError
from kehu_core.models import AuditEntry
from kehu_loyalty.models import LEDGER, REWARDS
from kehu_loyalty.records import PointsEntry
from kehu_loyalty.rewards import add_reward, adjust, get_reward, list_rewards, redeem, restock

US = timedelta(microseconds=1)
EARNED = datetime(2023, 3, 10, 4, 0, tzinfo=UTC)
LATER = EARNED + timedelta(days=30)


@pytest.fixture
def member(shop):
    """A member with 100 points earned at EARNED (expiring a year later)."""
    code = shop.customer(since="2023-01-01")
    shop.run(lambda s: s.execute(LEDGER.delete()))
    shop.run_app(adjust, code, 100, "开业", now=EARNED)
    return code


def test_a_validity_period_open_at_one_end(shop, member):
    shop.run(add_reward, "FROM", "从此", 1, valid_from=LATER)  # no end
    shop.run(add_reward, "UNTIL", "到此", 1, valid_until=LATER)  # no start
    with pytest.raises(KehuError, match="not offered at this time"):
        shop.run_app(redeem, member, "FROM", now=LATER - US)
    assert shop.run_app(redeem, member, "FROM", now=LATER).balance == 99
    assert shop.run_app(redeem, member, "UNTIL", now=LATER - US).balance == 98
    with pytest.raises(KehuError, match="not offered at this time"):
        shop.run_app(redeem, member, "UNTIL", now=LATER)


def test_a_validity_period_that_ends_before_it_starts_is_refused(shop):
    with pytest.raises(ValidationError, match="valid_until"):
        shop.run(add_reward, "R", "奖品", 1, valid_from=LATER, valid_until=LATER - US)
    assert shop.run(list_rewards, True) == []


def test_a_restock_leaves_the_reward_offered_unless_told(shop):
    shop.run(add_reward, "TEA", "茶", 10, 5)
    shop.run(add_reward, "MUG", "杯子", 10, 7)  # another reward: never touched
    assert (shop.run(restock, "TEA", 8).stock, shop.run(get_reward, "TEA").active) == (8, True)
    assert shop.run(restock, "TEA", 8, False).active is False
    assert shop.run(restock, "TEA", 3).active is False  # still withdrawn
    assert shop.run(restock, "TEA", 3, True).active is True
    assert [(r.code, r.stock, r.active) for r in shop.run(list_rewards)] == [
        ("MUG", 7, True),
        ("TEA", 3, True),
    ]


def test_a_redemption_takes_only_its_own_rewards_stock(shop, member):
    added = [
        shop.run(add_reward, "C", "丙", 1, 5).code,  # stored first, its code sorting after B's
        shop.run(add_reward, "A", "甲", 1, 5).code,
        shop.run(add_reward, "B", "乙", 1, 5).code,
    ]
    assert added == ["C", "A", "B"]
    assert shop.run(get_reward, "A").name == "甲"
    shop.run_app(redeem, member, "B", quantity=2, now=EARNED + US)
    stock = dict(shop.run(lambda s: s.execute(select(REWARDS.c.code, REWARDS.c.stock)).all()))
    assert stock == {"A": 5, "B": 3, "C": 5}


def audit(shop, action):
    with shop.app.session() as s:
        return [
            dict(changes)
            for changes in s.scalars(
                select(AuditEntry.changes).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        ]


def test_the_audit_trail_of_a_redemption_and_an_award(shop, member):
    shop.run(add_reward, "MUG", "杯子", 30, 9)
    done = shop.run_app(redeem, member, "MUG", quantity=2, now=EARNED + US)
    assert (done.points, done.balance, done.quantity, done.reward) == (60, 40, 2, "MUG")
    assert audit(shop, "redeemed") == [
        {"points": -60, "reward": "MUG", "quantity": 2, "balance": 40, "entry": done.entry_id}
    ]
    given = shop.run_app(adjust, member, 7, " 补偿 ", key="k-7", now=EARNED + 2 * US)
    assert given == {"customer": member, "points": 7, "key": "k-7", "balance": 47, "available": 47}
    assert audit(shop, "earned")[-1] == {"points": 7, "rule": "manual", "balance": 47}
    [entry] = [e for e in shop.ledger(member) if e["idempotency_key"] == "k-7"]
    assert (entry["kind"], entry["points"], entry["reason"], entry["rule"]) == ("adjust", 7, "补偿", "manual")


class Listener:
    def __init__(self):
        self.entries: list[PointsEntry] = []

    @hookimpl
    def kehu_points_earned(self, session, entries):
        self.entries.extend(entries)


def test_an_award_is_handed_to_the_listeners_with_its_entry(shop, member, kehu_register_plugin):
    listener = Listener()
    kehu_register_plugin(listener, "listener")
    shop.run_app(adjust, member, 5, "活动", key="evt", now=EARNED + US)
    [entry] = [e for e in shop.ledger(member) if e["idempotency_key"] == "evt"]
    assert [(e.entry_id, e.points, e.kind, e.rule) for e in listener.entries] == [
        (entry["id"], 5, "adjust", "manual")
    ]
