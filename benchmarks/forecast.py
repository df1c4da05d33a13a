"""Benchmark: ``kehu forecast run`` (bottom-up) end to end against statsforecast alone.

Usage::

    python benchmarks/forecast.py                     # 10,000 customers x 36 months
    python benchmarks/forecast.py --customers 2000    # a quicker look

The database (SQLite) is generated once into ``--workdir``: customers in 7 regions and 40
salespeople, and monthly purchases for 36 months, a mix of regular buyers (40%), buyers now
and then (40%) and lumpy ones (20%), with a few refunds. Then, each in its own process:

* ``kehu forecast run``: SQL aggregation of the purchases, demand classes, the models
  (AutoTheta / CrostonOptimized / ADIDA / historic average), the upper levels, the pipeline,
  and the coherent plan written to the database (every node and month);
* the reference: the same series already in memory as a numpy matrix, the same models called
  through ``StatsForecast.forecast`` directly (timed from the matrix to the forecasts, without
  interpreter start-up or imports).

Printed: both times (the best of ``--repeat`` alternating runs), their ratio (target: within
1.5x), and the peak memory (max RSS) of each process.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import kehu, remove_db, report, timed_kehu  # noqa: E402

AS_OF = "2026-01-15"
MONTHS = 36
FIRST = (2023, 1)
REGIONS = ("华东", "华北", "华南", "华中", "西南", "东北", "西北")


def matrix(customers: int, seed: int = 11):  # type: ignore[no-untyped-def]
    """The purchases (customers x 36 months, yuan with cents) the database will hold."""
    import numpy as np

    rng = np.random.default_rng(seed)
    kind = rng.choice(3, customers, p=(0.4, 0.4, 0.2))
    level = rng.lognormal(8.0, 0.8, customers)
    trend = 1 + rng.normal(0, 0.01, customers)[:, None] * np.arange(MONTHS)
    season = 1 + 0.15 * np.sin(2 * np.pi * np.arange(MONTHS) / 12)
    y = level[:, None] * trend * season * rng.gamma(8, 1 / 8, (customers, MONTHS))
    buys = np.where(
        kind[:, None] == 0, True, rng.random((customers, MONTHS)) < np.where(kind[:, None] == 1, 0.35, 0.15)
    )
    lumpy = np.where(kind[:, None] == 2, rng.lognormal(0, 1.2, (customers, MONTHS)), 1.0)
    y = np.round(np.maximum(y * lumpy, 1.0) * buys, 2)
    refunds = rng.random((customers, MONTHS)) < 0.01
    y[refunds] = -np.round(y[refunds] * 0.3, 2)
    return y


def generate(db: Path, customers: int) -> None:
    """``kehu init``, install the plugin, then bulk rows straight into the core tables."""
    remove_db(db)
    kehu(db, "init")
    kehu(db, "plugins", "install", "forecast")
    y = matrix(customers)
    stamp = "2023-01-01 00:00:00.000000"
    con = sqlite3.connect(db)
    con.executemany(
        "INSERT INTO customers (id, code, name, kind, region, owner, special_dates, marketing_consent, attributes,"
        " active, created_at, updated_at) VALUES (?, ?, ?, 'company', ?, ?, '{}', 0, '{}', 1, ?, ?)",
        [
            (i + 1, f"C{i + 1:06d}", f"客户{i + 1}", REGIONS[i % 7], f"销售{i % 40:02d}", stamp, stamp)
            for i in range(customers)
        ],
    )
    rows = []
    for i in range(customers):
        for m in range(MONTHS):
            if y[i, m] != 0:
                year, month = FIRST[0] + (FIRST[1] - 1 + m) // 12, (FIRST[1] - 1 + m) % 12 + 1
                rows.append(
                    (
                        i + 1,
                        "purchase",
                        "done",
                        f"{year}-{month:02d}-10 04:00:00.000000",
                        f"{y[i, m]:.2f}",
                        f"b:{i}:{m}",
                        stamp,
                    )
                )
    con.executemany(
        "INSERT INTO interactions (customer_id, kind, status, occurred_at, amount, external_ref,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    con.commit()
    con.close()


REFERENCE = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[3])
import numpy as np, pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoTheta, CrostonOptimized, ADIDA, HistoricAverage
from forecast import matrix
from kehu_forecast.classify import classify, active_start
y = matrix(int(sys.argv[1]))
begin = time.perf_counter()
classes, _, _ = classify(y)
start = active_start(y)
models = {"smooth": AutoTheta(season_length=12), "erratic": AutoTheta(season_length=12),
          "intermittent": CrostonOptimized(), "lumpy": ADIDA(), "short": HistoricAverage()}
ds = pd.date_range("2023-01-01", periods=y.shape[1], freq="MS")
out = []
for name, model in models.items():
    rows = np.flatnonzero(classes == name)
    if not len(rows):
        continue
    mask = np.arange(y.shape[1])[None, :] >= start[rows][:, None]
    r, c = np.nonzero(mask)
    df = pd.DataFrame({"unique_id": rows[r], "ds": ds.values[c], "y": np.maximum(y[rows][r, c], 0)})
    level = [80] if name in ("smooth", "erratic", "short") else None
    out.append(StatsForecast(models=[model], freq="MS", n_jobs=1).forecast(df=df, h=int(sys.argv[2]), level=level))
seconds = time.perf_counter() - begin
print(json.dumps({"seconds": seconds, "rows": int(sum(len(o) for o in out)),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--horizon", type=int, default=12)
    parser.add_argument(
        "--repeat", type=int, default=1, help="Runs of each side; the best of each is compared."
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "kehu-bench-forecast"
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    db = args.workdir / f"forecast-{args.customers}.db"
    if not db.exists():
        begin = time.perf_counter()
        generate(db, args.customers)
        print(f"generated {db} in {time.perf_counter() - begin:.1f}s")
    os.environ["KEHU_PLUGINS"] = "forecast"
    import json

    cli_runs, ref_runs = [], []
    for _ in range(max(1, args.repeat)):  # alternate, so both sides see the same machine load
        cli_runs.append(
            timed_kehu(db, "forecast", "run", "--as-of", AS_OF, "--horizon", str(args.horizon), "--json")
        )
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                REFERENCE,
                str(args.customers),
                str(args.horizon),
                str(Path(__file__).resolve().parent),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        ref_runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    cli_s, cli_mb, _ = min(cli_runs, key=lambda r: r[0])
    ref = min(ref_runs, key=lambda r: r["seconds"])
    report(
        f"bottom-up forecast: {args.customers:,} customer series x {MONTHS} months, horizon {args.horizon}",
        [
            ("kehu forecast run (end to end)", f"{cli_s:.1f} s, peak {cli_mb} MB"),
            ("statsforecast alone (in memory)", f"{ref['seconds']:.1f} s, peak {ref['peak_mb']} MB"),
            ("ratio kehu / library", f"{cli_s / ref['seconds']:.2f}x (target <= 1.5x)"),
        ],
    )


if __name__ == "__main__":
    main()
