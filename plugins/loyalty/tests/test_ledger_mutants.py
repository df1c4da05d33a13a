"""The ledger, pinned where small plausible bugs survived the ledger's tests (issue 21's mutation
testing): an entry's write time; times with microseconds written row by row and compared at the
exact instant of expiry, and times already stored whatever PostgreSQL's session zone; a lot's
remaining points; a debit at its lot's instant in the statement; a member's own balance; the
first ids reserved in an empty ledger; a customer who is not a member between two who are.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from kehu_core.errors import KehuError
from kehu_core.types import utcnow
from kehu_loyalty.ledger import (
    Debit,
    balance,
    entry_row,
    member,
    next_ids,
    open_lots,
    statement,
    time_storer,
    write_credits,
    write_debits,
)
from kehu_loyalty.models import LEDGER

US = timedelta(microseconds=1)
# Times with microseconds: the stored text of one is compared with another's to the microsecond.
EARNED = datetime(2023, 3, 10, 4, 0, 0, 250000, tzinfo=UTC)
EXPIRES = datetime(2024, 3, 10, 4, 0, 0, 250000, tzinfo=UTC)
WRITTEN = datetime(2023, 3, 10, 4, 0, 1, tzinfo=UTC)


def test_an_entry_row_is_written_at_the_time_given_else_now():
    given = entry_row(1, "adjust", 5, EARNED, "by hand", "k1", now=WRITTEN)
    assert (given["created_at"], given["shortfall"]) == (WRITTEN, 0)  # nothing short unless said
    before = utcnow()
    default = entry_row(1, "adjust", 5, EARNED, "by hand", "k2")
    assert before <= default["created_at"] <= utcnow()


@pytest.fixture
def lot_with_microseconds(shop):
    """A member's lot of 100 points written row by row (``write_credits`` converting its times),
    earned at EARNED, expiring at EXPIRES, written at WRITTEN."""
    code = shop.customer(since="2023-01-01")

    def write(s):
        customer, _ = member(s, code)
        row = entry_row(customer.id, "adjust", 100, EARNED, "by hand", "lot", expires_at=EXPIRES, now=WRITTEN)
        assert write_credits(s, [row]) == 1
        return customer.id

    return shop.run(write)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ({"expired_by": EXPIRES - US}, []),
        ({"expired_by": EXPIRES}, [(100, EARNED, EXPIRES)]),  # expiring at it: expired by it
        ({"valid_at": EXPIRES - US}, [(100, EARNED, EXPIRES)]),
        ({"valid_at": EXPIRES}, []),  # no longer valid at the expiry instant
    ],
)
def test_a_lot_written_row_by_row_expires_at_its_exact_microsecond(
    shop, lot_with_microseconds, when, expected
):
    def read(s):
        return [
            (lot.remaining, lot.occurred_at, lot.expires_at)
            for lot in open_lots(s, [lot_with_microseconds], **when)
        ]

    assert shop.run(read) == expected
    assert shop.run(lambda s: s.execute(select(LEDGER.c.occurred_at, LEDGER.c.created_at)).one()) == (
        EARNED,
        WRITTEN,
    )


def test_the_first_ids_of_an_empty_ledger_are_one_and_two(shop):
    """As the database itself numbers rows (SQLite's max + 1, PostgreSQL's fresh sequence)."""
    assert shop.run(lambda s: s.scalar(select(LEDGER.c.id))) is None
    assert shop.run(lambda s: next_ids(s, 2)) == [1, 2]


def test_a_customer_who_is_not_a_member_is_refused_between_two_who_are(shop):
    """The account read is the customer's own, not the previous or the next member's."""
    first = shop.customer()
    outsider = shop.customer(member=False)
    last = shop.customer()
    with pytest.raises(KehuError, match=f"customer {outsider} is not a member of the points programme"):
        shop.run(member, outsider)
    for code in (first, last):
        customer, account = shop.run(member, code)
        assert (customer.code, account.customer_id) == (code, customer.id)


@pytest.mark.parametrize(("spent", "left"), [(30, 70), (98, 2), (99, 1), (100, None)])
def test_a_lot_s_remaining_points_count_only_its_own_allocations(shop, spent, left):
    """Lot 1 (100 points, expiring 2025) and lot 2 (100, expiring 2024, so spent first); points
    redeemed from lot 2: what is left in it is open down to the last point, lot 1 untouched."""
    code = shop.customer(since="2023-01-01")

    def write(s):
        customer, _ = member(s, code)
        older, newer = (
            entry_row(customer.id, "adjust", 100, EARNED, "by hand", key, expires_at=until, now=WRITTEN)
            for key, until in (("lot1", EXPIRES + timedelta(days=365)), ("lot2", EXPIRES))
        )
        first, second = next_ids(s, 2)
        write_credits(s, [older, newer], [first, second])
        redeemed = entry_row(customer.id, "redeem", -spent, WRITTEN, "a reward", "redeem1", now=WRITTEN)
        write_debits(s, [Debit(redeemed, ((second, spent),))])
        return [(lot.id, lot.remaining) for lot in open_lots(s, [customer.id])], (first, second)

    lots, (first, second) = shop.run(write)
    assert lots == ([(second, left)] if left else []) + [(first, 100)]


def test_stored_times_reach_the_database_as_instants_whatever_its_session_zone(shop):
    """Entries written with their times already stored (as earning and refunds write them): a
    PostgreSQL server of a company in China often runs in Asia/Shanghai, where a time sent
    without its offset would be read 8 hours off."""
    code = shop.customer(since="2023-01-01")
    with shop.app.session() as s:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SET LOCAL TIME ZONE 'Asia/Shanghai'"))
        customer, _ = member(s, code)
        stamp = time_storer(s)
        row = (
            customer.id,
            "adjust",
            100,
            stamp(EARNED),
            stamp(EXPIRES),
            "by hand",
            None,
            None,
            None,
            "lot",
            0,
        )
        write_credits(s, [(*row, stamp(WRITTEN))], stored=True)
    columns = (LEDGER.c.occurred_at, LEDGER.c.expires_at, LEDGER.c.created_at)
    assert shop.run(lambda s: s.execute(select(*columns)).all()) == [(EARNED, EXPIRES, WRITTEN)]


def test_writing_nothing_writes_nothing_and_says_so(shop):
    assert shop.run(lambda s: (write_credits(s, []), write_debits(s, []))) == (0, [])
    assert shop.run(lambda s: s.execute(select(LEDGER.c.id)).all()) == []


def test_a_debit_at_its_lot_s_instant_comes_after_it_in_the_statement(shop):
    """A lot of 100 and a redemption of 30 at the same instant (written row by row, times
    converted): the statement orders them by time, then by id, so the running balance is 100
    then 70; each member's balance is their own ledger's sum."""
    code, other = shop.customer(since="2023-01-01"), shop.customer(since="2023-01-01")
    when = datetime(2024, 1, 1, 0, 0, tzinfo=UTC)

    def write(s):
        customer, _ = member(s, code)
        rival, _ = member(s, other)
        write_credits(s, [entry_row(customer.id, "adjust", 100, when, "by hand", "lot", now=WRITTEN)])
        [lot] = s.scalars(select(LEDGER.c.id)).all()
        spent = entry_row(customer.id, "redeem", -30, when, "a reward", "redeem1", now=WRITTEN)
        write_debits(s, [Debit(spent, ((lot, 30),))])
        write_credits(s, [entry_row(rival.id, "adjust", 7, when, "by hand", "rival", now=WRITTEN)])
        return (
            [(row["points"], row["balance"]) for row in statement(s, customer.id)],
            balance(s, customer.id),
            balance(s, rival.id),
        )

    assert shop.run(write) == ([(100, 100), (-30, 70)], 70, 7)


@pytest.mark.parametrize("points", [1, 2])
def test_a_lot_of_a_single_point_is_open(shop, points):
    code = shop.customer(since="2023-01-01")

    def write(s):
        customer, _ = member(s, code)
        write_credits(s, [entry_row(customer.id, "adjust", points, EARNED, "by hand", "lot", now=WRITTEN)])
        return [lot.remaining for lot in open_lots(s, [customer.id])]

    assert shop.run(write) == [points]
