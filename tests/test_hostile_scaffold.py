"""``kehu plugin new`` against names and directories that would break the installation.

Each refusal exits 1 with one line naming what was wrong, and writes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from kehu_core.cli import create_cli
from kehu_core.plugins import discover
from kehu_core.scaffold import MAX_NAME, new_plugin, revision_files, taken_revisions


def run_cli(*args: str):
    return CliRunner().invoke(create_cli(plugins=discover(strict=False, allow=set())), list(args))


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every entry under ``root`` (links not followed) with its content or link target."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = path.read_bytes()
        else:
            found[key] = "dir"
    return found


def assert_refused(result, message: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
    assert "Traceback" not in result.output


def fake_plugin(root: Path, name: str, revisions: list[str], broken: bool = False) -> None:
    """An installed distribution ``kehu-<name>`` whose entry point ``name`` has ``revisions``."""
    package = root / f"kehu_{name}"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text(
        "raise RuntimeError('broken on import')\n"
        if broken
        else "from kehu_core import Manifest\nMANIFEST = Manifest(summary='a fake')\n",
        encoding="utf-8",
    )
    down = None
    for number, revision in enumerate(revisions, 1):
        (package / "migrations" / f"{revision}_step{number}.py").write_text(
            f'revision = "{revision}"\ndown_revision = {down!r}\n', encoding="utf-8"
        )
        down = revision
    dist = root / f"kehu_{name}-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: kehu-{name.replace('_', '-')}\nVersion: 0.1.0\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(f"[kehu.plugins]\n{name} = kehu_{name}\n", encoding="utf-8")


@pytest.mark.parametrize(
    "name, message",
    [
        ("c", "is reserved for kehu's core"),  # its old ids were c0001: the core's own
        ("C", "is reserved for kehu's core"),
        ("c0001", "is reserved for kehu's core"),
        ("c2", "is reserved for kehu's core"),
        ("core", "is reserved for kehu's core"),
        ("kehu", "is reserved for kehu's core"),
        ("kehu-core", "is reserved for kehu's core"),
        ("kehu_core", "is reserved for kehu's core"),
        ("loyalty", "is kehu's own loyalty plugin"),
        ("Tiering", "is kehu's own tiering plugin"),
        ("kehu-complaints", "is kehu's own complaints plugin"),
        ("forecast", "is kehu's own forecast plugin"),
        ("x" * (MAX_NAME + 1), f"must be at most {MAX_NAME} characters"),
    ],
)
def test_names_of_the_core_and_its_plugins_are_refused(tmp_path, name, message):
    target = tmp_path / "out"
    result = run_cli("plugin", "new", name, "--directory", str(target))
    assert_refused(result, message)
    assert f"NAME: {message}" in result.output
    assert not target.exists()


def test_an_installed_plugin_name_is_refused(tmp_path, monkeypatch):
    fake_plugin(tmp_path / "site", "hostile_probe", ["hostile_probe0001"])
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    result = run_cli("plugin", "new", "hostile-probe", "--directory", str(tmp_path / "out"))
    assert_refused(result, "is the name of an installed plugin (kehu-hostile-probe)")
    assert not (tmp_path / "out").exists()


def test_a_name_whose_revision_ids_another_plugin_owns_is_refused(tmp_path, monkeypatch):
    fake_plugin(tmp_path / "site", "squatter", ["squatter0001", "reports_0001"])
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert taken_revisions()["reports_0001"] == "plugin squatter"
    result = run_cli("plugin", "new", "reports", "--directory", str(tmp_path / "out"))
    assert_refused(result, "its revision ids would clash with plugin squatter's reports_0001")
    assert not (tmp_path / "out").exists()
    # A name whose ids nobody owns is fine, even one that starts like another plugin's.
    assert new_plugin("squatter_two", tmp_path / "ok").name == "squatter_two"


def test_the_revision_ids_of_a_plugin_that_fails_to_import_are_taken_too(tmp_path, monkeypatch):
    fake_plugin(tmp_path / "site", "wreck", ["wreck0001", "salvage_0001"], broken=True)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert discover(strict=False, allow=None).infos["wreck"].error is not None
    result = run_cli("plugin", "new", "salvage", "--directory", str(tmp_path / "out"))
    assert_refused(result, "its revision ids would clash with plugin wreck's salvage_0001")
    assert not (tmp_path / "out").exists()


def test_an_installed_first_party_plugin_is_refused_by_its_entry_point_too(tmp_path):
    if "acme_rules" not in discover(strict=False, allow=None).infos:
        pytest.skip("the acme-rules example is not installed here")
    result = run_cli("plugin", "new", "acme-rules", "--directory", str(tmp_path / "out"))
    assert_refused(result, "is the name of an installed plugin (kehu-acme-rules)")


def test_revision_ids_are_the_full_name_and_a_separator_and_fit_alembic(tmp_path):
    longest = new_plugin("a" * MAX_NAME, tmp_path / "long")
    ids = revision_files(tmp_path / "long" / longest.package / "migrations")
    assert list(ids) == ["a" * MAX_NAME + "_0001"] and len(next(iter(ids))) == 32
    # Names that differ only where the old "<name>0001" ids ran together get different ids.
    one = new_plugin("ab", tmp_path / "one")
    two = new_plugin("ab_0", tmp_path / "two")
    first = set(revision_files(tmp_path / "one" / one.package / "migrations"))
    second = set(revision_files(tmp_path / "two" / two.package / "migrations"))
    assert first == {"ab_0001"} and second == {"ab_0_0001"}
    # None of them can be an id of the core or of a plugin installed here.
    assert not (first | second) & set(taken_revisions())


def test_force_refuses_a_target_directory_that_is_a_link(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "pyproject.toml").write_text("precious", encoding="utf-8")
    (tmp_path / "link").symlink_to(outside, target_is_directory=True)
    before = snapshot(tmp_path)
    result = run_cli("plugin", "new", "probe", "--directory", str(tmp_path / "link"), "--force")
    assert_refused(result, f"{tmp_path / 'link'} is a symbolic link; kehu plugin new does not write through")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "inside",
    [
        "pyproject.toml",
        "kehu_probe/__init__.py",
        "kehu_probe/migrations/probe_0001_initial.py",
        "tests/conftest.py",
    ],
)
def test_force_refuses_a_file_in_the_target_that_is_a_link(tmp_path, inside):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious", encoding="utf-8")
    target = tmp_path / "out"
    (target / inside).parent.mkdir(parents=True, exist_ok=True)
    (target / inside).symlink_to(outside)
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    before = snapshot(tmp_path)
    result = run_cli("plugin", "new", "probe", "--directory", str(target), "--force")
    assert_refused(result, f"{target / inside} is a symbolic link")
    assert snapshot(tmp_path) == before  # nothing written, the link's target least of all


@pytest.mark.parametrize("inside", ["kehu_probe", "kehu_probe/migrations", "tests"])
def test_force_refuses_a_directory_in_the_target_that_is_a_link(tmp_path, inside):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "__init__.py").write_text("precious", encoding="utf-8")
    target = tmp_path / "out"
    (target / inside).parent.mkdir(parents=True, exist_ok=True)
    (target / inside).symlink_to(outside, target_is_directory=True)
    before = snapshot(tmp_path)
    result = run_cli("plugin", "new", "probe", "--directory", str(target), "--force")
    assert_refused(result, f"{target / inside} is a symbolic link")
    assert snapshot(tmp_path) == before


def test_force_refuses_a_dangling_link(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "README.md").symlink_to(tmp_path / "would-be-created.md")
    result = run_cli("plugin", "new", "probe", "--directory", str(target), "--force")
    assert_refused(result, f"{target / 'README.md'} is a symbolic link")
    assert not (tmp_path / "would-be-created.md").exists()
    assert sorted(p.name for p in target.iterdir()) == ["README.md"]


def test_force_does_not_write_through_a_hard_link(tmp_path):
    outside = tmp_path / "outside.toml"
    outside.write_text("precious", encoding="utf-8")
    target = tmp_path / "out"
    target.mkdir()
    os.link(outside, target / "pyproject.toml")
    result = run_cli("plugin", "new", "probe", "--directory", str(target), "--force")
    assert result.exit_code == 0, result.output
    assert outside.read_text(encoding="utf-8") == "precious"
    assert 'name = "kehu-probe"' in (target / "pyproject.toml").read_text(encoding="utf-8")
    assert not [p for p in target.rglob(".*kehu-new*")]  # no temporary file left


def test_force_refuses_a_directory_where_a_file_goes(tmp_path):
    target = tmp_path / "out"
    (target / "pyproject.toml").mkdir(parents=True)
    before = snapshot(tmp_path)
    result = run_cli("plugin", "new", "probe", "--directory", str(target), "--force")
    assert_refused(result, f"{target / 'pyproject.toml'} exists and is not a file")
    assert snapshot(tmp_path) == before


def test_force_overwrites_the_plugins_own_files_and_keeps_the_rest(tmp_path):
    target = tmp_path / "out"
    new_plugin("probe", target)
    (target / "pyproject.toml").write_text("stale", encoding="utf-8")
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    result = run_cli("plugin", "new", "probe", "--directory", str(target), "--force")
    assert result.exit_code == 0, result.output
    assert 'name = "kehu-probe"' in (target / "pyproject.toml").read_text(encoding="utf-8")
    assert (target / "notes.txt").read_text(encoding="utf-8") == "mine"
