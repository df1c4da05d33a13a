"""THE tier of a member, and reacting to its changes (``kehu_tier_changed``, fired by a tiering plugin).

A tiering plugin classifies customers by several methods (the pyramid, RFM, ABC ...) and
names one of them as *the* tier; the others are segments. Loyalty reads only the tier: the
points multiplier of a member is the multiplier of their tier (``kehu_customer_tiers`` with
``method=None``), and only a change of the tier (``TierChange.is_tier``) can pay the
tier-upgrade bonus. A customer who moves up in a segment, or in two methods at once, gets at
most the one bonus of their tier.

The bonus (``tier_upgrade_bonus`` points) is paid for a real upgrade: a move to a tier whose
multiplier is higher than that of the tier left and of every tier the member was paid the
bonus for before. It is paid once per customer and tier (key ``bonus:tier_up:c<id>:<tier>``),
so a member going down and back up again is not paid twice. Tiers without a multiplier count
as 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core.app import Kehu
from kehu_core.hooktypes import TierChange
from kehu_core.i18n import messages
from kehu_core.types import utcnow
from kehu_loyalty import events
from kehu_loyalty.ledger import add_months, chunks, entry_row, next_ids, write_credits
from kehu_loyalty.models import ACCOUNTS, LEDGER
from kehu_loyalty.settings import load_settings

_ = messages("kehu_loyalty").gettext

#: The ledger's ``rule`` of a tier-upgrade bonus.
TIER_UPGRADE_RULE = "tier_upgrade"
_ONE = Decimal(1)


def customer_tiers(app: Kehu, session: Session, customer_ids: Sequence[int]) -> dict[int, str]:
    """THE tier of these customers (``kehu_customer_tiers`` with ``method=None``) from whichever
    installed plugin classifies them; ``{}`` when none does."""
    if not customer_ids:
        return {}
    found = app.hook.kehu_customer_tiers(session=session, customer_ids=list(customer_ids), method=None)
    return dict(found or {})


def upgrade_key(customer_id: int, tier: str) -> str:
    """The idempotency key of the tier-upgrade bonus of ``customer_id`` for ``tier``."""
    return f"bonus:tier_up:c{customer_id}:{tier}"


def rewarded_tiers(session: Session, customer_ids: Iterable[int]) -> dict[int, set[str]]:
    """The tiers each of these customers was paid the tier-upgrade bonus for."""
    found: dict[int, set[str]] = {}
    for part in chunks(sorted(set(customer_ids))):
        rows = session.execute(
            select(LEDGER.c.customer_id, LEDGER.c.idempotency_key).where(
                LEDGER.c.customer_id.in_(part), LEDGER.c.rule == TIER_UPGRADE_RULE
            )
        )
        for cid, key in rows:
            prefix = upgrade_key(cid, "")
            if key.startswith(prefix):
                found.setdefault(cid, set()).add(key[len(prefix) :])
    return found


def reward_upgrades(
    app: Kehu, session: Session, changes: Sequence[TierChange], now: datetime | None = None
) -> int:
    """Pay the tier-upgrade bonus for the real upgrades of members' tiers among ``changes``
    (see the module docstring); returns how many bonuses were written. Fires
    ``kehu_points_earned`` once with them, in the session's transaction. Automatic, like
    earning from purchases: no audit entry."""
    settings = load_settings(session)
    if not settings.tier_upgrade_bonus:
        return 0
    multipliers = settings.tier_multipliers

    def factor(tier: str | None) -> Decimal:
        return multipliers.get(tier, _ONE) if tier is not None else _ONE

    ups = [
        c for c in changes if c.is_tier and c.new_tier is not None and factor(c.new_tier) > factor(c.old_tier)
    ]
    if not ups:
        return 0
    members = set(
        session.scalars(
            select(ACCOUNTS.c.customer_id).where(
                ACCOUNTS.c.customer_id.in_(sorted({c.customer_id for c in ups}))
            )
        )
    )
    held = rewarded_tiers(session, members)
    now = now or utcnow()
    rows = []
    for change in ups:
        cid, tier = change.customer_id, change.new_tier
        if cid not in members or tier is None:
            continue
        before = held.setdefault(cid, set())
        highest = max((factor(t) for t in before), default=_ONE)
        if factor(tier) <= max(highest, factor(change.old_tier)):
            continue  # back to a tier paid before, or to one no better than a tier paid before
        before.add(tier)
        rows.append(
            entry_row(
                cid,
                "bonus",
                settings.tier_upgrade_bonus,
                now,
                _("moved up to tier {tier} (from {old})").format(tier=tier, old=change.old_tier or _("none")),
                upgrade_key(cid, tier),
                expires_at=add_months(now, settings.expiry_months),
                rule=TIER_UPGRADE_RULE,
                now=now,
            )
        )
    ids = next_ids(session, len(rows)) if rows and events.listened(app, events.EARNED) else None
    written = write_credits(session, rows, ids)
    events.earned(app, session, ids or [])
    return written
