"""Mutation testing of kehu's business modules with cosmic-ray (``make mutation [MODULE=...]``).

Runs inside the copy of the work tree that ``make mutation`` prepares (cosmic-ray mutates
files in place), one session database per module beside it, and prints per module: mutants,
killed, survived, score and each surviving mutant with its line; the same goes to
``../summary.txt``. The modules and the tests that cover each are listed in
``[tool.cosmic-ray.modules]`` of pyproject.toml; ``MODULE`` picks one of them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import toml

BIN = Path(sys.executable).parent


def tool(*args: str, capture: bool = False) -> str:
    """Run one of cosmic-ray's commands from this virtualenv; its output when ``capture``."""
    done = subprocess.run([str(BIN / args[0]), *args[1:]], check=True, capture_output=capture, text=True)
    return done.stdout if capture else ""


def mutate(name: str, tests: list[str], base: dict[str, Any]) -> tuple[int, list[str]]:
    """Run every mutant of module ``name`` against ``tests``: killed count and survivors' lines."""
    stem = re.sub(r"[^A-Za-z0-9]+", "_", name.removesuffix(".py"))
    config_file, session = f"../{stem}.toml", f"../{stem}.sqlite"
    command = base["test-command"].format(tests=" ".join(tests))
    with open(config_file, "w", encoding="utf-8") as handle:
        toml.dump({"cosmic-ray": dict(base, **{"module-path": name, "test-command": command})}, handle)
    print(f"== {name}: {' '.join(tests)}", flush=True)
    tool("cosmic-ray", "init", "--force", config_file, session)
    tool("cr-filter-operators", session, config_file)
    tool("cosmic-ray", "--verbosity", "ERROR", "baseline", config_file)
    tool("cosmic-ray", "--verbosity", "ERROR", "exec", config_file, session)
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
    return killed, [text for _, text in sorted(survived)]


def main() -> None:
    """Mutate the module ``$MODULE`` names, or every listed one."""
    with open("pyproject.toml", "rb") as handle:
        base = tomllib.load(handle)["tool"]["cosmic-ray"]
    modules: dict[str, list[str]] = base.pop("modules")
    wanted = os.environ.get("MODULE") or ""
    if wanted and wanted not in modules:
        known = ", ".join(modules)
        sys.exit(f"MODULE={wanted} is not a business module of [tool.cosmic-ray.modules]: {known}")
    lines = []
    for name in [wanted] if wanted else list(modules):
        missing = [t for t in modules[name] if not os.path.exists(t)]
        if missing:
            sys.exit(f"{name}: test path {missing[0]} does not exist")
        killed, survived = mutate(name, modules[name], base)
        total = killed + len(survived)
        score = 100.0 * killed / total if total else 100.0
        lines.append(f"{name}: {total} mutants, {killed} killed, {len(survived)} survived, {score:.1f}%")
        lines.extend(survived)
    Path("../summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
