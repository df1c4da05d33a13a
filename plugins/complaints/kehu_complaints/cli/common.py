"""What the complaint commands share: the version option, and local times for people.

Who acts is the root ``kehu --as LOGIN`` (or ``$KEHU_USER``, or the OS login): the services
read it from the session.
"""

from __future__ import annotations

from datetime import datetime

import click

from kehu_complaints.workflow import Workflow
from kehu_core.calendar import format_time

#: A complaint's number (a 64-bit id): anything else is refused in one line, not a traceback.
COMPLAINT_ID = click.IntRange(1, 2**63 - 1)


def when(moment: datetime | None) -> str:
    """A stored time as the company's local ``YYYY-MM-DD HH:MM`` (``-`` for none)."""
    return format_time(moment)


version_option = click.option(
    "--expect-version",
    type=click.IntRange(0, 2**31 - 1),
    metavar="N",
    help="Refuse (conflict) unless the complaint is still at version N, as shown by `complaint show`.",
)


def stage_name(workflow: Workflow, key: str | None) -> str:
    """A stage for people: its label in their language (``approved``; ``主管批准`` in Chinese);
    a stage the workflow no longer has, by its code; ``-`` for none."""
    return workflow.label(key)
