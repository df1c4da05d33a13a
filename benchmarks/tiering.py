"""Benchmark: ``kehu tier run`` end to end against pandas and DuckDB computing the same classes.

Usage::

    python benchmarks/tiering.py --sizes 100k,1m            # 100k customers / 1M interactions ...
    python benchmarks/tiering.py --sizes 1m --backends sqlite,postgresql
    python benchmarks/tiering.py generate --sizes 1m          # only build the databases
    python benchmarks/tiering.py --sizes 1m --pairs 3         # the re-run target judged on 3 pairs
    python benchmarks/tiering.py --tiny                       # 200 customers: checks the script runs

After the first run and an unchanged re-run, ``kehu tier stats`` of one customer (every
active customer ranked, as a run does), then two change-heavy re-runs (see :data:`SHIFTS`), each
measured against the first run: purchases the month after make at least half the customers
change pyramid tier (the target's case), then, the month after that, nearly all of them.
On a shared two-core machine one run can take a third longer than the next, so with
``--pairs N`` the first run and the half re-run are measured N times in all, each pair on a
fresh copy of the installed database, and the target is judged on the median of the pairs'
ratios (every pair is printed). Each run is measured on a database at rest: other steps' writes
flushed to disk first, and on PostgreSQL a ``VACUUM (ANALYZE)`` and a ``CHECKPOINT`` (see
:func:`tier_run`).

A size names the number of customers; interactions are ten times as many. Databases are
generated once into ``--workdir`` (``kehu init``, then ``sqlite3`` executemany straight into
the core tables, or COPY on PostgreSQL) and reused. Every measured step runs in its own
process, so peak memory (max RSS) is that step's alone, and so are its CPU seconds (user +
system; DuckDB's: the statement's, all its threads), printed under the table: on a machine
shared with other work, compare those. DuckDB's statement is timed twice: on every core (the
target's reference) and on one thread, as SQLite runs a statement. Printed ratios compare
timings taken in the same run on the same machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KEHU = str(BIN / "kehu")
AS_OF = "2026-10-31"
DATA_END = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
YEARS = 3
KINDS = (
    ("purchase", 0.60),
    ("payment", 0.15),
    ("visit", 0.10),
    ("call", 0.07),
    ("feedback", 0.05),
    ("complaint", 0.03),
)
CHUNK = 500_000


def parse_size(text: str) -> int:
    """``100k`` -> 100000, ``1m`` -> 1000000."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if factor != 1 else text) * factor)


def short_count(n: int) -> str:
    """``2000`` -> ``2k``, ``1000000`` -> ``1M``, ``150`` -> ``150``."""
    for factor, unit in ((1_000_000, "M"), (1_000, "k")):
        if n >= factor:
            return f"{n / factor:g}{unit}"
    return str(n)


