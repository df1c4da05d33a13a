"""The 忠诚度 section of the customer profile card."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core.calendar import format_day
from kehu_core.hooktypes import ProfileSection
from kehu_core.i18n import messages
from kehu_core.models import Customer
from kehu_core.types import utcnow
from kehu_loyalty.ladder import STAGE, stage_of
from kehu_loyalty.ledger import available, balance, expired_not_written_off, expiring_between
from kehu_loyalty.models import ACCOUNTS
from kehu_loyalty.settings import load_settings

_ = messages("kehu_loyalty").gettext


def profile_section(session: Session, customer: Customer) -> ProfileSection:
    """Stage on the ladder, membership, level, points available to spend and points expiring soon.

    The card shows the points the member can spend now; ``data`` also holds the ledger's sum
    (``balance``) and the points expired but not yet written off."""
    now = utcnow()
    stage = stage_of(session, customer.id, now)
    account = (
        session.execute(select(ACCOUNTS).where(ACCOUNTS.c.customer_id == customer.id)).mappings().first()
    )
    data: dict[str, object] = {"stage": stage, "member": account is not None}
    rows = [(_("ladder stage"), STAGE.label(stage) if stage else "-")]
    if account is not None:
        days = load_settings(session).expiring_soon_days
        soon = expiring_between(session, customer.id, now, now + timedelta(days=days))
        total = balance(session, customer.id)
        expired = expired_not_written_off(session, customer.id, now)
        data.update(
            enrolled_at=account["enrolled_at"],
            level=account["level"],
            available=available(total, expired),
            balance=total,
            expired_not_yet_written_off=expired,
            expiring_soon=soon,
            expiring_within_days=days,
        )
        rows += [
            (_("member since"), format_day(account["enrolled_at"])),
            (_("level"), account["level"] or "-"),
            (_("points available to spend"), str(data["available"])),
        ]
        if expired:  # why the statement's running balance is higher than what can be spent
            rows.append((_("expired not yet written off"), str(expired)))
        rows.append((_("expiring within {days} days").format(days=days), str(soon)))
    else:
        rows.append((_("points programme member"), _("no")))
    return ProfileSection(title=_("Loyalty"), rows=rows, data=data, key="loyalty", order=300)
