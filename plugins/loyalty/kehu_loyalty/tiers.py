"""Reacting to tier changes (``kehu_tier_changed``, fired by a tiering plugin).

A member who moves up to a tier whose points multiplier is higher than the old one's gets the
``tier_upgrade_bonus``, once per customer and tier (key ``bonus:tier_up:c<id>:<tier>``), so a
customer bouncing between tiers is not rewarded again and again. Tiers without a multiplier
count as 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core.app import Kehu
from kehu_core.types import utcnow
from kehu_loyalty.ledger import add_months, entry_row, existing_keys, write_credits
from kehu_loyalty.models import ACCOUNTS
from kehu_loyalty.settings import load_settings


def customer_tiers(app: Kehu, session: Session, customer_ids: Sequence[int]) -> dict[int, str]:
    """THE tier of these customers (``kehu_customer_tiers`` with ``method=None``) from whichever
    installed plugin classifies them; ``{}`` when none does."""
    if not customer_ids:
        return {}
    found = app.hook.kehu_customer_tiers(session=session, customer_ids=list(customer_ids), method=None)
    return dict(found or {})


def reward_upgrades(session: Session, changes: Sequence[Any]) -> int:
    """Write the upgrade bonuses for these tier changes; returns how many were written."""
    settings = load_settings(session)
    if not settings.tier_upgrade_bonus or not changes:
        return 0
    one = Decimal(1)
    mult = settings.tier_multipliers
    ups = [
        c for c in changes if c.new_tier is not None and mult.get(c.new_tier, one) > mult.get(c.old_tier, one)
    ]
    if not ups:
        return 0
    members = set(
        session.scalars(
            select(ACCOUNTS.c.customer_id).where(ACCOUNTS.c.customer_id.in_([c.customer_id for c in ups]))
        )
    )
    now = utcnow()
    rows = {}
    for change in ups:
        key = f"bonus:tier_up:c{change.customer_id}:{change.new_tier}"
        if change.customer_id in members and key not in rows:
            rows[key] = entry_row(
                change.customer_id,
                "bonus",
                settings.tier_upgrade_bonus,
                now,
                f"moved up to tier {change.new_tier} (from {change.old_tier or 'none'})",
                key,
                expires_at=add_months(now, settings.expiry_months),
                rule="tier_upgrade",
                now=now,
            )
    for key in existing_keys(session, rows):
        del rows[key]
    return write_credits(session, list(rows.values()))
