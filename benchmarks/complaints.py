"""Benchmark: the complaints plugin's escalation job and ``complaint report``.

1. The escalation job (``complaints.escalate``: mark first-response and resolution breaches,
   escalate to the team lead, one history entry per newly breached complaint) over 100,000
   open complaints, against the reference: ONE SQL ``UPDATE`` that marks the same breaches and
   does nothing else. Target: the job within 3x of the reference. Both run on the same data,
   each in a transaction that is rolled back, alternately, best of ``--repeat``.
2. ``complaint report`` (the same service the command calls) over 1,000,000 complaints:
   seconds, as the README quotes.

Usage::

    python benchmarks/complaints.py                         # SQLite in a temporary folder
    python benchmarks/complaints.py --postgresql             # a throwaway PostgreSQL cluster
    python benchmarks/complaints.py --db postgresql://user@127.0.0.1/bench   # an empty database
    python benchmarks/complaints.py --open 100000 --report-rows 1000000 --repeat 3
    python benchmarks/complaints.py --tiny                   # a few hundred rows: checks the script runs

Complaints are generated straight into the tables with executemany (the benchmark measures the
job and the report, not opening complaints one by one). The job is the one the plugin gives
the scheduler (``kehu_core.jobs.all_jobs``), the report comes from ``kehu_complaints.api``; the
tables are named here by the columns the benchmark writes and the reference reads.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    String,
    Table,
    and_,
    case,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from kehu_complaints import api
from kehu_core import installer
from kehu_core.app import Kehu
from kehu_core.interactions import INTERACTIONS
from kehu_core.jobs import all_jobs
from kehu_core.models import Customer
from kehu_core.pgcluster import PgCluster
from kehu_core.types import UTCDateTime

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_tiny, sizes  # noqa: E402

NOW = datetime(2026, 11, 2, 4, 0, tzinfo=UTC)  # Monday 12:00 in Shanghai
CHUNK = 50_000
JOB = "complaints.escalate"

_tables = MetaData()
#: The complaints table, as far as the benchmark writes and the reference UPDATE reads it.
COMPLAINTS = Table(
    "complaints_complaints",
    _tables,
    Column("id", BigInteger, primary_key=True),
    Column("closed_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("paused_since", UTCDateTime),
    Column("first_response_at", UTCDateTime),
    Column("first_response_due_at", UTCDateTime),
    Column("first_response_breached_at", UTCDateTime),
    Column("resolution_due_at", UTCDateTime),
    Column("resolution_breached_at", UTCDateTime),
)
TEAMS = Table(
    "complaints_teams",
    _tables,
    Column("id", BigInteger, primary_key=True),
    Column("name", String(100)),
    Column("lead", String(100)),
    Column("assignment", String(16)),
    Column("created_at", UTCDateTime),
)
HISTORY = Table("complaints_history", _tables, Column("id", BigInteger, primary_key=True))
CATEGORIES = ("quality", "delivery", "service", "billing", "other")
SEVERITIES = ("low", "medium", "medium", "high", "critical")


def setup(url: str, customers: int):
    """An app on ``url`` with the core schema, the complaints plugin and ``customers`` customers."""

    app = Kehu(url)
    app.init()
    with app.session() as s:
        if "complaints" not in app.installed(s):
            installer.install(app, s, ["complaints"])
        if not s.scalar(select(func.count()).select_from(Customer)):
            s.execute(
                insert(Customer),
                [
                    dict(
                        code=f"B{i:06d}",
                        name=f"客户{i}",
                        kind="company",
                        special_dates={},
                        attributes={},
                        marketing_consent=False,
                        active=True,
                        created_at=NOW,
                        updated_at=NOW,
                    )
                    for i in range(customers)
                ],
            )
    return app


def _rows(
    count: int, *, open_only: bool, seed: int, customer_ids: list[int], team_id: int
) -> Iterator[list[dict]]:
    """Complaint rows in chunks; open ones have due times spread so about half are past due."""
    rng = random.Random(seed)
    chunk: list[dict] = []
    for n in range(count):
        opened = NOW - timedelta(minutes=rng.randint(10, 60 * 24 * (20 if open_only else 700)))
        row = dict(
            first_response_at=None,
            resolved_at=None,
            closed_at=None,
            satisfaction=None,
            paused_since=None,
            customer_id=rng.choice(customer_ids),
            kind=rng.choice(("complaint", "grievance")),
            channel="电话",
            category=rng.choice(CATEGORIES),
            severity=rng.choice(SEVERITIES),
            status="investigating",
            description="benchmark",
            wants=[],
            handler=f"h{n % 40}",
            team_id=team_id,
            opened_at=opened,
            clock_started_at=opened,
            sla_policy="default",
            paused_seconds=0,
            reopen_count=0,
            version=1,
            created_at=opened,
            updated_at=opened,
            first_response_due_at=opened + timedelta(hours=rng.randint(1, 72)),
            resolution_due_at=opened + timedelta(hours=rng.randint(24, 400)),
        )
        if rng.random() < 0.6:
            row["first_response_at"] = opened + timedelta(minutes=rng.randint(5, 3000))
        if not open_only:
            if rng.random() < 0.85:
                done = opened + timedelta(hours=rng.randint(2, 500))
                row.update(
                    status="closed",
                    resolved_at=done,
                    closed_at=done + timedelta(days=2),
                    first_response_at=row.get("first_response_at") or opened + timedelta(hours=1),
                    satisfaction=rng.choices((1, 2, 3, 4, 5), weights=(1, 1, 3, 6, 6))[0],
                    reopen_count=1 if rng.random() < 0.05 else 0,
                )
            elif rng.random() < 0.1:
                row["paused_since"] = NOW - timedelta(hours=3)
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def fill(app, count: int, *, open_only: bool, seed: int, purchases: int = 0) -> None:
    """Replace every complaint by ``count`` generated ones (history emptied; benchmark database
    only), and, unless ``open_only``, the benchmark's purchases by ``purchases`` generated ones."""

    with app.engine.begin() as conn:
        if app.dialect == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS complaints_history_no_delete")
        else:
            conn.exec_driver_sql(
                "ALTER TABLE complaints_history DISABLE TRIGGER complaints_history_append_only"
            )
        conn.execute(HISTORY.delete())
        conn.execute(COMPLAINTS.delete())
        conn.execute(TEAMS.delete())
        team_id = conn.execute(
            TEAMS.insert()
            .values(name="一组", lead="李娜", assignment="manual", created_at=NOW)
            .returning(TEAMS.c.id)
        ).scalar_one()
        customer_ids = list(conn.execute(select(Customer.id)).scalars())
        for chunk in _rows(count, open_only=open_only, seed=seed, customer_ids=customer_ids, team_id=team_id):
            _insert_raw(conn, app.dialect, chunk)
        if not open_only:
            _purchases(conn, app.dialect, customer_ids, seed, purchases)
        if app.dialect == "postgresql":
            conn.exec_driver_sql(
                "ALTER TABLE complaints_history ENABLE TRIGGER complaints_history_append_only"
            )
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")


