"""The rules of kehu_core.privacy, one by one, on the core alone (no plugin loaded, so each run
is short enough for mutation testing: ``make mutation MODULE=kehu_core/privacy.py``).

``forget`` erases every personal field of the one customer named and the notes of that
customer's interactions only, tells the plugins (erase hook, one "forgotten" change naming
the personal fields) and, on SQLite, empties the write-ahead log once after the commit;
``export`` gives the record, the interactions in time order, the plugins' non-empty sections
and who opened the data; ``vacuum`` names what it rewrote.
"""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from kehu_core import customers, hookimpl, interactions, privacy, users
from kehu_core import db as kehu_db
from kehu_core.access import Forbidden
from kehu_core.fields import PERSONAL_FIELDS
from kehu_core.models import Interaction

SH = "+08:00"


pytestmark = pytest.mark.core_alone


class Recorder:
    """A plugin that notes what forget and export tell it."""

    def __init__(self, section: dict[str, Any] | None) -> None:
        self.erased: list[list[int]] = []
        self.changes: list[Any] = []
        self.section = section

    @hookimpl
    def kehu_erase_customer(self, session, customer_ids):
        self.erased.append(list(customer_ids))

    @hookimpl
    def kehu_customers_changed(self, session, changes):
        self.changes.extend(changes)

    @hookimpl
    def kehu_export_customer(self, session, customer):
        return self.section


def full_customer(app, code: str, name: str) -> int:
    with app.session() as s:
        record = customers.add_customer(
            app,
            s,
            {
                "code": code,
                "name": name,
                "kind": "person",
                "phone": "13800000000",
                "email": f"{code.lower()}@example.cn",
                "birthday": date(1980, 5, 1),
                "special_dates": {"wedding": "2010-10-01"},
                "attributes": {"wechat": "w"},
                "tags": ["vip"],
                "marketing_consent": True,
                "region": "华东",
            },
        )
        return record.id


def log(app, code: str, when: str, note: str, amount: str = "100") -> None:
    with app.session() as s:
        interactions.log_interaction(
            app,
            s,
            {
                "customer_code": code,
                "kind": "purchase",
                "occurred_at": datetime.fromisoformat(when + SH),
                "amount": amount,
                "note": note,
            },
        )


@pytest.fixture
def two(kehu_app):
    """C1 (to forget) and C2 (kept), each with every personal field and two notes."""
    ids = {code: full_customer(kehu_app, code, name) for code, name in (("C1", "张伟"), ("C2", "李娜"))}
    for code in ("C1", "C2"):
        log(kehu_app, code, "2025-03-02 10:00", f"{code} 第二次")
        log(kehu_app, code, "2025-03-01 10:00", f"{code} 第一次")
    return ids


def test_forget_erases_every_personal_field_of_that_customer_only(kehu_app, two):
    with kehu_app.session() as s:
        forgotten = privacy.forget_customer(kehu_app, s, "C1")
    assert forgotten.name == privacy.FORGOTTEN_NAME == "(forgotten)"
    with kehu_app.session() as s:
        c1 = customers.get_customer(s, "C1")
        c2 = customers.get_customer(s, "C2")
        assert (c1.name, c1.phone, c1.email, c1.birthday) == ("(forgotten)", None, None, None)
        assert (c1.special_dates, c1.attributes, [t.tag for t in c1.tags]) == ({}, {}, [])
        assert (c1.marketing_consent, c1.active) == (False, False)
        assert c1.forgotten_at is not None and c1.updated_at == c1.forgotten_at
        assert c1.region == "华东"  # kept for the aggregates
        assert (c2.name, c2.phone, c2.email) == ("李娜", "13800000000", "c2@example.cn")
        assert c2.birthday == date(1980, 5, 1)
        kept = (c2.special_dates, c2.attributes, [t.tag for t in c2.tags])
        assert kept == ({"wedding": "2010-10-01"}, {"wechat": "w"}, ["vip"])
        assert (c2.marketing_consent, c2.active, c2.forgotten_at) == (True, True, None)
        notes = dict(
            s.execute(select(Interaction.note, Interaction.customer_id).order_by(Interaction.id)).all()
        )
    # C1's notes are gone, C2's stay; C1's amounts stay for revenue.
    assert sorted(n for n in notes if n) == ["C2 第一次", "C2 第二次"]
    with kehu_app.session() as s:
        amounts = s.scalars(select(Interaction.amount).where(Interaction.customer_id == two["C1"])).all()
    assert sorted(str(a) for a in amounts) == ["100.00", "100.00"]


def test_forget_tells_the_plugins_once_with_the_customer_and_the_personal_fields(
    kehu_app, two, kehu_register_plugin
):
    plugin = Recorder(None)
    kehu_register_plugin(plugin, "recorder")
    with kehu_app.session() as s:
        privacy.forget_customer(kehu_app, s, "C1")
    assert plugin.erased == [[two["C1"]]]
    assert [(c.customer_id, c.code, c.action, c.changed_fields) for c in plugin.changes] == [
        (two["C1"], "C1", "forgotten", PERSONAL_FIELDS)
    ]


def test_forget_needs_privacy_manage(kehu_app, two):
    with kehu_app.session() as s:
        users.add_user(kehu_app, s, "boss", roles=["admin"])
        users.add_user(kehu_app, s, "li", roles=["sales"])
    with kehu_app.session(as_user="li") as s, pytest.raises(Forbidden, match="forget customers"):
        privacy.forget_customer(kehu_app, s, "C1")
    with kehu_app.session(as_user="boss") as s:
        assert privacy.forget_customer(kehu_app, s, "C1").name == "(forgotten)"


