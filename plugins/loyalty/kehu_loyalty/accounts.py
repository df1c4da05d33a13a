"""Membership and referrals: enrol customers, backfill their earning, record who referred whom."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from attrs import frozen
from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from kehu_core.access import customer_condition, require
from kehu_core.app import Kehu
from kehu_core.customers import get_customer
from kehu_core.errors import Conflict, KehuError, Problem, ValidationError
from kehu_core.hooktypes import InteractionBatch
from kehu_core.i18n import messages
from kehu_core.models import Customer, Interaction
from kehu_core.types import utcnow
from kehu_loyalty.earning import earn_batch
from kehu_loyalty.ledger import chunks
from kehu_loyalty.models import ACCOUNTS, LEDGER, REFERRALS
from kehu_loyalty.security import ENROLL, require_programme

_ = messages("kehu_loyalty").gettext

BACKFILL_CHUNK = 5000
ROW_COLUMNS = (
    "id",
    "customer_id",
    "kind",
    "status",
    "occurred_at",
    "amount",
    "quantity",
    "product",
    "category",
    "channel",
    "salesperson",
    "satisfaction",
)


@frozen
class Enrolment:
    """The outcome of :func:`enroll`."""

    enrolled: tuple[str, ...]
    already: tuple[str, ...]
    earn_from: datetime
    backfilled_entries: int
    backfilled_points: int


def _customers(session: Session, codes: Sequence[str]) -> dict[str, Customer]:
    """The customers ``codes`` the acting user sees; one unknown, hidden or forgotten refuses all."""
    stmt = select(Customer).where(Customer.code.in_(list(codes)))
    rule = customer_condition(session)
    if rule is not None:
        stmt = stmt.where(rule)  # a customer outside the record rules is "no customer with this code"
    found = {c.code: c for c in session.scalars(stmt)}
    problems = [Problem(_("code"), _("no customer with this code"), value=c) for c in codes if c not in found]
    problems += [
        Problem(_("code"), _("this customer was forgotten"), value=c)
        for c in codes
        if c in found and found[c].forgotten_at
    ]
    if problems:
        raise ValidationError(problems, headline=_("enrolment refused; nothing was changed:"))
    return found


def enroll(
    app: Kehu,
    session: Session,
    codes: Sequence[str],
    *,
    since: datetime | None = None,
    now: datetime | None = None,
    enrolled_at: datetime | None = None,
) -> Enrolment:
    """Make the customers ``codes`` members of the points programme.

    They earn from ``now`` on, or from ``since``: their interactions since then earn at once
    (a backfill, idempotent). ``enrolled_at`` records an enrolment made earlier (data migrated
    from another system); it defaults to ``now``. Customers already enrolled are left as they
    are; an unknown or forgotten code, or a customer outside the acting user's record rules,
    refuses the whole enrolment. Needs permission ``loyalty.enroll``.

    The backfill is automatic earning, like earning from recorded purchases: it is not a
    person's change to a balance and writes no audit entry.
    """
    require(session, ENROLL, _("enrol customers in the points programme"))
    now = now or utcnow()
    enrolled_at = enrolled_at or now
    if not codes:
        raise KehuError(_("name at least one customer code to enrol"))
    customers = _customers(session, codes)
    ids = [c.id for c in customers.values()]
    existing = set(session.scalars(select(ACCOUNTS.c.customer_id).where(ACCOUNTS.c.customer_id.in_(ids))))
    new = [c for c in customers.values() if c.id not in existing]
    earn_from = since or now
    if new:
        session.execute(
            ACCOUNTS.insert(),
            [
                {
                    "customer_id": c.id,
                    "enrolled_at": enrolled_at,
                    "earn_from": earn_from,
                    "level": None,
                    "level_since": None,
                    "birthday_month": c.birthday.month if c.birthday else None,
                }
                for c in new
            ],
        )
    entries = points = 0
    if since is not None and new:
        entries, points = backfill(app, session, [c.id for c in new], since, now)
    return Enrolment(
        tuple(sorted(c.code for c in new)),
        tuple(sorted(c.code for c in customers.values() if c.id in existing)),
        earn_from,
        entries,
        points,
    )


def sync_birthdays(session: Session, customer_ids: Sequence[int]) -> None:
    """Copy these customers' birthday months onto their accounts (customers who are not members are left out).

    Earning reads the month from the account (``loyalty_accounts.birthday_month``);
    the plugin calls this whenever the core reports a birthday changed or a customer forgotten.
    """
    month = extract("month", Customer.birthday)
    current = select(month).where(Customer.id == ACCOUNTS.c.customer_id).scalar_subquery()
    for part in chunks(sorted(set(customer_ids))):
        session.execute(
            ACCOUNTS.update().where(ACCOUNTS.c.customer_id.in_(part)).values(birthday_month=current)
        )


def backfill(
    app: Kehu, session: Session, customer_ids: Sequence[int], since: datetime, now: datetime
) -> tuple[int, int]:
    """Run the earn rules over these customers' interactions since ``since``, oldest first (idempotent)."""
    table = Interaction.__table__
    entries = points = 0
    for part in chunks(sorted(customer_ids), 500):
        stmt = (
            select(*(table.c[c] for c in ROW_COLUMNS))
            .where(table.c.customer_id.in_(part), table.c.occurred_at >= since, table.c.occurred_at <= now)
            .order_by(table.c.occurred_at, table.c.id)
        )
        result = session.execute(stmt.execution_options(yield_per=BACKFILL_CHUNK)).mappings()
        for rows in result.partitions(BACKFILL_CHUNK):
            earned = earn_batch(
                app, session, InteractionBatch(rows=[dict(r) for r in rows], source="backfill"), now
            )
            entries += earned.entries
            points += earned.points
    return entries, points


