"""``kehu plugin new``: the scaffold is valid, refuses bad names, and its own tests pass once installed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kehu_core.catalogs import check
from kehu_core.cli import create_cli
from kehu_core.errors import KehuError, ValidationError
from kehu_core.plugins import discover
from kehu_core.scaffold import new_plugin

VENV_BIN = Path(sys.executable).parent
PIP_LOCK = "/tmp/kehu-pip.lock"


def run_cli(*args: str):
    return CliRunner().invoke(create_cli(plugins=discover(strict=False, allow=set())), list(args))


def test_default_directory_and_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("plugin", "new", "Shop-Rules", "--json")
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    assert (made["name"], made["distribution"], made["package"]) == (
        "shop_rules",
        "kehu-shop-rules",
        "kehu_shop_rules",
    )
    root = tmp_path / "kehu-shop-rules"
    assert Path(made["directory"]) == root
    assert {
        "pyproject.toml",
        "README.md",
        ".gitignore",
        "kehu_shop_rules/__init__.py",
        "kehu_shop_rules/migrations/shop_rules_0001_initial.py",
        "tests/test_shop_rules.py",
        "tests/conftest.py",
        "kehu_shop_rules/locale/zh_CN/LC_MESSAGES/kehu_shop_rules.po",
        "kehu_shop_rules/locale/zh_CN/LC_MESSAGES/kehu_shop_rules.mo",
    } <= set(made["files"])
    # Its own catalog, complete: every message of the templates has its translation.
    state = check(root / "kehu_shop_rules", "zh_CN")
    assert state.complete, (state.missing, state.untranslated, state.stale_mo)
    assert not list(root.rglob("*.lock"))
    assert '"locale/*/LC_MESSAGES/*.mo"' in (root / "pyproject.toml").read_text(encoding="utf-8")
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert 'shop_rules = "kehu_shop_rules"' in pyproject and 'name = "kehu-shop-rules"' in pyproject
    for path in root.rglob("*"):  # every placeholder was filled, every Python file parses
        if path.is_file() and path.suffix != ".mo":
            text = path.read_text(encoding="utf-8")
            assert "{{" not in text, path
            if path.suffix == ".py":
                compile(text, str(path), "exec")
    migration = (root / "kehu_shop_rules/migrations/shop_rules_0001_initial.py").read_text(encoding="utf-8")
    assert 'revision = "shop_rules_0001"' in migration
    assert 'branch_labels = ("shop_rules",)' in migration and 'depends_on = "c0001"' in migration
    # The README's layout table names exactly the package's modules the scaffold wrote.
    readme = (root / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"^\| `kehu_shop_rules/([a-z_]+\.py)` \|", readme, flags=re.MULTILINE))
    assert named == {
        f.removeprefix("kehu_shop_rules/")
        for f in made["files"]
        if re.fullmatch(r"kehu_shop_rules/[a-z_]+\.py", f)
    }


@pytest.mark.parametrize(
    "name, reason",
    [
        ("9lives", "must start with a letter"),
        ("a b", "must start with a letter"),
        ("", "must start with a letter"),
        ("x" * 28, "at most 27 characters"),
    ],
)
def test_bad_names_are_refused_and_nothing_is_written(tmp_path, name, reason):
    with pytest.raises(ValidationError, match=reason):
        new_plugin(name, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    result = run_cli("plugin", "new", name, "--directory", str(tmp_path / "out"))
    assert result.exit_code == 1 and reason in result.output and "Traceback" not in result.output


def test_existing_directory_is_refused_unless_forced(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "keep.txt").write_text("my notes", encoding="utf-8")
    with pytest.raises(KehuError, match="already exists and is not empty"):
        new_plugin("mine", target)
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]
    new_plugin("mine", target, force=True)
    assert (target / "keep.txt").read_text(encoding="utf-8") == "my notes"
    assert (target / "kehu_mine" / "__init__.py").exists()


@pytest.mark.slow
def test_scaffolded_plugin_installs_and_its_tests_pass(tmp_path, request):
    """The whole path of a new author: scaffold, pip install (a real wheel), run its tests."""
    name = f"scaffold_probe_{os.getpid()}"
    made = new_plugin(name, tmp_path / "plugin")
    pip = [str(VENV_BIN / "python"), "-m", "pip"]
    lock = ["flock", PIP_LOCK] if Path("/usr/bin/flock").exists() or Path("/bin/flock").exists() else []
    # Not editable: a wheel proves the migrations ship as package data.
    subprocess.run(
        [*lock, *pip, "install", "-q", "--no-deps", str(made.directory)], check=True, capture_output=True
    )
    try:
        backend = request.config.getoption("--kehu-db") or os.environ.get("KEHU_TEST_DB", "sqlite")
        env = {k: v for k, v in os.environ.items() if k not in ("KEHU_PLUGINS", "KEHU_STRICT_PLUGINS")}
        result = subprocess.run(
            [
                str(VENV_BIN / "python"),
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--kehu-db={backend}",
            ],
            cwd=made.directory,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert " passed" in result.stdout and "failed" not in result.stdout
        # And the README's path: install it into a database with the kehu command.
        kehu = [str(VENV_BIN / "kehu"), "--db", str(tmp_path / "k.db")]
        env["KEHU_PLUGINS"] = name
        for args in (["init"], ["plugins", "install", name]):
            subprocess.run([*kehu, *args], check=True, capture_output=True, env=env)
        listed = subprocess.run(
            [*kehu, "plugins", "list", "--json"], capture_output=True, text=True, env=env, check=True
        )
        assert [(p["name"], p["version"], p["installed"]) for p in json.loads(listed.stdout)["plugins"]] == [
            (name, "0.1.0", True)
        ]
    finally:
        subprocess.run(
            [*lock, *pip, "uninstall", "-q", "-y", made.distribution], check=True, capture_output=True
        )