def test_forget_erases_the_notes_of_the_customer_named_not_of_those_before_or_after(kehu_app, two):
    full_customer(kehu_app, "C3", "王芳")
    log(kehu_app, "C3", "2025-03-01 10:00", "C3 第一次")
    with kehu_app.session() as s:
        privacy.forget_customer(kehu_app, s, "C2")  # ids 1, 2, 3: the middle one
    with kehu_app.session() as s:
        notes = s.scalars(select(Interaction.note).where(Interaction.note.is_not(None))).all()
    assert sorted(notes) == ["C1 第一次", "C1 第二次", "C3 第一次"]


def test_the_log_is_emptied_on_sqlite_only(kehu_app, two, monkeypatch):
    """An app on PostgreSQL installs no checkpoint (its session is otherwise the same)."""
    calls: list[object] = []
    monkeypatch.setattr(kehu_db, "checkpoint", lambda engine: calls.append(engine) or True)
    postgres = SimpleNamespace(dialect="postgresql", hook=kehu_app.hook)
    with kehu_app.session() as s:
        privacy.forget_customer(postgres, s, "C1")  # type: ignore[arg-type]
    assert calls == []


def test_the_log_is_emptied_once_after_the_commit_on_sqlite_only(kehu_app, kehu_backend, two, monkeypatch):
    calls: list[object] = []
    monkeypatch.setattr(kehu_db, "checkpoint", lambda engine: calls.append(engine) or True)
    expected = 1 if kehu_backend == "sqlite" else 0
    with kehu_app.session() as s:
        privacy.forget_customer(kehu_app, s, "C1")
        privacy.forget_customer(kehu_app, s, "C2")  # two forgets, one checkpoint
        assert calls == []  # not before the commit
        s.commit()
        assert len(calls) == expected
        assert all(engine is kehu_app.engine for engine in calls)
        s.execute(select(1))
        s.commit()  # a later commit of the same session checkpoints no more
        assert len(calls) == expected


def test_export_gives_record_interactions_in_time_order_sections_and_accesses(
    kehu_app, two, kehu_register_plugin
):
    kehu_register_plugin(Recorder({"loyalty": {"points": 5}}), "giver")
    kehu_register_plugin(Recorder({}), "empty")
    kehu_register_plugin(Recorder(None), "silent")
    with kehu_app.session() as s:
        users.add_user(kehu_app, s, "boss", roles=["admin"])
    with kehu_app.session(as_user="boss") as s:
        exported = privacy.export_customer(kehu_app, s, "C1")
    assert exported["customer"]["code"] == "C1" and exported["customer"]["phone"] == "13800000000"
    assert [i["note"] for i in exported["interactions"]] == ["C1 第一次", "C1 第二次"]
    assert exported["loyalty"] == {"points": 5}
    assert set(exported) == {"customer", "interactions", "loyalty", "accessed_by"}
    assert [(a["user"], a["what"]) for a in exported["accessed_by"]] == [("boss", "export")]
    with kehu_app.session(as_user="boss") as s:
        other = privacy.export_customer(kehu_app, s, "C2")  # C2's access is not C1's, nor C1's C2's
        again = privacy.export_customer(kehu_app, s, "C1")
    assert [(a["user"], a["what"]) for a in other["accessed_by"]] == [("boss", "export")]
    assert [i["note"] for i in other["interactions"]] == ["C2 第一次", "C2 第二次"]
    assert [(a["user"], a["what"]) for a in again["accessed_by"]] == [("boss", "export"), ("boss", "export")]
    first, second = (datetime.fromisoformat(a["at"]) for a in again["accessed_by"])
    assert first <= second


def test_export_needs_privacy_manage(kehu_app, two):
    with kehu_app.session() as s:
        users.add_user(kehu_app, s, "boss", roles=["admin"])
        users.add_user(kehu_app, s, "li", roles=["sales"])
    with kehu_app.session(as_user="li") as s, pytest.raises(Forbidden, match="export a customer"):
        privacy.export_customer(kehu_app, s, "C1")


def test_vacuum_names_what_it_rewrote(kehu_app, kehu_backend, monkeypatch):
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(kehu_db, "vacuum", lambda engine, tables=(), full=False: calls.append((tables, full)))
    if kehu_backend == "sqlite":
        assert privacy.vacuum(kehu_app) == ["*"]
        assert calls == [((), False)]
    # The PostgreSQL branch: every table of the installed schemas that exists, sorted.
    calls.clear()
    postgres = SimpleNamespace(
        dialect="postgresql", installed=kehu_app.installed, schemas=kehu_app.schemas, engine=kehu_app.engine
    )
    names = privacy.vacuum(postgres)  # type: ignore[arg-type]
    assert names == sorted(names) and {"customers", "interactions", "kehu_audit"} <= set(names)
    assert calls == [(names, False)]
    calls.clear()
    assert privacy.vacuum(postgres, full=True) == names  # type: ignore[arg-type]
    assert calls == [(names, True)]


def test_a_core_alone_test_loads_no_plugin(kehu_plugins):
    """The ``core_alone`` marker these rules use: no plugin is discovered at all, so no plugin's
    hook can change what the core's rules give."""
    assert kehu_plugins.infos == {}
