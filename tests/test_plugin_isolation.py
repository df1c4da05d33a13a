"""Broken plugins are reported and skipped; the CLI stays usable and the core's data stays.

Each broken plugin is a fake pip-installed distribution (``kehu_distributions``), so the
failure happens where it would in real life: at entry-point discovery.
"""

from __future__ import annotations

import csv
from pathlib import Path

import click
import pytest
from sqlalchemy import func, select, text

from kehu_core import customers, importing
from kehu_core.cli import create_cli
from kehu_core.errors import HookError, PluginError
from kehu_core.models import Customer, Interaction
from kehu_core.plugins import discover

NOTES = Path(__file__).parent / "plugin_fixtures" / "notes"
HEADER = "from kehu_core import Manifest, hookimpl\n"

BROKEN = {
    # name: (module source or None for "no module at all", entry point, expected error)
    "ghost": (
        None,
        "kehu_ghost_is_not_here",
        "import failed: ModuleNotFoundError: No module named 'kehu_ghost_is_not_here'",
    ),
    "boom": (
        HEADER + "raise RuntimeError('no licence file 缺少许可证')\n",
        None,
        "import failed: RuntimeError: no licence file 缺少许可证",
    ),
    "nomanifest": (
        HEADER + "@hookimpl\ndef kehu_interaction_kinds():\n    return ['x']\n",
        None,
        "bad manifest: the module has no MANIFEST = kehu_core.Manifest(...)",
    ),
    "misnamed": (
        HEADER + "MANIFEST = Manifest(name='othername', version='1.0')\n",
        None,
        "bad manifest: name 'othername' differs from entry point 'misnamed'",
    ),
    "badversion": (
        HEADER + "MANIFEST = Manifest(name='badversion', version='one')\n",
        None,
        "import failed: ValueError: version 'one' is not a version number like 1.2.0",
    ),
    "toonew": (
        HEADER + "MANIFEST = Manifest(name='toonew', version='1.0', min_core_version='99.0')\n",
        None,
        "needs kehu-core >= 99.0, this is 0.1.0",
    ),
    "typo": (
        HEADER + "MANIFEST = Manifest(name='typo', version='1.0')\n"
        "@hookimpl\ndef kehu_profile_section(session, customer):\n    return []\n",
        None,
        "implements unknown hook(s): kehu_profile_section",
    ),
    "badargs": (
        HEADER + "MANIFEST = Manifest(name='badargs', version='1.0')\n"
        "@hookimpl\ndef kehu_tier_changed(session, changes, extra):\n    pass\n",
        None,
        "hooks failed to load: PluginValidationError",
    ),
}


@pytest.fixture
def kehu_plugins(kehu_distributions):
    kehu_distributions.add("notes", tree=NOTES)
    for name, (source, entry_point, _) in BROKEN.items():
        kehu_distributions.add(name, source, entry_point=entry_point)
    kehu_distributions.add(
        "cyc_a", HEADER + "MANIFEST = Manifest(name='cyc_a', version='1.0', depends=['cyc_b'])\n"
    )
    kehu_distributions.add(
        "cyc_b", HEADER + "MANIFEST = Manifest(name='cyc_b', version='1.0', depends=['cyc_a'])\n"
    )
    return kehu_distributions.discover()


def test_each_broken_plugin_is_reported_and_the_rest_loads(kehu_app):
    # Hook modules load on first use (discover() alone leaves them, so `kehu --help` stays
    # fast); asking for the errors loads them and finds the rest.
    assert {i.name for i in kehu_app.plugins.errors} == set(BROKEN)
    infos = kehu_app.plugins.infos
    for name, (_, _, expected) in BROKEN.items():
        assert infos[name].error is not None and infos[name].error.startswith(expected), (
            name,
            infos[name].error,
        )
        assert not infos[name].loaded
    assert set(kehu_app.plugins.loaded) == {"notes", "cyc_a", "cyc_b"}
    # None of the broken ones is registered with the hook manager.
    registered = {kehu_app.plugins.pm.get_name(p) for p in kehu_app.plugins.pm.get_plugins()}
    assert not registered & set(BROKEN)


def test_cli_stays_usable_and_lists_the_load_errors(kehu_app, kehu_cli, kehu_install):
    kehu_install("notes")
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "华为"})
    listed = kehu_cli("customer", "list", "--json")
    assert listed.exit_code == 0, listed
    assert [r["code"] for r in listed.json] == ["C1"]
    assert "warning: plugin(s)" in listed.stderr and "boom" in listed.stderr
    assert kehu_cli("notes", "add", "C1", "still works").exit_code == 0
    rows = {r["name"]: r for r in kehu_cli("plugins", "list", "--json").json["plugins"]}
    assert (
        rows["boom"]["error"].startswith("import failed: RuntimeError") and rows["boom"]["available"] is False
    )
    assert rows["notes"]["installed"] is True and rows["notes"]["error"] is None
    table = kehu_cli("plugins", "list").output
    assert "ERROR" in table and "ghost" in table
    hooks = kehu_cli("hooks", "--json")
    assert hooks.exit_code == 0


