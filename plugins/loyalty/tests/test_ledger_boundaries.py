"""The ledger's rules at their edges (issue 21): expiry months, FIFO allocation, a lot expiring
exactly at the as-of time and one microsecond either side, balance and stock exactly enough,
a reward's validity period, the 64-bit ceiling, idempotency keys, and the expiry job run,
changed, run and run again unchanged.

Expected values are worked out by hand in the comments.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from kehu_core.errors import Conflict, KehuError, ValidationError
from kehu_loyalty import api
from kehu_loyalty.expiry import expire_points
from kehu_loyalty.ledger import (
    Lot,
    add_months,
    allocate,
    available,
    balance,
    chunks,
    existing_keys,
    expiring_between,
    lock_accounts,
    member,
    next_ids,
    open_lots,
    sqlite_stamp,
    statement,
    stored_utc,
)
from kehu_loyalty.models import ALLOCATIONS, LEDGER, MAX_POINTS, MAX_STOCK, REWARDS
from kehu_loyalty.rewards import (
    InsufficientPoints,
    OutOfStock,
    add_reward,
    adjust,
    list_rewards,
    redeem,
    restock,
)

US = timedelta(microseconds=1)
EARNED = datetime(2023, 3, 10, 4, 0, tzinfo=UTC)
EXPIRES = datetime(2024, 3, 10, 4, 0, tzinfo=UTC)  # 12 months later, the default expiry


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2024-01-31", 1, "2024-02-29"),  # leap year: the month's last day
        ("2023-01-31", 1, "2023-02-28"),
        ("2023-01-28", 1, "2023-02-28"),  # day 28: every month has it
        ("2023-01-29", 1, "2023-02-28"),  # day 29: clamped in February 2023
        ("2024-01-29", 1, "2024-02-29"),
        ("2023-03-31", 1, "2023-04-30"),
        ("2023-12-15", 1, "2024-01-15"),  # over the new year
        ("2023-11-30", 2, "2024-01-30"),
        ("2023-01-15", 11, "2023-12-15"),  # month 12, same year
        ("2023-01-31", 12, "2024-01-31"),
        ("2023-12-31", 12, "2024-12-31"),
        ("2023-05-31", 0, "2023-05-31"),
        ("2023-01-31", 25, "2025-02-28"),
    ],
)
def test_add_months_clamps_to_the_month_end(start, months, expected):
    assert add_months(at(start), months) == at(expected)


def test_chunks_cut_at_the_size():
    assert [list(c) for c in chunks([1, 2, 3, 4, 5], 2)] == [[1, 2], [3, 4], [5]]
    assert [list(c) for c in chunks([1, 2, 3, 4], 2)] == [[1, 2], [3, 4]]
    assert [list(c) for c in chunks([1], 2)] == [[1]]
    assert list(chunks([], 2)) == []


LOTS = [Lot(1, 9, EARNED, EXPIRES, 300), Lot(2, 9, EARNED, EXPIRES, 500)]


@pytest.mark.parametrize(
    ("points", "taken", "short"),
    [
        (0, [], 0),
        (1, [(1, 1)], 0),
        (299, [(1, 299)], 0),
        (300, [(1, 300)], 0),  # exactly the first lot: the second is not touched
        (301, [(1, 300), (2, 1)], 0),
        (800, [(1, 300), (2, 500)], 0),  # exactly everything
        (801, [(1, 300), (2, 500)], 1),  # one more than everything
    ],
)
def test_allocate_takes_lots_in_order(points, taken, short):
    assert allocate(LOTS, points) == (taken, short)


def test_stored_times_are_read_as_utc():
    memo: dict = {}
    assert stored_utc(None, memo) is None
    assert stored_utc("2024-03-10 04:00:00.000000", memo) == EXPIRES
    china = datetime(2024, 3, 10, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    found = stored_utc(china, memo)
    assert found == EXPIRES and found.utcoffset() == timedelta(0)
    assert stored_utc(datetime(2024, 3, 10, 4, 0), memo) == EXPIRES  # naive from the driver: UTC
    assert memo["2024-03-10 04:00:00.000000"] == EXPIRES


def test_sqlite_stamps():
    china = datetime(2024, 3, 10, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    assert sqlite_stamp(china) == "2024-03-10 04:00:00.000000"
    assert sqlite_stamp(EXPIRES + US) == "2024-03-10 04:00:00.000001"
    with pytest.raises(ValueError, match="naive datetime"):
        sqlite_stamp(datetime(2024, 3, 10, 4, 0))


@pytest.fixture
def one_lot(shop):
    """A member with one lot of 100 points earned at EARNED, expiring at EXPIRES."""
    code = shop.customer(since="2023-01-01")
    shop.run(lambda s: s.execute(LEDGER.delete()))
    shop.run_app(adjust, code, 100, "seed", now=EARNED)
    return code


def lots_of(shop, code, **when):
    def read(s):
        customer, _ = member(s, code)
        return [(lot.remaining, lot.expires_at) for lot in open_lots(s, [customer.id], **when)]

    return shop.run(read)


def test_open_lots_expired_by_includes_the_expiry_instant(shop, one_lot):
    assert shop.ledger(one_lot)[0]["expires_at"] == EXPIRES
    assert lots_of(shop, one_lot, expired_by=EXPIRES) == [(100, EXPIRES)]
    assert lots_of(shop, one_lot, expired_by=EXPIRES + US) == [(100, EXPIRES)]
    assert lots_of(shop, one_lot, expired_by=EXPIRES - US) == []


def test_open_lots_valid_at_excludes_the_expiry_instant(shop, one_lot):
    assert lots_of(shop, one_lot, valid_at=EXPIRES) == []
    assert lots_of(shop, one_lot, valid_at=EXPIRES + US) == []
    assert lots_of(shop, one_lot, valid_at=EXPIRES - US) == [(100, EXPIRES)]
    assert lots_of(shop, one_lot) == [(100, EXPIRES)]


def test_expiring_between_is_open_at_the_start_and_closed_at_the_end(shop, one_lot):
    def between(start, end):
        return shop.run(lambda s: expiring_between(s, member(s, one_lot)[0].id, start, end))

    assert between(EXPIRES - US, EXPIRES) == 100
    assert between(EXPIRES, EXPIRES + timedelta(days=30)) == 0
    assert between(EXPIRES - timedelta(days=30), EXPIRES - US) == 0


SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # (available, balance, expired_not_yet_written_off, expiring_soon)
        # One second before: both lots valid; the 100 expire within the 30 days.
        (EXPIRES - SECOND, (120, 120, 0, 100)),
        # Exactly at the expiry: the 100 have expired (expiring_between's end is closed, as the
        # expiry job's and redemption's), but stay in the ledger until written off.
        (EXPIRES, (20, 120, 100, 0)),
        # One second after: the same.
        (EXPIRES + SECOND, (20, 120, 100, 0)),
    ],
    ids=["second-before", "at-expiry", "second-after"],
)
def test_balance_available_leaves_out_points_expired_but_not_written_off(shop, one_lot, now, expected):
    """A lot of 100 expiring at EXPIRES, and 20 points earned 40 days later (expiring on
    2024-04-19 04:00, beyond every 30-day window here), nothing written off yet."""
    shop.run_app(adjust, one_lot, 20, "second lot", now=EARNED + timedelta(days=40))
    found = shop.run(api.balance, one_lot, now)
    shown = (found.available, found.balance, found.expired_not_yet_written_off, found.expiring_soon)
    assert shown == expected


@pytest.mark.parametrize(
    ("now", "spendable"), [(EXPIRES - SECOND, 120), (EXPIRES, 20), (EXPIRES + SECOND, 20)]
)
def test_balance_available_is_what_a_redemption_can_spend(shop, one_lot, now, spendable):
    """The same two lots: a reward costing exactly ``available`` is redeemed at ``now`` and leaves
    0; one point more is refused with the same figure."""
    shop.run_app(adjust, one_lot, 20, "second lot", now=EARNED + timedelta(days=40))
    assert shop.run(api.balance, one_lot, now).available == spendable
    shop.run(add_reward, "OVER", "多一点", spendable + 1)
    shop.run(add_reward, "EXACT", "正好", spendable)
    with pytest.raises(InsufficientPoints, match=f"has {spendable} points; 1 x OVER"):
        shop.run_app(redeem, one_lot, "OVER", now=now)
    assert shop.run_app(redeem, one_lot, "EXACT", now=now).balance == 0
    after = shop.run(api.balance, one_lot, now)
    assert (after.available, after.balance, after.expired_not_yet_written_off) == (0, 0, 0)


def test_balance_available_never_below_zero():
    assert [available(120, 100), available(100, 100), available(100, 101), available(0, 0)] == [20, 0, 0, 0]


def test_a_lot_expiring_exactly_at_the_as_of_time_is_expired(shop, one_lot):
    early = shop.run_app(expire_points, EXPIRES - US)
    assert (early.entries, early.points, early.customers) == (0, 0, 0)
    assert shop.balance(one_lot) == 100
    done = shop.run_app(expire_points, EXPIRES)
    assert (done.entries, done.points, done.customers) == (1, 100, 1)
    [_lot, expired] = shop.ledger(one_lot)
    assert (expired["kind"], expired["points"], expired["occurred_at"]) == ("expire", -100, EXPIRES)
    assert expired["idempotency_key"] == f"expire:{_lot['id']}"
    assert shop.balance(one_lot) == 0


def test_a_dry_run_counts_and_writes_nothing(shop, one_lot):
    dry = shop.run_app(expire_points, EXPIRES, dry_run=True)
    assert (dry.entries, dry.points, dry.customers) == (1, 100, 1)
    assert len(shop.ledger(one_lot)) == 1


def ledger_rows(shop):
    return shop.run(lambda s: [tuple(r) for r in s.execute(select(LEDGER).order_by(LEDGER.c.id))])


def allocation_rows(shop):
    return shop.run(
        lambda s: [
            tuple(r)
            for r in s.execute(select(ALLOCATIONS).order_by(ALLOCATIONS.c.debit_id, ALLOCATIONS.c.lot_id))
        ]
    )


def test_expiry_run_change_run_unchanged_run(shop, one_lot):
    """Run, add a lot that expires later, run again, run a third time with nothing new."""
    first = shop.run_app(expire_points, EXPIRES)
    assert (first.entries, first.points) == (1, 100)
    later = EXPIRES + timedelta(days=40)
    shop.run_app(adjust, one_lot, 70, "second", now=later - timedelta(days=366))  # expires 2024-04-19
    second = shop.run_app(expire_points, later)
    assert (second.entries, second.points, second.customers) == (1, 70, 1)
    ledger, allocations = ledger_rows(shop), allocation_rows(shop)
    third = shop.run_app(expire_points, later)
    assert (third.entries, third.points, third.customers) == (0, 0, 0)
    assert ledger_rows(shop) == ledger and allocation_rows(shop) == allocations  # nothing rewritten
    assert shop.balance(one_lot) == 0


def test_expiry_takes_only_what_is_left_of_a_partly_spent_lot(shop, one_lot):
    shop.run(add_reward, "PEN", "笔", 30)
    shop.run_app(redeem, one_lot, "PEN", now=EXPIRES - US)
    assert shop.run_app(expire_points, EXPIRES).points == 70


def test_redeem_with_exactly_the_balance_and_one_point_short(shop, one_lot):
    shop.run(add_reward, "EXACT", "正好", 100)
    shop.run(add_reward, "OVER", "多一点", 101)
    with pytest.raises(InsufficientPoints, match="has 100 points; 1 x OVER costs 101"):
        shop.run_app(redeem, one_lot, "OVER", now=EARNED + US)
    done = shop.run_app(redeem, one_lot, "EXACT", now=EARNED + US)
    assert (done.points, done.balance, done.quantity) == (100, 0, 1)
    assert len(done.lots) == 1 and done.lots[0][1] == 100
    assert shop.balance(one_lot) == 0


def test_points_expiring_exactly_at_the_redemption_cannot_be_spent(shop, one_lot):
    shop.run(add_reward, "PEN", "笔", 1)
    with pytest.raises(InsufficientPoints, match="has 0 points"):
        shop.run_app(redeem, one_lot, "PEN", now=EXPIRES)
    assert [e["kind"] for e in shop.ledger(one_lot)] == ["adjust"]  # the expiry written is rolled back
    assert shop.run_app(redeem, one_lot, "PEN", now=EXPIRES - US).balance == 99


def test_stock_exactly_enough_and_one_short(shop, one_lot):
    shop.run(add_reward, "MUG", "杯子", 10, 2)
    with pytest.raises(OutOfStock, match="has 2 left, 3 asked"):
        shop.run_app(redeem, one_lot, "MUG", quantity=3, now=EARNED + US)
    done = shop.run_app(redeem, one_lot, "MUG", quantity=2, now=EARNED + US)
    assert (done.points, done.balance) == (20, 80)
    assert shop.run(lambda s: s.scalar(select(REWARDS.c.stock).where(REWARDS.c.code == "MUG"))) == 0
    with pytest.raises(OutOfStock, match="has 0 left, 1 asked"):
        shop.run_app(redeem, one_lot, "MUG", now=EARNED + US)


def test_unlimited_stock_stays_unlimited(shop, one_lot):
    shop.run(add_reward, "TEA", "茶", 10)
    shop.run_app(redeem, one_lot, "TEA", quantity=3, now=EARNED + US)
    assert shop.run(lambda s: s.scalar(select(REWARDS.c.stock).where(REWARDS.c.code == "TEA"))) is None


def test_quantity_one_is_the_least(shop, one_lot):
    shop.run(add_reward, "TEA", "茶", 10)
    with pytest.raises(ValidationError, match="quantity"):
        shop.run_app(redeem, one_lot, "TEA", quantity=0, now=EARNED + US)
    assert shop.run_app(redeem, one_lot, "TEA", quantity=1, now=EARNED + US).points == 10


def test_a_reward_is_offered_from_valid_from_until_just_before_valid_until(shop, one_lot):
    start, end = EARNED + timedelta(days=10), EARNED + timedelta(days=20)
    shop.run(add_reward, "TEA", "茶", 1, valid_from=start, valid_until=end)
    for refused in (start - US, end, end + US):
        with pytest.raises(KehuError, match="not offered at this time"):
            shop.run_app(redeem, one_lot, "TEA", now=refused)
    assert shop.run_app(redeem, one_lot, "TEA", now=start).balance == 99
    assert shop.run_app(redeem, one_lot, "TEA", now=end - US).balance == 98


def test_a_withdrawn_reward_is_not_offered(shop, one_lot):
    shop.run(add_reward, "TEA", "茶", 1)
    shop.run(restock, "TEA", None, False)
    with pytest.raises(KehuError, match="not offered at this time"):
        shop.run_app(redeem, one_lot, "TEA", now=EARNED + US)
    assert [r.code for r in shop.run(list_rewards)] == []
    assert [r.code for r in shop.run(list_rewards, True)] == ["TEA"]


@pytest.mark.parametrize(
    ("cost", "stock", "accepted"),
    [
        (0, None, False),
        (1, None, True),
        (MAX_POINTS, None, True),
        (MAX_POINTS + 1, None, False),
        (-1, None, False),
        (1, -1, False),
        (1, 0, True),
        (1, MAX_STOCK, True),
        (1, MAX_STOCK + 1, False),
    ],
)
def test_reward_cost_and_stock_limits(shop, cost, stock, accepted):
    if accepted:
        record = shop.run(add_reward, "R", "奖品", cost, stock)
        assert (record.cost_points, record.stock, record.active) == (cost, stock, True)
    else:
        with pytest.raises(ValidationError, match="reward refused"):
            shop.run(add_reward, "R", "奖品", cost, stock)


def test_reward_validity_must_end_after_it_starts(shop):
    with pytest.raises(ValidationError, match="valid_until"):
        shop.run(add_reward, "R", "奖品", 1, valid_from=EARNED, valid_until=EARNED)
    record = shop.run(add_reward, "R", "奖品", 1, valid_from=EARNED, valid_until=EARNED + US)
    assert (record.valid_from, record.valid_until) == (EARNED, EARNED + US)
    with pytest.raises(ValidationError, match="code"):
        shop.run(add_reward, " ", "奖品", 1)
    with pytest.raises(ValidationError, match="name"):
        shop.run(add_reward, "S", " ", 1)
    with pytest.raises(Conflict, match="already exists"):
        shop.run(add_reward, "R", "奖品", 1)


@pytest.mark.parametrize(
    ("stock", "accepted"), [(-1, False), (0, True), (MAX_STOCK, True), (MAX_STOCK + 1, False)]
)
def test_restock_limits(shop, stock, accepted):
    shop.run(add_reward, "R", "奖品", 1, 5)
    if accepted:
        assert shop.run(restock, "R", stock).stock == stock
    else:
        with pytest.raises(ValidationError, match="stock"):
            shop.run(restock, "R", stock)
        assert shop.run(lambda s: s.scalar(select(REWARDS.c.stock))) == 5


@pytest.mark.parametrize(
    ("points", "accepted"), [(0, False), (1, True), (MAX_POINTS, True), (MAX_POINTS + 1, False)]
)
def test_points_by_hand_limits(shop, points, accepted):
    code = shop.customer(since="2023-01-01")
    shop.run(lambda s: s.execute(LEDGER.delete()))
    if accepted:
        done = shop.run_app(adjust, code, points, "活动", now=EARNED)
        assert (done["points"], done["balance"]) == (points, points)
        [entry] = shop.ledger(code)
        assert (entry["kind"], entry["rule"], entry["expires_at"]) == ("adjust", "manual", EXPIRES)
    else:
        with pytest.raises(ValidationError, match="points"):
            shop.run_app(adjust, code, points, "活动", now=EARNED)
        assert shop.ledger(code) == []


def test_points_by_hand_need_a_reason(shop, one_lot):
    with pytest.raises(ValidationError, match="reason"):
        shop.run_app(adjust, one_lot, 5, "  ", now=EARNED)


def test_points_by_hand_with_a_key_replayed_are_refused_and_change_nothing(shop, one_lot):
    shop.run_app(adjust, one_lot, 5, "活动", key="evt-1", now=EARNED)
    before = ledger_rows(shop)
    with pytest.raises(Conflict, match="evt-1"):
        shop.run_app(adjust, one_lot, 5, "活动", key="evt-1", now=EARNED)
    assert ledger_rows(shop) == before and shop.balance(one_lot) == 105


def test_redeem_with_a_key_replayed_is_refused_and_changes_nothing(shop, one_lot):
    shop.run(add_reward, "TEA", "茶", 10, 5)
    done = shop.run_app(redeem, one_lot, "TEA", key="req-1", now=EARNED + US)
    assert done.balance == 90
    before = ledger_rows(shop), allocation_rows(shop)
    with pytest.raises(Conflict, match="req-1"):
        shop.run_app(redeem, one_lot, "TEA", key="req-1", now=EARNED + US)
    assert (ledger_rows(shop), allocation_rows(shop)) == before
    assert shop.run(lambda s: s.scalar(select(REWARDS.c.stock))) == 4


def test_statement_running_balance_and_limit(shop, one_lot):
    shop.run_app(adjust, one_lot, 20, "二", now=EARNED + timedelta(days=1))
    shop.run_app(adjust, one_lot, 3, "三", now=EARNED + timedelta(days=2))

    def read(limit):
        return shop.run(
            lambda s: [(r["points"], r["balance"]) for r in statement(s, member(s, one_lot)[0].id, limit)]
        )

    assert read(None) == [(100, 100), (20, 120), (3, 123)]
    assert read(2) == [(20, 120), (3, 123)]
    assert read(1) == [(3, 123)]
    assert read(3) == read(None)


def test_balance_keys_ids_and_locks(shop, one_lot):
    def check(s):
        customer, _ = member(s, one_lot)
        assert balance(s, customer.id) == 100
        assert balance(s, customer.id + 1000) == 0
        [lot] = s.scalars(select(LEDGER.c.id)).all()
        assert next_ids(s, 3) == [lot + 1, lot + 2, lot + 3] or s.get_bind().dialect.name == "postgresql"
        assert len(set(next_ids(s, 2))) == 2
        key = s.scalar(select(LEDGER.c.idempotency_key))
        assert existing_keys(s, [key, "nope"]) == {key}
        assert existing_keys(s, []) == set()
        assert lock_accounts(s, [customer.id, customer.id, customer.id + 1000]) == {customer.id}

    shop.run(check)
