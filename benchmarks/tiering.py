"""Benchmark: ``kehu tier run`` end to end against pandas and DuckDB computing the same classes.

Usage::

    python benchmarks/tiering.py --sizes 100k,1m            # 100k customers / 1M interactions ...
    python benchmarks/tiering.py --sizes 1m --backends sqlite,postgresql
    python benchmarks/tiering.py generate --sizes 1m          # only build the databases

A size names the number of customers; interactions are ten times as many. Databases are
generated once into ``--workdir`` (``kehu init``, then ``sqlite3`` executemany straight into
the core tables, or COPY on PostgreSQL) and reused. Every measured step runs in its own
process, so peak memory (max RSS) is that step's alone. Printed ratios compare timings
taken in the same run on the same machine.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KEHU = str(BIN / "kehu")
AS_OF = "2026-10-31"
DATA_END = datetime(2026, 10, 31, 23, 0, tzinfo=timezone.utc)
YEARS = 3
KINDS = (("purchase", 0.60), ("payment", 0.15), ("visit", 0.10), ("call", 0.07), ("feedback", 0.05), ("complaint", 0.03))
CHUNK = 500_000


def parse_size(text: str) -> int:
    """``100k`` -> 100000, ``1m`` -> 1000000."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if factor != 1 else text) * factor)


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
            sec = offsets[begin:begin + n]
            occurred = _timestamps(np, sec)
            amount = np.round(rng.lognormal(6.5, 1.0, n) * scale[cust - 1], 2)
            is_purchase = kind == "purchase"
            is_payment = kind == "payment"
            has_cost = is_purchase & (rng.random(n) < 0.8)
            cost = np.round(amount * rng.uniform(0.5, 0.9, n), 2)
            due_sec = sec + rng.integers(-20, 40, n) * 86400
            late = rng.random(n)
            paid_sec = np.where(late < 0.15, due_sec - rng.integers(1, 90, n) * 86400, due_sec + rng.integers(0, 20, n) * 86400)
            due = _timestamps(np, due_sec)
            paid = _timestamps(np, np.maximum(paid_sec, 0))
            sat = rng.choice(5, n, p=(0.05, 0.1, 0.2, 0.4, 0.25)) + 1
            rows = []
            for j in range(n):
                k = kind[j]
                purchase, payment = is_purchase[j], is_payment[j]
                rows.append((
                    next_id + j, int(cust[j]), k, "done", occurred[j], None,
                    float(amount[j]) if purchase or payment else None,
                    float(cost[j]) if has_cost[j] else None,
                    None, None, None, None,
                    int(sat[j]) if k == "feedback" else None,
                    None, None,
                    due[j] if payment else None,
                    (paid[j] if late[j] > 0.03 else None) if payment else None,
                    occurred[j],
                ))
            next_id += n
            yield rows

    return customer_rows, chunks()


INSERT_CUSTOMER = ("INSERT INTO customers (id, code, name, kind, special_dates, marketing_consent, attributes, active, "
                   "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)")
INTERACTION_COLUMNS = ("id", "customer_id", "kind", "status", "occurred_at", "channel", "amount", "cost", "quantity",
                       "product", "category", "salesperson", "satisfaction", "note", "external_ref", "due_at",
                       "paid_at", "created_at")


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
    _run(KEHU, "--db", str(tmp), "init")
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", nargs="?", default="run", choices=("run", "generate"))
    parser.add_argument("--sizes", default="100k,1m", help="customer counts, e.g. 100k,1m (interactions: 10x)")
    parser.add_argument("--workdir", default="/tmp/kehu-bench", help="where generated databases are kept")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    for size in args.sizes.split(","):
        n = parse_size(size)
        started = time.perf_counter()
        generate_sqlite(workdir / f"tiering-{size}.db", n)
        print(f"generated {size}: {time.perf_counter() - started:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
