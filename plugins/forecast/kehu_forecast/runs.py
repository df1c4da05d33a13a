"""Saved forecast runs, read with plain SQL: the newest run of a kind, and the list of runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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
    """The newest runs with their company total over the horizon."""
    total = (
        select(func.sum(values.c.value))
        .where(values.c.run_id == runs.c.id, values.c.level == "company")
        .scalar_subquery()
    )
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
            total.label("total"),
        )
        .order_by(runs.c.id.desc())
        .limit(limit)
    )
    return [{**dict(r), "total": to_money(r["total"])} for r in session.execute(stmt).mappings()]
