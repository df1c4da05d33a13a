"""Benchmark: the peak memory of ``kehu interaction list --limit 0 --json`` (and ``--csv``) over N rows.

    .venv/bin/python benchmarks/list_memory.py                 # 1,000,000 rows (the issue's size)
    .venv/bin/python benchmarks/list_memory.py --rows 200000   # quicker
    .venv/bin/python benchmarks/list_memory.py --tiny          # 2,000 rows: checks the script runs

The rows are generated interactions imported into a SQLite database (not timed). The list
then writes every row to a file, as a user's ``> all.json`` would; the figure is the peak
resident memory (``VmHWM``) of that ``kehu`` process, polled while it runs. A list that
streams holds a batch of rows at a time, whatever N is. Target (issue 16): under 300 MB at
1M rows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

from _common import KEHU, _vm_hwm_kb, add_import_options, import_files, import_sizes, kehu, plugin_env, report

TARGET_MB = 300


def listed(db: Path, fmt: str, out: Path) -> tuple[int, float]:
    """Run ``kehu interaction list --limit 0 --FMT > OUT``: its peak RSS in MB and wall seconds."""
    with out.open("wb") as handle:
        begin = time.perf_counter()
        proc = subprocess.Popen(
            [KEHU, "--db", str(db), "interaction", "list", "--limit", "0", f"--{fmt}"],
            stdout=handle,
            stderr=subprocess.PIPE,
            env=plugin_env(),
        )
        peak_kb = 0
        while proc.poll() is None:
            peak_kb = max(peak_kb, _vm_hwm_kb(proc.pid))
            time.sleep(0.02)
        _, err = proc.communicate()
        wall = time.perf_counter() - begin
    if proc.returncode != 0:
        raise SystemExit(f"kehu interaction list --{fmt} failed ({proc.returncode}):\n{err.decode()}")
    return peak_kb // 1024, wall


def count_rows(out: Path, fmt: str) -> int:
    """The rows in the output file, counted without reading it all into memory (JSON: ``"id":`` keys)."""
    with out.open(encoding="utf-8", newline="") as handle:
        if fmt == "csv":
            return sum(1 for _ in handle) - 1  # stored notes hold no line break
        return sum(1 for line in handle if line.startswith('    "id": '))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_import_options(parser)
    args = parser.parse_args()
    import_sizes(args)
    with import_files(args) as (work, _customers_csv, interactions_csv, template):
        kehu(template, "interaction", "import", str(interactions_csv))
        lines = []
        for fmt in ("json", "csv"):
            out = work / f"list.{fmt}"
            peak, wall = listed(template, fmt, out)
            rows = count_rows(out, fmt)
            if rows != args.rows:
                raise SystemExit(f"interaction list --{fmt} wrote {rows:,} rows, not {args.rows:,}")
            if fmt == "json" and args.rows <= 10_000:
                assert len(json.loads(out.read_text(encoding="utf-8"))) == args.rows
            size_mb = os.path.getsize(out) / 2**20
            lines.append(
                (
                    f"peak RSS of interaction list --{fmt}",
                    f"{peak} MB (target < {TARGET_MB} MB): {'OK' if peak < TARGET_MB else 'MISSED'}",
                )
            )
            lines.append((f"--{fmt} output", f"{size_mb:.0f} MB in {wall:.1f} s wall"))
            out.unlink()
        report(f"interaction list --limit 0 over {args.rows:,} interactions, SQLite file", lines)


if __name__ == "__main__":
    main()
