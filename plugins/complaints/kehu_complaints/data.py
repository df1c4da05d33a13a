"""The plugin's default data: its settings and SLA policies (a row you change is kept on upgrade)."""

from __future__ import annotations

from kehu_complaints.models import POLICIES, SETTINGS
from kehu_complaints.settings import DEFAULT_SETTINGS
from kehu_complaints.sla import DEFAULT_POLICIES
from kehu_core.hooktypes import DefaultRecord


def default_records() -> list[DefaultRecord]:
    """Default settings and SLA policies, loaded at install and refreshed on upgrade."""
    records = [
        DefaultRecord(SETTINGS, {"key": key}, {"value": value}) for key, value in DEFAULT_SETTINGS.items()
    ]
    records += [
        DefaultRecord(POLICIES, {"name": p["name"]}, {k: v for k, v in p.items() if k != "name"})
        for p in DEFAULT_POLICIES
    ]
    return records
