"""Each complaints job run → change → run → unchanged run (issue 21): the second run acts on the
change only, the third changes nothing and rewrites no history (marks, times, history entries
and audit entries stay as they were). And the jobs' cut-offs at the edge and a second either
side: a due time exactly at the run, an auto-close exactly ``auto_close_days`` after resolution,
``auto_close_days`` 0 and 1.

Times are Shanghai wall-clock; the default policy gives 8 business hours (480 minutes) to the
first response: opened Monday 2025-03-03 09:00, it is due Monday 18:00 (01:00 → 10:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import func, select

from kehu_complaints import api, jobs
from kehu_complaints.models import COMPLAINTS, HISTORY
from kehu_complaints.teams import save_team
from kehu_core import audit


def utc(h, text):
    return h.at(text).astimezone(UTC)


def snapshot(app) -> tuple[list[Any], list[Any], int]:
    """Every complaint's marks and times, every history entry, and the audit trail's length."""
    c = COMPLAINTS.c
    with app.session() as s:
        rows = s.execute(
            select(
                c.id,
                c.status,
                c.first_response_breached_at,
                c.resolution_breached_at,
                c.escalated_at,
                c.escalated_to,
                c.closed_at,
                c.close_reason,
                c.version,
                c.updated_at,
            ).order_by(c.id)
        ).all()
        history = s.execute(select(HISTORY).order_by(HISTORY.c.id)).all()
        trail = len(audit.trail(s, entity="complaint"))
    return rows, history, trail


def breached(app, h) -> int:
    with app.session() as s:
        return s.scalar(select(func.count()).select_from(HISTORY).where(HISTORY.c.action == "breached"))


def test_escalate_run_change_run_unchanged_run(app, h):
    first = h.open_one(app, "2025-03-03 09:00")  # first response due 2025-03-03 18:00
    with app.session() as s:
        assert jobs.escalate(app, s, utc(h, "2025-03-04 09:00")).startswith("1 complaint(s) newly breached")
    # The change: a second complaint, opened later, becomes overdue too.
    second = h.open_one(app, "2025-03-04 09:00")  # due 2025-03-04 18:00
    with app.session() as s:
        assert jobs.escalate(app, s, utc(h, "2025-03-05 09:00")).startswith("1 complaint(s) newly breached")
    before = snapshot(app)
    assert breached(app, h) == 2
    with app.session() as s:
        assert jobs.escalate(app, s, utc(h, "2025-03-05 10:00")) == "no new SLA breach"
    assert snapshot(app) == before
    marks = {r.id: r.first_response_breached_at for r in before[0]}
    assert marks == {first.id: utc(h, "2025-03-04 09:00"), second.id: utc(h, "2025-03-05 09:00")}


def test_escalate_marks_a_due_time_only_once_it_has_passed(app, h):
    c = h.open_one(app, "2025-03-03 09:00")  # first response due 2025-03-03 18:00:00
    due = utc(h, "2025-03-03 18:00")
    assert h.get(app, c.id).complaint.first_response_due_at == due
    with app.session() as s:
        assert jobs.escalate(app, s, due - timedelta(seconds=1)) == "no new SLA breach"
        assert jobs.escalate(app, s, due) == "no new SLA breach"  # exactly due: not late yet
        marked = jobs.escalate(app, s, due + timedelta(seconds=1))
    assert marked == "1 complaint(s) newly breached their SLA; 1 escalated to the team lead"
    assert h.get(app, c.id).complaint.first_response_breached_at == due + timedelta(seconds=1)


def test_escalate_skips_a_complaint_answered_paused_resolved_or_closed(app, h):
    answered = h.open_one(app, "2025-03-03 09:00")
    h.move(app, answered.id, "acknowledged", "2025-03-03 17:59")
    paused = h.open_one(app, "2025-03-03 09:00")
    h.move(app, paused.id, "acknowledged", "2025-03-03 10:00")
    h.move(app, paused.id, "awaiting_customer", "2025-03-03 11:00")
    resolved = h.open_one(app, "2025-03-03 09:00", kind="grievance")
    h.walk(app, resolved.id, "2025-03-03 10:00")
    with app.session() as s:
        # A month later only the answered one's resolution (due 5 business days on) is overdue.
        assert jobs.escalate(app, s, utc(h, "2025-04-03 09:00")).startswith("1 complaint(s) newly breached")
    got = {x.id: h.get(app, x.id).complaint for x in (answered, paused, resolved)}
    assert got[answered.id].first_response_breached_at is None
    assert got[answered.id].resolution_breached_at == utc(h, "2025-04-03 09:00")
    assert got[paused.id].resolution_breached_at is None and got[paused.id].escalated_at is None
    assert got[resolved.id].resolution_breached_at is None and got[resolved.id].escalated_at is None


def resolved_grievance(app, h, when: str = "2025-03-03 10:00") -> Any:
    c = h.open_one(app, "2025-03-03 09:00", kind="grievance")
    h.walk(app, c.id, when)
    return c


def test_auto_close_run_change_run_unchanged_run(app, h):
    first = resolved_grievance(app, h)  # resolved 2025-03-03 10:00
    with app.session() as s:
        assert jobs.auto_close(app, s, utc(h, "2025-03-11 10:00")).startswith("1 resolved complaint(s)")
    # The change: another grievance resolved later, then left without follow-up.
    second = resolved_grievance(app, h, "2025-03-12 10:00")
    with app.session() as s:
        assert jobs.auto_close(app, s, utc(h, "2025-03-20 10:00")).startswith("1 resolved complaint(s)")
    before = snapshot(app)
    with app.session() as s:
        assert jobs.auto_close(app, s, utc(h, "2025-03-21 10:00")) == "nothing to auto-close"
    assert snapshot(app) == before
    closed = {r.id: r.closed_at for r in before[0]}
    assert closed == {first.id: utc(h, "2025-03-11 10:00"), second.id: utc(h, "2025-03-20 10:00")}
    with app.session() as s:
        trail = audit.trail(s, entity="complaint", key=str(first.id))
    assert [e.changes.get("exempt") for e in trail if e.action == "closed"] == ["auto_close_days 7"]


def set_days(app, days: str) -> None:
    with app.session() as s:
        api.change_setting(app, s, "auto_close_days", days)


def test_auto_close_exactly_the_days_after_resolution_is_not_yet(app, h):
    c = resolved_grievance(app, h)  # resolved 2025-03-03 10:00 Shanghai
    edge = utc(h, "2025-03-04 10:00")
    set_days(app, "1")
    with app.session() as s:
        assert jobs.auto_close(app, s, edge - timedelta(seconds=1)) == "nothing to auto-close"
        assert jobs.auto_close(app, s, edge) == "nothing to auto-close"
        done = jobs.auto_close(app, s, edge + timedelta(seconds=1))
    assert done == "1 resolved complaint(s) auto-closed without follow-up"
    closed = h.get(app, c.id).complaint
    assert closed.status == "closed"
    assert closed.close_reason == "auto-closed: no follow-up within 1 days of resolution"


def test_auto_close_days_zero_is_off_and_one_is_on(app, h):
    resolved_grievance(app, h)
    set_days(app, "0")
    with app.session() as s:
        off = jobs.auto_close(app, s, utc(h, "2026-03-03 10:00"))
    assert off == "auto-close is off (auto_close_days = 0)"
    set_days(app, "1")
    with app.session() as s:
        assert jobs.auto_close(app, s, utc(h, "2026-03-03 10:00")).startswith("1 resolved complaint(s)")


def test_auto_close_leaves_followed_up_open_and_closed_complaints(app, h):
    followed = resolved_grievance(app, h)
    h.move(app, followed.id, "followed_up", "2025-03-03 11:00", changes={"satisfaction": "5"})
    still_open = h.open_one(app, "2025-03-03 09:00", kind="grievance")
    with app.session() as s:
        assert jobs.auto_close(app, s, utc(h, "2026-03-03 10:00")) == "nothing to auto-close"
    assert h.get(app, followed.id).complaint.status == "followed_up"
    assert h.get(app, still_open.id).complaint.status == "received"


def test_a_later_run_writes_no_second_entry_for_an_earlier_resolution_breach(app, h):
    """A's resolution is marked late by the first run; the second marks B's first response only:
    A's history keeps its one "breached" entry."""
    a = h.open_one(app, "2025-03-03 09:00")
    h.move(app, a.id, "acknowledged", "2025-03-03 10:00")  # answered: only the resolution can be late
    with app.session() as s:  # resolution due Friday 2025-03-07 18:00
        assert jobs.escalate(app, s, utc(h, "2025-03-10 09:00")).startswith("1 complaint(s) newly breached")
    b = h.open_one(app, "2025-03-10 09:00")  # first response due 2025-03-10 18:00
    with app.session() as s:
        assert jobs.escalate(app, s, utc(h, "2025-03-11 09:00")).startswith("1 complaint(s) newly breached")
    notes = {c.id: [e.note for e in h.get(app, c.id).timeline if e.action == "breached"] for c in (a, b)}
    assert notes == {
        a.id: ["resolution overdue; nobody to escalate to (no team lead)"],
        b.id: ["first response overdue; nobody to escalate to (no team lead)"],
    }


