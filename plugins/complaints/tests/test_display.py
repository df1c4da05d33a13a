"""What ``show``, ``list`` and the report say: the clock of a finished complaint, a late answer
as a breach in both, satisfaction recorded at the follow-up, whom a breach escalated to, stage
names with their Chinese labels (codes unchanged in --json). Values worked out by hand.

Default policy: 8 business hours to answer, 40 to resolve (09:00-12:00, 13:00-18:00).
"""

from __future__ import annotations

from datetime import UTC

from kehu_complaints import api, jobs
from kehu_complaints.report import build_report
from kehu_complaints.teams import save_team

NOW = "2025-03-07 12:00"


def _pairs(output):
    """The ``key  value`` lines of ``show`` as a mapping (two or more spaces between)."""
    found = {}
    for line in output.splitlines():
        key, sep, value = line.strip().partition("  ")
        if sep and key:
            found[key] = value.strip()
    return found


def _scenario(app, h):
    """A followed up (4), B closed grievance (2), C followed up (5) then reopened, D answered two
    months late."""
    a = h.open_one(app, "2025-03-03 09:00").id
    h.walk(app, a, "2025-03-03 10:00")
    h.move(app, a, "followed_up", "2025-03-04 10:00", changes={"satisfaction": "4"})
    b = h.open_one(app, "2025-03-03 09:00", kind="grievance").id
    h.walk(app, b, "2025-03-03 10:00")
    h.move(app, b, "followed_up", "2025-03-04 10:00", changes={"satisfaction": "2"})
    h.move(app, b, "closed", "2025-03-04 11:00")
    c = h.open_one(app, "2025-03-03 09:00").id
    h.walk(app, c, "2025-03-03 10:00")
    h.move(app, c, "followed_up", "2025-03-04 10:00", changes={"satisfaction": "5"})
    h.move(app, c, "reopened", "2025-03-05 09:00", reason="又坏了")
    # opened Monday 6 Jan: answer due 06 Jan 18:00, resolution due Fri 10 Jan 18:00
    d = h.open_one(app, "2025-01-06 09:00").id
    h.walk(app, d, "2025-03-06 10:00")
    return a, b, c, d


def test_satisfaction_and_breaches_agree_between_show_and_report(app, h, kehu_cli):
    a, b, c, d = _scenario(app, h)
    now = h.at(NOW).astimezone(UTC)
    with app.session() as s:
        report = build_report(s, app.dialect, now=now)
        records = {r.id: r for r in api.list_complaints(app, s, api.ComplaintQuery(limit=None))}
    # A (4, followed up) and B (2, closed) count; C's answer was undone by the reopen
    assert (report.satisfaction_count, report.satisfaction_average) == (2, 3.0)
    assert report.satisfaction_distribution == {"2": 1, "4": 1}
    # only D missed its due times (answered 06 Mar > 06 Jan 18:00; resolved 06 Mar > 10 Jan 18:00);
    # C's clock restarted on 05 Mar and runs to 11 Mar 18:00; decided: A, B, D
    assert (report.breached, report.decided, report.breach_rate) == (1, 3, 0.3333)
    assert {i: r.breaches(now) for i, r in records.items()} == {
        a: (),
        b: (),
        c: (),
        d: ("first_response", "resolution"),
    }
    assert sum(bool(r.breaches(now)) for r in records.values()) == report.breached

    late = _pairs(kehu_cli("complaint", "show", str(d)).output)
    assert late["breached"] == (
        "first response (due 2025-01-06 18:00, done 2025-03-06 10:00), "
        "resolution (due 2025-01-10 18:00, done 2025-03-06 10:00)"
    )
    assert late["escalated to"] == "not escalated"
    assert late["clock"] == "stopped (resolved)"
    assert kehu_cli("complaint", "show", str(d), "--json").json["breached"] == [
        "first_response",
        "resolution",
    ]
    on_time = _pairs(kehu_cli("complaint", "show", str(a)).output)
    assert on_time["breached"] == "-" and on_time["escalated to"] == "-"


def test_the_clock_of_a_closed_resolved_paused_and_running_complaint(app, h, kehu_cli):
    a, b, c, _ = _scenario(app, h)
    paused = h.open_one(app, "2025-03-03 09:00").id
    h.move(app, paused, "acknowledged", "2025-03-03 10:00")
    h.move(app, paused, "awaiting_customer", "2025-03-03 11:00")
    expected = {
        b: ("stopped (closed)", "closed"),
        a: ("stopped (resolved)", "resolved"),
        paused: ("paused", "paused"),
        c: ("running", "running"),
    }
    for cid, (text, code) in expected.items():
        assert _pairs(kehu_cli("complaint", "show", str(cid)).output)["clock"] == text
        assert kehu_cli("complaint", "show", str(cid), "--json").json["clock"] == code


def test_a_breach_says_whom_it_escalated_to(app, h, kehu_cli):
    with app.session() as s:
        save_team(s, "客服一组", lead="李娜", assignment="manual", members=["王芳"])
        save_team(s, "客服二组", lead=None, assignment="manual", members=["刘洋"])
    led = h.open_one(app, "2025-03-03 09:00", team="客服一组").id
    leaderless = h.open_one(app, "2025-03-03 09:00", team="客服二组").id
    unassigned = h.open_one(app, "2025-03-03 09:00").id
    with app.session() as s:  # answer due 03 Mar 18:00; the job runs at 18:00:01
        jobs.escalate(app, s, h.at("2025-03-03 18:00:01").astimezone(UTC))
    for cid, whom in (
        (led, "李娜"),
        (leaderless, "nobody to escalate to (no team lead)"),
        (unassigned, "nobody to escalate to (no team lead)"),
    ):
        shown = _pairs(kehu_cli("complaint", "show", str(cid)).output)
        assert shown["escalated to"] == whom
        assert shown["breached"].startswith("first response (due 2025-03-03 18:00, not done yet)")
        note = h.get(app, cid).timeline[-1].note
        assert note.endswith(f"escalated to {whom}" if whom == "李娜" else whom)


def test_stage_names_show_as_labels_in_the_language_and_json_keeps_the_codes(app, h, kehu_cli):
    a, b, c, d = _scenario(app, h)
    shown = kehu_cli("complaint", "show", str(b)).output
    pairs = _pairs(shown)
    assert pairs["status"] == "closed"
    assert pairs["next stages"] == "reopened"
    assert "received" in shown and "acknowledged" in shown  # the timeline
    assert _pairs(kehu_cli("complaint", "show", str(a)).output)["status"] == "followed up"
    listed = kehu_cli("complaint", "list").output
    assert "reopened" in listed and "resolved" in listed
    data = kehu_cli("complaint", "list", "--json").json
    assert {row["id"]: row["status"] for row in data} == {
        a: "followed_up",
        b: "closed",
        c: "reopened",
        d: "resolved",
    }
    timeline = kehu_cli("complaint", "show", str(b), "--json").json["timeline"]
    assert [e["to_status"] for e in timeline][-2:] == ["followed_up", "closed"]
    csv = kehu_cli("complaint", "list", "--csv").output
    assert "已" not in csv
