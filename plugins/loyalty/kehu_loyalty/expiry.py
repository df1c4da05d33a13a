"""Expiry: points left in a lot when it expires are written off, oldest lots first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from attrs import frozen
from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core.app import Kehu
from kehu_core.calendar import format_day
from kehu_core.i18n import messages
from kehu_core.types import utcnow
from kehu_loyalty import events
from kehu_loyalty.ledger import Debit, chunks, entry_row, lock_accounts, open_lots, write_debits
from kehu_loyalty.models import LEDGER

_ = messages("kehu_loyalty").gettext


@frozen
class ExpiryResult:
    """What an expiry run wrote."""

    as_of: datetime
    entries: int
    points: int
    customers: int


def expire_points(
    app: Kehu,
    session: Session,
    as_of: datetime | None = None,
    customer_ids: Sequence[int] | None = None,
    dry_run: bool = False,
) -> ExpiryResult:
    """Write off what is left of every lot that expired by ``as_of`` (idempotent).

    One ``expire`` entry per lot, dated at the lot's expiry, allocated to that lot, keyed
    ``expire:<lot id>``. The accounts concerned are locked first, so a concurrent
    redemption cannot spend the same points. Fires ``kehu_points_expired`` once with every
    entry written (none on a dry run), in the session's transaction.
    """
    as_of = as_of or utcnow()
    if customer_ids is None:
        candidates = list(
            session.scalars(
                select(LEDGER.c.customer_id)
                .distinct()
                .where(LEDGER.c.points > 0, LEDGER.c.expires_at <= as_of)
            )
        )
    else:
        candidates = list(customer_ids)
    entries = points = 0
    written: list[int] = []
    touched: set[int] = set()
    now = utcnow()
    for part in chunks(sorted(candidates), 1000):
        if not dry_run:
            lock_accounts(session, part)
        debits = []
        for lot in open_lots(session, part, expired_by=as_of):
            debits.append(
                Debit(
                    entry_row(
                        lot.customer_id,
                        "expire",
                        -lot.remaining,
                        lot.expires_at or as_of,
                        _("{points} point(s) earned {day} expired").format(
                            points=lot.remaining, day=format_day(lot.occurred_at)
                        ),
                        f"expire:{lot.id}",
                        now=now,
                    ),
                    ((lot.id, lot.remaining),),
                )
            )
            points += lot.remaining
            touched.add(lot.customer_id)
        entries += len(debits)
        if not dry_run:
            written += write_debits(session, debits)
    events.expired(app, session, written)
    return ExpiryResult(as_of=as_of, entries=entries, points=points, customers=len(touched))