def _timestamps(np, seconds):  # noqa: ANN001
    """Seconds before DATA_END as SQLAlchemy's SQLite text format (``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    base = np.datetime64(DATA_END.replace(tzinfo=None), "us")
    stamps = base - (seconds * 1_000_000).astype("timedelta64[us]")
    return np.char.replace(np.datetime_as_string(stamps, unit="us"), "T", " ")


def generate_rows(customers: int, seed: int = 11):
    """Yield (customer rows, interaction row chunks) for a Pareto-shaped data set, deterministic."""
    import numpy as np

    rng = np.random.default_rng(seed)
    interactions = customers * 10
    weight = rng.pareto(1.2, customers) + 0.05
    weight[rng.random(customers) < 0.05] = 0.0  # some customers never interact
    prob = weight / weight.sum()
    scale = 1 + np.minimum(weight, 50)
    created = "2023-01-01 00:00:00.000000"
    customer_rows = [
        (i + 1, f"B{i + 1:07d}", f"客户{i + 1}", "company", "{}", 0, "{}", 1, created, created)
        for i in range(customers)
    ]
    kinds = np.array([k for k, _ in KINDS])
    kind_p = np.array([p for _, p in KINDS])
    horizon = YEARS * 365 * 86400
    # Interactions in time order: sort the offsets descending (oldest first).
    offsets = np.sort(rng.integers(0, horizon, interactions))[::-1]

    def chunks():
        next_id = 1
        for begin in range(0, interactions, CHUNK):
            n = min(CHUNK, interactions - begin)
            cust = rng.choice(customers, n, p=prob) + 1
            kind = kinds[rng.choice(len(kinds), n, p=kind_p)]
            sec = offsets[begin : begin + n]
            occurred = _timestamps(np, sec)
            amount = np.round(rng.lognormal(6.5, 1.0, n) * scale[cust - 1], 2)
            is_purchase = kind == "purchase"
            is_payment = kind == "payment"
            has_cost = is_purchase & (rng.random(n) < 0.8)
            cost = np.round(amount * rng.uniform(0.5, 0.9, n), 2)
            due_sec = sec + rng.integers(-20, 40, n) * 86400
            late = rng.random(n)
            paid_sec = np.where(
                late < 0.15,
                due_sec - rng.integers(1, 90, n) * 86400,
                due_sec + rng.integers(0, 20, n) * 86400,
            )
            due = _timestamps(np, due_sec)
            paid = _timestamps(np, np.maximum(paid_sec, 0))
            sat = rng.choice(5, n, p=(0.05, 0.1, 0.2, 0.4, 0.25)) + 1
            rows = []
            for j in range(n):
                k = kind[j]
                purchase, payment = is_purchase[j], is_payment[j]
                rows.append(
                    (
                        next_id + j,
                        int(cust[j]),
                        k,
                        "done",
                        occurred[j],
                        None,
                        float(amount[j]) if purchase or payment else None,
                        float(cost[j]) if has_cost[j] else None,
                        None,
                        None,
                        None,
                        None,
                        int(sat[j]) if k == "feedback" else None,
                        None,
                        None,
                        due[j] if payment else None,
                        (paid[j] if late[j] > 0.03 else None) if payment else None,
                        occurred[j],
                    )
                )
            next_id += n
            yield rows

    return customer_rows, chunks()


INSERT_CUSTOMER = (
    "INSERT INTO customers (id, code, name, kind, special_dates, marketing_consent, attributes, active, "
    "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)"
)
INTERACTION_COLUMNS = (
    "id",
    "customer_id",
    "kind",
    "status",
    "occurred_at",
    "channel",
    "amount",
    "cost",
    "quantity",
    "product",
    "category",
    "salesperson",
    "satisfaction",
    "note",
    "external_ref",
    "due_at",
    "paid_at",
    "created_at",
)


def _run(*args: str, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(args, check=True, capture_output=True, text=True, env={**os.environ, **(env or {})})
    return out.stdout


def generate_sqlite(path: Path, customers: int) -> None:
    """A ``kehu init``-ed SQLite database with the generated customers and interactions."""
    if path.exists():
        return
    tmp = path.with_suffix(".tmp")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    _run(KEHU, "--db", str(tmp), "init", env={"KEHU_PLUGINS": ""})  # the core schema needs no plugin
    conn = sqlite3.connect(tmp)
    conn.execute("PRAGMA synchronous = OFF")
    cust_rows, chunks = generate_rows(customers)
    conn.executemany(INSERT_CUSTOMER, cust_rows)
    marks = ",".join("?" * len(INTERACTION_COLUMNS))
    sql = f"INSERT INTO interactions ({', '.join(INTERACTION_COLUMNS)}) VALUES ({marks})"
    for rows in chunks:
        conn.executemany(sql, rows)
        conn.commit()
        print(f"  {path.name}: {rows[-1][0]:,} interactions", file=sys.stderr, flush=True)
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    tmp.rename(path)
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)


def generate_postgresql(admin_url: str, name: str, customers: int) -> str:
    """A ``kehu init``-ed PostgreSQL database with the same generated data (COPY)."""
    import psycopg

    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return _database_url(admin_url, name)
        conn.execute(f'CREATE DATABASE "{name}_tmp"')
    tmp_url = _database_url(admin_url, f"{name}_tmp")
    _run(KEHU, "--db", tmp_url, "init")
    cust_rows, chunks = generate_rows(customers)
    with psycopg.connect(_libpq(tmp_url)) as conn:
        with conn.cursor().copy(
            "COPY customers (id, code, name, kind, special_dates, marketing_consent, attributes, "
            "active, created_at, updated_at) FROM STDIN"
        ) as copy:
            for r in cust_rows:
                copy.write_row((*r[:5], bool(r[5]), r[6], bool(r[7]), r[8] + "+00", r[9] + "+00"))
        for rows in chunks:
            with conn.cursor().copy(
                f"COPY interactions ({', '.join(INTERACTION_COLUMNS)}) FROM STDIN"
            ) as copy:
                for r in rows:
                    copy.write_row(
                        tuple(
                            v + "+00" if isinstance(v, str) and i in (4, 15, 16, 17) else v
                            for i, v in enumerate(r)
                        )
                    )
            print(f"  {name}: {rows[-1][0]:,} interactions", file=sys.stderr, flush=True)
        conn.execute("SELECT setval('customers_id_seq', (SELECT max(id) FROM customers))")
        conn.execute("SELECT setval('interactions_id_seq', (SELECT max(id) FROM interactions))")
        conn.commit()
    _pg_admin(admin_url, f'ALTER DATABASE "{name}_tmp" RENAME TO "{name}"')
    return _database_url(admin_url, name)


#: CPU seconds (user + system) of the last :func:`measured` command: on a machine shared with
#: other work, the figure to compare (wall time includes waiting for the CPU and the disk).
LAST_CPU: list[float] = [float("nan")]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(args: list[str]) -> tuple[float, float, str]:
    """Run a command; return (seconds, peak RSS in MB of that process tree, stdout).

    Its CPU seconds are left in :data:`LAST_CPU`.
    """
    # Other steps' writes still in the page cache (a database just copied, a rebuild) would be
    # flushed while this step runs and counted as its time: flushed first.
    os.sync()
    cpu_before = _children_cpu()
    started = time.perf_counter()
    # Only tiering loads: other plugins' hooks are not what is measured (and a broken one
    # elsewhere in the environment cannot stop the benchmark).
    env = {**os.environ, "KEHU_PLUGINS": "tiering"}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    out, err = proc.communicate()
    status = proc.returncode
    seconds = time.perf_counter() - started
    LAST_CPU[0] = _children_cpu() - cpu_before
    if status != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{err[-3000:]}")
    peak = _child_peak_mb(err)
    return seconds, peak, out


def _child_peak_mb(stderr: str) -> float:
    for line in stderr.splitlines()[::-1]:
        if line.startswith("PEAK_RSS_KB="):
            return int(line.split("=", 1)[1]) / 1024
    return float("nan")


#: Runs a command in this interpreter and prints its peak RSS (VmHWM of the process).
WRAP = r"""
import resource, runpy, sys
argv = sys.argv[1:]
try:
    if argv[0] == "-kehu":
        from kehu_core.cli import main
        sys.argv = ["kehu", *argv[1:]]
        try:
            main(argv[1:])
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise
    else:
        sys.argv = argv
        runpy.run_path(argv[0], run_name="__main__")
