"""A killed import leaves the database as it was; running it again completes it.

The import runs as a real ``kehu`` process with its standard error on a pseudo-terminal, so
it draws its progress bar; once the bar shows a chunk written (inside the still-open
transaction), the process gets SIGKILL. This also shows the bar appears on a terminal.
"""

from __future__ import annotations

import csv
import os
import pty
import re
import select as select_
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from kehu_core import customers
from kehu_core.models import Interaction

KEHU = str(Path(sys.executable).parent / "kehu")
ROWS = 25_000  # three chunks: the kill lands after the first is written, before the commit


def write_file(path: Path, rows: int, start: int = 0) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["external_ref", "customer_code", "kind", "occurred_at", "amount", "product", "note"])
        for n in range(start, start + rows):
            out.writerow(
                [
                    f"K{n:07d}",
                    f"C{n % 50}",
                    "purchase",
                    f"2024-03-{n % 28 + 1:02d} 10:{n % 60:02d}",
                    f"{n % 900 + 1}.50",
                    "洗衣机",
                    "备注 😀" if n % 3 else "",
                ]
            )


def stored(app) -> tuple[int, int]:
    with app.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Interaction)),
            s.scalar(select(func.count(func.distinct(Interaction.external_ref)))),
        )


def test_sigkill_mid_import_leaves_nothing_and_rerun_completes(kehu_app, tmp_path):
    with kehu_app.session() as s:
        for n in range(50):
            customers.add_customer(kehu_app, s, {"code": f"C{n}", "name": f"客户{n}"})
    path = tmp_path / "big.csv"
    write_file(path, ROWS)
    url = kehu_app.engine.url.render_as_string(hide_password=False)
    env = dict(os.environ, KEHU_PLUGINS="", COLUMNS="100")
    args = [KEHU, "--db", url, "interaction", "import", str(path)]

    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select_.select([master], [], [], 1.0)
            if ready:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
            if re.search(rb"importing interactions.*?\b[1-9][0-9]*/[0-9]+", seen):
                break
            assert proc.poll() is None, f"import ended before it could be killed: {seen!r}"
        else:
            raise AssertionError(f"no progress seen: {seen!r}")
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert b"importing interactions" in seen  # the bar is drawn on a terminal
    assert stored(kehu_app) == (0, 0)

    done = subprocess.run(args + ["--json"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "importing interactions" not in done.stderr  # not a terminal: no bar
    assert stored(kehu_app) == (ROWS, ROWS)
