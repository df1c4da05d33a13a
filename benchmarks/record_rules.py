"""Benchmark: ``kehu customer list`` as a sales user under a record rule vs the same list as an administrator.

    .venv/bin/python benchmarks/record_rules.py                    # 1,000,000 customers (the issue's size)
    .venv/bin/python benchmarks/record_rules.py --customers 200000 # quicker
    .venv/bin/python benchmarks/record_rules.py --tiny             # 2,000 customers: checks the script runs

The customers are owned by 50 salespeople, all users of team 华东, and ``sales_scope`` is
``team``: the sales user's rule (``owner IN (the team's logins)``) then lets them see every
customer, so both lists print the same rows and the difference is the cost of the rule alone.
The lists run as ``kehu customer list --csv`` into a file, interleaved (administrator, sales,
administrator, ...) so the noise of a shared machine falls on both; the figure is the ratio of
the medians. Target (issue 15): within 1.2x of the administrator's list. Also shown: the same
salesperson under ``sales_scope own``, who sees their 1/50th.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _common import KEHU, add_tiny, kehu, plugin_env, remove_db, report, sizes

from kehu_core import Kehu, users
from kehu_core import settings as core_settings

TARGET = 1.2
OWNERS = [
    f"{surname}{given}"
    for surname in "王李张刘陈"
    for given in ("芳", "伟", "娜", "敏", "静", "强", "磊", "军", "洋", "勇")
]


def write_customers(path: Path, count: int) -> None:
    """``count`` customers, owned in turn by the 50 salespeople."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(("code", "name", "region", "owner"))
        for i in range(1, count + 1):
            out.writerow((f"C{i:07d}", f"客户{i}", "华东", OWNERS[i % len(OWNERS)]))


def listed(db: Path, login: str, out: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds of ``kehu --as LOGIN customer list --csv > OUT``, and the rows it wrote.

    CPU time (the child's own, from ``wait4``) is the steadier figure on a shared machine."""
    with out.open("wb") as handle, tempfile.TemporaryFile() as err:
        begin = time.perf_counter()
        proc = subprocess.Popen(
            [KEHU, "--db", str(db), "--as", login, "customer", "list", "--csv"],
            stdout=handle,
            stderr=err,
            env=plugin_env(""),
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - begin
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"customer list as {login} failed ({proc.returncode}):\n{err.read().decode()}")
    with out.open(encoding="utf-8") as handle:
        rows = sum(1 for _ in handle) - 1
    return wall, usage.ru_utime + usage.ru_stime, rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, help="customers (default 1,000,000)")
    parser.add_argument("--rounds", type=int, help="interleaved pairs (default 3)")
    add_tiny(parser, "2,000 customers, one pair")
    parser.add_argument("--workdir", help="keep the database here instead of a temporary folder")
    args = parser.parse_args()
    sizes(args, full=dict(customers=1_000_000, rounds=3), tiny=dict(customers=2_000, rounds=1))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        db = work / "rules.db"
        remove_db(db)
        source = work / "customers.csv"
        print(
            f"generating {args.customers:,} customers of {len(OWNERS)} salespeople in {work} ...", flush=True
        )
        write_customers(source, args.customers)
        kehu(db, "init", plugins="")
        kehu(db, "customer", "import", str(source), plugins="")
        app = Kehu(f"sqlite:///{db}")
        with app.session() as session:
            users.add_user(app, session, "boss", roles=["admin"])
            for login in OWNERS:
                users.add_user(app, session, login, roles=["sales"], team="华东")
        app.dispose()
        sales = OWNERS[1]

        def scope(value: str) -> None:
            app = Kehu(f"sqlite:///{db}")
            with app.session() as session:
                core_settings.set_setting(session, "sales_scope", value)
            app.dispose()

        scope("team")
        out = work / "list.csv"
        admin_runs, sales_runs = [], []
        for _ in range(args.rounds):
            wall, cpu, rows = listed(db, "boss", out)
            if rows != args.customers:
                raise SystemExit(f"the administrator's list has {rows:,} rows, not {args.customers:,}")
            admin_runs.append((wall, cpu))
            wall, cpu, rows = listed(db, sales, out)
            if rows != args.customers:
                raise SystemExit(f"the team-scope sales list has {rows:,} rows, not {args.customers:,}")
            sales_runs.append((wall, cpu))
        scope("own")
        own_wall, _own_cpu, own_rows = listed(db, sales, out)
        expected_own = sum(1 for i in range(1, args.customers + 1) if OWNERS[i % len(OWNERS)] == sales)
        if own_rows != expected_own:
            raise SystemExit(f"the own-scope sales list has {own_rows:,} rows, not {expected_own:,}")
        admin = [statistics.median(r[i] for r in admin_runs) for i in (0, 1)]
        team = [statistics.median(r[i] for r in sales_runs) for i in (0, 1)]
        ratios = [team[i] / admin[i] for i in (0, 1)]
        report(
            f"customer list --csv over {args.customers:,} customers, SQLite, "
            f"{args.rounds} interleaved pair(s)",
            [
                ("administrator (no rule)", f"{admin[0]:.2f} s wall, {admin[1]:.2f} s CPU (medians)"),
                ("sales, team scope (same rows)", f"{team[0]:.2f} s wall, {team[1]:.2f} s CPU (medians)"),
                ("ratio sales / administrator, wall", f"{ratios[0]:.2f}x"),
                (
                    "ratio, CPU (steadier)",
                    f"{ratios[1]:.2f}x (target <= {TARGET}x): {'OK' if ratios[1] <= TARGET else 'MISSED'}",
                ),
                ("sales, own scope", f"{own_wall:.2f} s wall, {own_rows:,} rows"),
            ],
        )
        out.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
