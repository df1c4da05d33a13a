"""kehu-complaints: grievances (抱怨) and complaints (投诉) handled as an adaptable workflow.

Stages and guards follow the seeds' procedure; SLAs run on business hours with China's
holidays and swapped working days; a scheduled job marks breaches and escalates to the team
lead; every transition, assignment and note goes into an append-only history.

This module stays light: it imports SQLAlchemy and the services only inside hooks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kehu_core.manifest import Manifest
from kehu_core.markers import hookimpl

if TYPE_CHECKING:
    import click
    import pluggy
    from sqlalchemy.orm import Session

    from kehu_core.hooktypes import (
        DefaultRecord,
        DemoContext,
        InteractionBatch,
        Job,
        ListColumn,
        ProfileSection,
        Schema,
        TierChange,
    )
    from kehu_core.models import Customer

MANIFEST = Manifest(
    name="complaints",
    version="0.1.0",
    summary="Grievances and complaints: workflow, SLAs with Chinese holidays, escalation, history, report",
    depends=(),
    min_core_version="0.1.0",
)


@hookimpl
def kehu_add_hookspecs(pluginmanager: pluggy.PluginManager) -> None:
    """Offer ``kehu_complaint_workflow`` to company plugins."""
    from kehu_complaints import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def kehu_schema() -> Schema:
    """The complaints tables and their Alembic branch."""
    from pathlib import Path

    from kehu_complaints.models import metadata
    from kehu_core.hooktypes import Schema

    return Schema(plugin="complaints", metadata=metadata, versions=Path(__file__).parent / "migrations")


@hookimpl
def kehu_register_commands(cli: click.Group) -> None:
    """``kehu complaint ...`` (imported only when used)."""
    if hasattr(cli, "add_lazy_command"):
        cli.add_lazy_command(
            "complaint",
            "kehu_complaints.cli:complaint",
            "Grievances and complaints (抱怨与投诉): open, move, report ...",
        )
    else:  # pragma: no cover - an older core without lazy commands
        from kehu_complaints.cli import complaint

        cli.add_command(complaint)


@hookimpl
def kehu_default_data() -> list[DefaultRecord]:
    """Default settings and SLA policies (a row you change is kept on upgrade)."""
    from kehu_complaints.models import POLICIES, SETTINGS
    from kehu_complaints.settings import DEFAULT_SETTINGS
    from kehu_complaints.sla import DEFAULT_POLICIES
    from kehu_core.hooktypes import DefaultRecord

    records = [
        DefaultRecord(SETTINGS, {"key": key}, {"value": value}) for key, value in DEFAULT_SETTINGS.items()
    ]
    records += [
        DefaultRecord(POLICIES, {"name": p["name"]}, {k: v for k, v in p.items() if k != "name"})
        for p in DEFAULT_POLICIES
    ]
    return records


@hookimpl
def kehu_interactions_recorded(session: Session, batch: InteractionBatch) -> None:
    """An interaction of kind ``complaint`` (imported or logged) opens a complaint; set-based."""
    from kehu_complaints.hooks import open_from_interactions

    rows = [
        r
        for r in batch.of_kind("complaint")
        if r.get("status", "done") == "done" and not str(r.get("external_ref") or "").startswith("complaint:")
    ]
    if rows:
        open_from_interactions(session, rows, source=batch.source)


@hookimpl
def kehu_profile_sections(session: Session, customer: Customer) -> list[ProfileSection]:
    """Open complaints and the last satisfaction after close."""
    from kehu_complaints.hooks import profile_section

    return [profile_section(session, customer)]


@hookimpl
def kehu_customer_list_columns() -> list[ListColumn]:
    """``customer list --columns complaints_open``: open complaints per customer."""
    from kehu_complaints.hooks import open_complaints_column

    return [open_complaints_column()]


@hookimpl
def kehu_scheduled_jobs() -> list[Job]:
    """Escalation every 15 minutes; auto-close once a day."""
    from kehu_complaints import jobs
    from kehu_core.hooktypes import Job

    return [
        Job(
            name="complaints.escalate",
            interval=timedelta(minutes=15),
            run=jobs.escalate,
            plugin="complaints",
            description="mark SLA breaches and escalate them to the team lead",
        ),
        Job(
            name="complaints.auto_close",
            interval=timedelta(days=1),
            run=jobs.auto_close,
            plugin="complaints",
            description="close resolved complaints with no follow-up after auto_close_days",
        ),
    ]


@hookimpl
def kehu_tier_changed(session: Session, changes: Sequence[TierChange]) -> None:
    """A customer's tier moved: recompute the SLA of their open complaints."""
    from kehu_complaints.hooks import recompute_for_tiers

    recompute_for_tiers(session, {c.customer_id: c.new_tier for c in changes})


@hookimpl
def kehu_erase_customer(session: Session, customer_ids: Sequence[int]) -> None:
    """Erase the free text of forgotten customers' complaints (history notes too); keep dates and figures."""
    from kehu_complaints.hooks import erase

    erase(session, customer_ids)


@hookimpl
def kehu_export_customer(session: Session, customer: Customer) -> Mapping[str, Any]:
    """Every complaint of the customer with its timeline."""
    from kehu_complaints.hooks import export

    return export(session, customer)


@hookimpl
def kehu_demo_data(session: Session, context: DemoContext) -> None:
    """A team and complaints in every stage, some overdue, some closed with satisfaction."""
    from kehu_complaints.demo import load_demo

    load_demo(session, context)
