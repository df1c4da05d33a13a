"""The rewards catalogue and redemption (balance and stock checked, oldest points spent first)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from attrs import frozen
from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core import audit
from kehu_core.access import require
from kehu_core.app import Kehu
from kehu_core.errors import Conflict, KehuError, NotFound, Problem, ValidationError
from kehu_core.i18n import messages
from kehu_core.privacy import require_not_forgotten
from kehu_core.types import utcnow
from kehu_loyalty import events
from kehu_loyalty.expiry import expire_points
from kehu_loyalty.ledger import (
    Debit,
    add_months,
    allocate,
    available,
    balance,
    entry_row,
    existing_keys,
    expired_not_written_off,
    lock_accounts,
    member,
    next_ids,
    open_lots,
    write_credits,
    write_debits,
)
from kehu_loyalty.models import MAX_POINTS, MAX_STOCK, REWARDS
from kehu_loyalty.records import Redemption
from kehu_loyalty.security import ADJUST, MANAGE, REDEEM
from kehu_loyalty.settings import load_settings

_, ngettext = messages("kehu_loyalty").functions()


class InsufficientPoints(Conflict):
    """The customer's balance does not cover the redemption; nothing was changed."""


class OutOfStock(Conflict):
    """The reward's stock does not cover the redemption; nothing was changed."""


@frozen
class RewardRecord:
    """A reward as the API returns it."""

    code: str
    name: str
    cost_points: int
    stock: int | None
    valid_from: datetime | None
    valid_until: datetime | None
    active: bool


