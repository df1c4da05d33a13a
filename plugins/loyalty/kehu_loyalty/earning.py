"""Automatic earning: a batch of recorded interactions becomes ledger entries in one go.

Called from ``kehu_interactions_recorded`` in the importing transaction. Per batch it runs
a fixed handful of queries (members, referrers, keys already used, tiers), evaluates the
rules in Python over ``batch.rows`` with ``Decimal``, and writes every entry with one
executemany: no query per row. Refunds (purchases with a negative amount) are handed to
:func:`reverse_refunds`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any, NamedTuple

from attrs import frozen
from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core.interactions import in_values
from kehu_core.models import Customer
from kehu_core.types import utcnow
from kehu_core.validation import local_zone
from kehu_loyalty.ledger import (
    Debit,
    add_months,
    chunks,
    entry_row,
    existing_keys,
    lock_accounts,
    open_lots,
    sqlite_stamp,
    write_credits,
    write_debits,
)
from kehu_loyalty.models import ACCOUNTS, REFERRALS
from kehu_loyalty.rules import EarnRule, all_rules
from kehu_loyalty.settings import Settings, load_settings


@frozen
class EarnResult:
    """What one batch earned."""

    entries: int
    points: int
    refunds: int
    reversed_points: int
    shortfall: int


class _Member(NamedTuple):
    earn_from: datetime
    birthday_month: int | None


def _members(session: Session, customer_ids: Sequence[int]) -> dict[int, _Member]:
    found: dict[int, _Member] = {}
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return _members_sqlite(session, customer_ids)
    for part in chunks(list(customer_ids)):
        stmt = (select(ACCOUNTS.c.customer_id, ACCOUNTS.c.earn_from, Customer.birthday)
                .join(Customer, Customer.id == ACCOUNTS.c.customer_id).where(in_values(ACCOUNTS.c.customer_id, part, dialect)))
        for cid, earn_from, birthday in session.execute(stmt):
            found[cid] = _Member(earn_from, birthday.month if birthday else None)
    return found


def _members_sqlite(session: Session, customer_ids: Sequence[int]) -> dict[int, _Member]:
    """The same lookup with the driver's own values: this runs once per import chunk, and
    SQLAlchemy's per-value result processing was most of its cost. Stored times are UTC text."""
    import json

    found: dict[int, _Member] = {}
    parsed: dict[str, datetime] = {}
    sql = (f"SELECT a.customer_id, a.earn_from, c.birthday FROM {ACCOUNTS.name} a JOIN customers c ON c.id = a.customer_id "
           "WHERE a.customer_id IN (SELECT value FROM json_each(?))")
    connection = session.connection()
    for part in chunks(list(customer_ids)):
        for cid, earn_from, birthday in connection.exec_driver_sql(sql, (json.dumps(list(part)),)):
            moment = parsed.get(earn_from)
            if moment is None:
                moment = parsed[earn_from] = datetime.fromisoformat(earn_from).replace(tzinfo=UTC)
            found[cid] = _Member(moment, int(birthday[5:7]) if birthday else None)
    return found


