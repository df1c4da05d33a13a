"""Automatic earning: rates, rounding, bonuses, tier multipliers, idempotent replays, plugin rules."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kehu_core import hookimpl
from kehu_core.hooktypes import TierChange
from kehu_core.importing import import_interactions
from kehu_core.models import Customer
from kehu_core.validation import timestamp
from kehu_loyalty.models import LEDGER
from kehu_loyalty.rules import EarnRule


def kinds_points(shop, code):
    return [(e["kind"], e["rule"], e["points"]) for e in shop.ledger(code)]


def test_purchase_earns_floor_of_amount(shop):
    code = shop.customer()
    shop.log(code, amount="99.99")
    shop.log(code, amount="0.50", at="2024-03-11")
    # floor per purchase: 99.99 -> 99, 0.50 -> 0 (no entry for zero points); first purchase bonus 100
    assert kinds_points(shop, code) == [("earn", "base", 99), ("bonus", "first_purchase", 100)]
    assert shop.balance(code) == 199


def test_non_members_planned_and_pre_enrolment_purchases_earn_nothing(shop):
    outsider = shop.customer(member=False)
    shop.log(outsider, amount="500")
    late = shop.customer(since="2024-06-01")
    shop.log(late, amount="500", at="2024-05-31")
    shop.log(late, amount="500", at="2024-07-01", status="planned")
    assert shop.ledger(late) == []

    assert shop.run(lambda s: s.scalar(select(func.count()).select_from(LEDGER))) == 0


def test_first_purchase_bonus_once_and_birthday_month_doubles(shop):
    code = shop.customer(birthday="1990-05-20")
    shop.log(code, amount="100", at="2024-04-30T12:00:00+08:00")
    shop.log(code, amount="100", at="2024-05-02T12:00:00+08:00")
    entries = kinds_points(shop, code)
    assert entries == [
        ("earn", "base", 100),
        ("bonus", "first_purchase", 100),
        ("earn", "base+birthday", 200),
    ]


def test_referral_bonus_goes_to_enrolled_referrer_once(shop, kehu_cli):
    referrer = shop.customer()
    friend = shop.customer(member=False)
    assert kehu_cli("loyalty", "refer", referrer, friend).exit_code == 0
    again = kehu_cli("loyalty", "refer", referrer, friend)
    assert again.exit_code == 1 and "already referred" in again.output
    selfref = kehu_cli("loyalty", "refer", friend, friend)
    assert selfref.exit_code == 1 and "cannot refer themselves" in selfref.output
    shop.log(friend, amount="50")
    shop.log(friend, amount="70", at="2024-04-01")
    assert kinds_points(shop, referrer) == [("bonus", "referral", 200)]


def test_feedback_bonus_once_per_month(shop):
    code = shop.customer()
    shop.log(code, "feedback", satisfaction=5, at="2024-03-01")
    shop.log(code, "feedback", satisfaction=4, at="2024-03-20")
    shop.log(code, "feedback", satisfaction=4, at="2024-04-02")
    assert kinds_points(shop, code) == [("bonus", "feedback", 20), ("bonus", "feedback", 20)]


def test_import_replay_never_earns_twice(shop, kehu_app):
    code = shop.customer()
    day1, day2 = date.today() - timedelta(days=3), date.today() - timedelta(days=2)
    csv = (
        "external_ref,customer_code,kind,occurred_at,amount\n"
        f"R1,{code},purchase,{day1},120.75\nR2,{code},purchase,{day2},-20.00\n"
    ).encode()
    for _ in range(2):
        with kehu_app.session() as s:
            import_interactions(kehu_app, s, io.BytesIO(csv))
    assert kinds_points(shop, code) == [
        ("earn", "base", 120),
        ("bonus", "first_purchase", 100),
        ("refund", "base", -20),
    ]


class FakeTiers:
    """THE tier is VIP for everyone; every segment says A (whose multiplier a member never earns)."""

    @hookimpl
    def kehu_customer_tiers(self, session, customer_ids, method):
        return {cid: "VIP" if method is None else "A" for cid in customer_ids}


class SegmentOnly:
    """Classifies customers only by a segment (method "abc"), never by THE tier."""

    @hookimpl
    def kehu_customer_tiers(self, session, customer_ids, method):
        return {cid: "A" for cid in customer_ids} if method == "abc" else None


def test_tier_multiplier_through_the_core_hook(shop, kehu_register_plugin):
    code = shop.customer()
    kehu_register_plugin(FakeTiers(), "faketiers")
    shop.log(code, amount="100.99")
    [earn, _bonus] = shop.ledger(code)
    assert earn["points"] == 151  # floor(100.99 × 1 × 1.5) = floor(151.485)
    assert "tier VIP" in earn["reason"]


def test_a_segment_gives_no_multiplier(shop, kehu_register_plugin):
    """A class has a multiplier (1.5) in the settings, but it is a segment, not THE tier."""
    code = shop.customer()
    kehu_register_plugin(SegmentOnly(), "segments")
    shop.log(code, amount="100.99")
    [earn, _bonus] = shop.ledger(code)
    assert earn["points"] == 100  # floor(100.99 × 1)
    assert earn["reason"] == "¥100.99 × 1 pt/¥ (base)"


class FlatPromo:
    @hookimpl
    def kehu_loyalty_earn_rules(self):
        return [
            EarnRule(
                "flat_promo",
                points_per_yuan=Decimal("0.5"),
                tier_multiplier=False,
                description="half a point per yuan, whatever the tier",
            )
        ]


def test_a_rule_without_tier_multiplier_earns_its_own_rate(shop, kehu_register_plugin):
    code = shop.customer()
    kehu_register_plugin(FakeTiers(), "faketiers")
    kehu_register_plugin(FlatPromo(), "flat")
    shop.log(code, amount="100.99")
    shop.log(code, amount="-10.00")  # a refund takes back what 10.00 earns, by the same rate
    [earn, _bonus, refund] = shop.ledger(code)
    assert earn["points"] == 201  # floor(100.99 × (1 × 1.5 + 0.5)) = floor(201.98)
    assert earn["reason"] == "¥100.99 × 1 pt/¥ (base) × 1.5 tier VIP + 0.5 pt/¥ (flat_promo)"
    assert refund["points"] == -20  # floor(10.00 × 2.0)


class PromoRules:
    @hookimpl
    def kehu_loyalty_earn_rules(self):
        return [
            EarnRule(
                "coffee_week",
                points_per_yuan=Decimal("0.5"),
                categories=("咖啡",),
                description="half a point extra per yuan on coffee",
            )
        ]


def test_plugins_add_declarative_rules_through_the_hook(shop, kehu_register_plugin, kehu_cli):
    code = shop.customer()
    kehu_register_plugin(PromoRules(), "promo")
    shop.log(code, amount="10", category="咖啡")
    shop.log(code, amount="10", category="茶", at="2024-03-12")
    earns = [(e["rule"], e["points"]) for e in shop.ledger(code) if e["kind"] == "earn"]
    assert earns == [("base+coffee_week", 15), ("base", 10)]
    listed = kehu_cli("loyalty", "rules", "--json").json
    assert "coffee_week" in [r["name"] for r in listed]


def test_bad_rules_are_refused():
    with pytest.raises(ValueError, match="exactly one of points_per_yuan, fixed_points"):
        EarnRule("both", points_per_yuan=Decimal(1), fixed_points=5)
    with pytest.raises(ValueError, match="fixed bonuses only"):
        EarnRule("odd", points_per_yuan=Decimal(1), once_per="month")


def test_enroll_since_backfills_idempotently(shop, kehu_cli):
    code = shop.customer(member=False)
    shop.log(code, amount="300", at="2024-01-05")
    shop.log(code, amount="200", at="2023-01-05")
    result = kehu_cli("loyalty", "enroll", code, "--since", "2024-01-01", "--json")
    assert result.exit_code == 0, result.output
    assert result.json["backfilled_points"] == 400  # 300 + first purchase bonus; 2023 is before --since
    again = kehu_cli("loyalty", "enroll", code, "--since", "2020-01-01", "--json").json
    assert again["already"] == [code] and again["backfilled_points"] == 0
    bad = kehu_cli("loyalty", "enroll", "NOPE", code)
    assert bad.exit_code == 1 and "NOPE" in bad.output and "no customer" in bad.output


def test_expiry_dates_follow_months(shop):
    code = shop.customer()
    shop.log(code, amount="10", at="2024-01-31T10:00:00+00:00")
    [earn, _] = shop.ledger(code)
    assert earn["expires_at"] == timestamp("2025-01-31T10:00:00+00:00")


def customer_ids(app, *codes):
    with app.session() as s:
        return [s.scalar(select(Customer.id).where(Customer.code == c)) for c in codes]


def tier_changed(app, *changes):
    with app.session() as s:
        app.hook.kehu_tier_changed(session=s, changes=list(changes))


def test_tier_upgrade_bonus_once_per_tier_for_members(shop, kehu_app):
    code = shop.customer()
    stranger = shop.customer(member=False)
    cid, other = customer_ids(kehu_app, code, stranger)
    up = TierChange(cid, "pyramid", "ordinary", "VIP", is_tier=True)
    tier_changed(
        kehu_app,
        up,
        TierChange(other, "pyramid", None, "VIP", is_tier=True),  # not a member: nothing
        TierChange(cid, "pyramid", "VIP", "ordinary", is_tier=True),
    )
    tier_changed(kehu_app, up)  # back up again: no second bonus
    assert kinds_points(shop, code) == [("bonus", "tier_upgrade", 200)]


def test_a_segment_change_pays_no_tier_bonus(shop, kehu_app):
    code = shop.customer()
    [cid] = customer_ids(kehu_app, code)
    tier_changed(kehu_app, TierChange(cid, "abc", "C", "A"), TierChange(cid, "rfm", None, "VIP"))
    assert kinds_points(shop, code) == []
    assert shop.balance(code) == 0


def test_an_upgrade_in_the_tier_and_a_segment_at_once_pays_once(shop, kehu_app):
    """A customer who becomes both A class (a segment) and VIP (the tier): one bonus."""

    code = shop.customer()
    [cid] = customer_ids(kehu_app, code)
    tier_changed(
        kehu_app,
        TierChange(cid, "abc", "B", "A"),
        TierChange(cid, "pyramid", "ordinary", "VIP", is_tier=True),
    )
    assert kinds_points(shop, code) == [("bonus", "tier_upgrade", 200)]
    [bonus] = shop.ledger(code)
    assert bonus["reason"] == "moved up to tier VIP (from ordinary)"
    assert bonus["idempotency_key"] == f"bonus:tier_up:c{cid}:VIP"


def test_down_and_up_again_pays_nothing_more(shop, kehu_app):
    """ordinary → 主要客户 (×1.2) pays, → VIP (×1.5) pays; down to ordinary and up to 主要客户 or
    VIP again pays nothing: neither is higher than VIP, the best tier paid before."""

    code = shop.customer()
    [cid] = customer_ids(kehu_app, code)

    def move(old, new):
        tier_changed(kehu_app, TierChange(cid, "pyramid", old, new, is_tier=True))

    move("ordinary", "主要客户")
    move("主要客户", "VIP")
    assert shop.balance(code) == 400
    move("VIP", "ordinary")
    move("ordinary", "主要客户")
    move("主要客户", "VIP")
    move("ordinary", "VIP")
    assert shop.balance(code) == 400
    assert [e["reason"] for e in shop.ledger(code)] == [
        "moved up to tier 主要客户 (from ordinary)",
        "moved up to tier VIP (from 主要客户)",
    ]


def test_a_move_to_no_higher_multiplier_pays_nothing(shop, kehu_app):
    """VIP and A both multiply by 1.5: from VIP to A is no upgrade; to a tier without a multiplier neither."""

    code = shop.customer()
    [cid] = customer_ids(kehu_app, code)
    tier_changed(
        kehu_app,
        TierChange(cid, "abc", "VIP", "A", is_tier=True),
        TierChange(cid, "pyramid", None, "ordinary", is_tier=True),
    )
    assert shop.balance(code) == 0
