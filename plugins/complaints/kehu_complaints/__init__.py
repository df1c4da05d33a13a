"""kehu-complaints: grievances (抱怨) and complaints (投诉) handled as an adaptable workflow.

Stages and guards follow the complaint procedure of the course material (投诉处理程序); SLAs
run on business hours with China's holidays and swapped working days; a scheduled job marks
breaches and escalates to the team lead; every transition, assignment and note goes into an
append-only history.

This package is imported for every ``kehu`` command, so it holds only the manifest.
"""

from __future__ import annotations

from kehu_core import Manifest
from kehu_core.i18n import N_

MANIFEST = Manifest(
    summary=N_(
        "Grievances and complaints: workflow, SLAs with Chinese holidays, escalation, history, report"
    ),
    depends=(),
    after=("tiering",),  # where tiering is installed, its tiers exist before complaints react or demo
    min_core_version="0.1.0",
    hooks="kehu_complaints.hooks",
    commands={
        "complaint": (
            "kehu_complaints.cli:complaint",
            N_("Grievances and complaints (抱怨与投诉): open, move, report ..."),
        )
    },
    demo="kehu_complaints.demo:load_demo",
    models="kehu_complaints.models:metadata",
    migrations="migrations",
    hookspecs="kehu_complaints.hookspecs",
    data="kehu_complaints.data:default_records",
    security="kehu_complaints.security",
)
