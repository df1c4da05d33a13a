"""``kehu complaint ...``: the command line of the complaints plugin. Only click here; the rules
live in :mod:`kehu_complaints.api` and the domain modules.

The root group is built from the commands defined in the sibling modules.
"""

from __future__ import annotations

import click

from kehu_complaints.cli.calendar import calendar_group, settings_
from kehu_complaints.cli.cases import (
    assign_,
    backfill_,
    close_,
    list_,
    move_,
    note_,
    open_,
    severity_,
    show_,
)
from kehu_complaints.cli.overview import report_, workflow_
from kehu_complaints.cli.policies import sla_group
from kehu_complaints.cli.teams import team
from kehu_core.cli.context import PluginGroup

__all__ = ["complaint"]


# PluginGroup: where complaints is not installed, every command says "kehu plugins install complaints".
@click.group("complaint", cls=PluginGroup, plugin="complaints")
def complaint() -> None:
    """Grievances (抱怨) and complaints (投诉): open, move through the workflow, report.

    \b
    Example:
      kehu complaint open --customer C0001 --category 产品质量 --severity 高 --description "打印机卡纸"
      kehu complaint move 1 acknowledged --note "已致歉"
      kehu complaint list --overdue
    """


for command in (
    open_,
    list_,
    show_,
    move_,
    close_,
    assign_,
    severity_,
    note_,
    workflow_,
    report_,
    team,
    sla_group,
    calendar_group,
    settings_,
    backfill_,
):
    complaint.add_command(command)
