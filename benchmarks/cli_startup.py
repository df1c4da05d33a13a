"""How long ``kehu --help`` takes with every pip-installed plugin, against ``python -c "import click"``.

Both are measured in the same run, interleaved (A, B, A, B ...), so machine noise hits both
alike; the figure is the median of the per-pair ratios. Target: within 3x.

    python benchmarks/cli_startup.py [--repeat 21] [--json]
    python benchmarks/cli_startup.py --tiny    # one pair, no warm-up: checks the script runs

If the ratio is high, ``python -X importtime -c "from kehu_core.cli import main"`` and
``python -X importtime -c "import kehu_<plugin>"`` show who imports what.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

TARGET = 3.0


def kehu_command() -> list[str]:
    """The installed ``kehu`` console script next to this Python, else ``python -c main()``."""
    script = Path(sys.executable).parent / "kehu"
    if script.exists():
        return [str(script)]
    found = shutil.which("kehu")
    return [found] if found else [sys.executable, "-c", "from kehu_core.cli import main; main()"]


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def plugins() -> list[str]:
    """The plugins ``kehu`` will load: every entry point (minus any KEHU_PLUGINS allow-list)."""
    names = sorted(ep.name for ep in entry_points(group="kehu.plugins"))
    allowed = os.environ.get("KEHU_PLUGINS")
    if allowed is not None:
        keep = {n.strip() for n in allowed.split(",") if n.strip()}
        names = [n for n in names if n in keep]
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, help="Pairs of runs (default 21).")
    parser.add_argument("--warmup", type=int, help="Untimed pairs first, to warm the caches (default 1).")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="Check that the script runs, not the target: one pair, no warm-up (unless given).",
    )
    args = parser.parse_args()
    if args.repeat is None:
        args.repeat = 1 if args.tiny else 21
    if args.warmup is None:
        args.warmup = 0 if args.tiny else 1

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    kehu = [*kehu_command(), "--help"]
    click = [sys.executable, "-c", "import click"]
    for _ in range(args.warmup):  # warm the caches (.pyc files, the OS page cache)
        for command in (kehu, click):
            timed(command, env)
    kehu_times, click_times, ratios = [], [], []
    for _ in range(args.repeat):
        a, b = timed(kehu, env), timed(click, env)
        kehu_times.append(a)
        click_times.append(b)
        ratios.append(a / b)
    result = {
        "plugins": plugins(),
        "repeat": args.repeat,
        "kehu_help_median_s": round(statistics.median(kehu_times), 4),
        "import_click_median_s": round(statistics.median(click_times), 4),
        "median_ratio": round(statistics.median(ratios), 2),
        "target_ratio": TARGET,
    }
    result["within_target"] = result["median_ratio"] <= TARGET
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"plugins loaded by kehu --help: {', '.join(result['plugins']) or '(none)'}")
    print(f"kehu --help            median {result['kehu_help_median_s'] * 1000:7.1f} ms")
    print(f"python -c 'import click' median {result['import_click_median_s'] * 1000:5.1f} ms")
    verdict = "within" if result["within_target"] else "OVER"
    print(
        f"median ratio {result['median_ratio']:.2f}x ({verdict} the {TARGET:.0f}x target), "
        f"{args.repeat} interleaved pairs"
    )


if __name__ == "__main__":
    main()
