"""Upgrading an installed plugin: its data survives the migration, noupdate, after_upgrade.

Version 1.0 of the fake ``notes`` plugin is installed and used; then 2.0 replaces it (as
``pip install -U`` would), adding revision ``notes0002`` that alters ``notes_items`` and
computes a new column for the existing rows, and changing its default data.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from kehu_core import customers
from kehu_core.models import InstalledPlugin

FIXTURES = Path(__file__).parent / "plugin_fixtures"


@pytest.fixture
def kehu_plugins(kehu_distributions):
    kehu_distributions.add("notes", tree=FIXTURES / "notes")
    return kehu_distributions.discover()


def release_v2(app, fakes) -> None:
    """Replace notes 1.0 with 2.0 in the environment, like ``pip install -U kehu-notes``."""
    data = (FIXTURES / "notes" / "data.py").read_text(encoding="utf-8")
    data = data.replace(
        'CATEGORIES = (("general", "General 一般"), ("followup", "Follow-up 跟进"))',
        'CATEGORIES = (("general", "General notes 一般备注"), ("followup", "Follow-up 需跟进"), '
        '("urgent", "Urgent 紧急"))',
    )
    migration = (FIXTURES / "notes_v2" / "notes0002_length.py").read_text(encoding="utf-8")
    fakes.add(
        "notes",
        tree=FIXTURES / "notes",
        version="2.0",  # the distribution's version is the plugin's
        files={"data.py": data, "migrations/notes0002_length.py": migration},
    )
    app.plugins = fakes.discover()
    app.forget_installed_cache()


def rows(app, sql: str) -> list[tuple]:
    with app.session() as s:
        return [tuple(r) for r in s.execute(text(sql))]


def test_upgrade_keeps_and_transforms_rows_respects_user_edits_and_calls_after_upgrade(
    kehu_app, kehu_cli, kehu_install, kehu_distributions
):
    kehu_install("notes")
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "华为"})
    for body in ("喜欢喝茶", "prefers calls after 5pm", "年底采购 🎉"):
        assert kehu_cli("notes", "add", "C1", body).exit_code == 0
    # The user edits one default row; the other stays as loaded.
    with kehu_app.session() as s:
        s.execute(text("UPDATE notes_categories SET label = '我们自己的跟进' WHERE code = 'followup'"))

    release_v2(kehu_app, kehu_distributions)
    listed = kehu_cli("plugins", "list", "--json").json["plugins"][0]
    assert (listed["version"], listed["installed_version"]) == ("2.0", "1.0")
    assert "upgrade" in kehu_cli("plugins", "list").stdout.splitlines()[2]
    status = kehu_cli("db", "status", "--json").json["branches"]
    assert [(b["branch"], b["current"], b["head"]) for b in status][1] == ("notes", "notes0001", "notes0002")

    result = kehu_cli("db", "upgrade")
    assert result.exit_code == 0, result

    assert rows(kehu_app, "SELECT body, length FROM notes_items ORDER BY id") == [
        ("喜欢喝茶", 4),
        ("prefers calls after 5pm", 23),
        ("年底采购 🎉", 6),
    ]
    assert dict(rows(kehu_app, "SELECT code, label FROM notes_categories")) == {
        "general": "General notes 一般备注",  # untouched default: refreshed
        "followup": "我们自己的跟进",  # changed by the user: kept (noupdate)
        "urgent": "Urgent 紧急",  # new in 2.0: loaded
    }
    assert rows(kehu_app, "SELECT event, detail FROM notes_lifecycle ORDER BY id") == [
        ("after_install", "notes"),
        ("after_upgrade", "1.0->2.0"),
    ]
    with kehu_app.session() as s:
        assert s.scalar(select(InstalledPlugin.version).where(InstalledPlugin.name == "notes")) == "2.0"
    assert kehu_cli("db", "status", "--json").json["branches"][1]["up_to_date"] is True
    assert kehu_cli("plugins", "list", "--json").json["plugins"][0]["installed_version"] == "2.0"

    # A second upgrade changes nothing: no new lifecycle call, the user's label still kept.
    assert kehu_cli("db", "upgrade").exit_code == 0
    assert len(rows(kehu_app, "SELECT event FROM notes_lifecycle")) == 2
    assert dict(rows(kehu_app, "SELECT code, label FROM notes_categories"))["followup"] == "我们自己的跟进"

    # Uninstalling 2.0 takes both revisions back to base.
    assert kehu_cli("plugins", "uninstall", "notes", "--yes").exit_code == 0
    assert rows(kehu_app, "SELECT count(*) FROM customers") == [(1,)]


def test_a_default_row_the_user_deleted_is_not_resurrected_by_an_upgrade(
    kehu_app, kehu_install, kehu_distributions
):
    """Deleting a default row is a user change too: an upgrade must not resurrect it."""
    kehu_install("notes")
    with kehu_app.session() as s:
        s.execute(text("DELETE FROM notes_categories WHERE code = 'general'"))
    release_v2(kehu_app, kehu_distributions)
    kehu_app.init()
    assert sorted(dict(rows(kehu_app, "SELECT code, label FROM notes_categories"))) == ["followup", "urgent"]
