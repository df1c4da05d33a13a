"""ACME's own rules: the key-account judgement a salesperson records for a customer.

The seed (大客户专项管理) counts a customer as a key account (大客户) if it has large orders
and a long contract, *or* a strategic project, *or* important influence on the company's
business or image, *or* strong technical absorption and innovation, *or* strong market
development. The last four are judgements, not figures: this plugin stores them in its own
table, ``acme_rules_customer_flags``, shows them on the profile card, and adds a column and
filters to ``kehu customer list``. A key-account tiering rule can read them from
:mod:`kehu_acme_rules.flags`.

This module is imported by every ``kehu`` command: it stays light (no SQLAlchemy here).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kehu_core import Manifest, hookimpl

if TYPE_CHECKING:
    import click
    from sqlalchemy.orm import Session

    from kehu_core import DemoContext, ListColumn, ListFilter, ProfileSection, Schema
    from kehu_core.models import Customer

MANIFEST = Manifest(
    name="acme_rules",
    version="1.0.0",
    summary="ACME: key-account judgement flags (strategic project, influence, technology, market)",
    min_core_version="0.1.0",
)


@hookimpl
def kehu_schema() -> Schema:
    """``acme_rules_customer_flags``, migrations on the ``acme_rules`` branch."""
    from kehu_acme_rules.models import metadata
    from kehu_core import Schema

    return Schema(plugin="acme_rules", metadata=metadata, versions=Path(__file__).parent / "migrations")


@hookimpl(optionalhook=True)
def kehu_tier_rules() -> list[Any]:
    """ACME's key-account rules (see :mod:`kehu_acme_rules.tier_rules`); called only by tiering."""
    from kehu_acme_rules.tier_rules import acme_tier_rules

    return acme_tier_rules()


@hookimpl
def kehu_register_commands(cli: click.Group) -> None:
    """``kehu acme set|show``."""
    from kehu_acme_rules.cli import acme

    cli.add_command(acme)


@hookimpl
def kehu_profile_sections(session: Session, customer: Customer) -> list[ProfileSection]:
    """The judgement on the profile card, after the core's sections."""
    from kehu_acme_rules.views import profile_section

    return [profile_section(session, customer.id)]


@hookimpl
def kehu_customer_list_columns() -> list[ListColumn]:
    """``acme_flags``: the flags set, e.g. ``战略项目,影响力``."""
    from kehu_acme_rules.views import list_columns

    return list_columns()


@hookimpl
def kehu_customer_list_filters() -> list[ListFilter]:
    """``--filter acme_key=yes|no`` and ``--filter acme_flag=influence``."""
    from kehu_acme_rules.views import list_filters

    return list_filters()


@hookimpl
def kehu_export_customer(session: Session, customer: Customer) -> dict[str, Any]:
    """The judgement, for ``kehu customer export``."""
    from kehu_acme_rules.flags import judgement_of

    found = judgement_of(session, customer.id)
    return {"acme_rules": found.as_dict() if found else None}


@hookimpl
def kehu_erase_customer(session: Session, customer_ids: list[int]) -> None:
    """``kehu customer forget``: the free-text note goes; the flags are about the business and stay."""
    from kehu_acme_rules.flags import erase_notes

    erase_notes(session, customer_ids)


@hookimpl
def kehu_demo_data(session: Session, context: DemoContext) -> None:
    """Judge a few demo customers, so ``make demo`` shows the section and the column."""
    from kehu_acme_rules.flags import add_demo_judgements

    count = add_demo_judgements(session, context.rng)
    context.summary.append(f"acme_rules: {count} customers judged by their salesperson (key-account flags)")
