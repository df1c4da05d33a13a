"""The complaints plugin's hook implementations; each one calls into the domain modules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from kehu_complaints import jobs, sla
from kehu_complaints.opening import open_from_interactions
from kehu_complaints.privacy import erase, export
from kehu_complaints.profile import open_complaints_column, profile_section
from kehu_complaints.workflow import build_workflow
from kehu_core import hookimpl
from kehu_core.app import Kehu
from kehu_core.hooktypes import InteractionBatch, Job, ListColumn, ProfileSection, TierChange
from kehu_core.i18n import N_
from kehu_core.models import Customer


@hookimpl
def kehu_interactions_recorded(app: Kehu, session: Session, batch: InteractionBatch) -> None:
    """An interaction of kind ``complaint`` (imported or logged) opens a complaint; set-based."""
    rows = batch.of_kind("complaint")
    if rows:
        open_from_interactions(app, session, rows, source=batch.source)


@hookimpl
def kehu_profile_sections(session: Session, customer: Customer) -> list[ProfileSection]:
    """Open complaints and the last satisfaction recorded at a follow-up."""
    return [profile_section(session, customer)]


@hookimpl
def kehu_customer_list_columns(session: Session | None) -> list[ListColumn]:
    """``customer list --columns complaints_open``: open complaints per customer, of those the
    list's user may see."""
    return [open_complaints_column(session)]


@hookimpl
def kehu_scheduled_jobs() -> list[Job]:
    """Escalation every 15 minutes; auto-close once a day."""
    return [
        Job(
            name="complaints.escalate",
            interval=timedelta(minutes=15),
            run=jobs.escalate,
            plugin="complaints",
            description=N_("mark SLA breaches and escalate them to the team lead"),
        ),
        Job(
            name="complaints.auto_close",
            interval=timedelta(days=1),
            run=jobs.auto_close,
            plugin="complaints",
            description=N_("close resolved complaints with no follow-up after auto_close_days"),
        ),
    ]


@hookimpl
def kehu_tier_changed(app: Kehu, session: Session, changes: Sequence[TierChange]) -> None:
    """A customer's tier moved: recompute the SLA of their open complaints."""
    sla.recompute_for_tier_changes(app, session, changes)


@hookimpl
def kehu_erase_customer(session: Session, customer_ids: Sequence[int]) -> None:
    """Erase the free text of forgotten customers' complaints (history notes too); keep dates and figures."""
    erase(session, customer_ids)


@hookimpl
def kehu_export_customer(app: Kehu, session: Session, customer: Customer) -> Mapping[str, Any]:
    """Every complaint of the customer with its timeline."""
    return export(session, customer, build_workflow(app))
