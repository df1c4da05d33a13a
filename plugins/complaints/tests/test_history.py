"""History is append-only; opening records a complaint interaction; an imported complaint
interaction opens a complaint (once); erasure and export of a customer's complaints."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, inspect, select, update

from kehu_complaints.models import COMPLAINTS, HISTORY
from kehu_core import customers, interactions
from kehu_core.models import Interaction


def test_history_cannot_be_edited_or_deleted(app, h, kehu_cli):
    listing = kehu_cli("complaint", "--help").output.split("Commands:", 1)[1]
    names = {line.split()[0] for line in listing.splitlines() if line.startswith("  ") and line[2] != " "}
    assert "move" in names and not names & {"edit", "delete", "remove", "purge"}  # none edits or deletes it
    c = h.open_one(app)
    h.move(app, c.id, "acknowledged", "2025-03-03 10:00", note="已致歉")
    for statement in (
        update(HISTORY).where(HISTORY.c.complaint_id == c.id).values(note="改写"),
        update(HISTORY).where(HISTORY.c.complaint_id == c.id).values(actor="someone else"),
        delete(HISTORY).where(HISTORY.c.complaint_id == c.id),
    ):
        with pytest.raises(Exception, match="append-only"), app.session() as s:
            s.execute(statement)
    assert [e.action for e in h.get(app, c.id).timeline] == ["opened", "moved"]  # ...nor can SQL


def test_opening_records_one_complaint_interaction(app, h, kehu_cli):
    c = h.open_one(app, channel="电话")
    with app.session() as s:
        rows = s.execute(
            select(Interaction.kind, Interaction.external_ref, Interaction.channel).where(
                Interaction.kind == "complaint"
            )
        ).all()
        assert (
            s.scalar(select(func.count()).select_from(COMPLAINTS)) == 1
        )  # not reopened from its own interaction
    assert rows == [("complaint", f"complaint:{c.id}", "电话")]


def test_imported_complaint_interactions_open_complaints_once(app, kehu_cli, tmp_path):
    csv = tmp_path / "i.csv"
    csv.write_text(
        "external_ref,customer_code,kind,occurred_at,channel,category,note,salesperson\n"
        "crm-1,C1,complaint,2025-03-03T10:00:00+08:00,电话,delivery,送货晚了,王芳\n"
        "crm-2,C2,complaint,2025-03-04T10:00:00+08:00,门店,鞋子,尺码不对,\n"
        "crm-3,C1,purchase,2025-03-05T10:00:00+08:00,门店,,,\n",
        encoding="utf-8",
    )
    first = kehu_cli("interaction", "import", str(csv))
    assert first.exit_code == 0, first
    again = kehu_cli("interaction", "import", str(csv))
    assert again.exit_code == 0, again
    listed = kehu_cli("complaint", "list", "--json").json
    assert sorted((r["customer_code"], r["category"], r["handler"]) for r in listed) == [
        ("C1", "delivery", "王芳"),
        ("C2", "other", None),
    ]
    timeline = kehu_cli("complaint", "show", str(listed[0]["id"]), "--json").json["timeline"]
    assert timeline[0]["note"].startswith("opened from a complaint interaction (import): complaint ")


def test_many_imported_complaints_in_one_batch(app):
    with app.session() as s:
        cid = customers.get_customer(s, "C1").id
        when = datetime(2025, 3, 3, 2, tzinfo=UTC)
        rows = [
            dict(
                customer_id=cid, kind="complaint", occurred_at=when, note=f"第{n}次", external_ref=f"bulk-{n}"
            )
            for n in range(300)
        ]
        interactions.write_interactions(app, s, rows, source="import")
    with app.session() as s:
        assert s.scalar(select(func.count()).select_from(COMPLAINTS)) == 300
        assert s.scalar(select(func.count()).select_from(HISTORY)) == 300


def test_forgetting_a_customer_erases_complaint_text_and_export_has_it_before(app, h, kehu_cli):
    c = h.open_one(app, description="王先生说手机号13800000000打不通")
    h.move(app, c.id, "acknowledged", "2025-03-03 10:00", note="客户王先生很生气")
    exported = kehu_cli("customer", "export", "C1").json
    assert exported["complaints"][0]["description"].startswith("王先生")
    assert [e["action"] for e in exported["complaints"][0]["timeline"]] == ["opened", "moved"]
    assert kehu_cli("customer", "forget", "C1", "--yes").exit_code == 0
    after = h.get(app, c.id)
    assert after.complaint.description is None
    assert all(e.note is None for e in after.timeline)
    assert [e.action for e in after.timeline] == ["opened", "moved"]  # the events stay, anonymous
    assert after.complaint.status == "acknowledged"


def test_uninstall_drops_everything_and_reinstall_works(app, h, kehu_cli):
    h.open_one(app)
    result = kehu_cli("plugins", "uninstall", "complaints", "--yes")
    assert result.exit_code == 0, result
    with app.engine.connect() as conn:
        inspector = inspect(conn)
        assert not [t for t in inspector.get_table_names() if t.startswith("complaints_")]
        assert "ix_complaints_purchases" not in {i["name"] for i in inspector.get_indexes("interactions")}
    assert kehu_cli("plugins", "install", "complaints").exit_code == 0
    assert kehu_cli("complaint", "list", "--json").json == []
    assert len(kehu_cli("complaint", "sla", "list", "--json").json) == 4
