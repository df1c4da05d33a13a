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

Complaints are generated straight into the tables with executemany (the benchmark measures the
job and the report, not opening complaints one by one).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.orm import Session

NOW = datetime(2026, 11, 2, 4, 0, tzinfo=UTC)  # Monday 12:00 in Shanghai
CUSTOMERS = 5_000
CHUNK = 50_000
PURCHASES = 200_000
CATEGORIES = ("quality", "delivery", "service", "billing", "other")
SEVERITIES = ("low", "medium", "medium", "high", "critical")


def setup(url: str):
    """An app on ``url`` with the core schema, the complaints plugin and customers."""
    from kehu_core import installer
    from kehu_core.app import Kehu
    from kehu_core.models import Customer

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
                    for i in range(CUSTOMERS)
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


def fill(app, count: int, *, open_only: bool, seed: int) -> None:
    """Replace every complaint by ``count`` generated ones (history emptied; benchmark database only)."""
    from kehu_complaints.models import COMPLAINTS, HISTORY, TEAMS
    from kehu_core.models import Customer

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
            _purchases(conn, app.dialect, customer_ids, seed)
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


def _purchases(conn, dialect: str, customer_ids: list[int], seed: int) -> None:
    """Purchases spread over the same two years, so the repurchase figure has something to find."""
    from kehu_core.interactions import INTERACTIONS

    conn.execute(INTERACTIONS.delete().where(INTERACTIONS.c.external_ref.like("bench:%")))
    rng = random.Random(seed)
    mark = "?" if dialect == "sqlite" else "%s"
    sql = (
        f"INSERT INTO interactions (customer_id, kind, status, occurred_at, amount, external_ref, created_at) "
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
        for n in range(PURCHASES)
    ]
    for begin in range(0, len(rows), CHUNK):
        conn.exec_driver_sql(sql, rows[begin : begin + CHUNK])


def reference_update(session: Session, now: datetime) -> int:
    """ONE UPDATE marking the same breaches as the job, nothing else (no escalation, no history)."""
    from kehu_complaints.jobs import breach_conditions
    from kehu_complaints.models import COMPLAINTS

    c = COMPLAINTS.c
    running, first, resolution = breach_conditions(now)
    return session.execute(
        update(COMPLAINTS)
        .where(running, first | resolution)
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
    parser.add_argument("--open", type=int, default=100_000, help="open complaints for the escalation job")
    parser.add_argument("--report-rows", type=int, default=1_000_000, help="complaints for the report")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    from kehu_complaints import jobs
    from kehu_complaints.report import build_report

    tmp = tempfile.TemporaryDirectory()
    url = args.db or f"sqlite:///{Path(tmp.name) / 'complaints-bench.db'}"
    cluster = None
    if args.postgresql:
        from kehu_core.pgcluster import PgCluster

        cluster = PgCluster.start()
        url = cluster.create_database("complaints_bench")
    app = setup(url)
    print(f"database: {app.dialect}")

    started = time.perf_counter()
    fill(app, args.open, open_only=True, seed=1)
    print(f"generated {args.open:,} open complaints in {time.perf_counter() - started:.1f}s")
    job_times, ref_times = [], []
    for _ in range(args.repeat):
        seconds, ref_marked = timed(app, lambda s: reference_update(s, NOW))
        ref_times.append(seconds)
        seconds, message = timed(app, lambda s: jobs.escalate(s, NOW))
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
        f"ratio job / single UPDATE = {job / ref:.2f}x (target <= 3x) {'OK' if job / ref <= 3 else 'OVER TARGET'}"
    )

    started = time.perf_counter()
    fill(app, args.report_rows, open_only=False, seed=2)
    print(f"generated {args.report_rows:,} complaints in {time.perf_counter() - started:.1f}s")
    report_times = []
    for _ in range(max(1, args.repeat - 1)):
        with app.session() as s:
            start = time.perf_counter()
            report = build_report(s, app.dialect, now=NOW)
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