def add_reward(
    session: Session,
    code: str,
    name: str,
    cost_points: int,
    stock: int | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> RewardRecord:
    """Add a reward to the catalogue (``stock`` ``None``: unlimited). Needs ``loyalty.manage``."""
    require(session, MANAGE, _("add rewards"))
    problems = []
    if not code.strip():
        problems.append(Problem(_("code"), _("required")))
    if not name.strip():
        problems.append(Problem(_("name"), _("required")))
    if not 0 < cost_points <= MAX_POINTS:
        reason = _("must be a positive number of points, at most {high}").format(high=MAX_POINTS)
        problems.append(Problem(_("cost"), reason, value=str(cost_points)))
    if stock is not None and not 0 <= stock <= MAX_STOCK:
        reason = _("must be between 0 and {high}").format(high=MAX_STOCK)
        problems.append(Problem(_("stock"), reason, value=str(stock)))
    if valid_from and valid_until and valid_until <= valid_from:
        problems.append(Problem("valid_until", _("must be after valid_from")))
    if problems:
        raise ValidationError(problems, headline=_("reward refused; nothing was changed:"))
    if session.scalar(select(REWARDS.c.id).where(REWARDS.c.code == code)) is not None:
        raise Conflict(_("a reward with code {code!r} already exists").format(code=code))
    session.execute(
        REWARDS.insert().values(
            code=code,
            name=name,
            cost_points=cost_points,
            stock=stock,
            valid_from=valid_from,
            valid_until=valid_until,
            active=True,
            created_at=utcnow(),
        )
    )
    return get_reward(session, code)


def get_reward(session: Session, code: str) -> RewardRecord:
    """The reward ``code`` or :class:`NotFound`."""
    row = session.execute(select(REWARDS).where(REWARDS.c.code == code)).mappings().first()
    if row is None:
        raise NotFound(_("no reward with code {code!r}; see `kehu loyalty rewards list`").format(code=code))
    return RewardRecord(
        row["code"],
        row["name"],
        row["cost_points"],
        row["stock"],
        row["valid_from"],
        row["valid_until"],
        row["active"],
    )


def list_rewards(session: Session, include_inactive: bool = False) -> list[RewardRecord]:
    """The catalogue, cheapest first."""
    stmt = select(REWARDS.c.code).order_by(REWARDS.c.cost_points, REWARDS.c.code)
    if not include_inactive:
        stmt = stmt.where(REWARDS.c.active.is_(True))
    return [get_reward(session, code) for code in session.scalars(stmt)]


def restock(session: Session, code: str, stock: int | None, active: bool | None = None) -> RewardRecord:
    """Set a reward's stock (``None``: unlimited) and/or whether it is offered. Needs ``loyalty.manage``."""
    require(session, MANAGE, _("restock or withdraw rewards"))
    get_reward(session, code)
    if stock is not None and not 0 <= stock <= MAX_STOCK:
        reason = _("must be between 0 and {high}").format(high=MAX_STOCK)
        raise ValidationError(
            [Problem(_("stock"), reason, value=str(stock))], headline=_("reward not changed:")
        )
    values: dict[str, Any] = {"stock": stock}
    if active is not None:
        values["active"] = active
    session.execute(REWARDS.update().where(REWARDS.c.code == code).values(**values))
    return get_reward(session, code)


def redeem(
    app: Kehu,
    session: Session,
    code: str,
    reward: str,
    quantity: int = 1,
    *,
    key: str | None = None,
    now: datetime | None = None,
) -> Redemption:
    """Spend member ``code``'s points on ``quantity`` of ``reward``, oldest points first.

    The account is locked, the member's points that expired by ``now`` written off first
    (``kehu_points_expired``), the balance and the stock checked, then the oldest lots spent.
    Refused, changing nothing, when the balance or the stock is short
    (:class:`~kehu_loyalty.rewards.InsufficientPoints`, :class:`~kehu_loyalty.rewards.OutOfStock`).
    Then ``kehu_points_redeemed`` fires with the :class:`Redemption`, inside the session's
    transaction (a listener that raises undoes it).

    Needs permission ``loyalty.redeem``; a customer outside the acting user's record rules is
    "no customer with code ...". Audited: entity ``points``, the customer's code, ``redeemed``.
    """
    require(session, REDEEM, _("redeem points"))
    now = now or utcnow()
    if quantity < 1:
        raise ValidationError(
            [Problem(_("quantity"), _("must be at least 1"), value=str(quantity))],
            headline=_("redemption refused; nothing was changed:"),
        )
    customer, _account = member(session, code)
    lock_accounts(session, [customer.id])
    key = key or f"redeem:{uuid.uuid4().hex}"
    if existing_keys(session, [key]):
        raise Conflict(_("redemption {key!r} was already applied; nothing was changed").format(key=key))
    offer = (
        session.execute(select(REWARDS).where(REWARDS.c.code == reward).with_for_update()).mappings().first()
    )
    if offer is None:
        raise NotFound(_("no reward with code {code!r}; see `kehu loyalty rewards list`").format(code=reward))
    if (
        not offer["active"]
        or (offer["valid_from"] and now < offer["valid_from"])
        or (offer["valid_until"] and now >= offer["valid_until"])
    ):
        raise KehuError(
            _("reward {code} ({name}) is not offered at this time; nothing was changed").format(
                code=reward, name=offer["name"]
            )
        )
    if offer["stock"] is not None and offer["stock"] < quantity:
        raise OutOfStock(
            _("reward {code} ({name}) has {left} left, {quantity} asked; nothing was changed").format(
                code=reward, name=offer["name"], left=offer["stock"], quantity=quantity
            )
        )
    expire_points(app, session, now, [customer.id])
    cost = offer["cost_points"] * quantity
    lots = open_lots(session, [customer.id], valid_at=now)
    available = sum(lot.remaining for lot in lots)
    if available < cost:
        # Roll back the expiry just written too: a refused command changes nothing.
        raise InsufficientPoints(
            ngettext(
                "customer {code} has {n} point; {quantity} x {reward} costs {cost}; nothing was changed",
                "customer {code} has {n} points; {quantity} x {reward} costs {cost}; nothing was changed",
                available,
            ).format(code=code, n=available, quantity=quantity, reward=reward, cost=cost)
        )
    allocations, left = allocate(lots, cost)
    assert left == 0
    reason = _("redeemed {quantity} x {name} ({code})").format(
        quantity=quantity, name=offer["name"], code=reward
    )
    [entry_id] = write_debits(
        session,
        [
            Debit(
                entry_row(customer.id, "redeem", -cost, now, reason, key, reward_id=offer["id"], now=now),
                tuple(allocations),
            )
        ],
    )
    if offer["stock"] is not None:
        session.execute(
            REWARDS.update().where(REWARDS.c.id == offer["id"]).values(stock=REWARDS.c.stock - quantity)
        )
    left_over = balance(session, customer.id)
    audit.record(
        session,
        "points",
        customer.code,
        "redeemed",
        {"points": -cost, "reward": reward, "quantity": quantity, "balance": left_over, "entry": entry_id},
        customer_id=customer.id,
    )
    redemption = Redemption(code, reward, quantity, cost, left_over, entry_id, tuple(allocations))
    events.redeemed(app, session, redemption)
    return redemption


def adjust(
    app: Kehu,
    session: Session,
    code: str,
    points: int,
    reason: str,
    *,
    key: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Award ``points`` to member ``code`` by hand (a goodwill gesture, an event).

    The points are a lot with the programme's usual expiry. ``key`` makes the award
    idempotent: a second award with the same key is refused. Returns the customer, the
    points, the key, the new balance (the ledger's sum) and the points available to spend
    (less those expired by ``now`` and not yet written off). Fires ``kehu_points_earned``
    (an ``adjust`` entry, rule ``manual``) inside the session's transaction. (``kehu loyalty
    earn``; the public API's ``earn_points``.)

    Needs permission ``loyalty.adjust``; a customer outside the acting user's record rules is
    "no customer with code ...". Audited: entity ``points``, the customer's code, ``earned``
    (the points and the new balance; not the reason, which is free text).
    """
    require(session, ADJUST, _("give points by hand"))
    now = now or utcnow()
    problems = []
    if points <= 0:
        why = _("must be a positive whole number (spend points with `kehu loyalty redeem`)")
        problems.append(Problem(_("points"), why, value=str(points)))
    elif points > MAX_POINTS:
        why = _("at most {high} in one entry").format(high=MAX_POINTS)
        problems.append(Problem(_("points"), why, value=str(points)))
    if not reason.strip():
        problems.append(Problem(_("reason"), _("required: say why the points are given")))
    if problems:
        raise ValidationError(problems, headline=_("points not awarded; nothing was changed:"))
    customer, _account = member(session, code)
    require_not_forgotten(customer, _("it accepts no new personal data (the reason of a manual entry)"))
    key = key or f"adjust:{uuid.uuid4().hex}"
    if existing_keys(session, [key]):
        raise Conflict(_("an entry with key {key!r} already exists; nothing was changed").format(key=key))
    months = load_settings(session).expiry_months
    ids = next_ids(session, 1) if events.listened(app, events.EARNED) else None
    write_credits(
        session,
        [
            entry_row(
                customer.id,
                "adjust",
                points,
                now,
                reason.strip(),
                key,
                expires_at=add_months(now, months),
                rule="manual",
                now=now,
            )
        ],
        ids,
    )
    new_balance = balance(session, customer.id)
    audit.record(
        session,
        "points",
        customer.code,
        "earned",
        {"points": points, "rule": "manual", "balance": new_balance},
        customer_id=customer.id,
    )
    events.earned(app, session, ids or [])
    spendable = available(new_balance, expired_not_written_off(session, customer.id, now))
    return {"customer": code, "points": points, "key": key, "balance": new_balance, "available": spendable}
