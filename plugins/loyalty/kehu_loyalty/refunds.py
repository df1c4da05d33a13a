"""Refunds (purchases with a negative amount) take back what the refunded amount earns, newest lots first."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from kehu_core.validation import local_zone
from kehu_loyalty.ledger import Debit, entry_row, existing_keys, lock_accounts, open_lots, write_debits
from kehu_loyalty.rates import Rate, amount_reason, cents_of, rate_of
from kehu_loyalty.rules import EarnRule


class Member(NamedTuple):
    """What earning needs of a member: since when they earn, and their birthday month."""

    earn_from: datetime
    birthday_month: int | None


def reverse_refunds(session: Session, refunds: Sequence[Mapping[str, Any]], amount_rules: Sequence[EarnRule],
                    members: Mapping[int, Member], multipliers: Mapping[int, tuple[Decimal, str]],
                    now: datetime) -> tuple[int, int]:
    """Take back the points refunds (negative purchases) would have earned, newest lots first.

    The points to take back are what a purchase of the refunded amount earns under today's
    amount rules. They are drawn from the lots valid at the refund's date (earned before it,
    not yet expired), newest first (the refunded purchase's own lot is usually the newest). The balance never goes below zero:
    points already spent or expired cannot be taken back; that part is recorded as the
    entry's ``shortfall`` and reported, and the entry is written even when it takes nothing.
    Returns (points taken back, shortfall).
    """
    zone = local_zone()
    customer_ids = sorted({r["customer_id"] for r in refunds})
    if session.get_bind().dialect.name != "sqlite":  # SQLite: the transaction holds the write lock already
        lock_accounts(session, customer_ids)
    # Only lots valid at the refund's date are drawn from (below); lots that had expired are
    # left for the expiry job, which writes off exactly what is left in them.
    keys = existing_keys(session, [f"refund:i{r['id']}" for r in refunds])
    lots: dict[int, list[Any]] = {}
    for lot in open_lots(session, customer_ids):
        lots.setdefault(lot.customer_id, []).append(lot)
    debits: list[Debit] = []
    rates: dict[tuple[Any, ...], Rate] = {}
    taken_total = short_total = 0
    for row in sorted(refunds, key=lambda r: (r["occurred_at"], r["id"])):
        key = f"refund:i{row['id']}"
        if key in keys:
            continue
        cid, amount, when = row["customer_id"], -row["amount"], row["occurred_at"]
        local = when.astimezone(zone)
        matched = [r for r in amount_rules if r.matches({**row, "amount": amount}, local.month, members[cid].birthday_month)]
        if not matched:
            continue
        cents = cents_of(amount)
        multiplier = multipliers.get(cid)
        known = (multiplier, *map(id, matched))  # ids: hashing attrs rules is slow
        rate = rates.get(known)
        if rate is None:
            rate = rates[known] = rate_of(matched, multiplier)
        points, reason = rate.points(cents), amount_reason(cents, rate)
        if points <= 0:
            continue
        newest_first = sorted(lots.get(cid, []), key=lambda lot: (lot.expires_at, lot.id), reverse=True)
        allocations = []
        left = points
        for i, lot in enumerate(newest_first):
            if left == 0:
                break
            valid = lot.occurred_at <= when and (lot.expires_at is None or lot.expires_at > when)
            take = min(lot.remaining, left) if valid else 0
            if take:
                allocations.append((lot.id, take))
                newest_first[i] = type(lot)(lot.id, lot.customer_id, lot.occurred_at, lot.expires_at, lot.remaining - take)
                left -= take
        lots[cid] = newest_first
        taken = points - left
        note = f"refund of {reason}" + (f"; {left} point(s) already spent or expired, not taken back" if left else "")
        debits.append(Debit(entry_row(cid, "refund", -taken, row["occurred_at"], note, key, interaction_id=row["id"],
                                      rule=rate.rule, shortfall=left, now=now), tuple(allocations)))
        taken_total += taken
        short_total += left
    write_debits(session, debits)
    return taken_total, short_total
