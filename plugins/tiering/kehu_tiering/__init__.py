"""kehu-tiering: classify customers (客户分级) and keep the history of why.

Methods: ABC by cumulative revenue share (the 80/20 rule, 二八法则), the customer pyramid
(客户金字塔: VIP, 主要客户, 普通客户, 小客户), RFM scores and segments, key accounts (大客户),
and the flags poor-quality (劣质客户) and upgrade potential. Companies add rules through the
``kehu_tier_rules`` hook or a TOML file. See ``docs/tiering.md``.

This module stays light: everything heavy is imported inside the hook implementations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kehu_core import Manifest, hookimpl

if TYPE_CHECKING:
    import click
    import pluggy
    from sqlalchemy.orm import Session

    from kehu_core.hooktypes import (
        DemoContext,
        InteractionBatch,
        Job,
        ListColumn,
        ListFilter,
        ProfileSection,
        Schema,
    )
    from kehu_core.models import Customer

__version__ = "0.1.0"
NAME = "tiering"

MANIFEST = Manifest(
    name=NAME,
    version=__version__,
    summary="Customer tiering: 80/20 ABC, the customer pyramid, RFM, key accounts (大客户), rules companies write",
    depends=(),
    min_core_version="0.1.0",
)


@hookimpl
def kehu_add_hookspecs(pluginmanager: pluggy.PluginManager) -> None:
    """Offer ``kehu_tier_rules`` to other plugins."""
    from kehu_tiering.rules import ensure_hookspecs

    ensure_hookspecs(pluginmanager)


@hookimpl
def kehu_schema() -> Schema:
    """The plugin's tables and Alembic revisions (branch ``tiering``)."""
    from pathlib import Path

    from kehu_core.hooktypes import Schema
    from kehu_tiering.models import metadata

    return Schema(plugin=NAME, metadata=metadata, versions=Path(__file__).parent / "migrations")


@hookimpl
def kehu_after_install(session: Session, name: str) -> None:
    """Build the monthly aggregates from the interactions already recorded."""
    from kehu_tiering.aggregates import rebuild

    rebuild(session)


@hookimpl
def kehu_interactions_recorded(session: Session, batch: InteractionBatch) -> None:
    """Keep the monthly purchase aggregates up to date, in the same transaction."""
    from kehu_tiering.aggregates import add_batch

    add_batch(session, batch)


@hookimpl
def kehu_register_commands(cli: click.Group) -> None:
    """``kehu tier ...``."""
    from kehu_tiering.cli import tier

    cli.add_command(tier)


@hookimpl
def kehu_customer_tiers(session: Session, customer_ids: Sequence[int]) -> dict[int, str]:
    """The current tier of each customer, by the primary method (default: the pyramid)."""
    from kehu_tiering.queries import current_tiers

    return current_tiers(session, customer_ids)


@hookimpl
def kehu_profile_sections(session: Session, customer: Customer) -> list[ProfileSection]:
    """The card's 客户分级 section: tier per method, flags, and why."""
    from kehu_tiering.integration import profile_section

    section = profile_section(session, customer)
    return [section] if section else []


@hookimpl
def kehu_customer_list_columns() -> list[ListColumn]:
    """A ``tier`` column on ``kehu customer list``."""
    from kehu_tiering.integration import list_columns

    return list_columns()


@hookimpl
def kehu_customer_list_filters() -> list[ListFilter]:
    """``--filter tier=VIP`` (or ``tier=A``, ``tier=champions``, ``tier=key_account``)."""
    from kehu_tiering.integration import list_filters

    return list_filters()


@hookimpl
def kehu_scheduled_jobs() -> list[Job]:
    """Re-tier every day with the settings of the last run."""
    from kehu_tiering.integration import jobs

    return jobs()


@hookimpl
def kehu_export_customer(session: Session, customer: Customer) -> dict[str, Any] | None:
    """The customer's tier history."""
    from kehu_tiering.integration import export

    return export(session, customer)


@hookimpl
def kehu_demo_data(session: Session, context: DemoContext) -> None:
    """Flag a few key accounts and tier the demo customers."""
    from kehu_tiering.integration import demo

    demo(session, context)
