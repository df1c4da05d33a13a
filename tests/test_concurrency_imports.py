"""Two imports writing to the same database at the same time lose no rows and fail on no lock.

Each import is a real ``kehu`` process. SQLite serialises them with ``BEGIN IMMEDIATE`` and
the busy timeout; PostgreSQL with the import advisory lock, while ``ON CONFLICT
(external_ref) DO NOTHING`` keeps overlapping files from tripping on the unique reference.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select, text

from kehu_core import customers, importing
from kehu_core.models import Customer, Interaction

KEHU = str(Path(sys.executable).parent / "kehu")
ROWS = 4_000


def write_interactions(path: Path, refs: range) -> str:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["external_ref", "customer_code", "kind", "occurred_at", "amount", "note"])
        for n in refs:
            out.writerow(
                [
                    f"X{n:07d}",
                    f"C{n % 20}",
                    "purchase",
                    f"2024-05-{n % 28 + 1:02d} 09:{n % 60:02d}",
                    f"{n % 500}.00",
                    "并发",
                ]
            )
    return str(path)


@contextmanager
def write_lock_held(app) -> Iterator[None]:
    """Hold what an import waits for (SQLite's write lock, the PostgreSQL import lock), so
    imports started meanwhile surely collide: each must wait, none may fail."""
    with app.engine.connect() as conn:
        if app.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": importing.IMPORT_LOCK_KEY})
        else:
            conn.execute(
                text("SELECT count(*) FROM interactions")
            )  # inside BEGIN IMMEDIATE: the lock is ours
        yield
        time.sleep(3)  # the imports start up and queue on the lock
        conn.rollback()


def run_together(app, *commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Start every command while the write lock is held, release it, and wait for all of them."""
    url = app.engine.url.render_as_string(hide_password=False)
    env = dict(os.environ, KEHU_PLUGINS="")
    with write_lock_held(app):
        procs = [
            subprocess.Popen(
                [KEHU, "--db", url, *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
            )
            for cmd in commands
        ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def interactions(app) -> tuple[int, int]:
    with app.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Interaction)),
            s.scalar(select(func.count(func.distinct(Interaction.external_ref)))),
        )


def add_customers(app) -> None:
    with app.session() as s:
        for n in range(20):
            customers.add_customer(app, s, {"code": f"C{n}", "name": f"客户{n}"})


def test_two_imports_of_different_files_at_once(kehu_app, tmp_path):
    add_customers(kehu_app)
    first = write_interactions(tmp_path / "a.csv", range(0, ROWS))
    second = write_interactions(tmp_path / "b.csv", range(ROWS, 2 * ROWS))
    results = run_together(kehu_app, ["interaction", "import", first], ["interaction", "import", second])
    for result in results:
        assert result.returncode == 0, result.stderr
        assert "locked" not in result.stderr
        assert f"wrote {ROWS} new" in result.stdout
    assert interactions(kehu_app) == (2 * ROWS, 2 * ROWS)


def test_two_imports_of_overlapping_files_at_once(kehu_app, tmp_path):
    add_customers(kehu_app)
    half = ROWS // 2
    first = write_interactions(tmp_path / "a.csv", range(0, ROWS))
    second = write_interactions(tmp_path / "b.csv", range(half, ROWS + half))
    results = run_together(
        kehu_app, ["interaction", "import", first, "--json"], ["interaction", "import", second, "--json"]
    )
    reports = []
    for result in results:
        assert result.returncode == 0, result.stderr
        reports.append(json.loads(result.stdout))
    assert sum(r["written"] for r in reports) == ROWS + half
    assert sum(r["unchanged"] for r in reports) == half
    assert interactions(kehu_app) == (ROWS + half, ROWS + half)


def test_two_customer_imports_with_the_same_new_codes_at_once(kehu_app, tmp_path):
    rows = "\n".join(f"N{n},新客户{n}" for n in range(1500))
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("code,name\n" + rows + "\n", encoding="utf-8")
    results = run_together(
        kehu_app,
        ["customer", "import", str(tmp_path / "a.csv")],
        ["customer", "import", str(tmp_path / "b.csv")],
    )
    for result in results:
        assert result.returncode == 0, result.stderr
    assert sorted("wrote 1500 new" in r.stdout for r in results) == [False, True]
    with kehu_app.session() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 1500