finally:
    # VmHWM: this process's own peak (ru_maxrss would include a parent's peak carried over exec).
    peak = [l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")]
    peak_kb = peak[0] if peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"PEAK_RSS_KB={peak_kb}", file=sys.stderr)
"""


def kehu(*args: str) -> list[str]:
    """A measured ``kehu`` invocation (same code path as the console script)."""
    return [sys.executable, "-c", WRAP, "-kehu", *args]


def script(*args: str) -> list[str]:
    """A measured run of this file in a reference mode."""
    return [sys.executable, "-c", WRAP, __file__, *args]


# -- the references ------------------------------------------------------------------------


def _reference_module():
    path = ROOT / "plugins" / "tiering" / "tests" / "tiering_reference.py"
    spec = importlib.util.spec_from_file_location("tiering_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _read_frames(url: str):
    """Customers and purchases from the database, as pandas reads them."""
    import pandas as pd
    from sqlalchemy import create_engine

    from kehu_core.db import resolve_url

    engine = create_engine(resolve_url(url))
    with engine.connect() as conn:
        customers = pd.read_sql_query("SELECT id AS customer_id FROM customers WHERE active", conn)
        purchases = pd.read_sql_query(
            "SELECT customer_id, occurred_at, amount, cost FROM interactions "
            "WHERE kind = 'purchase' AND status = 'done' AND amount IS NOT NULL",
            conn,
        )
    engine.dispose()
    return customers, purchases


def reference_pandas(url: str) -> None:
    """pandas reads the interactions from the database and computes the same classes."""
    started = time.perf_counter()
    customers, purchases = _read_frames(url)
    read = time.perf_counter() - started
    classes = _reference_module().classify(customers, purchases, date.fromisoformat(AS_OF))
    print(
        json.dumps(
            {
                "read_seconds": read,
                "seconds": time.perf_counter() - started,
                "counts": {c: classes[c].value_counts().to_dict() for c in ("abc", "pyramid", "rfm")},
            }
        )
    )


DUCKDB_SQL = """
WITH p AS (
    SELECT customer_id, CAST(round(amount * 100) AS BIGINT) AS cents,
           year(occurred_at) * 12 + month(occurred_at) - 1 AS month, CAST(occurred_at AS DATE) AS day
    FROM purchases WHERE occurred_at < TIMESTAMP '{end}'
), agg AS (
    SELECT customer_id,
           SUM(CASE WHEN month >= {start} THEN cents ELSE 0 END) AS m,
           SUM(CASE WHEN month >= {start} AND cents > 0 THEN 1 ELSE 0 END) AS orders,
           SUM(CASE WHEN cents > 0 THEN 1 ELSE 0 END) AS orders_total,
           MAX(day) AS last_day, MIN(day) AS first_day
    FROM p GROUP BY customer_id
), base AS (
    SELECT c.customer_id, COALESCE(m, 0) AS m, COALESCE(orders, 0) AS orders, COALESCE(orders_total, 0) AS ot,
           DATE '{as_of}' - last_day AS recency, DATE '{as_of}' - first_day AS tenure_days
    FROM customers c LEFT JOIN agg USING (customer_id)
), ranked AS (
    SELECT *, COUNT(*) OVER () AS n, SUM(greatest(m, 0)) OVER () AS total,
           RANK() OVER (ORDER BY m DESC) - 1 AS rk,
           COALESCE(SUM(greatest(m, 0)) OVER (
               ORDER BY m DESC RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ), 0) AS cum
    FROM base
), buyers AS (
    SELECT customer_id, COUNT(*) OVER () AS b,
           RANK() OVER (ORDER BY recency DESC) - 1 AS rw,
           RANK() OVER (ORDER BY orders) - 1 AS fw,
           RANK() OVER (ORDER BY m) - 1 AS mw
    FROM base WHERE orders > 0
), scored AS (
    SELECT ranked.*, 1 + (5 * rw) // b AS r, 1 + (5 * fw) // b AS f, 1 + (5 * mw) // b AS ms
    FROM ranked LEFT JOIN buyers USING (customer_id)
)
SELECT customer_id,
    CASE WHEN m <= 0 THEN 'C' WHEN cum * 10000 < 8000 * total THEN 'A'
         WHEN cum * 10000 < 9500 * total THEN 'B' ELSE 'C' END AS abc,
    CASE WHEN m <= 0 THEN '小客户' WHEN rk * 10000 < 100 * n THEN 'VIP'
         WHEN rk * 10000 < 500 * n THEN '主要客户'
         WHEN rk * 10000 < 5000 * n THEN '普通客户' ELSE '小客户' END AS pyramid,
    CASE WHEN ot = 0 THEN 'prospect' WHEN orders = 0 THEN 'lost' WHEN tenure_days <= 90 THEN 'new'
         WHEN r >= 4 AND f >= 4 AND ms >= 4 THEN 'champions'
         WHEN r >= 3 AND f >= 4 THEN 'loyal' WHEN r >= 4 THEN 'potential_loyalist'
         WHEN r = 3 AND f = 3 THEN 'need_attention'
         WHEN r = 3 THEN 'about_to_sleep' WHEN f >= 4 AND ms >= 4 THEN 'cannot_lose'
         WHEN f >= 3 THEN 'at_risk' ELSE 'hibernating' END AS rfm