def test_a_run_as_of_an_earlier_time_counts_only_what_it_escalated(app, h):
    late = h.open_one(app, "2025-03-03 09:00")  # first response due 2025-03-03 18:00
    with app.session() as s:  # a run as of the 5th escalates it
        assert jobs.escalate(app, s, utc(h, "2025-03-05 09:00")).endswith("; 1 escalated to the team lead")
    other = h.open_one(app, "2025-03-03 08:00")  # counted from 09:00: due 2025-03-03 18:00 too
    with app.session() as s:  # a run as of the 4th, after the 5th's: escalates the other one only
        message = jobs.escalate(app, s, utc(h, "2025-03-04 09:00"))
    assert message == "1 complaint(s) newly breached their SLA; 1 escalated to the team lead"
    assert h.get(app, late.id).complaint.escalated_at == utc(h, "2025-03-05 09:00")
    assert h.get(app, other.id).complaint.escalated_at == utc(h, "2025-03-04 09:00")
    assert len([e for e in h.get(app, late.id).timeline if e.action == "breached"]) == 1


def test_auto_close_moves_the_version_on_by_one(app, h):
    c = resolved_grievance(app, h)
    before = h.get(app, c.id).complaint.version
    with app.session() as s:
        jobs.auto_close(app, s, utc(h, "2025-03-11 10:00"))
    assert h.get(app, c.id).complaint.version == before + 1


