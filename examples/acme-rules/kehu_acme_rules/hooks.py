"""ACME's hook implementations: each calls one of ACME's modules (flags, views, tier rules, routing).

ACME depends on tiering and complaints (its manifest), so these run after those plugins' own
implementations of the same hooks: no ``tryfirst``/``trylast`` anywhere. Loyalty is optional
(``after`` in the manifest): its hook is implemented with ``optionalhook=True`` and called only
where loyalty is installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from kehu_acme_rules.earn_rules import acme_earn_rules
from kehu_acme_rules.flags import erase_notes, judgement_of
from kehu_acme_rules.followups import plan_follow_up
from kehu_acme_rules.routing import route_to_key_account_manager
from kehu_acme_rules.stages import acme_workflow
from kehu_acme_rules.tier_rules import acme_tier_rules
from kehu_acme_rules.views import list_columns, list_filters, profile_section
from kehu_complaints.api import ComplaintRecord, Workflow
from kehu_core import Job, ListColumn, ListFilter, ProfileSection, hookimpl
from kehu_core.app import Kehu
from kehu_core.i18n import messages
from kehu_core.models import Customer
from kehu_loyalty.api import EarnRule
from kehu_tiering.api import TierRule

_ = messages("kehu_acme_rules").gettext


@hookimpl
def kehu_tier_rules() -> list[TierRule]:
    """ACME's key-account and late-payer rules (see :mod:`kehu_acme_rules.tier_rules`)."""
    return acme_tier_rules()


@hookimpl(optionalhook=True)
def kehu_loyalty_earn_rules() -> list[EarnRule]:
    """Double points on 11-11 where loyalty is installed (see :mod:`kehu_acme_rules.earn_rules`)."""
    return acme_earn_rules()


@hookimpl
def kehu_complaint_workflow(workflow: Workflow) -> None:
    """ACME's quality check stage (质检复核), labelled from ACME's catalog (:mod:`kehu_acme_rules.stages`)."""
    acme_workflow(workflow)


@hookimpl
def kehu_complaint_opened(app: Kehu, session: Session, complaint: ComplaintRecord) -> None:
    """A key account's complaint goes to ACME's key-account manager (see :mod:`kehu_acme_rules.routing`)."""
    route_to_key_account_manager(app, session, complaint)


@hookimpl
def kehu_complaint_closed(app: Kehu, session: Session, complaint: ComplaintRecord) -> None:
    """A follow-up call a week after the close (see :mod:`kehu_acme_rules.followups`)."""
    plan_follow_up(app, session, complaint)


@hookimpl
def kehu_scheduled_jobs() -> list[Job]:
    """ACME's weekly review (:mod:`kehu_acme_rules.review`), named by path: imported only when it runs."""
    return [
        Job(
            name="acme_rules.weekly_review",
            interval=timedelta(days=7),
            run="kehu_acme_rules.review:weekly",
            plugin="acme_rules",
            description=_("ACME's weekly review: key accounts, late payers, open key-account complaints"),
        )
    ]


@hookimpl
def kehu_profile_sections(session: Session, customer: Customer) -> list[ProfileSection]:
    """The judgement on the profile card, after the core's sections."""
    return [profile_section(session, customer.id)]


@hookimpl
def kehu_customer_list_columns() -> list[ListColumn]:
    """``acme_flags``: the flags set, e.g. ``战略项目,影响力``."""
    return list_columns()


@hookimpl
def kehu_customer_list_filters() -> list[ListFilter]:
    """``--filter acme_key=yes|no`` and ``--filter acme_flag=influence``."""
    return list_filters()


@hookimpl
def kehu_export_customer(session: Session, customer: Customer) -> dict[str, Any]:
    """The judgement, for ``kehu customer export``."""
    found = judgement_of(session, customer.id)
    return {"acme_rules": found.as_dict() if found else None}


@hookimpl
def kehu_erase_customer(session: Session, customer_ids: Sequence[int]) -> None:
    """``kehu customer forget``: the free-text note goes; the flags are about the business and stay."""
    erase_notes(session, customer_ids)
