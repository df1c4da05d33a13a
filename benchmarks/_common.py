"""Shared helpers for the benchmarks: realistic CSV files, running ``kehu``, timing and peak memory.

The benchmarks print ratios against a reference measured in the same run, on the same
machine, so that a noisy 2-core box still gives figures that mean something.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from attrs import frozen

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KEHU = str(BIN / "kehu")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
COMPANY_WORDS = ("华东", "长江", "东方", "新世纪", "金鼎", "宏达", "远景", "恒信", "海天", "瑞丰")
COMPANY_KINDS = ("贸易有限公司", "科技股份有限公司", "建材商行", "食品厂", "百货商店", "电子有限公司")
REGIONS = ("华东", "华北", "华南", "华中", "西南", "东北", "西北")
INDUSTRIES = ("零售", "制造", "批发", "餐饮", "建筑", "IT")
PRODUCTS = (
    ("洗衣机 XQB-60", "家电"),
    ("电冰箱 BCD-215", "家电"),
    ("空调 KFR-35", "家电"),
    ("笔记本电脑 T14", "电脑"),
    ("打印机 M1136", "办公"),
    ("复印纸 A4", "办公"),
    ("Wireless mouse M330", "电脑"),
    ("茶叶 龙井 250g", "食品"),
    ("大米 5kg", "食品"),
)
CHANNELS = ("门店", "线上", "经销商", "电话订购", "展会")
KINDS = (
    ("purchase", 55),
    ("visit", 12),
    ("call", 12),
    ("payment", 10),
    ("feedback", 4),
    ("email", 4),
    ("complaint", 2),
    ("meeting", 1),
)
NOTES = (
    "",
    "",
    "",
    "客户要求周五送货",
    "回访：满意",
    "price check; wants 5% off",
    "需要发票",
    "老客户介绍 😀",
)
INTERACTION_HEADER = (
    "external_ref",
    "customer_code",
    "kind",
    "status",
    "occurred_at",
    "channel",
    "amount",
    "quantity",
    "product",
    "category",
    "salesperson",
    "satisfaction",
    "note",
    "due_at",
    "paid_at",
)


def customer_code(i: int) -> str:
    """The code of generated customer number ``i`` (1-based)."""
    return f"C{i:06d}"


def write_customers(path: Path, count: int, seed: int = 1) -> None:
    """A customer CSV (UTF-8 with BOM, as Chinese Excel writes it) with ``count`` rows."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(("code", "name", "kind", "region", "industry", "owner", "phone", "tags"))
        for i in range(1, count + 1):
            name = rng.choice(COMPANY_WORDS) + rng.choice(COMPANY_KINDS)
            out.writerow(
                (
                    customer_code(i),
                    f"{name}{i}",
                    "company",
                    rng.choice(REGIONS),
                    rng.choice(INDUSTRIES),
                    _person(rng),
                    f"138{rng.randrange(10**8):08d}",
                    rng.choice(("vip", "", "新客户,华东")),
                )
            )


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")


def interaction_rows(count: int, customers: int, seed: int = 2) -> Iterator[tuple[str, ...]]:
    """``count`` realistic interaction rows (strings, as in a CSV) over ``customers`` customers."""
    rng = random.Random(seed)
    kinds = [k for k, weight in KINDS for _ in range(weight)]
    salespeople = [_person(rng) for _ in range(40)]
    start = datetime(2022, 1, 1, 8, 0)
    for n in range(1, count + 1):
        kind = rng.choice(kinds)
        when = start + timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
        product, category = rng.choice(PRODUCTS)
        amount = quantity = due = paid = satisfaction = ""
        if kind == "purchase":
            qty = rng.randrange(1, 20)
            quantity = str(qty)
            amount = f"{qty * rng.randrange(50, 5000)}.{rng.randrange(100):02d}"
            if rng.random() < 0.02:
                amount = "-" + amount  # a refund
        elif kind == "payment":
            amount = f"{rng.randrange(100, 90000)}.00"
            due = (when + timedelta(days=30)).strftime("%Y-%m-%d")
            paid = (
                (when + timedelta(days=rng.randrange(40))).strftime("%Y-%m-%d") if rng.random() < 0.8 else ""
            )
        if kind in ("visit", "call", "feedback", "complaint", "purchase") and rng.random() < 0.5:
            satisfaction = str(rng.randrange(1, 6))
        yield (
            f"ORD-{n:08d}",
            customer_code(rng.randrange(1, customers + 1)),
            kind,
            "done",
            when.strftime("%Y-%m-%d %H:%M"),
            rng.choice(CHANNELS),
            amount,
            quantity,
            product if kind in ("purchase", "complaint", "feedback") else "",
            category if kind == "purchase" else "",
            rng.choice(salespeople),
            satisfaction,
            rng.choice(NOTES),
            due,
            paid,
        )


