"""How long ``kehu --help`` takes with every pip-installed plugin, against ``python -c "import click"``,
in English and in Chinese (``KEHU_LANG=zh_CN``: the catalogs are read and the help translated).

All three are measured in the same run, interleaved (en, zh_CN, click, en, zh_CN, click ...),
so machine noise hits them alike; each figure is the median of the per-round ratios.
Target: within 3x in both languages.

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
#: The interface languages measured: English, and Chinese with its catalogs.
LANGUAGES = ("en", "zh_CN")


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

    base = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    envs = {lang: {**base, "KEHU_LANG": lang} for lang in LANGUAGES}
    kehu = [*kehu_command(), "--help"]
    click = [sys.executable, "-c", "import click"]
    for _ in range(args.warmup):  # warm the caches (.pyc files, the OS page cache)
        for lang in LANGUAGES:
            timed(kehu, envs[lang])
        timed(click, base)
    kehu_times: dict[str, list[float]] = {lang: [] for lang in LANGUAGES}
    ratios: dict[str, list[float]] = {lang: [] for lang in LANGUAGES}
    click_times = []
    for _ in range(args.repeat):
        round_times = {lang: timed(kehu, envs[lang]) for lang in LANGUAGES}
        reference = timed(click, base)
        click_times.append(reference)
        for lang, seconds in round_times.items():
            kehu_times[lang].append(seconds)
            ratios[lang].append(seconds / reference)
    result: dict[str, object] = {
        "plugins": plugins(),
        "repeat": args.repeat,
        "import_click_median_s": round(statistics.median(click_times), 4),
        "target_ratio": TARGET,
        "languages": {
            lang: {
                "kehu_help_median_s": round(statistics.median(kehu_times[lang]), 4),
                "median_ratio": round(statistics.median(ratios[lang]), 2),
                "within_target": statistics.median(ratios[lang]) <= TARGET,
            }
            for lang in LANGUAGES
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"plugins loaded by kehu --help: {', '.join(plugins()) or '(none)'}")
    print(f"python -c 'import click'     median {statistics.median(click_times) * 1000:7.1f} ms")
    for lang in LANGUAGES:
        print(f"KEHU_LANG={lang:<6} kehu --help median {statistics.median(kehu_times[lang]) * 1000:7.1f} ms")
    for lang in LANGUAGES:
        ratio = statistics.median(ratios[lang])
        verdict = "within" if ratio <= TARGET else "OVER"
        print(
            f"{lang}: median ratio {ratio:.2f}x ({verdict} the {TARGET:.0f}x target), "
            f"{args.repeat} interleaved rounds"
        )


if __name__ == "__main__":
    main()
