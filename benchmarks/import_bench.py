"""Benchmark: ``kehu interaction import`` of N interactions against plain ``sqlite3`` executemany.

    .venv/bin/python benchmarks/import_bench.py                 # 1,000,000 rows (the issue's size)
    .venv/bin/python benchmarks/import_bench.py --rows 200000   # quicker
    .venv/bin/python benchmarks/import_bench.py --profile       # also cProfile the import in-process
    .venv/bin/python benchmarks/import_bench.py --tiny          # 2,000 rows: checks the script runs

The reference inserts the same rows, already parsed into the stored form (ids resolved,
times as UTC text, amounts as numbers), with ``executemany`` into a database created by
``kehu init`` (same indexes, same pragmas). The import reads, decodes, validates, resolves
customer codes, skips references already present, writes and fires the hook, all in one
transaction. Targets (issue 2): within 3x of the reference; peak memory under 300 MB.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import pstats
import shutil
import sqlite3
from pathlib import Path

from _common import (
    INTERACTION_HEADER,
    Timing,
    add_import_options,
    import_files,
    import_sizes,
    kehu,
    remove_db,
    report,
    timed_kehu,
    timer,
)
from sqlalchemy.dialects import sqlite as sqlite_dialect

from kehu_core import validation as v
from kehu_core.app import Kehu
from kehu_core.importing import SQLITE_IMPORT_CACHE_KIB, import_interactions
from kehu_core.models import Interaction
from kehu_core.plugins import discover
from kehu_core.types import utcnow

TARGET_RATIO = 3.0
TARGET_MB = 300


def parsed_rows(csv_path: Path, db: Path) -> list[tuple[object, ...]]:
    """The CSV's rows in the stored form, as the import would write them (not timed)."""

    dialect = sqlite_dialect.dialect()
    cols = Interaction.__table__.c
    store = {col.name: col.type._cached_bind_processor(dialect) or (lambda x: x) for col in cols}
    with sqlite3.connect(db) as conn:
        ids = dict(conn.execute("SELECT code, id FROM customers"))
    created = store["created_at"](utcnow())
    rows = []
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        assert tuple(header) == INTERACTION_HEADER
        for (
            ref,
            code,
            kind,
            status,
            when,
            channel,
            amount,
            qty,
            product,
            category,
            sales,
            sat,
            note,
            due,
            paid,
        ) in reader:
            rows.append(
                (
                    ids[code],
                    kind,
                    status,
                    store["occurred_at"](v.timestamp(when)),
                    channel or None,
                    store["amount"](v.money(amount, allow_negative=True)) if amount else None,
                    None,
                    store["quantity"](v.quantity(qty)) if qty else None,
                    product or None,
                    category or None,
                    sales or None,
                    int(sat) if sat else None,
                    note or None,
                    ref,
                    store["due_at"](v.timestamp(due)) if due else None,
                    store["paid_at"](v.timestamp(paid)) if paid else None,
                    created,
                )
            )
    return rows


def raw_insert(db: Path, rows: list[tuple[object, ...]], cache_kib: int | None = None) -> Timing:
    """Wall and CPU time of plain executemany of ``rows`` in one transaction, with kehu's pragmas
    (and, if given, the page cache the import uses)."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    if cache_kib:
        conn.execute(f"PRAGMA cache_size = -{cache_kib}")
    sql = (
        "INSERT INTO interactions (customer_id, kind, status, occurred_at, channel, amount, cost, quantity, "
        "product, category, salesperson, satisfaction, note, external_ref, due_at, paid_at, created_at) "
        "VALUES (" + ", ".join("?" * 17) + ")"
    )
    with timer() as took:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
    conn.close()
    return took[0]


def count(db: Path) -> int:
    """Interactions stored in ``db``."""
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM interactions").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_import_options(parser)
    parser.add_argument(
        "--profile", action="store_true", help="also profile the import in-process (cProfile)"
    )
    parser.add_argument(
        "--cache-matched",
        action="store_true",
        help="also time the raw insert with the import's bigger SQLite page cache",
    )
    args = parser.parse_args()
    # The import is timed with the plugins KEHU_PLUGINS names (none unless set); the profile too.
    import_sizes(args)

    # One database with the schema and the customers (the template), copied for each side:
    # both start from the same file.
    with import_files(args) as (work, customers_csv, interactions_csv, template):
        size_mb = interactions_csv.stat().st_size / 2**20
        ref_db, kehu_db, cache_db = work / "reference.db", work / "import.db", work / "reference-cache.db"
        for db in (ref_db, kehu_db, *([cache_db] if args.cache_matched else [])):
            remove_db(db)
            shutil.copy(template, db)

        rows = parsed_rows(interactions_csv, ref_db)
        reference = raw_insert(ref_db, rows)
        matched = raw_insert(cache_db, rows, SQLITE_IMPORT_CACHE_KIB) if args.cache_matched else None
        del rows
        run, _ = timed_kehu(kehu_db, "interaction", "import", str(interactions_csv))
        stored = count(kehu_db)
        if stored != args.rows or count(ref_db) != args.rows:
            raise SystemExit(
                f"wrong row count: import {stored}, reference {count(ref_db)}, expected {args.rows}"
            )
        again, _ = timed_kehu(kehu_db, "interaction", "import", str(interactions_csv))
        if count(kehu_db) != args.rows:
            raise SystemExit("re-import changed the row count")

        def verdict(ratio: float) -> str:
            return (
                f"{ratio:.2f}x (target <= {TARGET_RATIO:.0f}x): {'OK' if ratio <= TARGET_RATIO else 'MISSED'}"
            )

        report(
            f"import of {args.rows:,} interactions ({size_mb:.0f} MB CSV), SQLite file",
            [
                (
                    "raw sqlite3 executemany",
                    f"{reference.wall:.2f} s wall, {reference.cpu:.2f} s CPU "
                    f"({args.rows / reference.wall:,.0f} rows/s)",
                ),
                (
                    "kehu interaction import",
                    f"{run.wall:.2f} s wall, {run.cpu:.2f} s CPU ({args.rows / run.wall:,.0f} rows/s)",
                ),
                ("ratio, wall", verdict(run.wall / reference.wall)),
                ("ratio, CPU (steadier)", verdict(run.cpu / reference.cpu)),
                (
                    "peak RSS of the import",
                    f"{run.peak_mb} MB (target < {TARGET_MB} MB): "
                    f"{'OK' if run.peak_mb < TARGET_MB else 'MISSED'}",
                ),
                (
                    "re-import (all present)",
                    f"{again.wall:.2f} s wall, {again.cpu:.2f} s CPU, {again.peak_mb} MB, rows unchanged",
                ),
                *(
                    [
                        (
                            "raw insert, same page cache",
                            f"{matched.wall:.2f} s wall, {matched.cpu:.2f} s CPU; import / that: "
                            f"{run.wall / matched.wall:.2f}x wall, {run.cpu / matched.cpu:.2f}x CPU",
                        )
                    ]
                    if matched
                    else []
                ),
            ],
        )
        if args.profile:
            profile(interactions_csv, customers_csv, work)


def profile(interactions_csv: Path, customers_csv: Path, work: Path) -> None:
    """Run the import in-process under cProfile and print the top functions."""

    db = work / "profile.db"
    remove_db(db)
    kehu(db, "init")
    kehu(db, "customer", "import", str(customers_csv))
    app = Kehu(f"sqlite:///{db}", plugins=discover())
    prof = cProfile.Profile()
    with app.session() as session:
        prof.enable()
        import_interactions(app, session, interactions_csv)
        prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
