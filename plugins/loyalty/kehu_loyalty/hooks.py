"""The hook implementations of loyalty: each one calls into the service modules.

This module is imported when the application first calls a hook, never by ``kehu --help``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from kehu_core.app import Kehu
from kehu_core.hooktypes import (
    CustomerChange,
    InteractionBatch,
    Job,
    ProfileSection,
    TierChange,
)
from kehu_core.i18n import messages
from kehu_core.markers import hookimpl
from kehu_core.models import Customer
from kehu_core.profit import ProfitLine
from kehu_loyalty.accounts import sync_birthdays
from kehu_loyalty.earning import earn_batch
from kehu_loyalty.jobs import expire_job, settle_job
from kehu_loyalty.pending import finish, gather
from kehu_loyalty.privacy import erase, export
from kehu_loyalty.profile import profile_section
from kehu_loyalty.profit import rebate_lines
from kehu_loyalty.tiers import reward_upgrades

_ = messages("kehu_loyalty").gettext


@hookimpl
def kehu_interactions_recorded(app: Kehu, session: Session, batch: InteractionBatch) -> None:
    """Purchases, refunds and feedback earn (or take back) points in the same transaction.

    Batches of one write are gathered and earned together, up to 50,000 interactions at a
    time; the rest is earned when the write ends (:mod:`kehu_loyalty.pending`)."""
    gather(app, session, batch, earn_batch)


@hookimpl
def kehu_interactions_done(app: Kehu, session: Session, source: str) -> None:
    """Earn what the write left pending."""
    finish(app, session, earn_batch)


@hookimpl
def kehu_customers_changed(session: Session, changes: Sequence[CustomerChange]) -> None:
    """Keep members' birthday months (read by earning) in step with their customers."""
    touched = [c.customer_id for c in changes if "birthday" in c.changed_fields or c.action == "forgotten"]
    if touched:
        sync_birthdays(session, touched)


@hookimpl
def kehu_tier_changed(app: Kehu, session: Session, changes: Sequence[TierChange]) -> None:
    """A member whose tier (not a segment) really moves up gets the tier-upgrade bonus, once
    (:mod:`kehu_loyalty.tiers`)."""
    reward_upgrades(app, session, changes)


@hookimpl
def kehu_profile_sections(session: Session, customer: Customer) -> Sequence[ProfileSection]:
    """忠诚度: ladder stage, membership, level, points available to spend and points expiring soon."""
    return [profile_section(session, customer)]


@hookimpl
def kehu_scheduled_jobs() -> Sequence[Job]:
    """Daily: expire points and review levels; settle ended rebate periods."""
    return [
        Job(
            "loyalty.expire",
            timedelta(days=1),
            expire_job,
            "loyalty",
            _("write off expired points (oldest lots first) and review member levels"),
        ),
        Job(
            "loyalty.rebate-settle",
            timedelta(days=1),
            settle_job,
            "loyalty",
            _("settle every ended rebate period (once per distributor and period)"),
        ),
    ]


@hookimpl
def kehu_erase_customer(session: Session, customer_ids: Sequence[int]) -> None:
    """Forget who referred whom and the free text of manual entries; amounts stay for the books."""
    erase(session, customer_ids)


@hookimpl
def kehu_export_customer(session: Session, customer: Customer) -> Mapping[str, Any] | None:
    """The account, the whole ledger, referrals and rebate settlements."""
    return export(session, customer)


@hookimpl
def kehu_customer_profit_lines(
    session: Session, customer_ids: Sequence[int] | None, since: date | None, until: date | None
) -> list[ProfitLine]:
    """Settled rebates (返利) as operating profit of the profit statement (:mod:`kehu_loyalty.profit`)."""
    return rebate_lines(session, customer_ids, since, until)
