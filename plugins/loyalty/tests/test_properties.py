"""Property tests: random sequences of earn, redeem, expire and refund keep the ledger sound."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from kehu_core.errors import KehuError
from kehu_loyalty.expiry import expire_points
from kehu_loyalty.ledger import Lot, allocate, member
from kehu_loyalty.models import ALLOCATIONS, LEDGER
from kehu_loyalty.rewards import add_reward, adjust, redeem

BASE = datetime.now(UTC) - timedelta(days=800)
_ids = itertools.count(1)

operation = st.one_of(
    st.tuples(st.just("earn"), st.integers(1, 500)),
    st.tuples(st.just("buy"), st.integers(1, 900)),
    st.tuples(st.just("refund"), st.integers(1, 900)),
    st.tuples(st.just("redeem"), st.integers(1, 3)),
    st.tuples(st.just("expire"), st.just(0)),
)


def _check(session, customer_id):
    entries = session.execute(
        select(LEDGER.c.id, LEDGER.c.points, LEDGER.c.kind, LEDGER.c.expires_at, LEDGER.c.occurred_at).where(
            LEDGER.c.customer_id == customer_id
        )
    ).all()
    allocated = dict(
        session.execute(
            select(ALLOCATIONS.c.lot_id, func.sum(ALLOCATIONS.c.points)).group_by(ALLOCATIONS.c.lot_id)
        ).all()
    )
    debits = dict(
        session.execute(
            select(ALLOCATIONS.c.debit_id, func.sum(ALLOCATIONS.c.points)).group_by(ALLOCATIONS.c.debit_id)
        ).all()
    )
    lots = {e.id: e for e in entries if e.points > 0}
    # Balance = sum of the ledger = what is left in the lots; never negative.
    balance = sum(e.points for e in entries)
    assert balance >= 0
    assert balance == sum(lot.points - allocated.get(lot.id, 0) for lot in lots.values())
    for e in entries:
        if e.points < 0:
            assert debits.get(e.id, 0) == -e.points  # every debit is fully linked to lots
        if e.points > 0:
            assert 0 <= allocated.get(e.id, 0) <= e.points
    return entries, lots, allocated


def _spent_oldest_first(shop, done, now):
    """Every valid lot that expires before the newest lot this redemption drew from is empty."""
    with shop.app.session() as s:
        allocated = dict(
            s.execute(
                select(ALLOCATIONS.c.lot_id, func.sum(ALLOCATIONS.c.points)).group_by(ALLOCATIONS.c.lot_id)
            ).all()
        )
        owner = s.scalar(select(LEDGER.c.customer_id).where(LEDGER.c.id == done.entry_id))
        lots = s.execute(
            select(LEDGER.c.id, LEDGER.c.points, LEDGER.c.expires_at).where(
                LEDGER.c.customer_id == owner, LEDGER.c.points > 0
            )
        ).all()
    by_id = {lot.id: lot for lot in lots}
    newest = max((by_id[lot].expires_at, lot) for lot, _ in done.lots)
    for lot in lots:
        if (
            lot.points > 0
            and lot.expires_at > now
            and (lot.expires_at, lot.id) < newest
            and lot.id not in dict(done.lots)
        ):
            assert lot.points - allocated.get(lot.id, 0) == 0, (
                "a redemption skipped an older lot with points left"
            )


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=8))
def test_random_sequences_keep_the_ledger_sound(shop, ops):
    code = shop.customer(f"P{next(_ids):05d}", since=BASE.date().isoformat())
    reward = f"R{code}"
    shop.run(add_reward, reward, "奖品", 150)
    for step, (kind, value) in enumerate(ops):
        now = BASE + timedelta(days=60 * step)
        if kind == "earn":
            shop.run_app(adjust, code, value, "gift", now=now)
        elif kind in ("buy", "refund"):
            amount = value if kind == "buy" else -value
            shop.log(code, amount=str(amount), at=now.isoformat())
        elif kind == "redeem":
            try:
                done = shop.run_app(redeem, code, reward, value, now=now)
            except KehuError:
                done = None
            if done is not None:
                _spent_oldest_first(shop, done, now)
        else:
            shop.run_app(expire_points, now)
        with shop.app.session() as s:
            customer, _ = member(s, code)
            entries, lots, allocated = _check(s, customer.id)
            # Expiry took the oldest points first: no lot expired while an older lot still had points
            # that were later spent (expiry entries only drain lots whose expiry has passed).
            for e in entries:
                if e.kind == "expire":
                    assert e.occurred_at <= now
            for lot in lots.values():
                if lot.expires_at is not None and lot.expires_at <= now and kind == "expire":
                    assert allocated.get(lot.id, 0) == lot.points  # nothing left in an expired lot


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lots=st.lists(st.integers(1, 100), min_size=1, max_size=8), spend=st.integers(0, 900))
def test_allocation_is_fifo(lots, spend):
    now = datetime(2024, 1, 1, tzinfo=UTC)
    open_lots = [Lot(i, 1, now, now + timedelta(days=i), pts) for i, pts in enumerate(lots)]
    taken, left = allocate(open_lots, spend)
    assert sum(t for _, t in taken) + left == spend and left == max(0, spend - sum(lots))
    # Oldest first: every lot before the last one touched is emptied.
    for lot_id, take in taken[:-1]:
        assert take == lots[lot_id]
    assert [lot_id for lot_id, _ in taken] == list(range(len(taken)))