def _referrers(session: Session, customer_ids: Sequence[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    dialect = session.get_bind().dialect.name
    for part in chunks(list(customer_ids)):
        found.update(session.execute(
            select(REFERRALS.c.referred_id, REFERRALS.c.referrer_id).where(in_values(REFERRALS.c.referred_id, part, dialect))).all())
    return found


def earn_rules(session: Session, app: Any | None) -> tuple[Settings, list[EarnRule]]:
    """The settings and every rule in force: built-in ones and those of installed plugins."""
    settings = load_settings(session)
    contributed = app.hook.kehu_loyalty_earn_rules() if app is not None else []
    return settings, all_rules(settings, contributed)


def _multipliers(session: Session, app: Any | None, settings: Settings, customer_ids: list[int]) -> dict[int, tuple[Decimal, str]]:
    if not settings.tier_multipliers:
        return {}
    from kehu_loyalty.appctx import customer_tiers

    tiers = customer_tiers(session, customer_ids, app)
    return {cid: (settings.tier_multipliers[t], t) for cid, t in tiers.items() if t in settings.tier_multipliers}


def floor_points(value: Decimal) -> int:
    """Points are whole: Decimal floored (never rounded up, never through float)."""
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def earn_for_rows(session: Session, rows: Sequence[Mapping[str, Any]], app: Any | None = None,
                  now: datetime | None = None) -> EarnResult:
    """Evaluate every earn rule over ``rows`` (``batch.rows``) and write the entries.

    Only members earn, and only for interactions at or after their ``earn_from``; only done
    interactions count. Amount rules of one interaction make one ``earn`` entry keyed
    ``earn:i<id>`` whose points are ``floor(amount × Σ rates × tier multiplier)``; each bonus
    rule makes a ``bonus`` entry keyed by its ``once_per`` scope. Replaying rows already
    earned writes nothing (the keys exist).
    """
    now = now or utcnow()
    settings, rules = earn_rules(session, app)
    kinds = {k for r in rules for k in r.kinds} | {"purchase"}
    relevant = [r for r in rows if r["kind"] in kinds and r["status"] == "done"]
    if not relevant:
        return EarnResult(0, 0, 0, 0, 0)
    customer_ids = sorted({r["customer_id"] for r in relevant})
    referrers = _referrers(session, customer_ids) if any(r.beneficiary == "referrer" for r in rules) else {}
    members = _members(session, sorted(set(customer_ids) | set(referrers.values())))
    if not members:
        return EarnResult(0, 0, 0, 0, 0)
    multipliers = _multipliers(session, app, settings, [c for c in customer_ids if c in members])
    zone = local_zone()
    amount_rules = [r for r in rules if r.is_amount_rule]
    bonus_rules = [r for r in rules if not r.is_amount_rule]
    # Rules without conditions beyond the kind need no per-row evaluation (the common case).
    plain = {id(r): r.is_plain for r in rules}
    months = settings.expiry_months
    credits: list[tuple[Any, ...]] = []
    bonuses: dict[str, tuple[Any, ...]] = {}
    scopes: set[tuple[Any, ...]] = set()
    refunds: list[Mapping[str, Any]] = []
    rated: dict[Any, tuple[Decimal, str, str]] = {}
    conditional = [r for r in amount_rules if not plain[id(r)]]
    # A birthday-month rule never matches a member without a birthday: skip it for them.
    undated = [r for r in conditional if not r.birthday_month]
    sqlite = session.get_bind().dialect.name == "sqlite"
    plain_by_kind = {k: tuple(r for r in amount_rules if plain[id(r)] and k in r.kinds) for k in kinds}
    # Bonus rules by kind; referrer rules only matter when someone in the batch was referred.
    bonus_by_kind = {k: tuple(r for r in bonus_rules if k in r.kinds and (r.beneficiary == "customer" or referrers))
                     for k in kinds}
    # Once-per-customer bonuses already in the ledger (the first purchase bonus of a customer seen
    # in an earlier chunk): one key lookup per customer, not a candidate entry per purchase.
    for rule in bonus_rules:
        if rule.once_per == "customer":
            referred = rule.beneficiary == "referrer"
            wanted = {f"bonus:{rule.name}:c{c}": c for c in customer_ids if (referrers.get(c) if referred else c) in members}
            scopes.update((rule.name, wanted[key]) for key in existing_keys(session, wanted))
    utc = UTC
    stamp = sqlite_stamp if sqlite else _as_is
    stored_now = stamp(now)
    expiry_months: dict[str, str] = {}  # "YYYY-MM" of a purchase -> that of its lot's expiry
    for row in relevant:
        cid, when, amount, kind = row["customer_id"], row["occurred_at"], row["amount"], row["kind"]
        own = members.get(cid)
        if amount is not None and amount < 0:
            if kind == "purchase" and own is not None and when >= own.earn_from:
                refunds.append(row)
            continue
        birthday = own.birthday_month if own is not None else None
        if own is not None and amount and when >= own.earn_from:
            # Plain rules match on the kind alone; only conditional ones are evaluated per row.
            matched = plain_by_kind.get(kind, ())
            tier = multipliers.get(cid) if multipliers else None
            cache_key: Any = kind if tier is None else (kind, tier)
            candidates = conditional if birthday is not None else undated
            if candidates:
                local_month = when.astimezone(zone).month if birthday is not None else 0
                extra = tuple(r for r in candidates if r.matches(row, local_month, birthday))
                if extra:
                    matched = matched + extra
                    cache_key = (kind, tier, *map(id, extra))  # ids: hashing attrs rules is slow
            if matched:
                found = rated.get(cache_key)
                if found is None:
                    found = rated[cache_key] = (*_rate(matched, tier), suffix_rule(matched))
                rate, suffix, rule_name = found
                points = int(amount * rate)  # int() truncates: the floor of a positive Decimal
                if points > 0:
                    iid = row["id"]
                    if sqlite and when.tzinfo is utc and when.day <= 28:
                        # The stored text, and the expiry's as add_months would give it (same day and
                        # time, year and month moved): no second datetime, no second isoformat.
                        stored_when = when.isoformat(" ", "microseconds")[:26]
                        month = stored_when[:7]
                        moved = expiry_months.get(month)
                        if moved is None:
                            total = when.month - 1 + months
                            moved = expiry_months[month] = f"{when.year + total // 12:04d}-{total % 12 + 1:02d}"
                        stored_expires: Any = moved + stored_when[7:]
                    else:
                        stored_when, stored_expires = stamp(when), stamp(add_months(when, months))
                    credits.append((cid, "earn", points, stored_when, stored_expires, f"¥{amount} × {suffix}", rule_name,
                                    iid, None, f"earn:i{iid}", 0, stored_now))
        for rule in bonus_by_kind.get(kind, ()):
            target = referrers.get(cid) if rule.beneficiary == "referrer" else cid
            beneficiary = members.get(target) if target is not None else None
            if beneficiary is None or when < beneficiary.earn_from or (rule.beneficiary == "customer" and own is None):
                continue
            if rule.once_per == "customer" and (rule.name, cid) in scopes:
                continue  # the common case, decided without local time
            local = when.astimezone(zone)
            if not (plain[id(rule)] or rule.matches(row, local.month, birthday)):
                continue
            scope = rule.scope(cid, row["id"], local)
            if scope in scopes:
                continue
            scopes.add(scope)
            key = rule.scope_key(cid, row["id"], local)
            why = rule.description or rule.name
            if rule.beneficiary == "referrer":
                why = f"{why} (customer #{cid})"
            bonuses[key] = (target, "bonus", rule.fixed_points, stamp(when), stamp(add_months(when, months)), why, rule.name,
                            row["id"], None, key, 0, stored_now)
    if bonuses:
        for key in existing_keys(session, bonuses):
            del bonuses[key]
        credits.extend(bonuses.values())
    credits.sort(key=_by_customer)  # index locality: (customer_id, expires_at) pages are touched in order
    write_credits(session, credits, stored=True)
    reversed_points = shortfall = 0
    if refunds:
        reversed_points, shortfall = reverse_refunds(session, refunds, amount_rules, members, multipliers, now)
    return EarnResult(len(credits), sum(c[2] for c in credits), len(refunds), reversed_points, shortfall)


def _as_is(value: datetime) -> datetime:
    return value


def _by_customer(entry: tuple[Any, ...]) -> Any:
    return entry[0]


def suffix_rule(matched: Sequence[EarnRule]) -> str:
    """The ``rule`` column of an earn entry: the names of the amount rules that matched."""
    return matched[0].name if len(matched) == 1 else "+".join(r.name for r in matched)


def _rate(matched: Sequence[EarnRule], multiplier: tuple[Decimal, str] | None) -> tuple[Decimal, str]:
    """The combined rate (Σ rates × tier multiplier) and the reason text after the amount."""
    rate = sum((r.points_per_yuan for r in matched), Decimal(0))
    factor, tier = multiplier if multiplier else (Decimal(1), None)
    text = f"{rate.normalize()} pt/¥ ({'+'.join(r.name for r in matched)})"
    if tier is not None:
        text += f" × {factor.normalize()} tier {tier}"
    return rate * factor, text


def _amount_points(amount: Decimal, matched: Sequence[EarnRule], multiplier: tuple[Decimal, str] | None) -> tuple[int, str]:
    rate, text = _rate(matched, multiplier)
    return floor_points(Decimal(amount) * rate), f"¥{amount} × {text}"


def reverse_refunds(session: Session, refunds: Sequence[Mapping[str, Any]], amount_rules: Sequence[EarnRule],
                    members: Mapping[int, _Member], multipliers: Mapping[int, tuple[Decimal, str]],
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
    lock_accounts(session, customer_ids)
    # Only lots valid at the refund's date are drawn from (below); lots that had expired are
    # left for the expiry job, which writes off exactly what is left in them.
    keys = existing_keys(session, [f"refund:i{r['id']}" for r in refunds])
    lots: dict[int, list[Any]] = {}
    for lot in open_lots(session, customer_ids):
        lots.setdefault(lot.customer_id, []).append(lot)
    debits: list[Debit] = []
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
        points, reason = _amount_points(amount, matched, multipliers.get(cid))
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
                                      rule=suffix_rule(matched), shortfall=left, now=now), tuple(allocations)))
        taken_total += taken
        short_total += left
    write_debits(session, debits)
    return taken_total, short_total
