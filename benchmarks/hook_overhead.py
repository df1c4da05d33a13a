"""Benchmark: the cost of ``kehu_interactions_recorded`` on a big import (issue 3).

    .venv/bin/python benchmarks/hook_overhead.py                  # 1,000,000 rows, 4 plugins
    .venv/bin/python benchmarks/hook_overhead.py --rows 200000    # quicker
    .venv/bin/python benchmarks/hook_overhead.py --tiny           # 2,000 rows: checks the script runs

The same CSV is imported in-process into fresh copies of one SQLite database, once with no
plugin implementing the hook and once with 4 installed plugins that implement it trivially
(each counts the rows of every batch). Runs alternate, and the best of each is compared, so
load on the machine hurts both alike. Target: under 10% overhead. As the end-to-end
difference is often smaller than the machine's noise, the hook path (wrapping the rows
written and calling the plugins) is also timed on its own.

The pip-installed plugins are left out (``KEHU_PLUGINS`` empty unless set): none is installed
in the benchmark's database, so only the counting plugins take part.
"""

from __future__ import annotations

import argparse
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from _common import (
    Timing,
    add_import_options,
    import_files,
    import_sizes,
    remove_db,
    report,
    timer,
)

from kehu_core import hookimpl
from kehu_core.app import Kehu
from kehu_core.hooktypes import InteractionBatch, RecordedRows
from kehu_core.importing import CHUNK_ROWS, import_interactions
from kehu_core.interactions import RECORDED_KEYS, WRITE_COLUMNS
from kehu_core.models import InstalledPlugin
from kehu_core.plugins import discover

TARGET = 0.10


def counting_plugin() -> object:
    """A plugin whose hook does the least a real one does: look at every batch it is given."""

    class CountingPlugin:
        def __init__(self) -> None:
            self.rows = 0

        @hookimpl
        def kehu_interactions_recorded(self, session, batch):  # type: ignore[no-untyped-def]
            self.rows += len(batch.rows)

    return CountingPlugin()


def run_import(template: Path, work: Path, interactions_csv: Path, plugins: int) -> tuple[Timing, int]:
    """Import into a fresh copy of ``template`` with ``plugins`` hook plugins; its timing and rows written."""

    db = work / "run.db"
    remove_db(db)
    shutil.copy(template, db)
    app = Kehu(f"sqlite:///{db}", plugins=discover())
    counters = []
    for n in range(plugins):
        counter = counting_plugin()
        app.plugins.register(counter, f"counter{n}")
        counters.append(counter)
    with app.session() as session:
        session.add_all([InstalledPlugin(name=f"counter{n}", version="0") for n in range(plugins)])
    app.forget_installed_cache()
    with timer() as took, app.session() as session:
        imported = import_interactions(app, session, interactions_csv)
    app.dispose()
    seen = {c.rows for c in counters}  # type: ignore[attr-defined]
    if counters and seen != {imported.written}:
        raise SystemExit(f"plugins saw {seen} rows, {imported.written} were written")
    return took[0], imported.written


def direct_cost(template: Path, work: Path, rows: int, plugins: int) -> float:
    """CPU seconds the hook path itself takes for ``rows`` written rows: wrapping the rows written
    and calling ``plugins`` implementations, chunk by chunk, timed alone (no import around it,
    so the machine's noise does not drown it)."""

    db = work / "direct.db"
    remove_db(db)
    shutil.copy(template, db)
    app = Kehu(f"sqlite:///{db}", plugins=discover())
    for n in range(plugins):
        app.plugins.register(counting_plugin(), f"counter{n}")
    with app.session() as session:
        session.add_all([InstalledPlugin(name=f"counter{n}", version="0") for n in range(plugins)])
    app.forget_installed_cache()
    when = datetime(2024, 3, 1, tzinfo=UTC)
    sample = dict(
        customer_id=1,
        kind="purchase",
        status="done",
        occurred_at=when,
        channel="门店",
        amount=Decimal("199.00"),
        quantity=Decimal("2"),
        product="洗衣机",
        category="家电",
        salesperson="王芳",
        satisfaction=5,
        external_ref="ORD-1",
        created_at=when,
    )
    row = [sample.get(c) for c in WRITE_COLUMNS]
    # Chunks as the import writes them: full ones, then what is left.
    lengths = [CHUNK_ROWS] * (rows // CHUNK_ROWS) + ([rows % CHUNK_ROWS] if rows % CHUNK_ROWS else [])
    with timer() as took, app.session() as session:
        for length in lengths:
            if app.hook_caller(
                "kehu_interactions_recorded"
            ).get_hookimpls():  # as write_interaction_values does
                ids, values = zip(*[(n, row) for n in range(length)])
                recorded = RecordedRows(RECORDED_KEYS, ids, values)
                app.hook.kehu_interactions_recorded(
                    session=session, batch=InteractionBatch(rows=recorded, source="import")
                )
    app.dispose()
    return took[0].cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_import_options(parser)
    parser.add_argument("--plugins", type=int, default=4, help="plugins implementing the hook (default 4)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each kind, alternating (default 2)")
    args = parser.parse_args()
    import_sizes(args)

    with import_files(args) as (work, _customers_csv, interactions_csv, template):
        runs: dict[int, list[Timing]] = {0: [], args.plugins: []}
        for _ in range(args.repeat):
            for plugins, timings in runs.items():
                took, written = run_import(template, work, interactions_csv, plugins)
                if written != args.rows:
                    raise SystemExit(f"wrote {written} rows, expected {args.rows}")
                timings.append(took)
        wall = {p: min(t.wall for t in timings) for p, timings in runs.items()}
        cpu = {p: min(t.cpu for t in timings) for p, timings in runs.items()}
        base, hooked = wall[0], wall[args.plugins]
        overhead, cpu_overhead = hooked / base - 1, cpu[args.plugins] / cpu[0] - 1
        direct = direct_cost(template, work, args.rows, args.plugins)
        report(
            f"kehu_interactions_recorded on an import of {args.rows:,} interactions (SQLite, in-process)",
            [
                ("no plugin implements the hook", f"{base:.2f} s wall, {cpu[0]:.2f} s CPU"),
                (
                    f"{args.plugins} plugins implement it",
                    f"{hooked:.2f} s wall, {cpu[args.plugins]:.2f} s CPU",
                ),
                (
                    "overhead, wall",
                    f"{overhead:+.1%} (target < {TARGET:.0%}): {'OK' if overhead < TARGET else 'MISSED'}",
                ),
                (
                    "overhead, CPU (steadier)",
                    f"{cpu_overhead:+.1%} (target < {TARGET:.0%}): "
                    f"{'OK' if cpu_overhead < TARGET else 'MISSED'}",
                ),
                (
                    "the hook path alone",
                    f"{direct:.2f} s CPU = {direct / cpu[0]:.1%} of the import without plugins "
                    f"(wrapping {args.rows:,} written rows, calls to {args.plugins} plugins per chunk)",
                ),
            ],
        )


if __name__ == "__main__":
    main()