def _stamp(moment: datetime | None, dialect: str) -> str | None:
    """A time as the driver wants it: SQLAlchemy's SQLite text format, or ISO 8601 for PostgreSQL."""
    if moment is None:
        return None
    if dialect == "sqlite":  # every generated time is already UTC
        return moment.replace(tzinfo=None).isoformat(" ", "microseconds")
    return moment.isoformat()


def _insert_raw(conn, dialect: str, rows: list[dict]) -> None:
    """executemany at the driver level: generating a million rows through SQLAlchemy's type
    processing would take longer than everything measured."""
    columns = list(rows[0])
    mark = "?" if dialect == "sqlite" else "%s"
    sql = (
        f"INSERT INTO complaints_complaints ({', '.join(columns)}) "
        f"VALUES ({', '.join(mark for _ in columns)})"
    )
    values = [
        tuple(
            _stamp(v, dialect) if isinstance(v, datetime) else ("[]" if k == "wants" else v)
            for k, v in row.items()
        )
        for row in rows
    ]
    conn.exec_driver_sql(sql, values)


def _purchases(conn, dialect: str, customer_ids: list[int], seed: int, count: int) -> None:
    """Purchases spread over the same two years, so the repurchase figure has something to find."""

    conn.execute(INTERACTIONS.delete().where(INTERACTIONS.c.external_ref.like("bench:%")))
    rng = random.Random(seed)
    mark = "?" if dialect == "sqlite" else "%s"
    sql = (
        "INSERT INTO interactions (customer_id, kind, status, occurred_at, amount, external_ref, created_at) "
        f"VALUES ({mark}, 'purchase', 'done', {mark}, 100, {mark}, {mark})"
    )
    now = _stamp(NOW, dialect)
    rows = [
        (
            rng.choice(customer_ids),
            _stamp(NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 730)), dialect),
            f"bench:{n}",
            now,
        )
        for n in range(count)
    ]
    for begin in range(0, len(rows), CHUNK):
        conn.exec_driver_sql(sql, rows[begin : begin + CHUNK])


