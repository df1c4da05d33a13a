"""Mutation testing of kehu's business modules with cosmic-ray (``make mutation [MODULE=...]``).

Runs inside the copy of the work tree that ``make mutation`` prepares (cosmic-ray mutates
files in place), one session database per module beside it, and prints per module: mutants,
killed, survived, score and each surviving mutant with its line; the same goes to
``../summary.txt``. The modules and the tests that cover each are listed in
``[tool.cosmic-ray.modules]`` of pyproject.toml; ``MODULE`` picks one of them (or several,
separated by spaces).

``AGAIN=1`` runs again only the mutants that survived the module's previous session (after
tests were added), provided the module's source is the one that session mutated; otherwise
every mutant runs.

A mutant costs one run of its module's test command, so that command is kept short:

* only the tests that exercise the module (its list in ``[tool.cosmic-ray.modules]``);
* pytest without the plugins other packages register through entry points (fugue's and
  hypothesis' cost seconds to import): ``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` and ``-p
  kehu_core.testing`` for kehu's fixtures;
* compiled code read from ``__pycache__``: cosmic-ray runs each mutant with
  ``PYTHONDONTWRITEBYTECODE``, so without compiled files every run would compile kehu, its
  plugins and the tests again. The tree is compiled once, and one warm-up run of the module's
  tests (which must pass) writes pytest's rewritten test modules. The mutated module's own
  compiled file is deleted, so each mutant is compiled from its source;
* the libraries imported once: pytest runs in a child forked from a server that has imported
  pandas, statsforecast, SQLAlchemy and the rest (``tools/preloaded_pytest.py``), and the
  test command only asks it to. Every child reads kehu and the mutated module from disk.
  The module's tests must pass that way too, unmutated, before any mutant runs.
"""

from __future__ import annotations

import compileall
import hashlib
import importlib.util
import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import toml

BIN = Path(sys.executable).parent
#: The folders of the tree that hold Python code the tests import.
CODE_FOLDERS = ("kehu_core", "plugins", "examples", "tests")
#: The test command's start that the preloaded server stands in for.
PYTEST = "python -m pytest "


def tool(*args: str, capture: bool = False) -> str:
    """Run one of cosmic-ray's commands from this virtualenv; its output when ``capture``."""
    done = subprocess.run([str(BIN / args[0]), *args[1:]], check=True, capture_output=capture, text=True)
    return done.stdout if capture else ""


def warm_up(name: str, command: str, served: str) -> float:
    """Run the module's tests on the unmutated tree, writing compiled files, then once more as
    each mutant will (``served``: through the preloaded server, without writing): seconds of
    the second run.

    Exits when either fails: a mutant can only be judged against tests that pass without it.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(shlex.split(command), env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{name}: its tests fail before any mutation:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    Path(importlib.util.cache_from_source(name)).unlink(missing_ok=True)
    started = time.monotonic()
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run(shlex.split(served), env=env, capture_output=True, text=True)
    if done.returncode != 0:
        output = f"{done.stdout[-3000:]}{done.stderr[-2000:]}"
        sys.exit(f"{name}: its tests fail through the preloaded server:\n{output}")
    return time.monotonic() - started


def mutate(name: str, tests: list[str], base: dict[str, Any], server: str) -> tuple[int, list[str]]:
    """Run every mutant of module ``name`` against ``tests``, each through the preloaded pytest
    listening on the socket ``server``: killed count and survivors' lines."""
    stem = re.sub(r"[^A-Za-z0-9]+", "_", name.removesuffix(".py"))
    config_file, session = f"../{stem}.toml", f"../{stem}.sqlite"
    command = base["test-command"].format(tests=" ".join(tests))
    if not command.startswith(PYTEST):
        sys.exit(f"[tool.cosmic-ray] test-command must start with {PYTEST.strip()!r}")
    served = f"python tools/preloaded_pytest.py run {server} {command.removeprefix(PYTEST)}"
    with open(config_file, "w", encoding="utf-8") as handle:
        toml.dump({"cosmic-ray": dict(base, **{"module-path": name, "test-command": served})}, handle)
    print(f"== {name}: {' '.join(tests)}", flush=True)
    source_hash = hashlib.sha256(Path(name).read_bytes()).hexdigest()
    stamp = Path(f"../{stem}.source")
    if os.environ.get("AGAIN") and stamp.exists() and stamp.read_text() == source_hash:
        with sqlite3.connect(session) as db:
            again = db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'").rowcount
        print(f"   again: the {again} mutant(s) that survived last time", flush=True)
    else:
        tool("cosmic-ray", "init", "--force", config_file, session)
        tool("cr-filter-operators", session, config_file)
        stamp.write_text(source_hash)
    took = warm_up(name, command, served)
    print(f"   the tests pass unmutated in {took:.1f} s; running the mutants", flush=True)
    started = time.monotonic()
    tool("cosmic-ray", "--verbosity", "ERROR", "exec", config_file, session)
    elapsed = time.monotonic() - started
    source = Path(name).read_text(encoding="utf-8").splitlines()
    killed, survived = 0, []
    for row in tool("cosmic-ray", "dump", session, capture=True).splitlines():
        item, result = json.loads(row)
        if result is None or result["worker_outcome"] == "skipped":
            continue
        if result["test_outcome"] != "survived":
            killed += 1
            continue
        mutation = item["mutations"][0]
        line = mutation["start_pos"][0]
        operator = f"{mutation['operator_name']} #{mutation['occurrence']}"
        survived.append((line, f"    {name}:{line} {operator}: {source[line - 1].strip()}"))
    total = killed + len(survived)
    print(f"   {total} mutants in {elapsed:.0f} s ({elapsed / max(total, 1):.1f} s a mutant)", flush=True)
    return killed, [text for _, text in sorted(survived)]


def main() -> None:
    """Mutate the modules ``$MODULE`` names, or every listed one."""
    with open("pyproject.toml", "rb") as handle:
        base = tomllib.load(handle)["tool"]["cosmic-ray"]
    modules: dict[str, list[str]] = base.pop("modules")
    wanted = (os.environ.get("MODULE") or "").split()
    for name in wanted:
        if name not in modules:
            known = ", ".join(modules)
            sys.exit(f"MODULE={name} is not a business module of [tool.cosmic-ray.modules]: {known}")
    for name in wanted or list(modules):
        paths = [t.partition("::")[0] for t in modules[name] if not t.startswith("-")]
        missing = [path for path in paths if not os.path.exists(path)]
        if missing:
            sys.exit(f"{name}: test path {missing[0]} does not exist")
    # Entry-point pytest plugins of other packages stay out; the command loads kehu's with -p.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    for folder in CODE_FOLDERS:
        compileall.compile_dir(folder, quiet=1, workers=0)
    lines = []
    with tempfile.TemporaryDirectory(prefix="kehu-mutation-") as folder:
        server = os.path.join(folder, "pytest.socket")
        process = subprocess.Popen(
            [sys.executable, "tools/preloaded_pytest.py", "serve", server], stdout=subprocess.PIPE, text=True
        )
        try:
            if process.stdout is None or process.stdout.readline().strip() != "ready":
                sys.exit("the preloaded pytest server did not start")
            for name in wanted or list(modules):
                killed, survived = mutate(name, modules[name], base, server)
                total = killed + len(survived)
                score = 100.0 * killed / total if total else 100.0
                lines.append(
                    f"{name}: {total} mutants, {killed} killed, {len(survived)} survived, {score:.1f}%"
                )
                lines.extend(survived)
        finally:
            process.kill()
            process.wait()
    Path("../summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