FROM scored
"""


def reference_duckdb(url: str) -> None:
    """DuckDB computes the same classes from the rows already in memory (the speed limit)."""
    import duckdb
    import pandas as pd

    customers, purchases = _read_frames(url)
    # The company's local wall time, as the plugin buckets days and months (kehu_core.calendar).
    zone = os.environ.get("KEHU_TIMEZONE", "Asia/Shanghai")
    purchases["occurred_at"] = (
        pd.to_datetime(purchases["occurred_at"], utc=True).dt.tz_convert(zone).dt.tz_localize(None)
    )
    purchases["amount"] = purchases["amount"].astype(float)
    con = duckdb.connect()
    con.register("customers_df", customers)
    con.register("purchases_df", purchases)
    con.execute("CREATE TABLE customers AS SELECT * FROM customers_df")
    con.execute("CREATE TABLE purchases AS SELECT * FROM purchases_df")
    as_of = date.fromisoformat(AS_OF)
    asof_month = as_of.year * 12 + as_of.month - 1
    sql = DUCKDB_SQL.format(
        end=(as_of + timedelta(days=1)).isoformat(), start=asof_month - 11, as_of=as_of.isoformat()
    )
    started, cpu_started = time.perf_counter(), time.process_time()
    con.execute(f"CREATE TABLE classes AS {sql}")
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    # Again on one thread, as SQLite runs a statement: separates DuckDB's engine from its
    # second core in the comparison.
    con.execute("SET threads = 1")
    started = time.perf_counter()
    con.execute(f"CREATE TABLE classes_one_thread AS {sql}")
    one_thread_seconds = time.perf_counter() - started
    counts, counts_one_thread = (
        {
            c: dict(con.execute(f"SELECT {c}, COUNT(*) FROM {table} GROUP BY 1").fetchall())
            for c in ("abc", "pyramid", "rfm")
        }
        for table in ("classes", "classes_one_thread")
    )
    if counts != counts_one_thread:
        raise SystemExit(f"DuckDB on one thread gave other classes: {counts_one_thread} against {counts}")
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "one_thread_seconds": one_thread_seconds,
                "counts": counts,
            }
        )
    )


# -- the benchmark -------------------------------------------------------------------------


def _ours_counts(out: str) -> dict[str, dict[str, int]]:
    counts = json.loads(out)["counts"]
    return {m: counts.get(m, {}) for m in ("abc", "pyramid", "rfm")}


#: The customer whose statistics ``kehu tier stats`` shows in the benchmark.
STATS_CODE = "B0000001"


@dataclass(frozen=True)
class Shift:
    """A change-heavy re-run: one purchase on ``at`` by customers the last run put in the
    pyramid's bottom tier (小客户) and who match ``rises`` (SQL on ``c``, the customers), of
    ``big`` + their id, more than anyone's revenue; every other customer buys ``others`` (None:
    nothing). Then ``kehu tier run`` as of ``as_of``, the end of that month."""

    name: str
    as_of: str
    at: str
    rises: str
    big: int
    others: str | None


#: The change-heavy re-runs, in turn. The first is the target's case: at least half the
#: customers change tier (the odd half of the bottom tier rise to the top quarter, pushing the
#: customers ranked between 25% and 50% down into the bottom tier and the top 5% down a tier).
#: The second, after it, moves nearly everyone: the whole bottom half rises above the first
#: shift's risers, and everyone else buys one fen.
SHIFTS = (
    Shift("half", "2026-11-30", "2026-11-15 04:00:00.000000", "c.id % 2 = 1", 100_000_000, None),
    Shift("nearly all", "2026-12-31", "2026-12-15 04:00:00.000000", "1 = 1", 200_000_000, "0.01"),
)


def shift(url: str, case: Shift) -> None:
    """Write ``case``'s purchases straight into the interactions, then rebuild the monthly
    aggregates (``kehu tier rebuild``); neither is measured."""
    from sqlalchemy import create_engine, text

    from kehu_core.db import resolve_url

    engine = create_engine(resolve_url(url))
    postgres = engine.dialect.name == "postgresql"
    at = case.at + ("+00" if postgres else "")
    risen = f"a.tier = '小客户' AND {case.rises}"
    others = "NULL" if case.others is None else case.others
    with engine.begin() as conn:
        start = conn.scalar(text("SELECT COALESCE(MAX(id), 0) FROM interactions")) + 1
        conn.execute(
            text(
                "INSERT INTO interactions (id, customer_id, kind, status, occurred_at, amount, created_at) "
                f"SELECT :start + c.id, c.id, 'purchase', 'done', :at, "
                f"CASE WHEN {risen} THEN :big + c.id ELSE {others} END, :at "
                "FROM customers c JOIN tiering_assignments a ON a.customer_id = c.id "
                "AND a.method = 'pyramid' AND a.valid_to IS NULL WHERE c.active"
                + ("" if case.others is not None else f" AND {risen}")
            ),
            {"start": start, "at": at, "big": case.big},
        )
        if postgres:
            conn.execute(text("SELECT setval('interactions_id_seq', (SELECT max(id) FROM interactions))"))
    engine.dispose()
    _run(KEHU, "--db", url, "tier", "rebuild", env={"KEHU_PLUGINS": "tiering"})


def pyramid_moves(url: str) -> tuple[int, int]:
    """(customers whose pyramid tier the newest run changed, customers tiered)."""
    from sqlalchemy import create_engine, text

    from kehu_core.db import resolve_url

    engine = create_engine(resolve_url(url))
    with engine.connect() as conn:
        newest = conn.scalar(text("SELECT MAX(id) FROM tiering_runs"))
        moved = conn.scalar(
            text(
                "SELECT COUNT(*) FROM tiering_assignments o JOIN tiering_assignments n "
                "ON n.customer_id = o.customer_id AND n.method = o.method AND n.run_id = :run "
                "WHERE o.method = 'pyramid' AND o.ended_run_id = :run AND o.tier <> n.tier"
            ),
            {"run": newest},
        )
        tiered = conn.scalar(text("SELECT customers FROM tiering_runs WHERE id = :run"), {"run": newest})
    engine.dispose()
    return int(moved or 0), int(tiered or 0)


@dataclass(frozen=True)
class Copies:
    """The database as installed (tiering backfilled, no run yet), kept for the further pairs."""

    keep: Callable[[], str]  # save the installed database: the saved copy's URL
    fresh: Callable[[], str]  # a new copy of it: its URL
    drop: Callable[[str], None]  # delete a copy made by ``fresh``


def tier_run(url: str, as_of: str) -> tuple[float, float, str]:
    """``kehu tier run --as-of`` measured on a database at rest.

    On PostgreSQL, ``VACUUM (ANALYZE)`` and a ``CHECKPOINT`` first, not measured: otherwise
    autovacuum and the checkpointer work on the previous step's writes (a backfill, a shift's
    inserts and rebuild) during the run, and a run's time depends on when they wake up.
    """
    if url.startswith("postgresql"):
        _pg_admin(url, "VACUUM (ANALYZE)", "CHECKPOINT")
    return measured(kehu("--db", url, "tier", "run", "--as-of", as_of, "--json"))


def first_and_half(url: str) -> dict[str, Any]:
    """One pair on an installed database: the first run, then the half shift's re-run, both measured."""
    run_s, _, _ = tier_run(url, AS_OF)
    run_cpu = LAST_CPU[0]
    case = SHIFTS[0]
    shift(url, case)
    half_s, _, _ = tier_run(url, case.as_of)
    moves, tiered = pyramid_moves(url)
    return dict(
        run_s=run_s, run_cpu_s=run_cpu, half_s=half_s, half_cpu_s=LAST_CPU[0], moves=moves, tiered=tiered
    )


