"""Refunds (purchases with a negative amount) take back what the refunded amount earns, newest lots first."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.i18n import messages
from kehu_loyalty.ledger import (
    Debit,
    chunks,
    driver_rows,
    existing_keys,
    lock_accounts,
    time_storer,
    write_debits,
)
from kehu_loyalty.models import ALLOCATIONS, LEDGER, REASON_WIDTH
from kehu_loyalty.rates import Rate, amount_reason, cents_of, rate_of
from kehu_loyalty.rules import EarnRule

_ = messages("kehu_loyalty").gettext


class Member(NamedTuple):
    """What earning needs of a member: since when they earn, and their birthday month."""

    earn_from: datetime
    birthday_month: int | None


def reverse_refunds(
    session: Session,
    refunds: Sequence[Mapping[str, Any]],
    amount_rules: Sequence[EarnRule],
    members: Mapping[int, Member],
    multipliers: Mapping[int, tuple[Decimal, str]],
    now: datetime,
) -> tuple[int, int]:
    """Take back the points refunds (negative purchases) would have earned, newest lots first.

    The points to take back are what a purchase of the refunded amount earns under today's
    amount rules. They are drawn from the lots valid at the refund's date (earned before it,
    not yet expired), newest first (the refunded purchase's own lot is usually the newest).
    The balance never goes below zero:
    points already spent or expired cannot be taken back; that part is recorded as the
    entry's ``shortfall`` and reported, and the entry is written even when it takes nothing.
    Returns (points taken back, shortfall).
    """
    zone = calendar.zone()
    customer_ids = sorted({r["customer_id"] for r in refunds})
    sqlite = session.get_bind().dialect.name == "sqlite"
    if not sqlite:  # SQLite: the transaction holds the write lock already
        lock_accounts(session, customer_ids)
    keys = existing_keys(session, [f"refund:i{r['id']}" for r in refunds])
    todo = sorted(
        (r for r in refunds if f"refund:i{r['id']}" not in keys), key=lambda r: (r["occurred_at"], r["id"])
    )
    if not todo:
        return 0, 0
    # Times are compared as stored: UTC text on SQLite (it sorts as time does), datetimes on PostgreSQL.
    stored = time_storer(session)
    stamps = [stored(row["occurred_at"]) for row in todo]
    windows: dict[int, tuple[Any, Any]] = {}
    for row, when in zip(todo, stamps):  # in time order: the first refund of a customer is the earliest
        windows[row["customer_id"]] = (windows.get(row["customer_id"], (when,))[0], when)
    lots = refund_lots(session, windows)
    stored_now = stored(now)
    debits: list[Debit] = []
    rates: dict[tuple[Any, ...], Rate] = {}
    taken_total = short_total = 0
    for row, at in zip(todo, stamps):
        cid, amount, when = row["customer_id"], -row["amount"], row["occurred_at"]
        local = when.astimezone(zone)
        matched = [
            r
            for r in amount_rules
            if r.matches({**row, "amount": amount}, local.month, members[cid].birthday_month, local)
        ]
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
        allocations = []
        left = points
        for lot in lots.get(cid, ()):  # newest first
            if left == 0:
                break
            lot_id, earned, expires, remaining = lot
            if remaining and earned <= at and (expires is None or expires > at):
                take = min(remaining, left)
                allocations.append((lot_id, take))
                lot[3] = remaining - take
                left -= take
        taken = points - left
        note = (
            _("refund of {reason}; {left} point(s) already spent or expired, not taken back").format(
                reason=reason, left=left
            )
            if left
            else _("refund of {reason}").format(reason=reason)
        )
        entry = (
            cid,
            "refund",
            -taken,
            at,
            None,
            note[:REASON_WIDTH],
            rate.rule,
            row["id"],
            None,
            f"refund:i{row['id']}",
            left,
            stored_now,
        )
        debits.append(Debit(entry, tuple(allocations)))
        taken_total += taken
        short_total += left
    write_debits(session, debits, stored=True)
    return taken_total, short_total


def refund_lots(session: Session, windows: Mapping[int, tuple[Any, Any]]) -> dict[int, list[list[Any]]]:
    """The lots refunds may draw from, per customer, newest first (expiry, then id, descending;
    a lot without expiry first).

    ``windows[customer] = (earliest, latest)``: the times of the customer's first and last
    refund, in stored form. Only lots with points left, earned by the latest refund and not
    expired at the earliest, are read: a refund never draws from any other. Each lot is
    ``[id, earned, expires, remaining]`` with times in stored form; ``remaining`` is updated
    as refunds draw from it.
    """
    # BIGINT: PostgreSQL sums BIGINT points as NUMERIC (a Decimal in Python).
    allocated = (
        f"(SELECT CAST(coalesce(sum(a.points), 0) AS BIGINT) FROM {ALLOCATIONS.name} a WHERE a.lot_id = l.id)"
    )
    wanted = (
        "l.points > 0 AND l.occurred_at <= r.hi AND (l.expires_at IS NULL OR l.expires_at > r.lo) "
        "ORDER BY l.customer_id, l.expires_at DESC NULLS FIRST, l.id DESC"
    )
    columns = f"SELECT l.id, l.customer_id, l.occurred_at, l.expires_at, l.points - {allocated} FROM "
    sqlite = session.get_bind().dialect.name == "sqlite"
    found: dict[int, list[list[Any]]] = {}
    for part in chunks(sorted(windows)):
        if sqlite:
            sql = (
                columns + "(SELECT json_extract(value, '$[0]') AS cid, json_extract(value, '$[1]') AS lo, "
                "json_extract(value, '$[2]') AS hi FROM json_each(?)) r "
                f"JOIN {LEDGER.name} l ON l.customer_id = r.cid WHERE " + wanted
            )
            params: Any = (json.dumps([[cid, *windows[cid]] for cid in part]),)
        else:
            sql = (
                columns
                + "unnest(%(cid)s::bigint[], %(lo)s::timestamptz[], %(hi)s::timestamptz[]) AS r(cid, lo, hi) "
                f"JOIN {LEDGER.name} l ON l.customer_id = r.cid WHERE " + wanted
            )
            params = {
                "cid": list(part),
                "lo": [windows[c][0] for c in part],
                "hi": [windows[c][1] for c in part],
            }
        for lot_id, cid, earned, expires, remaining in driver_rows(session, sql, params):
            if remaining > 0:
                found.setdefault(cid, []).append([lot_id, earned, expires, remaining])
    return found
