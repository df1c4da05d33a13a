"""The command line end to end: open, list filters, show, note, settings, SLA policies,
bad input (one clear message, nothing changed), the profile card and the demo."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from kehu_complaints.calendar import BusinessCalendar
from kehu_complaints.models import COMPLAINTS, HISTORY
from kehu_core.validation import local_zone


def _counts(app):
    with app.session() as s:
        return (
            s.scalar(select(func.count()).select_from(COMPLAINTS)),
            s.scalar(select(func.count()).select_from(HISTORY)),
        )


def test_open_list_show_note_through_the_cli(app, kehu_cli):
    opened = kehu_cli(
        "--as",
        "王芳",
        "complaint",
        "open",
        "--customer",
        "C1",
        "--kind",
        "投诉",
        "--category",
        "产品质量",
        "--severity",
        "high",
        "--description",
        "打印机卡纸",
        "--wants",
        "快速解决、赔偿",
        "--handler",
        "王芳",
        "--channel",
        "电话",
        "--json",
    )
    assert opened.exit_code == 0, opened
    c = opened.json
    assert (c["kind"], c["category"], c["severity"], c["wants"], c["sla_policy"]) == (
        "complaint",
        "quality",
        "high",
        ["fast_solution", "compensation"],
        "high",
    )
    grievance = kehu_cli(
        "complaint",
        "open",
        "--customer",
        "C2",
        "--kind",
        "grievance",
        "--category",
        "delivery",
        "--description",
        "送货慢",
        "--opened-at",
        "2025-01-02 10:00",
    )
    assert grievance.exit_code == 0 and "complaint #2 opened for C2" in grievance.output

    assert (
        kehu_cli("--as", "王芳", "complaint", "move", "1", "acknowledged", "--note", "已致歉").exit_code == 0
    )
    assert kehu_cli("--as", "王芳", "complaint", "note", "1", "客户来电询问进度").exit_code == 0

    def ids(*args):
        return [r["id"] for r in kehu_cli("complaint", "list", *args, "--json").json]

    assert ids("--status", "acknowledged") == [1]
    assert ids("--handler", "王芳") == [1]
    assert ids("--customer", "C2") == [2]
    assert ids("--category", "交货配送") == [2]
    assert ids("--overdue") == [2]  # opened in January, never answered
    csv = kehu_cli("complaint", "list", "--csv").output.splitlines()
    assert csv[0].startswith("id,customer_code") and len(csv) == 3

    shown = kehu_cli("complaint", "show", "1")
    assert shown.exit_code == 0
    for text in ("Complaint #1 (complaint) v2", "打印机卡纸", "已致歉", "客户来电询问进度", "next stages"):
        assert text in shown.output
    data = kehu_cli("complaint", "show", "1", "--json").json
    assert [e["action"] for e in data["timeline"]] == ["opened", "moved", "note"]
    assert "investigating" in data["next_stages"]


BAD_INPUT = [
    (("open", "--customer", "NOPE", "--description", "x"), "customer_code: no customer with this code"),
    (
        ("open", "--customer", "C1", "--description", "x", "--category", "weather"),
        "unknown category 'weather'; use one of: quality",
    ),
    (
        ("open", "--customer", "C1", "--description", "x", "--severity", "9"),
        "unknown severity '9'; use one of: low",
    ),
    (
        ("open", "--customer", "C1", "--description", "x", "--wants", "pony"),
        "wants: unknown want 'pony'; use one of: fast_solution",
    ),
    (("open", "--customer", "C1", "--description", "x", "--team", "无此组"), "team: no such team"),
    (
        ("open", "--customer", "C1", "--description", "x", "--opened-at", "2199-01-01"),
        "opened_at: is in the future",
    ),
    (("move", "1", "followed_up", "--satisfaction", "9"), "satisfaction: must be between 1 and 5"),
    (("move", "1", "teleported"), "no stage 'teleported'"),
    (("move", "99", "acknowledged"), "no complaint #99"),
    (("note", "1", "   "), "note: must not be empty"),
    (("assign", "1"), "name a handler (--to) or a team (--team)"),
    (("sla", "set", "vip", "--first-response", "30"), "resolution_minutes: required for a new policy"),
    (
        ("sla", "set", "vip", "--first-response", "30", "--resolution", "60", "--severities", "apocalyptic"),
        "severities: unknown severity 'apocalyptic'; use one of: low",
    ),
    (("sla", "set", "default", "--tiers", "VIP"), "the default policy matches every complaint"),
    (("sla", "delete", "default"), "the default policy cannot be deleted"),
    (
        ("settings", "business_hours", "18:00-09:00"),
        "business_hours: a working window must start before it ends",
    ),
    (("settings", "approval_threshold", "-5"), "approval_threshold: must be a non-negative amount"),
    (("settings", "colour", "red"), "colour: unknown setting"),
]


def test_bad_input_is_one_clear_message_and_changes_nothing(app, h, kehu_cli):
    h.open_one(app)  # complaint #1, for the moves
    for args, message in BAD_INPUT:  # one database for every case: cheaper than one each
        before = _counts(app)
        result = kehu_cli("complaint", *args)
        assert result.exit_code in (1, 2), (args, result)  # 2: click refused an option's value
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
        assert _counts(app) == before, args


def test_unparsable_options_are_usage_errors(app, h, kehu_cli):
    h.open_one(app)
    for args, option in (
        (("move", "1", "investigating", "--compensation", "abc"), "--compensation"),
        (("report", "--since", "yesterday-ish"), "--since"),
        (("open", "--customer", "C1", "--description", "x", "--opened-at", "soon"), "--opened-at"),
    ):
        result = kehu_cli("complaint", *args)
        assert result.exit_code == 2 and option in result.output, (args, result)
    assert _counts(app) == (1, 1)


def test_commands_say_how_to_install_the_plugin(kehu_app, kehu_cli):
    result = kehu_cli("complaint", "list")
    assert result.exit_code == 1 and "kehu plugins install complaints" in result.output


def test_policy_and_calendar_changes_recompute_open_complaints(app, h, kehu_cli):
    # A complaint opened just now (the CLI recomputes at the current time).
    opened = kehu_cli(
        "complaint", "open", "--customer", "C1", "--description", "x", "--severity", "low", "--json"
    ).json
    changed = kehu_cli("complaint", "sla", "set", "default", "--resolution", "4800", "--json")
    assert changed.exit_code == 0, changed
    assert changed.json["recomputed"] == 1
    after = kehu_cli("complaint", "show", str(opened["id"]), "--json").json
    assert after["resolution_due_at"] > opened["resolution_due_at"]
    assert after["timeline"][-1]["action"] == "sla"
    listed = kehu_cli("complaint", "sla", "list", "--json").json
    assert [p["name"] for p in listed] == ["critical", "key-account", "high", "default"]

    day = datetime.now(local_zone()).date() + timedelta(days=1)
    while not BusinessCalendar().is_workday(day):  # a working day, so the exception changes due times
        day += timedelta(days=1)
    tomorrow = day.isoformat()
    day_off = kehu_cli("complaint", "calendar", "set", tomorrow, "--day-off", "--name", "公司年会", "--json")
    assert day_off.exit_code == 0 and day_off.json["recomputed"] == 1, day_off
    days = kehu_cli("complaint", "calendar", "show", "--from", tomorrow, "--days", "1", "--json").json
    assert days[0]["workday"] is False and days[0]["why"] == "company exception"
    national = kehu_cli("complaint", "calendar", "show", "--from", "2025-09-28", "--days", "1", "--json").json
    assert national[0]["workday"] is True and "调休上班" in national[0]["why"]
    assert (
        kehu_cli("complaint", "settings", "approval_threshold", "1000", "--json").json["approval_threshold"]
        == "1000.00"
    )


def test_profile_card_section(app, h, kehu_cli):
    c = h.open_one(app)
    done = h.open_one(app)
    h.walk(app, done.id, "2025-03-03 10:00")
    h.move(app, done.id, "followed_up", "2025-03-03 10:00", changes={"satisfaction": "4"})
    h.move(
        app,
        done.id,
        "closed",
        "2025-03-03 10:00",
        changes={
            "responsible_party": "仓库",
            "penalty_note": "无",
            "root_cause": "漏发",
            "corrective_action": "双人复核",
        },
    )
    card = kehu_cli("customer", "show", "C1", "--json").json["complaints"]
    assert (card["open"], card["total"], card["last_satisfaction"]) == (1, 2, 4)
    assert [r["id"] for r in card["open_complaints"]] == [c.id]
    text = kehu_cli("customer", "show", "C1").output
    assert "Complaints and grievances" in text and "4/5" in text
    listed = kehu_cli("customer", "list", "--columns", "code,complaints_open", "--json").json
    assert {r["code"]: r["complaints_open"] for r in listed} == {"C1": 1, "C2": 0}


def test_demo_shows_every_stage(kehu_app, kehu_install, kehu_cli):
    kehu_install("complaints")
    demo = kehu_cli("demo", "--customers", "40")
    assert demo.exit_code == 0, demo
    assert "complaints:" in demo.output and "in every workflow stage" in demo.output
    report = kehu_cli("complaint", "report", "--json").json
    stages = [s["key"] for s in kehu_cli("complaint", "workflow", "--json").json["stages"]]
    assert set(report["by_status"]) == set(stages)
    assert report["total"] >= 2 * len(stages)
