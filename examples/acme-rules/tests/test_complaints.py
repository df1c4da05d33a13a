"""ACME around complaints: key accounts' complaints go to the key-account manager."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kehu_complaints import api
from kehu_core import customers, interactions
from kehu_core.interactions import InteractionQuery, list_interactions


@pytest.fixture
def accounts(kehu_app, kehu_install, kehu_cli):
    """VIP by THE tier, KEYFLAG by tiering's key_account flag, JUDGED by ACME's judgement; PLAIN none."""
    kehu_install("acme_rules")
    now = datetime.now(UTC)
    with kehu_app.session() as session:
        for code, name, attributes in (
            ("VIP", "北京盛达贸易有限公司", {}),
            ("KEYFLAG", "上海华信建材", {"key_account_flags": ["strategic"]}),
            ("JUDGED", "安徽建材商行", {}),
            ("PLAIN", "广州小五金店", {}),
        ):
            customers.add_customer(kehu_app, session, {"code": code, "name": name, "attributes": attributes})
        for code, amount in (("VIP", "100000"), ("KEYFLAG", "300"), ("PLAIN", "500")):
            interactions.log_interaction(
                kehu_app,
                session,
                {
                    "customer_code": code,
                    "kind": "purchase",
                    "occurred_at": now - timedelta(days=10),
                    "amount": amount,
                },
            )
    assert kehu_cli("tier", "run").exit_code == 0
    assert kehu_cli("--as", "王芳", "acme", "set", "JUDGED", "--influence").exit_code == 0
    return kehu_app


def open_complaint(kehu_cli, code):
    result = kehu_cli(
        "complaint", "open", "--customer", code, "--description", "打印机卡纸", "--handler", "王芳", "--json"
    )
    assert result.exit_code == 0, result.output
    return result.json


def test_the_manager_setting_and_the_tiers_the_routing_reads(accounts, kehu_cli):
    """The fixture's premise, by the public commands: VIP's tier, KEYFLAG's flag."""
    assert kehu_cli("tier", "show", "VIP", "--json").json["tier"] == "VIP"
    flags = kehu_cli("tier", "show", "KEYFLAG", "--json").json["flags"]
    assert [(f["tier"], f["decided_by"]) for f in flags] == [("key_account", "key_account.salesperson_flag")]
    assert kehu_cli("acme", "manager", "--json").json == {"key_account_manager": None}
    assert kehu_cli("acme", "manager", "赵敏").output == "key-account manager: 赵敏\n"
    assert kehu_cli("acme", "manager", "--json").json == {"key_account_manager": "赵敏"}
    bad = kehu_cli("acme", "manager", " ")
    assert bad.exit_code == 1 and "key_account_manager: must be 1 to 100 characters" in bad.output


@pytest.mark.parametrize("code", ["VIP", "KEYFLAG", "JUDGED"])
def test_a_key_accounts_complaint_goes_to_the_manager(accounts, kehu_cli, code):
    assert kehu_cli("acme", "manager", "赵敏").exit_code == 0
    opened = open_complaint(kehu_cli, code)
    assert opened["handler"] == "赵敏"
    shown = kehu_cli("complaint", "show", str(opened["id"]), "--json").json
    assert shown["handler"] == "赵敏"
    [handover] = [e for e in shown["timeline"] if e["action"] == "assigned"]
    assert (handover["actor"], handover["note"]) == ("acme_rules", "王芳 -> 赵敏")


def test_another_customers_complaint_stays_with_its_handler(accounts, kehu_cli):
    assert kehu_cli("acme", "manager", "赵敏").exit_code == 0
    opened = open_complaint(kehu_cli, "PLAIN")
    assert opened["handler"] == "王芳"
    shown = kehu_cli("complaint", "show", str(opened["id"]), "--json").json
    assert [e["action"] for e in shown["timeline"]] == ["opened"]


def test_without_a_manager_nothing_is_routed(accounts, kehu_cli):
    assert open_complaint(kehu_cli, "VIP")["handler"] == "王芳"
    assert kehu_cli("acme", "manager", "赵敏").exit_code == 0
    assert kehu_cli("acme", "manager", "--clear").output == "key-account manager: -\n"
    assert open_complaint(kehu_cli, "JUDGED")["handler"] == "王芳"


# A follow-up call a week after a complaint closes.

RESOLVE = ("acknowledged", "investigating", "solution_proposed", "customer_agreed", "in_progress", "resolved")


def at(text):
    """A company-time moment (Asia/Shanghai, the default zone) as an aware datetime."""
    return datetime.fromisoformat(text + "+08:00")


def planned_calls(app):
    with app.session() as session:
        query = InteractionQuery(kind="call", status="planned", newest_first=False)
        return [
            (c.customer_code, c.occurred_at, c.salesperson, c.external_ref)
            for c in list_interactions(session, query)
        ]


def handled_by(app, session, handler, code, description, when):
    """A complaint of customer ``code`` opened at ``when`` by ``handler``, who handles it."""
    fields = {"customer_code": code, "description": description, "handler": handler}
    return api.open_complaint(app, session, fields, handler, now=at(when))


def test_a_closed_complaint_gets_a_call_a_week_later(accounts):
    app = accounts
    with app.session() as session:
        done = handled_by(app, session, "刘洋", "PLAIN", "卡纸", "2026-03-02T09:00")
        for stage in RESOLVE:
            changes = {"solution": "免费换新"} if stage == "solution_proposed" else None
            api.move(app, session, done.id, stage, "刘洋", changes=changes, now=at("2026-03-02T10:00"))
        still_open = handled_by(app, session, "王芳", "VIP", "送货晚", "2026-03-02T09:30")
    assert planned_calls(app) == []  # nothing before a close
    review = {  # a formal complaint closes with the procedure's review (总结评价)
        "responsible_party": "仓库",
        "penalty_note": "无",
        "root_cause": "出库未检",
        "corrective_action": "出库前逐台检测",
    }
    with app.session() as session:  # kehu itself: holds the exemption from the follow-up
        api.close(
            app, session, done.id, "刘洋", changes=review, reason="客户确认已解决", now=at("2026-03-03T16:30")
        )
    assert planned_calls(app) == [
        ("PLAIN", datetime(2026, 3, 10, 8, 30, tzinfo=UTC), "刘洋", f"acme-followup:{done.id}:0"),
    ]
    with app.session() as session:  # withdrawn is a close too
        api.close(
            app,
            session,
            still_open.id,
            "王芳",
            stage="withdrawn",
            reason="客户撤回",
            now=at("2026-03-04T00:00"),
        )
    assert planned_calls(app)[1] == (
        "VIP",
        datetime(2026, 3, 10, 16, 0, tzinfo=UTC),
        "王芳",
        f"acme-followup:{still_open.id}:0",
    )


def test_a_refused_close_plans_no_call(accounts):
    app = accounts
    with app.session() as session:
        c = api.open_complaint(app, session, {"customer_code": "PLAIN", "description": "卡纸"}, "刘洋")
    with pytest.raises(api.TransitionRefused), app.session() as session:
        api.close(app, session, c.id, "刘洋", reason="想关")  # received -> closed is not in the workflow
    assert planned_calls(app) == []
