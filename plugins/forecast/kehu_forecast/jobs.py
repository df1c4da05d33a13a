"""The scheduled jobs: a new bottom-up run once a new month of history is complete, and the
SMART targets' statuses recorded each day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.app import Kehu
from kehu_core.i18n import messages
from kehu_forecast.bottomup import Options, bottom_up
from kehu_forecast.models import runs
from kehu_forecast.plan import store
from kehu_forecast.statuses import status_label
from kehu_forecast.targets import update_statuses

_ = messages("kehu_forecast").gettext


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
        return _("forecast run {run} already covers history up to {end}").format(run=done, end=wanted_end)
    plan = bottom_up(session, Options(as_of=today))
    run_id = store(app, session, plan, source="job")
    return _("forecast run {run}: history up to {end}, {customers} customers").format(
        run=run_id, end=plan.history_end, customers=plan.hierarchy.n_bottom
    )


def record_target_statuses(app: Kehu, session: Session, now: datetime) -> str:
    """Record each started target's status as of today; a change fires the plugin's event (idempotent)."""
    changes = update_statuses(app, session, now)
    if not changes:
        return _("no target changed status")
    moved = _(", ").join(
        _("{salesperson} {period}: {old} -> {new}").format(
            salesperson=c.salesperson,
            period=c.period_start,
            old=status_label(c.old_status) if c.old_status else "-",
            new=status_label(c.new_status),
        )
        for c in changes[:5]
    )
    if len(changes) > 5:
        return _("{n} target(s) changed status: {moved} and {more} more").format(
            n=len(changes), moved=moved, more=len(changes) - 5
        )
    return _("{n} target(s) changed status: {moved}").format(n=len(changes), moved=moved)
