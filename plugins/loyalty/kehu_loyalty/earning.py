"""Automatic earning: a batch of recorded interactions becomes ledger entries in one go.

Called from ``kehu_interactions_recorded`` in the importing transaction. Two paths write
the same ledger:

- **SQL** (the default): the rules are compiled into a few ``INSERT ... SELECT`` statements
  run once per batch over the batch's interactions (:mod:`kehu_loyalty.earn_sql`).
- **Python**: the rules are evaluated row by row over the batch's rows and the entries written
  with one executemany. Used when the batch cannot be compiled (for instance a birthday rule
  on SQLite with a local zone whose UTC offset changes, see :func:`plan`).

Refunds (purchases with a negative amount) go through :func:`reverse_refunds` on both paths.

Earning is automatic: it follows from interactions recorded or imported, not from a person
changing a balance, so it needs no permission of loyalty and writes no audit entry (the
interactions themselves are the record). Only the changes people make by hand (``kehu loyalty
earn``, ``redeem``) are audited.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from attrs import frozen
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.app import Kehu
from kehu_core.hooktypes import InteractionBatch
from kehu_core.i18n import messages
from kehu_core.interactions import in_values
from kehu_core.types import utcnow
from kehu_loyalty import earn_sql, events
from kehu_loyalty.ledger import (
    add_months,
    chunks,
    driver_rows,
    existing_keys,
    next_ids,
    stored_utc,
    time_storer,
    write_credits,
)
from kehu_loyalty.models import ACCOUNTS, REASON_WIDTH, REFERRALS
from kehu_loyalty.rates import CENT, Rate, amount_reason, cents_of, rate_of
from kehu_loyalty.refunds import Member, reverse_refunds
from kehu_loyalty.rules import EarnRule, EarnRuleError, all_rules
from kehu_loyalty.settings import Settings, load_settings
from kehu_loyalty.tiers import customer_tiers

_ = messages("kehu_loyalty").gettext

Path = Literal["auto", "sql", "python"]


@frozen
class EarnResult:
    """What one batch earned."""

    entries: int
    points: int
    refunds: int
    reversed_points: int
    shortfall: int


EMPTY = EarnResult(0, 0, 0, 0, 0)


def _members(session: Session, customer_ids: Sequence[int]) -> dict[int, Member]:
    """Members among ``customer_ids``: when they earn from, and their birthday month.

    Read with the driver's own values (this runs for every earning group, and SQLAlchemy's
    per-value result processing was most of its cost), each stored time converted once."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    among = "IN (SELECT value FROM json_each(?))" if sqlite else "= ANY(%s)"
    sql = f"SELECT customer_id, earn_from, birthday_month FROM {ACCOUNTS.name} WHERE customer_id {among}"
    found: dict[int, Member] = {}
    moments: dict[Any, datetime | None] = {}
    for part in chunks(sorted(set(customer_ids))):
        for cid, earn_from, month in driver_rows(
            session, sql, (json.dumps(list(part)) if sqlite else list(part),)
        ):
            found[cid] = Member(stored_utc(earn_from, moments), month)  # type: ignore[arg-type]  # earn_from is NOT NULL
    return found


def _member_ids(session: Session, customer_ids: Sequence[int]) -> list[int]:
    dialect = session.get_bind().dialect.name
    found: list[int] = []
    for part in chunks(sorted(set(customer_ids))):
        found += session.scalars(
            select(ACCOUNTS.c.customer_id).where(in_values(ACCOUNTS.c.customer_id, part, dialect))
        )
    return sorted(found)