def bench_one(url: str, label: str, copies: Copies | None = None, pairs: int = 1) -> dict[str, Any]:
    """Install (backfill), first run, unchanged re-run, pandas, DuckDB, then the change-heavy re-runs.

    With ``pairs`` > 1, the first run and the half re-run are measured again that many times in
    all, each pair on a fresh copy of the installed database (``copies``).
    """
    result: dict[str, Any] = {"label": label}
    t, mb, _ = measured(kehu("--db", url, "plugins", "install", "tiering"))
    result["install_backfill_s"], result["install_peak_mb"] = t, mb
    kept = copies.keep() if pairs > 1 and copies is not None else None
    t, mb, out = tier_run(url, AS_OF)
    result["run_s"], result["run_peak_mb"], result["run_cpu_s"] = t, mb, LAST_CPU[0]
    ours = _ours_counts(out)
    t, mb, _ = tier_run(url, AS_OF)
    result["rerun_s"], result["rerun_peak_mb"], result["rerun_cpu_s"] = t, mb, LAST_CPU[0]
    # One customer's statistics (``kehu tier stats``): every active customer ranked, as a run does.
    t, mb, _ = measured(kehu("--db", url, "tier", "stats", STATS_CODE, "--as-of", AS_OF, "--json"))
    result["stats_s"], result["stats_peak_mb"] = t, mb
    t, mb, out = measured(script("pandas", url))
    pandas_out = json.loads(out)
    result["pandas_s"], result["pandas_peak_mb"], result["pandas_read_s"] = t, mb, pandas_out["read_seconds"]
    t, mb, out = measured(script("duckdb", url))
    duck = json.loads(out)
    result["duckdb_s"], result["duckdb_cpu_s"] = duck["seconds"], duck["cpu_seconds"]
    result["duckdb_one_thread_s"] = duck["one_thread_seconds"]
    norm = lambda c: {m: {str(k): int(v) for k, v in c[m].items()} for m in ("abc", "pyramid", "rfm")}  # noqa: E731
    result["same_classes"] = norm(ours) == norm(pandas_out["counts"]) == norm(duck["counts"])
    shifts = []
    for case in SHIFTS:
        shift(url, case)
        t, mb, _ = tier_run(url, case.as_of)
        moves, tiered = pyramid_moves(url)
        shifts.append(dict(name=case.name, s=t, peak_mb=mb, cpu_s=LAST_CPU[0], moves=moves, tiered=tiered))
    result["shifts"] = shifts
    half = shifts[0]
    result["pairs"] = [
        dict(
            run_s=result["run_s"],
            run_cpu_s=result["run_cpu_s"],
            half_s=half["s"],
            half_cpu_s=half["cpu_s"],
            moves=half["moves"],
            tiered=half["tiered"],
        )
    ]
    if copies is not None:
        for n in range(1, pairs):
            print(f"[{label}] pair {n + 1} of {pairs}", file=sys.stderr, flush=True)
            copy = copies.fresh()
            result["pairs"].append(first_and_half(copy))
            copies.drop(copy)
        if kept is not None:
            copies.drop(kept)
    return result


