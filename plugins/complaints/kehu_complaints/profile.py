"""What the complaints plugin adds to the customer's profile card and to ``kehu customer list``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from kehu_complaints.fields import CATEGORY, DOMAIN, SEVERITY
from kehu_complaints.models import COMPLAINTS
from kehu_complaints.records import ComplaintQuery, list_complaints, record_dict
from kehu_complaints.security import visible
from kehu_complaints.workflow import default_workflow
from kehu_core.access import condition
from kehu_core.hooktypes import ListColumn, ProfileSection
from kehu_core.i18n import messages
from kehu_core.models import Customer
from kehu_core.types import utcnow

_ = messages(DOMAIN).gettext


def profile_section(session: Session, customer: Customer) -> ProfileSection:
    """Open complaints, the latest ones, and the last satisfaction recorded at a follow-up (or
    close): of the
    complaints the acting user may see."""
    now = utcnow()
    seen = visible(session)
    open_ = list_complaints(
        session, ComplaintQuery(customer_code=customer.code, open_only=True, limit=5), now
    )
    c = COMPLAINTS.c
    n_open, n_all = session.execute(
        select(
            func.coalesce(func.sum(case((c.closed_at.is_(None) & c.resolved_at.is_(None), 1), else_=0)), 0),
            func.count(),
        ).where(c.customer_id == customer.id, *seen)
    ).one()
    answered = func.coalesce(c.followed_up_at, c.closed_at)
    last = session.execute(
        select(c.satisfaction, answered)
        .where(c.customer_id == customer.id, answered.is_not(None), c.satisfaction.is_not(None), *seen)
        .order_by(answered.desc(), c.id.desc())
        .limit(1)
    ).first()
    rows = [
        (_("Open"), str(n_open)),
        (_("All"), str(n_all)),
        (_("Last satisfaction"), f"{last[0]}/5" if last else "-"),
    ]
    workflow = default_workflow()
    for record in open_:
        shown = _("{stage} {category}/{severity}").format(
            stage=workflow.label(record.status),
            category=CATEGORY.label(record.category),
            severity=SEVERITY.label(record.severity),
        )
        if record.overdue(now):
            shown = _("{complaint} OVERDUE").format(complaint=shown)
        elif record.paused:
            shown = _("{complaint} paused").format(complaint=shown)
        rows.append((f"#{record.id}", shown))
    return ProfileSection(
        title=_("Complaints and grievances"),
        key="complaints",
        order=300,
        rows=rows,
        data={
            "open": int(n_open),
            "total": n_all,
            "last_satisfaction": last[0] if last else None,
            "open_complaints": [record_dict(r, now) for r in open_],
        },
    )


def open_complaints_expression(customer_id: Any, rules: Sequence[Any] = ()) -> Any:
    """SQL over ``customers.id``: how many open (unresolved, unclosed) complaints the customer
    has, of those ``rules`` (conditions on complaints) let through."""
    c = COMPLAINTS.c
    return (
        select(func.count())
        .where(c.customer_id == customer_id, c.closed_at.is_(None), c.resolved_at.is_(None), *rules)
        .correlate_except(COMPLAINTS)
        .scalar_subquery()
    )


def open_complaints_column(session: Session | None = None) -> ListColumn:
    """A ``customer list`` column: how many open complaints the customer has that the acting
    user of ``session`` may see (a service clerk counts their team's)."""
    rule = condition(session, "complaints") if session is not None else None
    rules = (rule,) if rule is not None else ()
    return ListColumn(
        name="complaints_open",
        header=_("open complaints"),
        expression=lambda customer_id: open_complaints_expression(customer_id, rules),
        default=False,
    )