@frozen
class CatchUp:
    """The outcome of :func:`catch_up`: what the interactions without ledger entries earned."""

    members: int
    interactions: int
    since: datetime | None
    entries: int
    points: int
    refunds: int
    reversed_points: int
    shortfall: int


def catch_up(
    app: Kehu,
    session: Session,
    *,
    since: datetime | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> CatchUp:
    """Earn what every member's interactions should have earned and did not: points of purchases
    and feedback, bonuses, and refunds taken back, for interactions recorded while loyalty was
    not loaded (``kehu --without-plugin loyalty ...``) or before a crash of the earning hook.

    The earn rules run over the members' interactions from their ``earn_from`` (or from
    ``since``, when later) up to ``now``, oldest first, exactly as when they were recorded;
    every entry is keyed by its interaction (``earn:i<id>``, ``refund:i<id>``, a bonus by its
    scope), so an interaction that earned already earns nothing again: running it twice changes
    nothing. Members' birthday months are refreshed from their customers first (a birthday
    changed while loyalty was not loaded). ``progress(done, total)`` is called with the
    interactions read. Needs ``loyalty.manage`` and a user who sees every customer (it acts on
    every member). Automatic earning: no audit entry, like earning from recorded purchases.

    The rates are today's rules and settings, as for ``enroll --since``: an interaction recorded
    before a change of the rules earns under the new ones.
    """
    require_programme(session, _("catch up the points of every member"))
    now = now or utcnow()
    members = dict(session.execute(select(ACCOUNTS.c.customer_id, ACCOUNTS.c.earn_from)).all())
    if not members:
        return CatchUp(0, 0, since, 0, 0, 0, 0, 0)
    sync_birthdays(session, list(members))
    table = Interaction.__table__
    first = min(members.values())
    start = max(first, since) if since is not None else first
    total = session.scalar(
        select(func.count())
        .select_from(table)
        .where(
            table.c.customer_id.in_(select(ACCOUNTS.c.customer_id)),
            table.c.occurred_at >= start,
            table.c.occurred_at <= now,
        )
    )
    done = 0
    if progress:
        progress(0, total)
    for part in chunks(sorted(members), 500):
        stmt = (
            select(*(table.c[c] for c in ROW_COLUMNS))
            .where(table.c.customer_id.in_(part), table.c.occurred_at >= start, table.c.occurred_at <= now)
            .order_by(table.c.occurred_at, table.c.id)
        )
        result = session.execute(stmt.execution_options(yield_per=BACKFILL_CHUNK)).mappings()
        for rows in result.partitions(BACKFILL_CHUNK):
            batch = InteractionBatch(rows=[dict(r) for r in rows], source="backfill")
            earn_batch(app, session, batch, now)
            done += len(batch)
            if progress:
                progress(done, total)
    # What this run wrote: every entry it wrote is stamped created_at = now (exact to the
    # microsecond), so a re-run's replayed refunds, which write nothing, are not counted.
    written = {
        kind: (int(n), int(pts or 0), int(short or 0))
        for kind, n, pts, short in session.execute(
            select(LEDGER.c.kind, func.count(), func.sum(LEDGER.c.points), func.sum(LEDGER.c.shortfall))
            .where(LEDGER.c.created_at == now, LEDGER.c.kind.in_(("earn", "bonus", "refund")))
            .group_by(LEDGER.c.kind)
        )
    }
    credits = [written.get(k, (0, 0, 0)) for k in ("earn", "bonus")]
    refunds = written.get("refund", (0, 0, 0))
    return CatchUp(
        len(members),
        done,
        since,
        sum(n for n, _, _ in credits),
        sum(p for _, p, _ in credits),
        refunds[0],
        -refunds[1],
        refunds[2],
    )


@frozen
class ReferralRecord:
    """A recorded referral."""

    referrer: str
    referred: str
    recorded_at: datetime


def record_referral(
    session: Session, referrer_code: str, referred_code: str, now: datetime | None = None
) -> ReferralRecord:
    """Record that ``referrer`` brought ``referred`` (each customer is referred at most once).

    Needs permission ``loyalty.enroll``; both customers must be ones the acting user sees."""
    require(session, ENROLL, _("record referrals"))
    if referrer_code == referred_code:
        raise ValidationError(
            [Problem(_("referred"), _("a customer cannot refer themselves"), value=referred_code)],
            headline=_("referral refused; nothing was changed:"),
        )
    found = _customers(session, [referrer_code, referred_code])
    referrer, referred = found[referrer_code], found[referred_code]
    current = session.execute(
        select(REFERRALS.c.referrer_id).where(REFERRALS.c.referred_id == referred.id)
    ).scalar()
    if current is not None:
        by = session.get(Customer, current)
        raise Conflict(
            _("customer {referred} was already referred by {referrer}; nothing was changed").format(
                referred=referred_code, referrer=by.code if by else current
            )
        )
    now = now or utcnow()
    session.execute(
        REFERRALS.insert().values(referred_id=referred.id, referrer_id=referrer.id, recorded_at=now)
    )
    return ReferralRecord(referrer_code, referred_code, now)


def referrals_of(session: Session, customer_id: int) -> list[dict[str, Any]]:
    """Customers this one referred (those the acting user sees)."""
    stmt = (
        select(Customer.code, Customer.name, REFERRALS.c.recorded_at)
        .join(Customer, Customer.id == REFERRALS.c.referred_id)
        .where(REFERRALS.c.referrer_id == customer_id)
        .order_by(REFERRALS.c.recorded_at)
    )
    rule = customer_condition(session)
    if rule is not None:
        stmt = stmt.where(rule)
    rows = session.execute(stmt).all()
    return [{"code": code, "name": name, "recorded_at": at} for code, name, at in rows]


def require_customer(session: Session, code: str) -> Customer:
    """The customer ``code`` or :class:`~kehu_core.errors.NotFound`, also when the acting
    user's record rules hide it."""
    return get_customer(session, code)
