"""Upgrading an installed plugin: its data survives the migration, noupdate per field, after_upgrade.

Version 1.0 of the fake ``notes`` plugin is installed and used; then 2.0 replaces it (as
``pip install -U`` would), adding revision ``notes0002`` that alters ``notes_items`` and
computes a new column for the existing rows, revision ``notes0003`` that gives categories a
colour, and default data that changes the labels, sets the colours and adds a category.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from kehu_core import customers, schema
from kehu_core.errors import KehuError
from kehu_core.models import DataRecord, InstalledPlugin

FIXTURES = Path(__file__).parent / "plugin_fixtures"


@pytest.fixture
def kehu_plugins(kehu_distributions):
    kehu_distributions.add("notes", tree=FIXTURES / "notes")
    return kehu_distributions.discover()


def release_v2(app, fakes) -> None:
    """Replace notes 1.0 with 2.0 in the environment, like ``pip install -U kehu-notes``."""
    v2 = FIXTURES / "notes_v2"
    fakes.add(
        "notes",
        tree=FIXTURES / "notes",
        version="2.0",  # the distribution's version is the plugin's
        files={
            "data.py": (v2 / "data.py").read_text(encoding="utf-8"),
            "models.py": (v2 / "models.py").read_text(encoding="utf-8"),
            "migrations/notes0002_length.py": (v2 / "notes0002_length.py").read_text(encoding="utf-8"),
            "migrations/notes0003_colour.py": (v2 / "notes0003_colour.py").read_text(encoding="utf-8"),
        },
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
    assert [(b["branch"], b["current"], b["head"]) for b in status][1] == ("notes", "notes0001", "notes0003")

    result = kehu_cli("db", "upgrade")
    assert result.exit_code == 0, result

    assert rows(kehu_app, "SELECT body, length FROM notes_items ORDER BY id") == [
        ("喜欢喝茶", 4),
        ("prefers calls after 5pm", 23),
        ("年底采购 🎉", 6),
    ]
    assert rows(kehu_app, "SELECT code, label, colour FROM notes_categories ORDER BY code") == [
        ("followup", "我们自己的跟进", "orange"),  # the user's label kept, the new field filled
        ("general", "General notes 一般备注", "grey"),  # untouched default: refreshed and filled
        ("urgent", "Urgent 紧急", "red"),  # new in 2.0: loaded
    ]
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


def fields(app) -> dict[str, dict]:
    """``{category code: the record's fields}`` of notes' default data."""
    with app.session() as s:
        return {r.key: r.fields for r in s.scalars(select(DataRecord).where(DataRecord.plugin == "notes"))}


def test_each_field_is_the_users_or_kehus_on_its_own(kehu_app, kehu_install, kehu_distributions):
    """The user's colour on one row, the user's label on another: each keeps only that field."""
    kehu_install("notes")
    release_v2(kehu_app, kehu_distributions)
    kehu_app.init()
    with kehu_app.session() as s:
        s.execute(text("UPDATE notes_categories SET colour = 'black' WHERE code = 'general'"))
        s.execute(text("UPDATE notes_categories SET label = '急' WHERE code = 'urgent'"))
    v3 = (FIXTURES / "notes_v2" / "data.py").read_text(encoding="utf-8")
    v3 = v3.replace('"grey"', '"silver"').replace('"red"', '"crimson"').replace("Urgent 紧急", "Urgent!")
    v3 = v3.replace("General notes 一般备注", "General 一般备注")
    kehu_distributions.add(
        "notes", tree=FIXTURES / "notes", version="3.0", files={"data.py": v3, **v2_files()}
    )
    kehu_app.plugins = kehu_distributions.discover()
    kehu_app.forget_installed_cache()
    kehu_app.init()
    assert rows(kehu_app, "SELECT code, label, colour FROM notes_categories ORDER BY code") == [
        ("followup", "Follow-up 需跟进", "orange"),
        ("general", "General 一般备注", "black"),  # the user's colour, kehu's new label
        ("urgent", "急", "crimson"),  # the user's label, kehu's new colour
    ]


def v2_files() -> dict[str, str]:
    v2 = FIXTURES / "notes_v2"
    return {
        "models.py": (v2 / "models.py").read_text(encoding="utf-8"),
        "migrations/notes0002_length.py": (v2 / "notes0002_length.py").read_text(encoding="utf-8"),
        "migrations/notes0003_colour.py": (v2 / "notes0003_colour.py").read_text(encoding="utf-8"),
    }


def test_core_migration_turns_row_checksums_into_fields(kehu_app, kehu_distributions):
    """A database from before c0002: each default row's checksum covered the key and the label.

    Untouched rows become kehu's field by field; the row whose label the user changed keeps
    the label and still gets 2.0's new colour; the row the user deleted stays deleted.
    """

    def checksum(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    with kehu_app.session() as s:
        connection = s.connection()
        schema.migrate(connection, kehu_app.schemas(), "core", "c0001")
        schema.migrate(connection, kehu_app.schemas(), "notes", "notes0001")
        s.execute(
            text("INSERT INTO notes_categories (code, label) VALUES (:c, :l)"),
            [{"c": "general", "l": "General 一般"}, {"c": "followup", "l": "我们自己的跟进"}],
        )
        s.execute(
            text(
                "INSERT INTO kehu_data_records (plugin, table_name, key, checksum) "
                "VALUES ('notes', 'notes_categories', :key, :checksum)"
            ),
            [
                {
                    "key": '{"code": "general"}',
                    "checksum": checksum('{"code": "general", "label": "General 一般"}'),
                },
                {
                    "key": '{"code": "followup"}',
                    "checksum": checksum('{"code": "followup", "label": "Follow-up 跟进"}'),
                },
                {"key": '{"code": "gone"}', "checksum": checksum('{"code": "gone", "label": "Gone"}')},
            ],
        )
        s.add(InstalledPlugin(name="notes", version="1.0", installed_at=datetime(2026, 1, 5, tzinfo=UTC)))
    kehu_app.forget_installed_cache()

    with kehu_app.session() as s:
        schema.migrate(s.connection(), kehu_app.schemas(), "core", "head")
    assert fields(kehu_app) == {
        '{"code": "general"}': {"label": checksum('"General 一般"')},
        '{"code": "followup"}': {"label": None},  # changed by the user: which field, only the label
        '{"code": "gone"}': {},
    }

    release_v2(kehu_app, kehu_distributions)
    kehu_app.init()
    assert rows(kehu_app, "SELECT code, label, colour FROM notes_categories ORDER BY code") == [
        ("followup", "我们自己的跟进", "orange"),
        ("general", "General notes 一般备注", "grey"),
        ("urgent", "Urgent 紧急", "red"),
    ]
    assert fields(kehu_app)['{"code": "followup"}'] == {"label": None, "colour": checksum('"orange"')}


def test_migrate_takes_one_branch_down_and_up_again(kehu_app, kehu_install, kehu_distributions):
    """kehu_core.schema.migrate, as a plugin's migration test uses it."""
    kehu_install("notes")
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "华为"})
        s.execute(text("INSERT INTO notes_items (customer_id, body) VALUES (1, '五个字符')"))
    release_v2(kehu_app, kehu_distributions)
    with kehu_app.session() as s:
        schema.migrate(s.connection(), kehu_app.schemas(), "notes", "notes0002")
        lengths = [tuple(r) for r in s.execute(text("SELECT body, length FROM notes_items"))]
        assert lengths == [("五个字符", 4)]
        schema.migrate(s.connection(), kehu_app.schemas(), "notes", "notes0001")
        schema.migrate(s.connection(), kehu_app.schemas(), "notes", "notes0001")  # already there
        schema.migrate(s.connection(), kehu_app.schemas(), "notes", "notes0003")
        with pytest.raises(KehuError, match="no revision 'c0001' on branch 'notes'"):
            schema.migrate(s.connection(), kehu_app.schemas(), "notes", "c0001")
    assert [(b.branch, b.current) for b in status(kehu_app)] == [("core", "c0003"), ("notes", "notes0003")]
    assert rows(kehu_app, "SELECT code, colour FROM notes_categories ORDER BY code") == [
        ("followup", None),
        ("general", None),
    ]


def status(app) -> list:
    with app.session() as s:
        return schema.status(s.connection(), app.schemas(), ["core", "notes"])