@pytest.mark.parametrize(
    "name, message",
    [
        ("boom", "cannot install plugin 'boom': it failed to load: import failed: RuntimeError"),
        ("typo", "it failed to load: implements unknown hook(s): kehu_profile_section"),
        ("cyc_b", "cyclic plugin dependency: cyc_b -> cyc_a -> cyc_b"),
    ],
)
def test_installing_a_broken_plugin_is_refused_clearly(kehu_app, kehu_cli, name, message):
    result = kehu_cli("plugins", "install", name)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
    assert kehu_app.installed() == set()


def test_strict_mode_makes_load_errors_fatal(monkeypatch, kehu_plugins):
    monkeypatch.setenv("KEHU_PLUGINS", "notes,boom")
    with pytest.raises(PluginError) as err:
        discover(strict=True)
    assert (
        "boom: import failed: RuntimeError" in str(err.value)
        and "notes" not in str(err.value).split("load:")[1]
    )
    monkeypatch.setenv("KEHU_STRICT_PLUGINS", "1")
    with pytest.raises(click.ClickException, match="KEHU_STRICT_PLUGINS is set"):
        create_cli()
    # Strict mode with only healthy plugins loads fine.
    monkeypatch.setenv("KEHU_PLUGINS", "notes")
    assert set(create_cli().lazy) >= {"notes"}


@pytest.mark.parametrize(
    "value, expected", [("notes,cyc_a", {"notes", "cyc_a"}), (" notes , ", {"notes"}), ("", set())]
)
def test_allow_list_loads_only_the_named_plugins(monkeypatch, kehu_plugins, value, expected):
    monkeypatch.setenv("KEHU_PLUGINS", value)
    found = discover(strict=False)
    assert set(found.infos) == expected
    assert set(found.loaded) == expected


def write_csv(path: Path, count: int, bomb_at: int | None) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["external_ref", "customer_code", "kind", "occurred_at", "amount", "product"])
        for i in range(count):
            product = "炸弹" if i == bomb_at else "茶叶"
            out.writerow([f"R{i}", "C1", "purchase", f"2024-03-{i % 28 + 1:02d}", "10.00", product])
    return path


GRUMPY = (
    HEADER
    + """MANIFEST = Manifest(name="grumpy", version="1.0")

@hookimpl
def kehu_interactions_recorded(session, batch):
    if any(r["product"] == "炸弹" for r in batch.rows):
        raise ValueError("cannot handle product 炸弹")
"""
)


@pytest.fixture
def grumpy_app(kehu_app, kehu_distributions, kehu_install):
    """notes (writes a row per interaction) and grumpy (raises on one product), both installed."""
    kehu_distributions.add("grumpy", GRUMPY)
    kehu_app.plugins = kehu_distributions.discover("notes", "grumpy")
    kehu_app.forget_installed_cache()
    kehu_install("notes", "grumpy")
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "华为"})
    return kehu_app


def counts(app) -> tuple[int, int, int]:
    with app.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Customer)),
            s.scalar(select(func.count()).select_from(Interaction)),
            s.scalar(text("SELECT count(*) FROM notes_items")),
        )


def test_hook_raising_mid_import_rolls_everything_back_and_names_the_plugin(grumpy_app, tmp_path):
    path = write_csv(tmp_path / "orders.csv", 7, bomb_at=5)
    with pytest.raises(HookError) as err, grumpy_app.session() as s:
        # Chunks of 2: three batches are written (and seen by notes) before the fourth fails.
        importing.import_interactions(grumpy_app, s, path, chunk_rows=2)
    assert err.value.plugin == "grumpy" and err.value.hook == "kehu_interactions_recorded"
    assert counts(grumpy_app) == (1, 0, 0)


def test_hook_raising_in_cli_import_is_one_clear_message_and_nothing_is_kept(grumpy_app, kehu_cli, tmp_path):
    path = write_csv(tmp_path / "orders.csv", 30, bomb_at=29)
    result = kehu_cli("interaction", "import", str(path))
    assert result.exit_code == 1
    assert (
        "plugin 'grumpy' failed in hook kehu_interactions_recorded: ValueError: cannot handle product 炸弹"
        in result.output
    )
    assert "Nothing was changed" in result.output and "Traceback" not in result.output
    assert counts(grumpy_app) == (1, 0, 0)
    # The CLI and the other plugin keep working, and a clean file imports.
    good = kehu_cli("interaction", "import", str(write_csv(tmp_path / "good.csv", 3, bomb_at=None)))
    assert good.exit_code == 0, good
    assert counts(grumpy_app) == (1, 3, 3)
