"""The import benchmark (benchmarks/loyalty.py) runs end to end at a tiny size and gives its verdict.

It checks the script, not the target: timings at this size say nothing about 1,000,000 rows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "loyalty.py"


@pytest.mark.skipif(not SCRIPT.exists(), reason="the benchmarks live in the kehu repository")
def test_the_import_benchmark_runs_and_judges_the_median(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "import",
            "--purchases",
            "2000",
            "--customers",
            "200",
            "--dir",
            str(tmp_path),
            "--repeat",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert len(re.findall(r"^round \d ratio with/without loyalty: [\d.]+× wall", out, re.M)) == 2
    entries = int(re.search(r"ledger: ([\d,]+) entries", out).group(1).replace(",", ""))
    assert entries > 1900  # ~95% purchases earn; refunds write entries too
    assert re.search(
        r"^median of 2 round\(s\): [\d.]+× wall \(spread [\d.]+–[\d.]+×\); target ≤ 1.5×: (met|NOT met)$",
        out,
        re.M,
    )
