"""Every script in benchmarks/ runs end to end at its tiny size and prints its ratio or verdict.

These check the scripts, not the targets: timings at a few hundred rows say nothing about a
million, so the figures are matched by their format only. Each script runs as a subprocess,
as a user runs it, from the repository root, with its files (and any temporary file) in a
folder of its own.

Most of a tiny run is interpreter start-up and imports (pandas, statsforecast, DuckDB) in
the scripts' own subprocesses, so the selected scripts are all started together when the
first test needs them, and each test waits for its own: the module takes about as long as
the slowest script, not the sum of them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).resolve().parent.parent
NUMBER = r"[\d.]+"
SECONDS = 240  # from the start, far above the seconds any takes: only a hang should reach it


def sqlite_url(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'complaints.db'}"


#: id: (arguments after the script, given the test's folder; patterns the output must match).
CASES = {
    "cli_startup": (
        lambda tmp: ["benchmarks/cli_startup.py", "--tiny"],
        [
            rf"^en: median ratio {NUMBER}x \((within|OVER) the 3x target\), 1 interleaved rounds$",
            rf"^zh_CN: median ratio {NUMBER}x \((within|OVER) the 3x target\), 1 interleaved rounds$",
        ],
    ),
    "import_bench": (
        lambda tmp: ["benchmarks/import_bench.py", "--tiny", "--workdir", str(tmp)],
        [
            r"^import of 2,000 interactions ",
            rf"^  ratio, wall +{NUMBER}x \(target <= 3x\): (OK|MISSED)$",
            rf"^  ratio, CPU \(steadier\) +{NUMBER}x \(target <= 3x\): (OK|MISSED)$",
            r"^  peak RSS of the import +\d+ MB \(target < 300 MB\): (OK|MISSED)$",
        ],
    ),
    "list_memory": (
        lambda tmp: ["benchmarks/list_memory.py", "--tiny", "--workdir", str(tmp)],
        [
            r"^interaction list --limit 0 over 2,000 interactions, SQLite file$",
            r"^  peak RSS of interaction list --json +\d+ MB \(target < 300 MB\): (OK|MISSED)$",
            r"^  peak RSS of interaction list --csv +\d+ MB \(target < 300 MB\): (OK|MISSED)$",
        ],
    ),
    "record_rules": (
        lambda tmp: ["benchmarks/record_rules.py", "--tiny", "--workdir", str(tmp)],
        [
            r"^customer list --csv over 2,000 customers, SQLite, 1 interleaved pair\(s\)$",
            rf"^  ratio, CPU \(steadier\) +{NUMBER}x \(target <= 1.2x\): (OK|MISSED)$",
            r"^  sales, own scope +.* 40 rows$",
        ],
    ),
    "hook_overhead": (
        lambda tmp: ["benchmarks/hook_overhead.py", "--tiny", "--workdir", str(tmp)],
        [
            r"^kehu_interactions_recorded on an import of 2,000 interactions ",
            rf"^  overhead, wall +[+-]{NUMBER}% \(target < 10%\): (OK|MISSED)$",
            rf"^  overhead, CPU \(steadier\) +[+-]{NUMBER}% \(target < 10%\): (OK|MISSED)$",
            rf"^  the hook path alone +{NUMBER} s CPU = {NUMBER}% of the import without plugins",
        ],
    ),
    "forecast": (
        lambda tmp: ["benchmarks/forecast.py", "--tiny", "--engine", "dask", "--workdir", str(tmp)],
        [
            r"^bottom-up forecast: 50 customer series x 36 months, horizon 12$",
            rf"^  ratio kehu / library, end to end +{NUMBER}x \(target <= 1.3x\): (OK|MISSED)$",
            rf"^  the models alone, in memory +{NUMBER} s \({NUMBER} s CPU\), peak \d+ MB; "
            rf"kehu / models alone: {NUMBER}x$",
            rf"^  kehu forecast run --jobs 2 +{NUMBER} s, same: True$",
            rf"^  speed-up --jobs 2 / --jobs 1 +{NUMBER}x \(target >= 1.6x\): (OK|MISSED)$",
            rf"^  ratio dask / local +{NUMBER}x, same: True$",
        ],
    ),
    "loyalty_import": (
        lambda tmp: ["benchmarks/loyalty.py", "import", "--tiny", "--dir", str(tmp)],
        [
            rf"^median of 2 round\(s\): {NUMBER}× wall \(spread {NUMBER}–{NUMBER}×\); "
            r"target ≤ 1.5×: (met|NOT met)$"
        ],
    ),
    "loyalty_ladder": (
        lambda tmp: ["benchmarks/loyalty.py", "ladder", "--tiny", "--dir", str(tmp)],
        [
            r"^same transitions as pandas: True$",
            rf"^ladder ratio kehu/pandas: {NUMBER}× \(target < 1: faster\)$",
        ],
    ),
    "complaints": (
        lambda tmp: ["benchmarks/complaints.py", "--tiny", "--db", sqlite_url(tmp)],
        [
            r"^escalation job: .* newly breached of 300 open ",
            rf"^ratio job / single UPDATE = {NUMBER}x \(target <= 3x\) (OK|OVER TARGET)$",
            rf"^complaint report over 1,000 complaints: {NUMBER}s ",
        ],
    ),
    "tiering": (
        lambda tmp: ["benchmarks/tiering.py", "--tiny", "--workdir", str(tmp)],
        # install, run, re-run, pandas, duckdb, the three ratios, peak MB, the cross-check, the
        # stats; then each change-heavy re-run: the pyramid moves, its seconds and ratio to the first
        # run; then the two pairs (first run, half re-run) that --tiny measures, and their median;
        # then DuckDB on one thread
        [
            rf"^sqlite 200/2k(\s+{NUMBER}){{9}}\s+True\s+{NUMBER}$",
            rf"^change-heavy re-run sqlite 200/2k, half: \d+ of 200 customers \(\d+%\) change pyramid "
            rf"tier; {NUMBER} s, {NUMBER}x the first run \((target <= 1.5x: (OK|MISSED) on the median of "
            rf"2 pairs|reported)\); CPU {NUMBER}x$",
            rf"^change-heavy re-run sqlite 200/2k, nearly all: \d+ of 200 customers \(\d+%\) change pyramid "
            rf"tier; {NUMBER} s, {NUMBER}x the first run \(reported\); CPU {NUMBER}x$",
            rf"^pairs sqlite 200/2k: first run / half re-run, each pair on a fresh copy: "
            rf"{NUMBER} s / {NUMBER} s = {NUMBER}x, {NUMBER} s / {NUMBER} s = {NUMBER}x; median {NUMBER}x$",
            rf"^duckdb on one thread sqlite 200/2k: {NUMBER} s \(run {NUMBER}x; on every core {NUMBER} s\)$",
        ],
    ),
}


class Run:
    """One script started in the background, its output going to files in its folder."""

    def __init__(self, case: str, folder: Path):
        env = {key: value for key, value in os.environ.items() if key != "KEHU_PLUGINS"}
        env["TMPDIR"] = str(folder)  # what a script puts in a temporary folder lands here too
        self.deadline = time.monotonic() + SECONDS
        self.out: IO[str] = (folder / "stdout.txt").open("w+", encoding="utf-8")
        self.err: IO[str] = (folder / "stderr.txt").open("w+", encoding="utf-8")
        arguments, _ = CASES[case]
        # A session of its own, so that a hang is ended with the kehu processes it started.
        self.proc = subprocess.Popen(
            [sys.executable, *arguments(folder)],
            cwd=ROOT,
            env=env,
            stdout=self.out,
            stderr=self.err,
            text=True,
            start_new_session=True,
        )

    def finish(self) -> tuple[int, str, str]:
        """Wait (until the deadline) for the exit code, standard output and standard error."""
        try:
            code = self.proc.wait(timeout=max(0.0, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.stop()
            raise
        self.out.seek(0)
        self.err.seek(0)
        return code, self.out.read(), self.err.read()

    def stop(self) -> None:
        """End the script and everything it started, if it still runs; close the files."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.out.close()
        self.err.close()


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Run]]:
    """Every selected script, started at once, each with a temporary folder of its own."""
    selected: set[str] = set()
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if item.path == request.path and callspec is not None and "case" in callspec.params:
            selected.add(callspec.params["case"])
    started = {case: Run(case, tmp_path_factory.mktemp(case)) for case in sorted(selected)}
    yield started
    for run in started.values():
        run.stop()


@pytest.mark.parametrize("case", sorted(CASES))
def test_benchmark_runs_at_tiny_size(case: str, runs: dict[str, Run]) -> None:
    code, out, err = runs[case].finish()
    assert code == 0, f"{out}\n{err}"
    _, patterns = CASES[case]
    for pattern in patterns:
        assert re.search(pattern, out, re.M), f"no line matches {pattern!r} in:\n{out}"
    if case == "loyalty_import":
        # Both rounds ran, and the importer's hook really earned points (about 95% of the
        # purchases earn; refunds write entries too).
        assert len(re.findall(rf"^round \d ratio with/without loyalty: {NUMBER}× wall", out, re.M)) == 2
        ledger = re.search(r"ledger: ([\d,]+) entries", out)
        assert ledger, out
        assert int(ledger.group(1).replace(",", "")) > 1900
