"""The complaints plugin in Chinese: every enumerated option, filter and service argument takes
the Chinese name (投诉, 产品质量, 紧急, 受理, 换货, 轮流 ...) and gives what the code gives;
an unknown value is refused with the accepted ones listed; the commands of a demo-like
session under ``KEHU_LANG=zh_CN`` show no English word, and ``--json`` is the same in both
languages."""

from __future__ import annotations

from typing import Any

import pytest

from kehu_complaints import api, sla
from kehu_complaints.teams import save_team
from kehu_core import i18n
from kehu_core.errors import KehuError, ValidationError
from kehu_core.untranslated import english_words, language_free

ZH = {"KEHU_LANG": "zh_CN", "KEHU_USER": "王芳"}
EN = {"KEHU_LANG": "en", "KEHU_USER": "王芳"}


def _open(kehu_cli: Any, *options: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = kehu_cli(
        "complaint", "open", "--customer", "C1", "--description", "打印机卡纸", *options, "--json", env=env
    )
    assert result.exit_code == 0, result.output
    return result.json


# --------------------------------------------------------------------------------------------
# Chinese values give what the codes give


@pytest.mark.parametrize(
    ("chinese", "codes"),
    [
        (
            ("--kind", "投诉", "--category", "产品质量", "--severity", "高", "--wants", "快速解决、赔偿"),
            ("--kind", "complaint", "--category", "quality", "--severity", "high",
             "--wants", "fast_solution,compensation"),
        ),
        (
            ("--kind", "抱怨", "--category", "交货配送", "--severity", "紧急", "--wants", "尊重，不再发生"),
            ("--kind", "grievance", "--category", "delivery", "--severity", "critical",
             "--wants", "respect,no_recurrence"),
        ),
        (
            ("--category", "服务态度", "--severity", "低", "--wants", "给一个说法"),
            ("--category", "service", "--severity", "low", "--wants", "explanation"),
        ),
        (("--category", "账务收费", "--severity", "中"), ("--category", "billing", "--severity", "medium")),
    ],
)  # fmt: skip
def test_open_takes_chinese_names_as_the_codes(app, kehu_cli, chinese, codes):
    fields = ("kind", "category", "severity", "wants", "sla_policy", "first_response_due_at")
    by_name, by_code = _open(kehu_cli, *chinese), _open(kehu_cli, *codes)
    assert {k: by_name[k] for k in fields} == {k: by_code[k] for k in fields}
    assert by_name["category"] in ("quality", "delivery", "service", "billing")


def test_the_service_takes_chinese_names_as_the_codes(app, h):
    chinese = h.open_one(app, kind="投诉", category="产品质量", severity="紧急", wants="赔偿、说法")
    codes = h.open_one(
        app, kind="complaint", category="quality", severity="critical", wants=["compensation", "explanation"]
    )
    fields = ("kind", "category", "severity", "wants", "sla_policy", "resolution_due_at")
    assert [getattr(chinese, f) for f in fields] == [getattr(codes, f) for f in fields]
    assert (chinese.kind, chinese.category, chinese.severity) == ("complaint", "quality", "critical")
    # Stages by their Chinese names, in a move and a close.
    h.move(app, chinese.id, "安抚致歉", "2025-03-03 10:00")
    h.move(app, codes.id, "acknowledged", "2025-03-03 10:00")
    h.move(app, chinese.id, "调查", "2025-03-03 11:00", changes={"compensation_type": "换货"})
    h.move(app, codes.id, "investigating", "2025-03-03 11:00", changes={"compensation_type": "replacement"})
    for complaint in (chinese, codes):
        record = h.get(app, complaint.id).complaint
        assert (record.status, record.compensation_type) == ("investigating", "replacement")
    with app.session() as s:
        closed = api.close(
            app, s, chinese.id, "王芳", stage="不予受理", reason="重复投诉", now=h.at("2025-03-03 12:00")
        )
        assert closed.status == "rejected"
        regraded = api.regrade(app, s, codes.id, "低", "王芳", now=h.at("2025-03-03 12:00"))
        assert regraded.severity == "low"
        # Filters of the list, by name and by code.
        for name, code in (("不予受理", "rejected"), ("调查", "investigating"), ("已解决", "resolved")):
            assert [r.id for r in api.list_complaints(app, s, api.ComplaintQuery(status=name))] == [
                r.id for r in api.list_complaints(app, s, api.ComplaintQuery(status=code))
            ]
        assert [r.id for r in api.list_complaints(app, s, api.ComplaintQuery(category="产品质量"))] == [
            r.id for r in api.list_complaints(app, s, api.ComplaintQuery(category="quality"))
        ]


def test_list_filters_take_chinese_names(app, h, kehu_cli):
    first = h.open_one(app, category="quality")
    h.open_one(app, category="delivery")
    h.move(app, first.id, "acknowledged", "2025-03-03 10:00")

    def ids(*args: str) -> list[int]:
        result = kehu_cli("complaint", "list", *args, "--json")
        assert result.exit_code == 0, result.output
        return [row["id"] for row in result.json]

    assert ids("--status", "安抚致歉") == ids("--status", "acknowledged") == [first.id]
    assert ids("--status", "受理") == ids("--status", "received") and len(ids("--status", "受理")) == 1
    assert ids("--category", "产品质量") == ids("--category", "quality") == [first.id]
    assert ids("--category", "交货配送") == ids("--category", "delivery")


def test_moves_severity_and_close_take_chinese_names(app, h, kehu_cli):
    c = h.open_one(app, kind="grievance")
    assert kehu_cli("complaint", "move", str(c.id), "安抚致歉", "--json").json["status"] == "acknowledged"
    assert kehu_cli("complaint", "move", str(c.id), "调查", "--json").json["status"] == "investigating"
    regraded = kehu_cli("complaint", "severity", str(c.id), "紧急", "--json").json
    assert (regraded["severity"], regraded["sla_policy"]) == ("critical", "critical")
    moved = kehu_cli(
        "complaint",
        "move",
        str(c.id),
        "提出方案",
        "--solution",
        "换新机",
        "--compensation-type",
        "换货",
        "--json",
    ).json
    assert (moved["status"], moved["compensation_type"]) == ("solution_proposed", "replacement")
    closed = kehu_cli(
        "complaint", "close", str(c.id), "--as", "客户撤回", "--reason", "客户不再追究", "--json"
    )
    assert closed.json["status"] == "withdrawn", closed.output


def test_sla_policies_and_teams_take_chinese_names(app, kehu_cli):
    saved = kehu_cli(
        "complaint", "sla", "set", "vip", "--first-response", "30", "--resolution", "240",
        "--severities", "紧急，高", "--kinds", "投诉", "--paused-stages", "等待客户,调查", "--json",
    )  # fmt: skip
    assert saved.exit_code == 0, saved.output
    policy = saved.json["policy"]
    assert (policy["severities"], policy["kinds"], policy["paused_stages"]) == (
        ["critical", "high"],
        ["complaint"],
        ["awaiting_customer", "investigating"],
    )
    clean, problems = sla.clean_policy({"severities": "中", "kinds": "抱怨"}, ["received"])
    assert (clean, problems) == ({"severities": ["medium"], "kinds": ["grievance"]}, [])
    team = kehu_cli("complaint", "team", "add", "一组", "--assignment", "轮流", "--member", "王芳", "--json")
    assert team.json["assignment"] == "round_robin"
    with app.session() as s:
        assert save_team(s, "二组", assignment="均衡").assignment == "balanced"
    for word, value in (("否", False), ("是", True), ("关闭", False), ("on", True)):
        changed = kehu_cli("complaint", "settings", "require_wanted_steps", word, "--json")
        assert changed.json["require_wanted_steps"] is value, changed.output


# --------------------------------------------------------------------------------------------
# Unknown values are refused with the accepted ones

OPEN = ("open", "--customer", "C1", "--description", "x")


@pytest.mark.parametrize(
    ("args", "accepted"),
    [
        ((*OPEN, "--kind", "牢骚"), "grievance (抱怨), complaint (投诉)"),
        ((*OPEN, "--category", "天气"), "quality (产品质量)"),
        ((*OPEN, "--severity", "很急"), "critical (紧急)"),
        ((*OPEN, "--wants", "道歉"), "fast_solution (快速简洁地解决问题)"),
        (("list", "--category", "天气"), "billing (账务收费)"),
        (("list", "--status", "处理完"), "resolved (已解决)"),
        (("move", "1", "处理完"), "followed_up (已回访)"),
        (("severity", "1", "很急"), "low (低)"),
        (("move", "1", "acknowledged", "--compensation-type", "机票"), "replacement (换货)"),
        (("team", "add", "一组", "--assignment", "随机"), "round_robin (轮流分配)"),
        (("sla", "set", "x", "--first-response", "1", "--resolution", "2", "--kinds", "牢骚"),
         "complaint (投诉)"),
    ],
)  # fmt: skip
def test_an_unknown_value_is_refused_listing_the_accepted_ones(app, h, kehu_cli, args, accepted):
    h.open_one(app)  # complaint #1
    refused = kehu_cli("complaint", *args, env=ZH)
    assert refused.exit_code in (1, 2), refused.output
    assert accepted in refused.output, refused.output
    assert "Traceback" not in refused.output


def test_the_service_refuses_unknown_values_listing_the_accepted_ones(app, h):
    with i18n.using("en"), app.session() as s:
        with pytest.raises(ValidationError, match=r"unknown kind 'x'; use one of: grievance, complaint"):
            api.open_complaint(app, s, {"customer_code": "C1", "description": "x", "kind": "x"}, "王芳")
        with pytest.raises(ValidationError, match=r"no stage 'x'; stages: received, acknowledged"):
            api.list_complaints(app, s, api.ComplaintQuery(status="x"))
        with pytest.raises(
            ValidationError, match=r"unknown category 'x'; use one of: quality \(product quality\)"
        ):
            api.list_complaints(app, s, api.ComplaintQuery(category="x"))
    c = h.open_one(app)
    with i18n.using("zh_CN"), app.session() as s, pytest.raises(KehuError, match="没有阶段「已完结」"):
        api.move(app, s, c.id, "已完结", "王芳")


# --------------------------------------------------------------------------------------------
# A session in Chinese


def _session(kehu_cli: Any, env: dict[str, str]) -> list[tuple[str, ...]]:
    """A demo-like sequence of complaint commands; returns the read commands to compare."""
    steps: list[tuple[str, ...]] = [
        (
            "complaint",
            "team",
            "add",
            "客服一组",
            "--lead",
            "李娜",
            "--assignment",
            "均衡",
            "--member",
            "王芳",
        ),
        (
            "complaint",
            "open",
            "--customer",
            "C1",
            "--kind",
            "投诉",
            "--category",
            "产品质量",
            "--severity",
            "高",
            "--description",
            "打印机频繁卡纸",
            "--wants",
            "快速解决、赔偿",
            "--team",
            "客服一组",
        ),
        (
            "complaint",
            "open",
            "--customer",
            "C2",
            "--kind",
            "抱怨",
            "--category",
            "交货配送",
            "--description",
            "送货晚了三天",
        ),
        ("complaint", "move", "1", "安抚致歉", "--note", "已致歉，复述了问题"),
        ("complaint", "move", "1", "调查", "--responsible", "质检部"),
        (
            "complaint",
            "move",
            "1",
            "提出方案",
            "--solution",
            "换新机",
            "--compensation",
            "800",
            "--compensation-type",
            "换货",
        ),
        ("--as", "李娜", "complaint", "move", "1", "主管批准"),
        ("complaint", "move", "1", "客户同意"),
        ("complaint", "move", "1", "执行中"),
        ("complaint", "move", "1", "已解决"),
        ("complaint", "move", "1", "已回访", "--satisfaction", "4"),
        (
            "complaint",
            "close",
            "1",
            "--penalty",
            "无",
            "--root-cause",
            "质检漏检",
            "--corrective-action",
            "加强出厂检验",
        ),
        ("complaint", "severity", "2", "紧急", "--reason", "客户威胁曝光"),
        ("complaint", "assign", "2", "--to", "王芳"),
        ("complaint", "note", "2", "客户来电询问进度"),
        ("complaint", "calendar", "set", "2026-01-30", "--day-off", "--name", "年会"),
        (
            "complaint",
            "sla",
            "set",
            "大客户加急",
            "--priority",
            "5",
            "--tiers",
            "VIP",
            "--first-response",
            "30",
            "--resolution",
            "240",
        ),
    ]
    for step in steps:
        result = kehu_cli(*step, env=env)
        assert result.exit_code == 0, (step, result.output)
        if env == ZH:
            assert not english_words(result.output), (step, result.output)
    return [
        ("complaint", "list"),
        ("complaint", "show", "1"),
        ("complaint", "show", "2"),
        ("complaint", "report"),
        ("complaint", "sla", "list"),
        ("complaint", "team", "list"),
        ("complaint", "workflow"),
        ("complaint", "calendar", "show", "--from", "2025-09-27", "--days", "10"),
    ]


def test_a_session_in_chinese_has_no_english_and_json_keeps_keys_and_codes(app, kehu_cli):
    reads = _session(kehu_cli, ZH)
    for read in reads:
        shown = kehu_cli(*read, env=ZH)
        assert shown.exit_code == 0, (read, shown.output)
        assert not english_words(shown.output), (read, sorted(english_words(shown.output)), shown.output)
    show = kehu_cli("complaint", "show", "1", env=ZH).output
    for words in ("结案", "已回访", "主管批准", "受理", "产品质量", "赔偿或补偿", "换货", "满意度"):
        assert words in show, (words, show)
    for read in reads:
        chinese = kehu_cli(*read, "--json", env=ZH).json
        english = kehu_cli(*read, "--json", env=EN).json
        assert language_free(chinese, WORDED) == language_free(english, WORDED), read
    listed = kehu_cli("complaint", "list", "--json", env=ZH).json
    assert {row["status"] for row in listed} == {"closed", "received"}
    assert {row["category"] for row in listed} == {"quality", "delivery"}


#: Values computed in the reader's language (a calendar day's reason), compared by key only.
WORDED = {"why"}


def test_the_csv_of_the_list_keeps_codes_in_chinese(app, h, kehu_cli):
    h.open_one(app, category="产品质量", severity="高")
    csv = kehu_cli("complaint", "list", "--csv", env=ZH).output
    header, row = csv.splitlines()[:2]
    assert header.startswith("id,customer_code,customer_name,kind,category,severity,status")
    assert ",complaint,quality,high,received," in row
