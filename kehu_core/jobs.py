"""The scheduler (Odoo's ``ir.cron``): jobs declared by plugins, run when due, every run logged.

``run_due`` is meant for cron. It is idempotent: a job runs only when its interval has passed
since its last successful run; each job runs in its own transaction, and a failing job is
logged and does not stop the others.
"""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Sequence
from datetime import datetime, timedelta

from attrs import frozen
from sqlalchemy import func, select, update

from kehu_core.app import Kehu
from kehu_core.errors import NotFound
from kehu_core.hooktypes import Job
from kehu_core.i18n import messages
from kehu_core.manifest import load_reference
from kehu_core.models import JobRun
from kehu_core.types import utcnow

_ = messages("kehu_core").gettext


@frozen
class JobStatus:
    """A job and where it stands: last run, last success, and when it is next due."""

    name: str
    plugin: str
    interval_seconds: int
    description: str
    last_run: datetime | None
    last_status: str | None
    last_success: datetime | None
    next_due: datetime | None
    due: bool


@frozen
class JobOutcome:
    """One job run by :func:`run_due`."""

    name: str
    status: str  # "ok" | "failed" | "busy" (running in another process)
    message: str | None


def all_jobs(app: Kehu) -> list[Job]:
    """Every job of the core and the installed plugins, by name."""
    jobs = [job for batch in app.hook.kehu_scheduled_jobs() for job in batch]
    return sorted(jobs, key=lambda j: j.name)


def _last(session: object, job: str, status: str | None = None) -> JobRun | None:
    stmt = select(JobRun).where(JobRun.job == job)
    if status:
        stmt = stmt.where(JobRun.status == status)
    return session.scalar(stmt.order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1))  # type: ignore[attr-defined]


def job_statuses(app: Kehu, now: datetime | None = None) -> list[JobStatus]:
    """The status of every job at ``now``."""
    now = now or utcnow()
    result = []
    with app.session() as session:
        for job in all_jobs(app):
            last, ok = _last(session, job.name), _last(session, job.name, "ok")
            next_due = ok.started_at + job.interval if ok else None
            result.append(
                JobStatus(
                    name=job.name,
                    plugin=job.plugin,
                    interval_seconds=int(job.interval.total_seconds()),
                    description=app.declared_text(job.plugin, job.description),
                    last_run=last.started_at if last else None,
                    last_status=last.status if last else None,
                    last_success=ok.started_at if ok else None,
                    next_due=next_due,
                    due=next_due is None or next_due <= now,
                )
            )
    return result


#: A run still marked running after this long is taken as dead (its process was killed).
STALE_AFTER = timedelta(hours=6)


def _lock_key(name: str) -> int:
    """A stable signed 64-bit key for PostgreSQL advisory locks."""
    return int.from_bytes(hashlib.sha256(f"kehu-job:{name}".encode()).digest()[:8], "big", signed=True)


def _claim(app: Kehu, job: Job, now: datetime, force: bool) -> int | None:
    """Record that ``job`` starts, unless it is not due or runs in another process right now.

    The check and the record are one transaction, serialised per job (SQLite: ``BEGIN
    IMMEDIATE``; PostgreSQL: an advisory lock), so two overlapping ``run-due`` (cron firing
    while a long job still runs) never run a job twice. Returns the run's id, or ``None``.
    """
    with app.session() as session:
        if app.dialect == "postgresql":
            session.execute(select(func.pg_advisory_xact_lock(_lock_key(job.name))))
        started = utcnow()
        abandoned = (
            (JobRun.job == job.name)
            & (JobRun.status == "running")
            & (JobRun.started_at <= started - STALE_AFTER)
        )
        session.execute(
            update(JobRun)
            .where(abandoned)
            .values(
                status="failed",
                finished_at=started,
                message=_("abandoned: still running after {hours} hours (was its process killed?)").format(
                    hours=int(STALE_AFTER.total_seconds() // 3600)
                ),
            )
        )
        if session.scalar(
            select(JobRun.id).where(JobRun.job == job.name, JobRun.status == "running").limit(1)
        ):
            return None
        ok = _last(session, job.name, "ok")
        if not force and ok is not None and ok.started_at + job.interval > now:
            return None  # another process ran it since we looked
        run = JobRun(job=job.name, plugin=job.plugin, started_at=started, status="running")
        session.add(run)
        session.flush()
        return run.id


def run_due(
    app: Kehu, now: datetime | None = None, names: Sequence[str] = (), force: bool = False
) -> list[JobOutcome]:
    """Run each due job (or the named ones) in its own transaction, logging every run.

    With ``force``, the named jobs run even if not due. A job already running in another
    process is left to it (outcome ``busy``). A job that raises is logged as ``failed``,
    its transaction rolled back, and the others still run.
    """
    now = now or utcnow()
    jobs = {j.name: j for j in all_jobs(app)}
    unknown = [n for n in names if n not in jobs]
    if unknown:
        raise NotFound(_("no job named {names}; see `kehu jobs list`").format(names=", ".join(unknown)))
    statuses = {s.name: s for s in job_statuses(app, now)}
    selected = [jobs[n] for n in (names or jobs)]
    outcomes = []
    for job in selected:
        if not (force or statuses[job.name].due):
            continue
        run_id = _claim(app, job, now, force)
        if run_id is None:
            outcomes.append(
                JobOutcome(job.name, "busy", _("running in another process, or run by it just now"))
            )
            continue
        try:
            with app.session() as session:
                message = load_reference(job.run)(app, session, now)
            status = "ok"
        except Exception as exc:  # a failing job is logged; the others still run
            status, message = "failed", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
        with app.session() as session:
            session.execute(
                update(JobRun)
                .where(JobRun.id == run_id)
                .values(status=status, finished_at=utcnow(), message=message)
            )
        outcomes.append(JobOutcome(job.name, status, message))
    return outcomes


def job_history(app: Kehu, name: str | None = None, limit: int = 20) -> list[JobRun]:
    """The latest runs, newest first."""
    with app.session() as session:
        stmt = select(JobRun)
        if name:
            stmt = stmt.where(JobRun.job == name)
        return list(session.scalars(stmt.order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)))


def run_count(app: Kehu) -> int:
    """How many job runs are logged."""
    with app.session() as session:
        return session.scalar(select(func.count()).select_from(JobRun)) or 0
