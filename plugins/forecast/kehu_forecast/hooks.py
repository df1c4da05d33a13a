"""The hook implementations of the forecast plugin: each one calls into a service module."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from kehu_core import hookimpl
from kehu_core.hooktypes import Job, ProfileSection
from kehu_core.i18n import N_
from kehu_core.models import Customer
from kehu_forecast import pipeline
from kehu_forecast.profile import forecast_section


@hookimpl
def kehu_profile_sections(session: Session, customer: Customer) -> list[ProfileSection]:
    """Expected purchases over the next quarter, from the newest forecast run."""
    return [forecast_section(session, customer)]


@hookimpl
def kehu_scheduled_jobs() -> list[Job]:
    """Daily jobs: refresh the bottom-up forecast once a new month of history is complete, and
    record the SMART targets' statuses."""
    return [
        Job(
            name="forecast.refresh",
            interval=timedelta(days=1),
            run="kehu_forecast.jobs:refresh",  # by path: statsforecast is imported when it runs
            plugin="forecast",
            description=N_("refresh the bottom-up sales forecast when a new month of history is complete"),
        ),
        Job(
            name="forecast.targets",
            interval=timedelta(days=1),
            run="kehu_forecast.jobs:record_target_statuses",
            plugin="forecast",
            description=N_("record the SMART targets' status (on track, behind, met, missed) as of today"),
        ),
    ]


@hookimpl
def kehu_erase_customer(session: Session, customer_ids: Sequence[int]) -> None:
    """Forgotten customers: their opportunities keep amounts and dates, lose their free-text notes."""
    pipeline.erase_notes(session, customer_ids)


@hookimpl
def kehu_export_customer(session: Session, customer: Customer) -> dict[str, Any] | None:
    """The customer's opportunities, for ``kehu customer export``."""
    return pipeline.export_opportunities(session, customer.code)