def test_escalate_marks_a_resolution_only_once_its_due_time_has_passed(app, h):
    c = h.open_one(app, "2025-03-03 09:00")
    h.move(app, c.id, "acknowledged", "2025-03-03 10:00")
    due = utc(h, "2025-03-07 18:00")  # 2400 business minutes: Friday 18:00
    assert h.get(app, c.id).complaint.resolution_due_at == due
    with app.session() as s:
        assert jobs.escalate(app, s, due) == "no new SLA breach"  # exactly due: not late yet
        assert jobs.escalate(app, s, due + timedelta(seconds=1)).startswith("1 complaint(s) newly breached")
    assert h.get(app, c.id).complaint.resolution_breached_at == due + timedelta(seconds=1)


def test_a_complaint_escalates_to_its_own_teams_lead(app, h):
    with app.session() as s:
        save_team(s, "一组", lead="李娜", assignment="manual", members=["王芳"])
        save_team(s, "二组", lead="赵强", assignment="manual", members=["刘洋"])
    second = h.open_one(app, "2025-03-03 09:00", team="二组")
    first = h.open_one(app, "2025-03-03 09:00", team="一组")
    with app.session() as s:
        jobs.escalate(app, s, utc(h, "2025-03-04 09:00"))
    assert h.get(app, first.id).complaint.escalated_to == "李娜"
    assert h.get(app, second.id).complaint.escalated_to == "赵强"


def test_a_second_breach_of_an_escalated_complaint_escalates_nobody_again(app, h):
    c = h.open_one(app, "2025-03-03 09:00")
    with app.session() as s:
        assert jobs.escalate(app, s, utc(h, "2025-03-04 09:00")).endswith("; 1 escalated to the team lead")
    h.move(app, c.id, "acknowledged", "2025-03-04 10:00")
    with app.session() as s:  # now its resolution (due Friday 18:00) is late too
        message = jobs.escalate(app, s, utc(h, "2025-03-10 09:00"))
    assert message == "1 complaint(s) newly breached their SLA; 0 escalated to the team lead"
    notes = [e.note for e in h.get(app, c.id).timeline if e.action == "breached"]
    assert notes == ["first response overdue; nobody to escalate to (no team lead)", "resolution overdue"]


def test_a_run_as_of_an_earlier_time_writes_nothing_for_a_later_resolution_breach(app, h):
    answered = h.open_one(app, "2025-03-03 09:00")
    h.move(app, answered.id, "acknowledged", "2025-03-03 10:00")
    with app.session() as s:  # as of the 10th: its resolution (due Friday the 7th, 18:00) is late
        assert jobs.escalate(app, s, utc(h, "2025-03-10 09:00")).startswith("1 complaint(s) newly breached")
    other = h.open_one(app, "2025-03-03 09:00")
    with app.session() as s:  # as of the 4th: only the other one's first response
        assert jobs.escalate(app, s, utc(h, "2025-03-04 09:00")).startswith("1 complaint(s) newly breached")
    assert len([e for e in h.get(app, answered.id).timeline if e.action == "breached"]) == 1
    assert len([e for e in h.get(app, other.id).timeline if e.action == "breached"]) == 1
