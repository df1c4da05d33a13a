"""kehu loyalty (客户忠诚): points, rewards, member levels, the loyalty ladder and distributor rebates.

This module holds the manifest and the hook implementations only; everything heavy is
imported inside the hooks, so ``kehu --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kehu_core import Manifest, hookimpl

if TYPE_CHECKING:
    import click
    import pluggy
    from sqlalchemy.orm import Session

    from kehu_core.hooktypes import (
        CustomerChange,
        DefaultRecord,
        DemoContext,
        InteractionBatch,
        Job,
        ProfileSection,
        Schema,
        TierChange,
    )
    from kehu_core.models import Customer

__version__ = "0.1.0"

MANIFEST = Manifest(
    name="loyalty",
    version=__version__,
    summary="Points with FIFO expiry, rewards, member levels, the loyalty ladder and distributor rebates (返利)",
    depends=(),
    min_core_version="0.1.0",
)


@hookimpl
def kehu_add_hookspecs(pluginmanager: pluggy.PluginManager) -> None:
    """Offer ``kehu_loyalty_earn_rules`` to other plugins."""
    from kehu_loyalty import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def kehu_schema() -> Schema:
    """The loyalty tables and revisions (branch ``loyalty``)."""
    from pathlib import Path

    from kehu_core.hooktypes import Schema
    from kehu_loyalty.models import metadata

    return Schema(plugin="loyalty", metadata=metadata, versions=Path(__file__).parent / "migrations")


@hookimpl
def kehu_register_commands(cli: click.Group) -> None:
    """Add ``kehu loyalty``."""
    from kehu_loyalty.cli import loyalty

    cli.add_command(loyalty)


@hookimpl
def kehu_default_data() -> Sequence[DefaultRecord]:
    """Programme settings and the default member levels."""
    from kehu_core.hooktypes import DefaultRecord
    from kehu_loyalty.levels import DEFAULT_LEVELS
    from kehu_loyalty.models import LEVELS, SETTINGS
    from kehu_loyalty.settings import defaults

    records = [DefaultRecord(SETTINGS, {"key": k}, {"value": v}) for k, v in defaults().items()]
    records += [
        DefaultRecord(LEVELS, {"name": n}, {"rank": r, "min_points": p, "min_spend": s})
        for n, r, p, s in DEFAULT_LEVELS
    ]
    return records


@hookimpl
def kehu_interactions_recorded(session: Session, batch: InteractionBatch) -> None:
    """Purchases, refunds and feedback earn (or take back) points in the same transaction.

    Batches of one write are gathered and earned together, up to 50,000 interactions at a
    time; the rest is earned when the write ends (:mod:`kehu_loyalty.pending`)."""
    from kehu_loyalty.pending import gather

    gather(session, batch, _earn)


@hookimpl
def kehu_interactions_done(session: Session, source: str) -> None:
    """Earn what the write left pending."""
    from kehu_loyalty.pending import finish

    finish(session, _earn)


def _earn(session: Session, batch: InteractionBatch) -> None:
    from kehu_loyalty.appctx import calling_app
    from kehu_loyalty.earning import earn_batch

    earn_batch(session, batch, calling_app(session))


@hookimpl
def kehu_customers_changed(session: Session, changes: Sequence[CustomerChange]) -> None:
    """Keep members' birthday months (read by earning) in step with their customers."""
    touched = [c.customer_id for c in changes if "birthday" in c.changed_fields or c.action == "forgotten"]
    if touched:
        from kehu_loyalty.accounts import sync_birthdays

        sync_birthdays(session, touched)


@hookimpl
def kehu_tier_changed(session: Session, changes: Sequence[TierChange]) -> None:
    """A member moving up to a tier with a higher multiplier gets the tier upgrade bonus (once per tier)."""
    from kehu_loyalty.tiers import reward_upgrades

    reward_upgrades(session, changes)


@hookimpl
def kehu_profile_sections(session: Session, customer: Customer) -> Sequence[ProfileSection]:
    """忠诚度: ladder stage, membership, level, balance and points expiring soon."""
    from kehu_loyalty.profile import profile_section

    return [profile_section(session, customer)]


@hookimpl
def kehu_scheduled_jobs() -> Sequence[Job]:
    """Daily: expire points and review levels; settle ended rebate periods."""
    from kehu_core.hooktypes import Job
    from kehu_loyalty.jobs import expire_job, settle_job

    return [
        Job(
            "loyalty.expire",
            timedelta(days=1),
            expire_job,
            "loyalty",
            "write off expired points (oldest lots first) and review member levels",
        ),
        Job(
            "loyalty.rebate-settle",
            timedelta(days=1),
            settle_job,
            "loyalty",
            "settle every ended rebate period (once per distributor and period)",
        ),
    ]


@hookimpl
def kehu_erase_customer(session: Session, customer_ids: Sequence[int]) -> None:
    """Forget who referred whom and the free text of manual entries; amounts stay for the books."""
    from kehu_loyalty.privacy import erase

    erase(session, customer_ids)


@hookimpl
def kehu_export_customer(session: Session, customer: Customer) -> Mapping[str, Any] | None:
    """The account, the whole ledger, referrals and rebate settlements."""
    from kehu_loyalty.privacy import export

    return export(session, customer)


@hookimpl
def kehu_demo_data(session: Session, context: DemoContext) -> None:
    """Members, rewards, redemptions, referrals and a 季返 programme for 经销商."""
    from kehu_loyalty.demo import load_demo

    load_demo(session, context)