def reference_update(session: Session, now: datetime) -> int:
    """ONE UPDATE marking the same breaches as the job, nothing else (no escalation, no history).

    A breach: the clock runs (not closed, resolved or paused) and a due time has passed with no
    breach marked yet; the first response's only while there is no first response. The job
    must mark exactly as many complaints: :func:`main` checks it.
    """
    c = COMPLAINTS.c
    running = and_(c.closed_at.is_(None), c.resolved_at.is_(None), c.paused_since.is_(None))
    first = and_(
        c.first_response_at.is_(None), c.first_response_breached_at.is_(None), c.first_response_due_at < now
    )
    resolution = and_(c.resolution_breached_at.is_(None), c.resolution_due_at < now)
    return session.execute(
        update(COMPLAINTS)
        .where(running, or_(first, resolution))
        .values(
            first_response_breached_at=case((first, now), else_=c.first_response_breached_at),
            resolution_breached_at=case((resolution, now), else_=c.resolution_breached_at),
        )
    ).rowcount


def timed(app, work) -> tuple[float, object]:
    """Run ``work(session)`` in a transaction that is rolled back; seconds and result."""
    session = Session(app.engine)
    try:
        start = time.perf_counter()
        result = work(session)
        session.flush()
        return time.perf_counter() - start, result
    finally:
        session.rollback()
        session.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="database URL (default: a SQLite file in a temporary folder)")
    parser.add_argument("--postgresql", action="store_true", help="run on a throwaway PostgreSQL cluster")
    parser.add_argument("--open", type=int, help="open complaints for the escalation job (default 100,000)")
    parser.add_argument("--report-rows", type=int, help="complaints for the report (default 1,000,000)")
    parser.add_argument("--customers", type=int, help="customers they belong to (default 5,000)")
    parser.add_argument("--purchases", type=int, help="purchases for the repurchase figure (default 200,000)")
    parser.add_argument("--repeat", type=int, help="runs of each side; the best is compared (default 3)")
    add_tiny(parser, "300 open, 1,000 for the report, 100 customers")
    args = parser.parse_args(argv)
    sizes(
        args,
        full=dict(open=100_000, report_rows=1_000_000, customers=5_000, purchases=200_000, repeat=3),
        tiny=dict(open=300, report_rows=1_000, customers=100, purchases=1_000, repeat=2),
    )
    # Only the complaints plugin loads: other plugins' hooks are not what is measured.
    os.environ.setdefault("KEHU_PLUGINS", "complaints")

    tmp = tempfile.TemporaryDirectory()
    url = args.db or f"sqlite:///{Path(tmp.name) / 'complaints-bench.db'}"
    cluster = None
    if args.postgresql:
        cluster = PgCluster.start()
        url = cluster.create_database("complaints_bench")
    app = setup(url, args.customers)
    print(f"database: {app.dialect}")
    escalate = next((job for job in all_jobs(app) if job.name == JOB), None)
    if escalate is None:
        raise SystemExit(f"no job {JOB!r}: is the complaints plugin installed and loaded?")

    started = time.perf_counter()
    fill(app, args.open, open_only=True, seed=1)
    print(f"generated {args.open:,} open complaints in {time.perf_counter() - started:.1f}s")
    job_times, ref_times = [], []
    for _ in range(args.repeat):
        seconds, ref_marked = timed(app, lambda s: reference_update(s, NOW))
        ref_times.append(seconds)
        seconds, message = timed(app, lambda s: escalate.run(app, s, NOW))
        job_times.append(seconds)
    job_marked = int(str(message).split()[0]) if str(message)[0].isdigit() else 0
    assert job_marked == ref_marked, (job_marked, ref_marked)
    job, ref = min(job_times), min(ref_times)
    print(
        f"escalation job: {job:.3f}s for {job_marked:,} newly breached of {args.open:,} open "
        f"(marks, escalates to the lead, writes {job_marked:,} history entries)"
    )
    print(f"reference, one UPDATE marking the same breaches: {ref:.3f}s")
    print(
        f"ratio job / single UPDATE = {job / ref:.2f}x (target <= 3x) "
        f"{'OK' if job / ref <= 3 else 'OVER TARGET'}"
    )

    started = time.perf_counter()
    fill(app, args.report_rows, open_only=False, seed=2, purchases=args.purchases)
    print(f"generated {args.report_rows:,} complaints in {time.perf_counter() - started:.1f}s")
    report_times = []
    for _ in range(max(1, args.repeat - 1)):
        with app.session() as s:
            start = time.perf_counter()
            report = api.report(app, s, now=NOW)
            report_times.append(time.perf_counter() - start)
    best = min(report_times)
    print(
        f"complaint report over {report.total:,} complaints: {best:.2f}s "
        f"(breach rate {report.breach_rate}, median resolution {report.resolution.median_hours}h); "
        f"{report.total / best / 1e6:.2f}M complaints/s"
    )
    app.dispose()
    if cluster is not None:
        cluster.stop()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
