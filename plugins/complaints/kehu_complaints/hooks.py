"""The work behind the plugin's hook implementations (kept out of ``__init__`` to keep it light)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from attrs import asdict
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from kehu_complaints import sla
from kehu_complaints.fields import CATEGORIES
from kehu_complaints.models import COMPLAINTS, HISTORY, Complaint
from kehu_complaints.services import (
    ComplaintQuery,
    insert_complaints,
    list_complaints,
    record_dict,
    show,
)
from kehu_complaints.settings import calendar_of
from kehu_core.hooktypes import ListColumn, ProfileSection
from kehu_core.models import Customer
from kehu_core.types import utcnow

SYSTEM = "system"


def app_of(session: Session) -> Any:
    """The app that opened ``session``, when the core recorded it in ``session.info`` (else ``None``)."""
    return session.info.get("kehu_app")


def open_from_interactions(session: Session, rows: Sequence[Mapping[str, Any]], source: str) -> list[int]:
    """Open one complaint per ``complaint`` interaction (once: the interaction id is unique)."""
    ids = [r["id"] for r in rows]
    already = set(
        session.scalars(
            select(Complaint.source_interaction_id).where(Complaint.source_interaction_id.in_(ids))
        )
    )
    new = []
    for r in rows:
        if r["id"] in already:
            continue
        category = (r.get("category") or "").strip().lower()
        new.append(
            dict(
                customer_id=r["customer_id"],
                kind="complaint",
                channel=r.get("channel"),
                category=category if category in CATEGORIES else "other",
                severity="medium",
                description=r.get("note"),
                handler=r.get("salesperson"),
                opened_at=r["occurred_at"],
                source_interaction_id=r["id"],
                interaction_id=r["id"],
            )
        )
    return insert_complaints(
        app_of(session),
        session,
        new,
        actor=SYSTEM,
        now=utcnow(),
        note=f"opened from a complaint interaction ({source})",
    )


def profile_section(session: Session, customer: Customer) -> ProfileSection:
    """Open complaints, the latest ones, and the last satisfaction after close."""
    now = utcnow()
    open_ = list_complaints(
        session, ComplaintQuery(customer_code=customer.code, open_only=True, limit=5), now
    )
    c = COMPLAINTS.c
    n_open, n_all = session.execute(
        select(
            func.coalesce(func.sum(case((c.closed_at.is_(None) & c.resolved_at.is_(None), 1), else_=0)), 0),
            func.count(),
        ).where(c.customer_id == customer.id)
    ).one()
    last = session.execute(
        select(c.satisfaction, c.closed_at)
        .where(c.customer_id == customer.id, c.closed_at.is_not(None), c.satisfaction.is_not(None))
        .order_by(c.closed_at.desc(), c.id.desc())
        .limit(1)
    ).first()
    rows = [
        ("Open 未结", str(n_open)),
        ("All 全部", str(n_all)),
        ("Last satisfaction 最近满意度", f"{last[0]}/5" if last else "-"),
    ]
    for record in open_:
        flag = " OVERDUE 超时" if record.overdue(now) else (" paused 暂停" if record.paused else "")
        rows.append((f"#{record.id}", f"{record.status} {record.category}/{record.severity}{flag}"))
    return ProfileSection(
        title="Complaints 抱怨与投诉",
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


def open_complaints_column() -> ListColumn:
    """A ``customer list`` column: how many open complaints the customer has."""

    def expression(customer_id: Any) -> Any:
        c = COMPLAINTS.c
        return (
            select(func.count())
            .where(c.customer_id == customer_id, c.closed_at.is_(None), c.resolved_at.is_(None))
            .correlate_except(COMPLAINTS)
            .scalar_subquery()
        )

    return ListColumn(name="complaints_open", header="open complaints", expression=expression, default=False)


def recompute_for_tiers(session: Session, tiers: Mapping[int, str | None]) -> int:
    """Recompute open complaints of customers whose tier changed (tiers given by the event)."""
    if not tiers:
        return 0
    return sla.recompute_open(
        app_of(session),
        session,
        calendar_of(session),
        utcnow(),
        customer_ids=list(tiers),
        reason="customer tier changed",
        tiers={k: v for k, v in tiers.items() if v},
    )


def erase(session: Session, customer_ids: Sequence[int]) -> None:
    """Blank complaint free text and history notes of forgotten customers."""
    ids = select(Complaint.id).where(Complaint.customer_id.in_(list(customer_ids)))
    session.execute(
        update(COMPLAINTS)
        .where(COMPLAINTS.c.customer_id.in_(list(customer_ids)))
        .values(
            description=None,
            solution=None,
            root_cause=None,
            corrective_action=None,
            penalty_note=None,
            close_reason=None,
        )
    )
    session.execute(
        update(HISTORY).where(HISTORY.c.complaint_id.in_(ids), HISTORY.c.note.is_not(None)).values(note=None)
    )


def export(session: Session, customer: Customer) -> Mapping[str, Any]:
    """The customer's complaints with their timelines."""
    ids = list(
        session.scalars(
            select(Complaint.id).where(Complaint.customer_id == customer.id).order_by(Complaint.id)
        )
    )
    result = []
    for complaint_id in ids:
        detail = show(app_of(session), session, complaint_id)
        result.append({**record_dict(detail.complaint), "timeline": [asdict(e) for e in detail.timeline]})
    return {"complaints": result}