def _referrers(session: Session, customer_ids: Sequence[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    dialect = session.get_bind().dialect.name
    for part in chunks(list(customer_ids)):
        found.update(
            session.execute(
                select(REFERRALS.c.referred_id, REFERRALS.c.referrer_id).where(
                    in_values(REFERRALS.c.referred_id, part, dialect)
                )
            ).all()
        )
    return found


def earn_rules(app: Kehu, session: Session) -> tuple[Settings, list[EarnRule]]:
    """The settings and every rule in force: built-in ones and those of installed plugins."""
    settings = load_settings(session)
    try:
        contributed = app.hook.kehu_loyalty_earn_rules()
    except EarnRuleError as refused:  # a plugin built a bad rule: name the plugin, in one line
        plugin = app.culprit(refused, "kehu_loyalty_earn_rules")
        raise EarnRuleError(_("plugin {plugin!r}: {error}").format(plugin=plugin, error=refused)) from None
    return settings, all_rules(settings, contributed)


def _multipliers(
    app: Kehu, session: Session, settings: Settings, member_ids: list[int]
) -> dict[int, tuple[Decimal, str]]:
    """``{customer: (factor, tier)}`` for members whose tier (THE tier, from the
    ``kehu_customer_tiers`` hook) has a multiplier."""
    if not settings.tier_multipliers or not member_ids:
        return {}
    tiers = customer_tiers(app, session, member_ids)
    return {
        cid: (settings.tier_multipliers[t], t) for cid, t in tiers.items() if t in settings.tier_multipliers
    }


def _tiers_wanted(app: Kehu, settings: Settings) -> bool:
    """Whether any installed plugin could give tiers with a multiplier (else no lookup at all)."""
    if not settings.tier_multipliers:
        return False
    return bool(app.hook_caller("kehu_customer_tiers").get_hookimpls())


@frozen
class Plan:
    """How a batch is earned: ``sql``, or ``python`` with the reason SQL could not be used.

    ``offset``: the local zone's fixed UTC offset in minutes over the batch's years (SQLite), if any.
    """

    path: str
    why: str | None = None
    offset: int | None = None


def plan(
    session: Session, rules: Sequence[EarnRule], batch: InteractionBatch, multipliers: Sequence[Decimal]
) -> Plan:
    """Whether this batch can be earned in SQL, from the rules, the dialect, the local zone and
    the amounts."""
    dialect = session.get_bind().dialect.name
    offset: int | None = None
    if dialect == "sqlite" and earn_sql.needs_local_time(rules):
        times = batch.column("occurred_at")
        offset = earn_sql.fixed_offset_minutes(calendar.zone(), min(times), max(times))
    # Both dialects: points past 64 bits are refused by the Python path, in one line.
    amounts = [a for a in batch.column("amount") if a is not None]
    max_cents = cents_of(max(max(amounts, default=Decimal(0)), -min(amounts, default=Decimal(0))))
    boosts = [r.multiplier for r in rules if r.multiplier is not None]
    bound = max(
        earn_sql.numerator_bound([r for r in rules if r.is_amount_rule], [Decimal(1), *multipliers], boost)
        for boost in [Decimal(1), *boosts]
    )
    why = earn_sql.compilable(rules, dialect, offset, max_cents, bound)
    return Plan("python", why) if why else Plan("sql", offset=offset)


def earn_batch(
    app: Kehu,
    session: Session,
    batch: InteractionBatch,
    now: datetime | None = None,
    path: Path = "auto",
) -> EarnResult:
    """Evaluate every earn rule over ``batch`` (interactions already in ``interactions``) and
    write the entries.

    Only members earn, and only for interactions at or after their ``earn_from``; only done
    interactions count. Amount rules of one interaction make one ``earn`` entry keyed
    ``earn:i<id>`` whose points are ``floor(amount × Σ rates × tier multiplier)``; each bonus
    rule makes a ``bonus`` entry keyed by its ``once_per`` scope, on the earliest qualifying
    interaction of the batch (``occurred_at``, then id). Replaying rows already earned
    writes nothing (the keys exist). ``path``: ``auto`` uses SQL when :func:`plan` allows it;
    ``sql`` and ``python`` force one (tests compare them); forcing ``sql`` on a batch that
    cannot be compiled raises ``ValueError``. The SQL path reads only the batch's ids and a
    few columns; the Python path reads its rows.

    When a plugin listens, ``kehu_points_earned`` fires once with every ``earn`` and ``bonus``
    entry written, inside the session's transaction; when none does, nothing is built for it.

    Automatic earning writes no audit entry (see the module docstring).
    """
    now = now or utcnow()
    if not len(batch):
        return EMPTY
    settings, rules = earn_rules(app, session)
    chosen: str = path
    if path != "python":
        found = plan(session, rules, batch, list(settings.tier_multipliers.values()))
        if path == "sql" and found.path != "sql":
            raise ValueError(f"this batch cannot be earned in SQL: {found.why}")
        chosen = found.path
    written: list[int] | None = [] if events.listened(app, events.EARNED) else None
    if chosen == "sql":
        result = _earn_sql(app, session, batch, settings, rules, now, found.offset, written)
    else:
        result = _earn_python(app, session, batch, settings, rules, now, written)
    if written:
        events.earned(app, session, written)
    return result


#: Customers remembered per once-per-customer bonus rule during one write (about 60 MB at most).
MAX_AWARDED = 1_000_000
_AWARDED = "kehu_loyalty.awarded"


def awarded(session: Session, rule: str) -> set[int]:
    """Customers known, during the current write, to hold the once-per-customer bonus ``rule``.

    A first-purchase bonus is checked with one key lookup per purchase; an import of
    1,000,000 purchases by 100,000 customers asked a million times about a hundred thousand
    keys. Once a customer is known to hold it (the ledger is append-only: a key never goes
    away), their later purchases in the same write are not looked up again. Forgotten at
    the end of each write (:func:`forget_awarded`).
    """
    known = session.info.get(_AWARDED)
    if known is None:
        known = session.info[_AWARDED] = {}
        # A key written in a transaction that rolls back is gone: so is what was learnt.
        event.listen(session, "after_soft_rollback", lambda s, previous: forget_awarded(s), once=True)
    return known.setdefault(rule, set())


def forget_awarded(session: Session) -> None:
    """Drop what :func:`awarded` remembers (the write is over)."""
    session.info.pop(_AWARDED, None)


def _refund_rows(batch: InteractionBatch) -> list[Mapping[str, Any]]:
    """The batch's refunds: done purchases with a negative amount (only their rows are built)."""
    rows = batch.rows
    negative = [n for n, amount in enumerate(batch.column("amount")) if amount is not None and amount < 0]
    return [
        row
        for row in map(rows.__getitem__, negative)
        if row["kind"] == "purchase" and row["status"] == "done"
    ]


def _refunds_of(
    app: Kehu,
    session: Session,
    candidates: Sequence[Mapping[str, Any]],
    settings: Settings,
    amount_rules: Sequence[EarnRule],
    now: datetime,
) -> tuple[int, int, int]:
    """Reverse the refunds among ``candidates`` (see :func:`_refund_rows`) by members who earn by then."""
    if not candidates:
        return 0, 0, 0
    members = _members(session, [r["customer_id"] for r in candidates])
    refunds = [
        r
        for r in candidates
        if r["customer_id"] in members and r["occurred_at"] >= members[r["customer_id"]].earn_from
    ]
    if not refunds:
        return 0, 0, 0
    multipliers = (
        _multipliers(app, session, settings, sorted({r["customer_id"] for r in refunds}))
        if _tiers_wanted(app, settings)
        else {}
    )
    taken, short = reverse_refunds(session, refunds, amount_rules, members, multipliers, now)
    return len(refunds), taken, short


def _earn_sql(
    app: Kehu,
    session: Session,
    batch: InteractionBatch,
    settings: Settings,
    rules: Sequence[EarnRule],
    now: datetime,
    offset: int | None,
    written: list[int] | None = None,
) -> EarnResult:
    """The SQL path: one statement per tier group for the amount rules, one per bonus rule.

    ``written``: the ids of the entries written are added to it, when given."""
    zone = calendar.zone()
    d = earn_sql.SqlDialect(session.get_bind().dialect.name, getattr(zone, "key", str(zone)), offset)
    ids = batch.ids
    stored_now = time_storer(session)(now)
    months = settings.expiry_months
    amount_rules = [r for r in rules if r.per_yuan]
    points: list[int] = []
    last_id = earn_sql.last_entry_id(session) if d.sqlite else 0
    returned = None if d.sqlite else written  # SQLite finds them past last_id instead
    if any(r.is_amount_rule for r in amount_rules):
        groups = [earn_sql.TierGroup(Decimal(1), None, None)]
        if _tiers_wanted(app, settings):
            buyers = [
                c
                for c, a in zip(batch.column("customer_id"), batch.column("amount"))
                if a is not None and a > 0
            ]
            multipliers = _multipliers(app, session, settings, _member_ids(session, buyers))
            by_tier: dict[tuple[Decimal, str], list[int]] = {}
            for cid, multiplier in multipliers.items():
                by_tier.setdefault(multiplier, []).append(cid)
            groups = [
                earn_sql.TierGroup(factor, tier, tuple(sorted(cids)))
                for (factor, tier), cids in sorted(by_tier.items())
            ]
            groups.append(earn_sql.TierGroup(Decimal(1), None, None, tuple(sorted(multipliers))))
        points += earn_sql.earn_amounts(
            session, d, ids, amount_rules, groups, rate_of, months, stored_now, returned
        )
    points += _earn_bonuses_sql(
        session, d, batch, [r for r in rules if r.is_bonus_rule], months, stored_now, returned
    )
    entries, total = earn_sql.written_since(session, last_id) if d.sqlite else (len(points), sum(points))
    if written is not None and d.sqlite and entries:
        written += earn_sql.earned_since(session, last_id)
    refunds, taken, short = _refunds_of(app, session, _refund_rows(batch), settings, amount_rules, now)
    return EarnResult(entries, total, refunds, taken, short)


def _earn_bonuses_sql(
    session: Session,
    d: Any,
    batch: InteractionBatch,
    bonus_rules: Sequence[EarnRule],
    months: int,
    stored_now: Any,
    written: list[int] | None = None,
) -> list[int]:
    """One statement per bonus rule that can award anything in this batch; the points written
    (PostgreSQL; the entries' ids are added to ``written`` when given)."""
    kinds = set(batch.column("kind"))
    buyers = set(batch.column("customer_id"))
    points: list[int] = []
    for rule in bonus_rules:
        if not kinds.intersection(rule.kinds):  # a feedback bonus has nothing to do in a purchases file
            continue
        if rule.beneficiary == "referrer" and not earn_sql.any_referral(session):
            continue  # nobody was referred: no referrer to reward
        if rule.once_per != "customer":
            points += earn_sql.earn_bonus(session, d, batch.ids, rule, months, stored_now, entry_ids=written)
            continue
        holders = awarded(session, rule.name)
        unknown = sorted(buyers - holders)
        if unknown:
            points += earn_sql.earn_bonus(
                session, d, batch.ids, rule, months, stored_now, only=unknown, entry_ids=written
            )
            if len(holders) < MAX_AWARDED:
                holders |= earn_sql.holding_bonus(session, d, rule, unknown)
    return points


def _earn_python(
    app: Kehu,
    session: Session,
    batch: InteractionBatch,
    settings: Settings,
    rules: Sequence[EarnRule],
    now: datetime,
    written: list[int] | None = None,
) -> EarnResult:
    """The Python path: the rules evaluated row by row, the entries written with one executemany
    (with ids reserved first, added to ``written``, when it is given)."""
    rows = list(batch.rows)
    kinds = {k for r in rules for k in r.kinds} | {"purchase"}
    relevant = sorted((r for r in rows if r["kind"] in kinds and r["status"] == "done"), key=_in_time)
    if not relevant:
        return EMPTY
    customer_ids = sorted({r["customer_id"] for r in relevant})
    referrers = _referrers(session, customer_ids) if any(r.beneficiary == "referrer" for r in rules) else {}
    members = _members(session, sorted(set(customer_ids) | set(referrers.values())))
    if not members:
        return EMPTY
    multipliers = (
        _multipliers(app, session, settings, [c for c in customer_ids if c in members])
        if _tiers_wanted(app, settings)
        else {}
    )
    zone = calendar.zone()
    amount_rules = [r for r in rules if r.per_yuan] if any(r.is_amount_rule for r in rules) else []
    bonus_rules = [r for r in rules if r.is_bonus_rule]
    yearly = any(r.every_year for r in amount_rules)
    months = settings.expiry_months
    stamp = time_storer(session)
    stored_now = stamp(now)
    credits: list[tuple[Any, ...]] = []
    bonuses: dict[str, tuple[Any, ...]] = {}
    scopes: set[tuple[Any, ...]] = set()
    refunds = False
    rated: dict[Any, Rate] = {}
    for row in relevant:
        cid, when, amount, kind = row["customer_id"], row["occurred_at"], row["amount"], row["kind"]
        own = members.get(cid)
        if amount is not None and amount < 0:
            refunds = refunds or (kind == "purchase" and own is not None)
            continue
        if amount is not None and amount != amount.quantize(CENT):
            amount = amount.quantize(CENT)  # as stored: conditions and points see the stored amount
            row = {**row, "amount": amount}
        birthday = own.birthday_month if own is not None else None
        local_day = None
        if yearly:  # the company-local day, worked out once for every rule of the row
            local_day = when.astimezone(zone)
            local_month = local_day.month
        else:
            local_month = when.astimezone(zone).month if birthday is not None else 0
        if own is not None and amount and when >= own.earn_from:
            matched = tuple(r for r in amount_rules if r.matches(row, local_month, birthday, local_day))
            if matched:
                tier = multipliers.get(cid)
                rate_key = (tier, *map(id, matched))  # ids: hashing attrs rules is slow
                rate = rated.get(rate_key)
                if rate is None:
                    rate = rated[rate_key] = rate_of(matched, tier)
                cents = cents_of(amount)
                points = rate.points(cents)
                if points > 0:
                    iid = row["id"]
                    credits.append(
                        (
                            cid,
                            "earn",
                            points,
                            stamp(when),
                            stamp(add_months(when, months)),
                            amount_reason(cents, rate),
                            rate.rule,
                            iid,
                            None,
                            f"earn:i{iid}",
                            0,
                            stored_now,
                        )
                    )
        for rule in bonus_rules:
            if kind not in rule.kinds:
                continue
            target = referrers.get(cid) if rule.beneficiary == "referrer" else cid
            beneficiary = members.get(target) if target is not None else None
            if beneficiary is None or when < beneficiary.earn_from:
                continue
            local = when.astimezone(zone)
            if not rule.matches(row, local.month, birthday, local):
                continue
            scope = rule.scope(cid, row["id"], local)
            if scope in scopes:
                continue
            scopes.add(scope)
            key = rule.scope_key(cid, row["id"], local)
            why = rule.description or rule.name
            if rule.beneficiary == "referrer":
                why = f"{why} (customer #{cid})"
            bonuses[key] = (
                target,
                "bonus",
                rule.fixed_points,
                stamp(when),
                stamp(add_months(when, months)),
                why[:REASON_WIDTH],
                rule.name,
                row["id"],
                None,
                key,
                0,
                stored_now,
            )
    if credits:  # rows earned before (a backfill over interactions seen already) earn nothing again
        done = existing_keys(session, [c[9] for c in credits])
        credits = [c for c in credits if c[9] not in done] if done else credits
    if bonuses:
        for key in existing_keys(session, bonuses):
            del bonuses[key]
        credits.extend(bonuses.values())
    credits.sort(key=_by_customer)  # index locality: the customer index's pages are touched in order
    reserved = next_ids(session, len(credits)) if written is not None and credits else None
    write_credits(session, credits, reserved, stored=True)
    if written is not None and reserved:
        written += reserved
    refunded = taken = short = 0
    if refunds:
        refunded, taken, short = _refunds_of(app, session, _refund_rows(batch), settings, amount_rules, now)
    return EarnResult(len(credits), sum(c[2] for c in credits), refunded, taken, short)


def _in_time(row: Mapping[str, Any]) -> tuple[datetime, int]:
    return row["occurred_at"], row["id"]


def _by_customer(entry: tuple[Any, ...]) -> Any:
    return entry[0]
