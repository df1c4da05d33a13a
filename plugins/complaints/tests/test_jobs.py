"""The scheduled jobs (escalation, auto-close) and assignment within a team."""

from __future__ import annotations

from datetime import UTC

from kehu_complaints import api, jobs
from kehu_complaints.teams import remove_member, save_team
from kehu_core import audit


def utc(h, text):
    return h.at(text).astimezone(UTC)


def test_escalation_marks_breaches_once_and_goes_to_the_team_lead(app, h, kehu_cli):
    with app.session() as s:
        save_team(s, "客服一组", lead="李娜", assignment="round_robin", members=["王芳", "刘洋"])
    late = h.open_one(app, "2025-03-03 09:00", team="客服一组")  # nobody responds
    answered = h.open_one(app, "2025-03-03 09:00", team="客服一组")
    h.move(app, answered.id, "acknowledged", "2025-03-03 10:00")  # responded in time
    waiting = h.open_one(app, "2025-03-03 09:00", team="客服一组")
    h.move(app, waiting.id, "acknowledged", "2025-03-03 10:00")
    h.move(app, waiting.id, "awaiting_customer", "2025-03-03 11:00")  # clock paused
    no_team = h.open_one(app, "2025-03-03 09:00")

    with app.session() as s:
        first = jobs.escalate(app, s, utc(h, "2025-03-04 09:00"))
    assert first == "2 complaint(s) newly breached their SLA; 2 escalated to the team lead"
    with app.session() as s:
        assert (
            jobs.escalate(app, s, utc(h, "2025-03-04 09:30")) == "no new SLA breach"
        )  # run twice: nothing new
    c = h.get(app, late.id)
    assert c.complaint.escalated_to == "李娜" and c.complaint.first_response_breached_at == utc(
        h, "2025-03-04 09:00"
    )
    assert [e.note for e in c.timeline if e.action == "breached"] == [
        "first response overdue; escalated to 李娜"
    ]
    assert (
        h.get(app, no_team.id).timeline[-1].note
        == "first response overdue; nobody to escalate to (no team lead)"
    )
    assert h.get(app, answered.id).complaint.first_response_breached_at is None
    assert h.get(app, waiting.id).complaint.escalated_to is None

    # Later the resolution of the answered one is late too: only that is new.
    with app.session() as s:
        assert jobs.escalate(app, s, utc(h, "2025-03-10 09:00")).startswith("3 complaint(s) newly breached")
    listed = kehu_cli("complaint", "list", "--overdue", "--json").json
    assert sorted(r["id"] for r in listed) == sorted([late.id, answered.id, no_team.id])
    assert (
        kehu_cli("complaint", "list", "--status", "awaiting_customer", "--json").json[0]["id"] == waiting.id
    )


def test_the_job_runs_through_the_scheduler(app, h, kehu_cli):
    h.open_one(app, "2025-03-03 09:00")
    jobs_list = kehu_cli("jobs", "list", "--json").json
    assert {"complaints.escalate", "complaints.auto_close"} <= {j["name"] for j in jobs_list}
    run = kehu_cli("jobs", "run-due", "--json")
    assert run.exit_code == 0, run
    assert "1 complaint(s) newly breached" in run.output
    again = kehu_cli("jobs", "run-due", "complaints.escalate", "--force", "--json")
    assert "no new SLA breach" in again.output


def test_resolved_without_follow_up_closes_automatically_with_a_reason(app, h):
    c = h.open_one(app, "2025-03-03 09:00", kind="grievance")
    h.walk(app, c.id, "2025-03-03 10:00")
    followed = h.open_one(app, "2025-03-03 09:00")
    h.walk(app, followed.id, "2025-03-03 10:00")
    h.move(app, followed.id, "followed_up", "2025-03-03 10:00", changes={"satisfaction": "5"})
    with app.session() as s:
        assert (
            jobs.auto_close(app, s, utc(h, "2025-03-09 10:00")) == "nothing to auto-close"
        )  # 6 days: not yet
        assert (
            jobs.auto_close(app, s, utc(h, "2025-03-10 11:00"))
            == "1 resolved complaint(s) auto-closed without follow-up"
        )
        assert jobs.auto_close(app, s, utc(h, "2025-03-11 11:00")) == "nothing to auto-close"
    closed = h.get(app, c.id)
    assert closed.complaint.status == "closed"
    assert closed.complaint.close_reason == "auto-closed: no follow-up within 7 days of resolution"
    assert closed.timeline[-1].actor == "system"
    assert h.get(app, followed.id).complaint.status == "followed_up"
    with app.session() as s:
        entry = audit.trail(s, entity="complaint", key=str(c.id))[-1]
    assert (entry.actor, entry.action, entry.changes["status"]) == (
        "system",
        "closed",
        ["resolved", "closed"],
    )


def test_round_robin_and_balanced_assignment(app, h, kehu_cli):
    with app.session() as s:
        save_team(s, "一组", lead="李娜", assignment="round_robin", members=["王芳", "刘洋", "陈静"])
    handlers = [h.open_one(app, team="一组").handler for _ in range(4)]
    assert handlers == ["王芳", "刘洋", "陈静", "王芳"]
    with app.session() as s:
        remove_member(s, "一组", "刘洋")
        save_team(s, "一组", assignment="balanced")
    # open: 王芳 2, 陈静 1 -> balanced gives 陈静, then a tie goes to the first in order
    assert [h.open_one(app, team="一组").handler for _ in range(2)] == ["陈静", "王芳"]
    manual = h.open_one(app)
    with app.session() as s:
        assert api.assign(app, s, manual.id, "李娜", team="一组").handler == "陈静"
    moved = kehu_cli("--as", "李娜", "complaint", "assign", str(manual.id), "--to", "赵强", "--json")
    assert moved.exit_code == 0 and moved.json["handler"] == "赵强"
    assert h.get(app, manual.id).timeline[-1].note == "陈静 -> 赵强 (team 一组)"
    teams = kehu_cli("complaint", "team", "list", "--json").json
    assert teams[0]["members"] == {"王芳": 3, "陈静": 2}
    bad = kehu_cli("complaint", "team", "add", "二组", "--assignment", "random")
    assert bad.exit_code == 2 and "random" in bad.output
