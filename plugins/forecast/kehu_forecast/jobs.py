"""The scheduled jobs: a new bottom-up run once a new month of history is complete, and the
SMART targets' statuses recorded each day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.app import Kehu
from kehu_forecast.bottomup import Options, bottom_up
from kehu_forecast.models import runs
from kehu_forecast.plan import store
from kehu_forecast.targets import update_statuses


def refresh(app: Kehu, session: Session, now: datetime) -> str:
    """Make a bottom-up run when no run covers the newest complete month yet (idempotent)."""
    today = calendar.today(now)
    wanted_end = calendar.shift(calendar.period_start(today, "month"), -1, "month")
    done = session.scalar(
        select(runs.c.id)
        .where(runs.c.kind == "bottomup", runs.c.freq == "month", runs.c.history_end >= wanted_end)
        .limit(1)
    )
    if done is not None:
        return f"forecast run {done} already covers history up to {wanted_end}"
    plan = bottom_up(session, Options(as_of=today))
    run_id = store(app, session, plan, source="job")
    return f"forecast run {run_id}: history up to {plan.history_end}, {plan.hierarchy.n_bottom} customers"


def record_target_statuses(app: Kehu, session: Session, now: datetime) -> str:
    """Record each started target's status as of today; a change fires the plugin's event (idempotent)."""
    changes = update_statuses(app, session, now)
    if not changes:
        return "no target changed status"
    moved = ", ".join(
        f"{c.salesperson} {c.period_start}: {c.old_status or '-'} -> {c.new_status}" for c in changes[:5]
    )
    more = f" and {len(changes) - 5} more" if len(changes) > 5 else ""
    return f"{len(changes)} target(s) changed status: {moved}{more}"