def write_interactions(path: Path, count: int, customers: int, seed: int = 2) -> None:
    """An interaction CSV (UTF-8 with BOM) of ``count`` rows."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(INTERACTION_HEADER)
        out.writerows(interaction_rows(count, customers, seed))


def plugin_env(plugins: str | None = None) -> dict[str, str]:
    """The environment ``kehu`` runs in here: ``KEHU_PLUGINS`` set to ``plugins`` if given, else as
    this process has it, else empty (no plugin), so that a step loads only the plugins the
    benchmark names and nothing else."""
    allowed = os.environ.get("KEHU_PLUGINS", "") if plugins is None else plugins
    return dict(os.environ, KEHU_PLUGINS=allowed)


def kehu(
    db: str | Path, *args: str, check: bool = True, plugins: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``kehu --db DB ARGS`` quietly (``plugins`` as :func:`plugin_env`); raise with its
    output if it fails."""
    done = subprocess.run(
        [KEHU, "--db", str(db), *args], capture_output=True, text=True, env=plugin_env(plugins)
    )
    if check and done.returncode != 0:
        raise SystemExit(f"kehu {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


@frozen
class Timing:
    """One timed run: wall seconds, CPU seconds (user + system), peak RSS in MB."""

    wall: float
    cpu: float
    peak_mb: int = 0


def timed_kehu(db: str | Path, *args: str) -> tuple[Timing, str]:
    """Run ``kehu --db DB ARGS``: its :class:`Timing` and standard output.

    CPU time comes from ``wait4`` (the child's own), and is the steadier figure on a loaded
    machine. The peak is the child's ``VmHWM`` polled from ``/proc`` while it runs: the
    ``ru_maxrss`` of ``wait4`` would include the pages the child inherited from this process
    at fork (Linux records the pre-exec high-water mark), which misleads when this is big.
    """
    return timed_command([KEHU, "--db", str(db), *args], plugin_env())


def timed_command(argv: list[str], env: dict[str, str] | None = None) -> tuple[Timing, str]:
    """Run ``argv`` in a process of its own: its :class:`Timing` (as :func:`timed_kehu`
    measures it) and standard output; a failure stops the benchmark with its output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        begin = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        peak_kb = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_kb = max(peak_kb, _vm_hwm_kb(proc.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - begin
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} ... failed ({proc.returncode}):\n{stdout}\n{stderr}")
    return Timing(wall, usage.ru_utime + usage.ru_stime, peak_kb // 1024), stdout


@contextmanager
def timer() -> Iterator[list[Timing]]:
    """``with timer() as t:`` ... then ``t[0]`` is the block's wall and CPU time (this process)."""
    result: list[Timing] = []
    wall, cpu = time.perf_counter(), time.process_time()
    yield result
    result.append(Timing(time.perf_counter() - wall, time.process_time() - cpu))


def _vm_hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def add_tiny(parser: argparse.ArgumentParser, what: str) -> None:
    """A ``--tiny`` option: sizes small enough to check, in seconds, that the script runs end to end."""
    parser.add_argument(
        "--tiny",
        action="store_true",
        help=f"a few seconds' run that checks the script, not the target ({what}); "
        "sizes given explicitly still apply",
    )


def sizes(args: argparse.Namespace, full: dict[str, object], tiny: dict[str, object]) -> None:
    """Fill in every option of ``full`` left at ``None``: from ``tiny`` with ``--tiny``, else ``full``."""
    chosen = tiny if args.tiny else full
    for name, value in full.items():
        if getattr(args, name) is None:
            setattr(args, name, chosen.get(name, value))


def add_import_options(parser: argparse.ArgumentParser) -> None:
    """``--rows``, ``--customers``, ``--tiny`` and ``--workdir`` of the benchmarks that import
    generated interactions (see :func:`import_files`)."""
    parser.add_argument("--rows", type=int, help="interactions to import (default 1,000,000)")
    parser.add_argument("--customers", type=int, help="customers they belong to (default 10,000)")
    add_tiny(parser, "2,000 rows, 200 customers")
    parser.add_argument("--workdir", help="keep the files here instead of a temporary folder")


def import_sizes(args: argparse.Namespace) -> None:
    """The sizes of :func:`add_import_options`; the import runs with the plugins ``KEHU_PLUGINS``
    names (none unless set)."""
    sizes(args, full=dict(rows=1_000_000, customers=10_000), tiny=dict(rows=2_000, customers=200))
    os.environ.setdefault("KEHU_PLUGINS", "")


@contextmanager
def import_files(args: argparse.Namespace) -> Iterator[tuple[Path, Path, Path, Path]]:
    """In ``--workdir`` (else a temporary folder, removed afterwards): ``customers.csv`` and
    ``interactions.csv`` of ``args.customers`` and ``args.rows``, and ``template.db``, a database
    with the schema and the customers. Yields (the folder, customers.csv, interactions.csv, template.db)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        customers_csv, interactions_csv = work / "customers.csv", work / "interactions.csv"
        print(
            f"generating {args.rows:,} interactions over {args.customers:,} customers in {work} ...",
            flush=True,
        )
        write_customers(customers_csv, args.customers)
        write_interactions(interactions_csv, args.rows, args.customers)
        template = work / "template.db"
        remove_db(template)
        kehu(template, "init")
        kehu(template, "customer", "import", str(customers_csv))
        yield work, customers_csv, interactions_csv, template


def remove_db(path: Path) -> None:
    """Delete a SQLite database and its WAL files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def report(title: str, lines: Sequence[tuple[str, str]]) -> None:
    """Print a titled block of aligned ``label: value`` lines."""
    print(title)
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        print(f"  {label.ljust(width)}  {value}")
    sys.stdout.flush()
