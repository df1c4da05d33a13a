"""ACME's own complaint stage: a quality check (质检复核) between investigation and proposal.

The label is English, marked ``N_``, and translated in ACME's own catalog
(``locale/zh_CN/LC_MESSAGES/kehu_acme_rules.po``): the stage names ``domain="kehu_acme_rules"``,
so the complaints plugin shows it from this catalog wherever it shows a stage (``complaint
show``, ``list``, ``workflow``, error messages) and accepts the Chinese name on input
(``kehu complaint move 7 质检复核``).
"""

from __future__ import annotations

from kehu_complaints.api import Stage, Workflow
from kehu_core.i18n import N_

#: The gettext domain (the package) whose catalog translates ACME's stage labels.
DOMAIN = "kehu_acme_rules"

#: The lab re-tests the product before a solution is proposed.
QUALITY_CHECK = Stage(
    "quality_check",
    N_("quality check"),
    description="the lab re-tests the product before a solution is proposed",
    aliases=("质检", "复检"),
    domain=DOMAIN,
)


def acme_workflow(workflow: Workflow) -> None:
    """Add the quality check: reached from the investigation, left for a proposal or back to it.

    Proposing straight from the investigation stays allowed: a complaint that needs no re-test
    skips the stage.
    """
    workflow.add_stage(QUALITY_CHECK)
    workflow.add_transition("investigating", QUALITY_CHECK.key)
    workflow.add_transition(QUALITY_CHECK.key, "solution_proposed")
    workflow.add_transition(QUALITY_CHECK.key, "investigating")
    workflow.add_transition(QUALITY_CHECK.key, "withdrawn")