def _in_process(row: dict[str, Any]) -> bool:
    """True for a SQLite row: the database works in the measured process, so its CPU seconds count."""
    return str(row["label"]).startswith("sqlite")


def report(rows: list[dict[str, Any]]) -> None:
    """Print the table of figures and ratios, then a line per change-heavy re-run."""
    print(
        f"{'size':<22}{'install':>9}{'run':>8}{'re-run':>8}{'pandas':>8}{'duckdb':>8}"
        f"{'run/pandas':>11}{'rerun/pandas':>13}{'run/duckdb':>11}{'peak MB':>9}  same classes"
        f"{'stats':>8}"
    )
    for r in rows:
        print(
            f"{r['label']:<22}{r['install_backfill_s']:>9.1f}{r['run_s']:>8.2f}{r['rerun_s']:>8.2f}"
            f"{r['pandas_s']:>8.2f}{r['duckdb_s']:>8.2f}{r['run_s'] / r['pandas_s']:>11.2f}"
            f"{r['rerun_s'] / r['pandas_s']:>13.2f}{r['run_s'] / r['duckdb_s']:>11.1f}"
            f"{max(r['run_peak_mb'], *(c['peak_mb'] for c in r['shifts'])):>9.0f}"
            f"  {str(r['same_classes']):<12}{r['stats_s']:>8.2f}"
        )
    # The change-heavy re-runs against the first run; the target is for at least half moving,
    # judged on the median ratio of the pairs measured (one unless --pairs says more).
    for r in rows:
        pairs = r["pairs"]
        median = statistics.median(p["half_s"] / p["run_s"] for p in pairs)
        for c in r["shifts"]:
            share = c["moves"] / max(c["tiered"], 1)
            verdict = (
                f"target <= 1.5x: {'OK' if median <= 1.5 else 'MISSED'}"
                + (f" on the median of {len(pairs)} pairs" if len(pairs) > 1 else "")
                if share >= 0.5 and c["name"] == SHIFTS[0].name
                else "reported"
            )
            cpu = f"; CPU {c['cpu_s'] / r['run_cpu_s']:.2f}x" if _in_process(r) else ""
            print(
                f"change-heavy re-run {r['label']}, {c['name']}: {c['moves']:,} of {c['tiered']:,} customers "
                f"({share:.0%}) change pyramid tier; {c['s']:.2f} s, {c['s'] / r['run_s']:.3f}x the first "
                f"run ({verdict}){cpu}"
            )
        if len(pairs) > 1:
            each = ", ".join(
                f"{p['run_s']:.1f} s / {p['half_s']:.1f} s = {p['half_s'] / p['run_s']:.3f}x" for p in pairs
            )
            print(
                f"pairs {r['label']}: first run / half re-run, each pair on a fresh copy: {each}; "
                f"median {median:.3f}x"
            )
    # CPU seconds, the measure to compare on a shared machine (DuckDB's: all its threads). Only
    # for SQLite: on PostgreSQL the work is the server's, and the client's seconds say nothing.
    for r in filter(_in_process, rows):
        shifts = ", ".join(f"change-heavy re-run ({c['name']}) {c['cpu_s']:.2f} s" for c in r["shifts"])
        print(
            f"cpu {r['label']}: run {r['run_cpu_s']:.2f} s, re-run {r['rerun_cpu_s']:.2f} s, {shifts}, "
            f"DuckDB {r['duckdb_cpu_s']:.2f} s (run {r['run_cpu_s'] / r['duckdb_cpu_s']:.1f}x)"
        )
    # SQLite runs a statement on one thread; DuckDB's first figure is on every core.
    for r in rows:
        print(
            f"duckdb on one thread {r['label']}: {r['duckdb_one_thread_s']:.2f} s "
            f"(run {r['run_s'] / r['duckdb_one_thread_s']:.1f}x; on every core {r['duckdb_s']:.2f} s)"
        )
    by_backend: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_backend.setdefault(str(r["label"]).split()[0], []).append(r)
    for backend, items in by_backend.items():
        for a, b in zip(items, items[1:]):
            growth = b["customers"] / a["customers"]
            print(
                f"scaling {backend} {a['label'].split()[1]} -> {b['label'].split()[1]}: data x{growth:.0f}, "
                f"run time x{b['run_s'] / a['run_s']:.1f}, re-run x{b['rerun_s'] / a['rerun_s']:.1f}, "
                f"change-heavy re-run x{b['shifts'][0]['s'] / a['shifts'][0]['s']:.1f}"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", nargs="?", default="run", choices=("run", "generate", "pandas", "duckdb"))
    parser.add_argument("url", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", help="customer counts, e.g. 100k,1m (interactions: 10x; default 100k,1m)")
    parser.add_argument("--backends", default="sqlite", help="sqlite, postgresql or both: sqlite,postgresql")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("KEHU_BENCH_PG_URL"),
        help="admin URL of a PostgreSQL server (default: start a throwaway cluster)",
    )
    parser.add_argument("--workdir", default="/tmp/kehu-bench", help="where generated databases are kept")
    parser.add_argument("--json", dest="json_out", help="also write the figures to this JSON file")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="a few seconds' run that checks the script, not the figures (200 customers); "
        "--sizes given explicitly still applies",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        help="measure the first run and the half re-run this many times, each pair on a fresh copy "
        "of the installed database, and judge the target on the median ratio (default 1; --tiny: 2)",
    )
    args = parser.parse_args(argv)
    if args.sizes is None:
        args.sizes = "200" if args.tiny else "100k,1m"
    if args.pairs is None:
        args.pairs = 2 if args.tiny else 1
    if args.pairs < 1:
        parser.error(f"--pairs must be at least 1 (got {args.pairs})")
    if args.action == "pandas":
        return reference_pandas(args.url)
    if args.action == "duckdb":
        return reference_duckdb(args.url)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    backends = [b.strip() for b in args.backends.split(",")]
    cluster = None
    if "postgresql" in backends and not args.pg_url:
        from kehu_core.pgcluster import PgCluster

        cluster = PgCluster.start()
        args.pg_url = cluster.url()
    rows = []
    try:
        for backend in backends:
            for size in sizes:
                n = parse_size(size)
                started = time.perf_counter()
                if backend == "sqlite":
                    source = workdir / f"tiering-{size}.db"
                    generate_sqlite(source, n)
                    if args.action == "generate":
                        continue
                    work = workdir / f"work-{size}.db"
                    url = _sqlite_copy(source, work)
                    copies = sqlite_copies(
                        work, workdir / f"installed-{size}.db", workdir / f"pair-{size}.db"
                    )
                else:
                    generate_postgresql(args.pg_url, f"tiering_{size}", n)
                    if args.action == "generate":
                        continue
                    url = _pg_copy(args.pg_url, f"tiering_{size}", f"work_{size}")
                    copies = pg_copies(args.pg_url, f"work_{size}", f"installed_{size}", f"pair_{size}")
                print(
                    f"[{backend} {size}] ready in {time.perf_counter() - started:.0f}s",
                    file=sys.stderr,
                    flush=True,
                )
                row = bench_one(url, f"{backend} {size}/{short_count(n * 10)}", copies, args.pairs)
                row["customers"] = n
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    finally:
        if cluster is not None:
            cluster.stop()
    if rows:
        report(rows)
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(rows, indent=2))


