"""Saved forecast runs, read with plain SQL: the newest run of a kind, and the list of runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from kehu_core.access import customer_condition, visible_customers
from kehu_core.types import to_money
from kehu_forecast.models import runs, values

KINDS = ("bottomup", "topdown", "reconciled")


def latest_run(session: Session, kind: str | None = None, *, kinds: tuple[str, ...] = ()) -> int | None:
    """The id of the newest run of ``kind`` (or of any of ``kinds``; of any kind when neither is given)."""
    stmt = select(runs.c.id)
    if kind:
        stmt = stmt.where(runs.c.kind == kind)
    if kinds:
        stmt = stmt.where(runs.c.kind.in_(kinds))
    return session.scalar(stmt.order_by(runs.c.id.desc()).limit(1))


def list_runs(session: Session, limit: int = 20) -> list[dict[str, Any]]:
    """The newest runs with their total over the horizon and who made them (``by``).

    The total is the company's for a user who sees every customer; for one whose record rules
    restrict them, it is the total of the customers they see (not the company's).
    """
    if customer_condition(session) is None:
        where = values.c.level == "company"
    else:
        where = and_(values.c.level == "customer", visible_customers(session, values.c.customer_id))
    total = select(func.sum(values.c.value)).where(values.c.run_id == runs.c.id, where).scalar_subquery()
    stmt = (
        select(
            runs.c.id,
            runs.c.kind,
            runs.c.method,
            runs.c.freq,
            runs.c.first_period,
            runs.c.horizon,
            runs.c.source,
            runs.c.created_at,
            runs.c.params,
            total.label("total"),
        )
        .order_by(runs.c.id.desc())
        .limit(limit)
    )
    result = []
    for r in session.execute(stmt).mappings():
        row = {k: v for k, v in r.items() if k != "params"}
        result.append({**row, "total": to_money(r["total"]), "by": (r["params"] or {}).get("by")})
    return result
