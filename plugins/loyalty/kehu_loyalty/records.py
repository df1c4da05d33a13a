"""The values loyalty's domain events carry (:mod:`kehu_loyalty.hookspecs`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from attrs import frozen
from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core.interactions import in_values
from kehu_core.models import Customer
from kehu_loyalty.ledger import chunks
from kehu_loyalty.models import LEDGER


@frozen
class PointsEntry:
    """One entry of the points ledger, as the events hand it over.

    Attributes:
        entry_id: the ledger entry's id.
        customer_id, customer: the member (id and code) whose balance it changes.
        kind: ``earn`` (amount rules), ``bonus`` (a bonus rule, the tier-upgrade bonus),
            ``adjust`` (points given by hand) or ``expire``.
        points: the points, positive when earned, negative when written off.
        rule: the rule names (``base+acme.double_11``, ``first_purchase``, ``manual``), or None.
        interaction_id: the interaction that earned it, or None.
        occurred_at: when it counts (the interaction's time; a lot's expiry for ``expire``).
        expires_at: when an earned lot expires, or None.
        reason: the ledger's reason text.
        key: the entry's idempotency key.
    """

    entry_id: int
    customer_id: int
    customer: str
    kind: str
    points: int
    rule: str | None
    interaction_id: int | None
    occurred_at: datetime
    expires_at: datetime | None
    reason: str
    key: str


@frozen
class Redemption:
    """A redemption applied: member ``customer`` spent ``points`` on ``quantity`` × ``reward``.

    ``balance`` is the member's balance after it (the points expired by then were written off
    first, so it is also what they can spend), ``entry_id`` the ``redeem`` entry, ``lots``
    the ``(lot entry id, points)`` it drew from, oldest first."""

    customer: str
    reward: str
    quantity: int
    points: int
    balance: int
    entry_id: int
    lots: tuple[tuple[int, int], ...]


@frozen
class LevelChange:
    """A member's level moved (a review's upgrade or downgrade).

    Attributes:
        customer_id, customer: the member (id and code).
        old_level, new_level: the level names before and after (None: no level).
        upgraded: True when the new level ranks above the old one.
        as_of: the review's time.
    """

    customer_id: int
    customer: str
    old_level: str | None
    new_level: str | None
    upgraded: bool
    as_of: datetime


def entries_by_id(session: Session, entry_ids: Sequence[int]) -> list[PointsEntry]:
    """The ledger entries ``entry_ids`` with their customers' codes, by customer then id."""
    dialect = session.get_bind().dialect.name
    found: list[PointsEntry] = []
    for part in chunks(sorted(set(entry_ids))):
        rows = session.execute(
            select(
                LEDGER.c.id,
                LEDGER.c.customer_id,
                Customer.code,
                LEDGER.c.kind,
                LEDGER.c.points,
                LEDGER.c.rule,
                LEDGER.c.interaction_id,
                LEDGER.c.occurred_at,
                LEDGER.c.expires_at,
                LEDGER.c.reason,
                LEDGER.c.idempotency_key,
            )
            .join(Customer, Customer.id == LEDGER.c.customer_id)
            .where(in_values(LEDGER.c.id, part, dialect))
        )
        found += [PointsEntry(*row) for row in rows]
    return sorted(found, key=lambda e: (e.customer_id, e.entry_id))


def codes_of(session: Session, customer_ids: Sequence[int]) -> dict[int, str]:
    """``{customer id: code}`` of these customers."""
    found: dict[int, str] = {}
    for part in chunks(sorted(set(customer_ids))):
        for customer_id, code in session.execute(
            select(Customer.id, Customer.code).where(Customer.id.in_(part))
        ):
            found[customer_id] = code
    return found