def _sqlite_drop(path: str | Path) -> None:
    """Delete a SQLite database file and its WAL files, if there."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _sqlite_copy(source: Path, target: Path) -> str:
    """Copy a closed SQLite database file over ``target`` (and its WAL files); its path."""
    _sqlite_drop(target)
    subprocess.run(["cp", str(source), str(target)], check=True)
    return str(target)


def sqlite_copies(work: Path, installed: Path, pair: Path) -> Copies:
    """:class:`Copies` of a SQLite benchmark database, by copying the file (no process has it open)."""
    return Copies(
        keep=lambda: _sqlite_copy(work, installed),
        fresh=lambda: _sqlite_copy(installed, pair),
        drop=_sqlite_drop,
    )


def pg_copies(admin_url: str, work: str, installed: str, pair: str) -> Copies:
    """:class:`Copies` of a PostgreSQL benchmark database (CREATE DATABASE ... TEMPLATE)."""
    return Copies(
        keep=lambda: _pg_copy(admin_url, work, installed),
        fresh=lambda: _pg_copy(admin_url, installed, pair),
        drop=lambda url: _pg_admin(
            admin_url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'
        ),
    )


def _libpq(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg takes it (no driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _database_url(admin_url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``admin_url``."""
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _pg_admin(admin_url: str, *statements: str) -> None:
    """Run statements that cannot run in a transaction (CREATE / DROP DATABASE, VACUUM) on the server."""
    import psycopg

    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _pg_copy(admin_url: str, source: str, target: str) -> str:
    """A fresh copy of a generated PostgreSQL database (CREATE DATABASE ... TEMPLATE)."""
    _pg_admin(
        admin_url,
        f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)',
        f'CREATE DATABASE "{target}" TEMPLATE "{source}"',
    )
    return _database_url(admin_url, target)


if __name__ == "__main__":
    main()
