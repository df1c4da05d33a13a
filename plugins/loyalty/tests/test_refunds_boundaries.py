"""Refunds at their edges (issue 21): a refund equal to the purchase and a cent or a yuan
either side, a refund less than a point, a refund at the very instant of the purchase and one
microsecond before it, a lot expiring exactly at the refund, newest lots first, and several
refunds of one customer in one import.

The first-purchase bonus is set to 0, so each purchase of ¥N earns one lot of N points (1 pt/¥);
every expected value is worked out by hand beside it.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from kehu_core.importing import import_interactions
from kehu_core.models import Interaction
from kehu_loyalty.models import ALLOCATIONS, LEDGER
from kehu_loyalty.refunds import Member, reverse_refunds
from kehu_loyalty.rules import EarnRule
from kehu_loyalty.settings import set_setting


@pytest.fixture
def buyer(shop):
    shop.run(set_setting, "first_purchase_bonus", "0")
    return shop.customer(since="2020-01-01")


def bring_in(shop, code, *rows):
    """Import purchases ``(ref, occurred_at, amount)`` of ``code`` in one file (one batch)."""
    lines = ["external_ref,customer_code,kind,occurred_at,amount"]
    lines += [f"{ref},{code},purchase,{when},{amount}" for ref, when, amount in rows]
    with shop.app.session() as s:
        import_interactions(shop.app, s, io.BytesIO(("\n".join(lines) + "\n").encode()))


def refunds(shop, code):
    return [(e["points"], e["shortfall"]) for e in shop.ledger(code) if e["kind"] == "refund"]


def allocations_of(shop, entry_id):
    return shop.run(
        lambda s: sorted(
            tuple(r)
            for r in s.execute(
                select(ALLOCATIONS.c.lot_id, ALLOCATIONS.c.points).where(ALLOCATIONS.c.debit_id == entry_id)
            )
        )
    )


BOUGHT = "2024-03-10T04:00:00+00:00"
LATER = "2024-03-11T04:00:00+00:00"


@pytest.mark.parametrize(
    ("amount", "expected", "balance"),
    [
        ("-99.99", (-99, 0), 1),  # floor(99.99) = 99
        ("-100", (-100, 0), 0),  # exactly the purchase
        ("-100.01", (-100, 0), 0),  # floor(100.01) = 100
        ("-101", (-100, 1), 0),  # one point more than the lot holds: 1 short
    ],
)
def test_a_refund_equal_to_the_purchase_and_either_side(shop, buyer, amount, expected, balance):
    bring_in(shop, buyer, ("P1", BOUGHT, "100"))
    assert shop.balance(buyer) == 100
    bring_in(shop, buyer, ("R1", LATER, amount))
    assert refunds(shop, buyer) == [expected]
    assert shop.balance(buyer) == balance


def test_the_reason_names_the_refunded_amount_and_the_shortfall(shop, buyer):
    bring_in(shop, buyer, ("P1", BOUGHT, "100"))
    bring_in(shop, buyer, ("R1", LATER, "-100"), ("R2", "2024-03-12T04:00:00+00:00", "-1"))
    [full, short] = [e for e in shop.ledger(buyer) if e["kind"] == "refund"]
    assert full["reason"] == "refund of ¥100.00 × 1 pt/¥ (base)"
    assert full["rule"] == "base"
    assert short["reason"] == (
        "refund of ¥1.00 × 1 pt/¥ (base); 1 point(s) already spent or expired, not taken back"
    )
    assert (short["points"], short["shortfall"]) == (0, 1)  # written even though it takes nothing


def test_a_refund_worth_less_than_a_point_writes_nothing(shop, buyer):
    bring_in(shop, buyer, ("P1", BOUGHT, "100"))
    bring_in(shop, buyer, ("R1", LATER, "-0.99"))
    assert refunds(shop, buyer) == []
    bring_in(shop, buyer, ("R2", LATER, "-1.00"))
    assert refunds(shop, buyer) == [(-1, 0)]
    assert shop.balance(buyer) == 99


def test_a_refund_at_the_instant_of_the_purchase_draws_on_its_lot(shop, buyer):
    bring_in(shop, buyer, ("P1", BOUGHT, "100"))
    bring_in(shop, buyer, ("R1", BOUGHT, "-30"))
    assert refunds(shop, buyer) == [(-30, 0)]


def test_a_refund_a_microsecond_before_the_purchase_cannot_draw_on_its_lot(shop, buyer):
    bring_in(shop, buyer, ("P1", BOUGHT, "100"))
    bring_in(shop, buyer, ("R1", "2024-03-10T03:59:59.999999+00:00", "-30"))
    assert refunds(shop, buyer) == [(0, 30)]
    assert shop.balance(buyer) == 100


def test_a_lot_expiring_exactly_at_the_refund_is_not_drawn(shop, buyer):
    bring_in(shop, buyer, ("P1", "2023-03-10T04:00:00+00:00", "100"))  # expires 2024-03-10T04:00Z
    bring_in(shop, buyer, ("R1", BOUGHT, "-30"))
    assert refunds(shop, buyer) == [(0, 30)]


def test_a_lot_a_microsecond_before_its_expiry_is_drawn(shop, buyer):
    bring_in(shop, buyer, ("P1", "2023-03-10T04:00:00+00:00", "100"))
    bring_in(shop, buyer, ("R1", "2024-03-10T03:59:59.999999+00:00", "-30"))
    assert refunds(shop, buyer) == [(-30, 0)]


def test_newest_lot_first_and_exactly_its_size_touches_no_other(shop, buyer):
    bring_in(
        shop, buyer, ("P1", "2024-03-01T04:00:00+00:00", "100"), ("P2", "2024-03-05T04:00:00+00:00", "50")
    )
    lots = [e["id"] for e in shop.ledger(buyer) if e["kind"] == "earn"]
    bring_in(shop, buyer, ("R1", LATER, "-50"))
    [entry] = [e for e in shop.ledger(buyer) if e["kind"] == "refund"]
    assert allocations_of(shop, entry["id"]) == [(lots[1], 50)]  # the newer lot only, no empty allocation
    bring_in(shop, buyer, ("R2", "2024-03-12T04:00:00+00:00", "-70"))
    second = [e for e in shop.ledger(buyer) if e["kind"] == "refund"][-1]
    assert allocations_of(shop, second["id"]) == [(lots[0], 70)]  # the newer lot is empty now
    assert shop.balance(buyer) == 30


def test_a_refund_spanning_two_lots_takes_the_newest_first(shop, buyer):
    bring_in(
        shop, buyer, ("P1", "2024-03-01T04:00:00+00:00", "100"), ("P2", "2024-03-05T04:00:00+00:00", "50")
    )
    lots = [e["id"] for e in shop.ledger(buyer) if e["kind"] == "earn"]
    bring_in(shop, buyer, ("R1", LATER, "-120"))
    [entry] = [e for e in shop.ledger(buyer) if e["kind"] == "refund"]
    assert (entry["points"], entry["shortfall"]) == (-120, 0)
    assert allocations_of(shop, entry["id"]) == sorted([(lots[1], 50), (lots[0], 70)])


def test_several_refunds_of_one_customer_in_one_import_see_their_own_lots(shop, buyer):
    """Lot A (2023-01-10, expires 2024-01-10) is valid only at the first refund; lot B
    (2024-01-20) only at the second: each refund finds the lots valid at its own time, and the
    second, larger than B, does not reach into A, expired by then."""
    bring_in(shop, buyer, ("A", "2023-01-10T04:00:00+00:00", "100"), ("B", "2024-01-20T04:00:00+00:00", "50"))
    bring_in(
        shop,
        buyer,
        ("R2", "2024-02-01T04:00:00+00:00", "-60"),  # listed first, applied second (time order)
        ("R1", "2023-12-01T04:00:00+00:00", "-30"),
    )
    got = [
        (e["occurred_at"], e["points"], e["shortfall"]) for e in shop.ledger(buyer) if e["kind"] == "refund"
    ]
    assert got == [
        (datetime(2023, 12, 1, 4, tzinfo=UTC), -30, 0),
        (datetime(2024, 2, 1, 4, tzinfo=UTC), -50, 10),  # all of B; A's 70 expired
    ]
    assert shop.balance(buyer) == 70  # A's 70 left, until the expiry job writes them off


def test_refunds_of_two_customers_in_one_import(shop, buyer):
    other = shop.customer(since="2020-01-01")
    bring_in(shop, buyer, ("P1", BOUGHT, "100"))
    bring_in(shop, other, ("P2", BOUGHT, "40"))
    lines = "external_ref,customer_code,kind,occurred_at,amount\n"
    lines += f"R1,{buyer},purchase,{LATER},-10\nR2,{other},purchase,{LATER},-45\n"
    with shop.app.session() as s:
        import_interactions(shop.app, s, io.BytesIO(lines.encode()))
    assert refunds(shop, buyer) == [(-10, 0)]
    assert refunds(shop, other) == [(-40, 5)]


def test_a_refund_imported_again_is_not_taken_back_twice(shop, buyer):
    bring_in(shop, buyer, ("P1", BOUGHT, "100"))
    bring_in(shop, buyer, ("R1", LATER, "-30"))
    before = shop.ledger(buyer)
    bring_in(shop, buyer, ("R1", LATER, "-30"))
    assert shop.ledger(buyer) == before and shop.balance(buyer) == 70


def test_the_last_point_of_a_lot_is_taken_back(shop, buyer):
    bring_in(shop, buyer, ("P1", BOUGHT, "100"))
    bring_in(shop, buyer, ("R1", LATER, "-99"))
    bring_in(shop, buyer, ("R2", "2024-03-12T04:00:00+00:00", "-1"))  # the lot has exactly 1 left
    assert refunds(shop, buyer) == [(-99, 0), (-1, 0)]
    assert shop.balance(buyer) == 0


def test_refunds_already_taken_back_take_nothing_and_count_nothing(shop, buyer):
    bring_in(shop, buyer, ("P1", BOUGHT, "100"))
    bring_in(shop, buyer, ("R1", LATER, "-30"))

    def again(s):
        [row] = s.execute(
            select(
                Interaction.id, Interaction.customer_id, Interaction.occurred_at, Interaction.amount
            ).where(Interaction.external_ref == "R1")
        ).mappings()
        return reverse_refunds(s, [dict(row)], [], {}, {}, datetime.now(UTC))

    assert shop.run(again) == (0, 0)
    assert refunds(shop, buyer) == [(-30, 0)]


def test_three_refunds_in_one_import_one_exactly_at_a_lots_expiry(shop, buyer):
    """Lot A (2023-01-10, 100) expires at 2024-01-10T04:00Z, exactly at the second refund; lot B
    (2024-01-05, 50). R1 takes 30 of A; R2 finds only B valid (50 of 60, 10 short); R3 finds B
    empty (5 short)."""
    bring_in(shop, buyer, ("A", "2023-01-10T04:00:00+00:00", "100"), ("B", "2024-01-05T04:00:00+00:00", "50"))
    bring_in(
        shop,
        buyer,
        ("R3", "2024-02-01T04:00:00+00:00", "-5"),
        ("R2", "2024-01-10T04:00:00+00:00", "-60"),
        ("R1", "2023-12-01T04:00:00+00:00", "-30"),
    )
    assert refunds(shop, buyer) == [(-30, 0), (-50, 10), (0, 5)]
    assert shop.balance(buyer) == 70


def test_reverse_refunds_returns_the_points_taken_and_the_shortfall(shop, buyer):
    """A refund of ¥130 against a lot of 100: 100 taken back, 30 short (its entry removed first,
    so that it is taken back again by the direct call)."""
    bring_in(shop, buyer, ("P1", BOUGHT, "100"))
    bring_in(shop, buyer, ("R1", LATER, "-130"))
    assert refunds(shop, buyer) == [(-100, 30)]

    def again(s):
        [entry] = s.scalars(select(LEDGER.c.id).where(LEDGER.c.kind == "refund")).all()
        s.execute(ALLOCATIONS.delete().where(ALLOCATIONS.c.debit_id == entry))
        s.execute(LEDGER.delete().where(LEDGER.c.id == entry))
        [row] = s.execute(
            select(
                Interaction.id,
                Interaction.customer_id,
                Interaction.occurred_at,
                Interaction.amount,
                Interaction.kind,
            ).where(Interaction.external_ref == "R1")
        ).mappings()
        members = {row["customer_id"]: Member(datetime(2020, 1, 1, tzinfo=UTC), None)}
        base = [EarnRule("base", points_per_yuan=Decimal(1))]
        return reverse_refunds(s, [dict(row)], base, members, {}, datetime.now(UTC))

    assert shop.run(again) == (100, 30)
    assert refunds(shop, buyer) == [(-100, 30)]


def test_two_refunds_of_one_import_draw_on_the_same_lot(shop, buyer):
    bring_in(shop, buyer, ("P1", BOUGHT, "100"))
    bring_in(shop, buyer, ("R1", LATER, "-30"), ("R2", "2024-03-12T04:00:00+00:00", "-50"))
    assert refunds(shop, buyer) == [(-30, 0), (-50, 0)]  # 100 - 30 leaves 70 for the second
    assert shop.balance(buyer) == 20


def test_a_refund_worth_no_point_does_not_stop_the_next_one(shop, buyer):
    bring_in(shop, buyer, ("P1", BOUGHT, "100"))
    bring_in(shop, buyer, ("R1", LATER, "-0.50"), ("R2", "2024-03-12T04:00:00+00:00", "-10"))
    assert refunds(shop, buyer) == [(-10, 0)]
