"""Interactions: log, plan, due, list; bad values; hostile text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kehu_core import customers, interactions
from kehu_core.errors import ValidationError


@pytest.fixture
def c1(kehu_app):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "上海华盛贸易有限公司", "owner": "王芳"})
    return "C1"


def log(app, **values):
    with app.session() as s:
        return interactions.log_interaction(app, s, values)


def count(app) -> int:
    with app.session() as s:
        return len(interactions.list_interactions(s, interactions.InteractionQuery(limit=None)))


def test_log_purchase_through_cli(kehu_app, kehu_cli, c1):
    result = kehu_cli(
        "interaction",
        "log",
        "C1",
        "purchase",
        "--amount",
        "1,200.50",
        "--product",
        "打印机",
        "--channel",
        "门店",
        "--at",
        "2026-03-01T10:00:00+08:00",
        "--json",
    )
    assert result.exit_code == 0, result
    data = result.json
    assert data["amount"] == "1200.50"
    assert data["occurred_at"] == "2026-03-01T02:00:00+00:00"
    listed = kehu_cli("interaction", "list", "--customer", "C1", "--json").json
    assert [r["product"] for r in listed] == ["打印机"]


@pytest.mark.parametrize(
    "values, field, reason",
    [
        ({"customer_code": "NOPE", "kind": "call"}, "customer_code", "no customer with this code"),
        ({"kind": "call", "occurred_at": "2026-02-30"}, "occurred_at", "not a date"),
        ({"kind": "payment", "amount": "-5"}, "amount", "must not be negative"),
        ({"kind": "purchase", "amount": "12元"}, "amount", "not a number"),
        ({"kind": "purchase", "amount": "1.005"}, "amount", "more than two decimals"),
        ({"kind": "feedback", "satisfaction": "6"}, "satisfaction", "between 1 and 5"),
        ({"kind": "feedback", "satisfaction": "0"}, "satisfaction", "between 1 and 5"),
        ({"kind": "teleport"}, "kind", "must be one of"),
        ({"kind": "call", "note": "长" * 10_001}, "note", "too long"),
        ({"kind": "call", "product": "x" * 201}, "product", "too long"),
        ({"kind": "visit", "due_at": "2026-01-01"}, "due_at", "only payments"),
    ],
)
def test_bad_values_are_refused_and_change_nothing(kehu_app, c1, values, field, reason):
    full = {"customer_code": "C1", "occurred_at": "2026-01-05", **values}
    with pytest.raises(ValidationError) as err:
        log(kehu_app, **full)
    message = str(err.value)
    assert f"{field}:" in message and reason in message, message
    assert count(kehu_app) == 0


def test_refund_is_a_negative_purchase(kehu_app, c1):
    record = log(kehu_app, customer_code="C1", kind="purchase", occurred_at="2026-01-05", amount="-99.90")
    assert str(record.amount) == "-99.90"


def test_cli_error_is_one_clear_line_without_traceback(kehu_app, kehu_cli, c1):
    result = kehu_cli("interaction", "log", "C1", "feedback", "--satisfaction", "9")
    assert result.exit_code == 1
    assert "satisfaction: must be between 1 and 5" in result.output
    assert "Traceback" not in result.output


def test_external_ref_makes_logging_idempotent(kehu_app, kehu_cli, c1):
    first = kehu_cli("interaction", "log", "C1", "call", "--external-ref", "CRM-1")
    again = kehu_cli("interaction", "log", "C1", "call", "--external-ref", "CRM-1")
    assert first.exit_code == 0 and again.exit_code == 1
    assert "external_ref: already recorded" in again.output
    assert count(kehu_app) == 1


def test_payment_carries_due_and_paid_dates(kehu_app, c1):
    record = log(
        kehu_app,
        customer_code="C1",
        kind="payment",
        occurred_at="2026-02-01",
        amount="500",
        due_at="2026-01-15",
        paid_at="2026-02-01",
    )
    assert record.due_at == datetime(2026, 1, 14, 16, 0, tzinfo=UTC)  # midnight in Shanghai
    assert record.paid_at is not None


def test_plan_and_due(kehu_app, kehu_cli, c1):
    now = datetime.now(UTC)
    past = (now - timedelta(days=3)).isoformat()
    future = (now + timedelta(days=30)).isoformat()
    assert kehu_cli("interaction", "plan", "C1", "--at", past, "--note", "回访").exit_code == 0
    assert kehu_cli("interaction", "plan", "C1", "--at", future, "--kind", "call").exit_code == 0
    due = kehu_cli("interaction", "due", "--json").json
    assert [(d["kind"], d["status"], d["note"]) for d in due] == [("visit", "planned", "回访")]
    # The owner's plans include those naming no salesperson.
    assert len(kehu_cli("interaction", "due", "--owner", "王芳", "--json").json) == 1
    assert kehu_cli("interaction", "due", "--owner", "李娜", "--json").json == []
    later = kehu_cli("interaction", "due", "--as-of", (now + timedelta(days=60)).isoformat(), "--json").json
    assert len(later) == 2


def test_plan_refuses_a_purchase(kehu_app, kehu_cli, c1):
    result = kehu_cli("interaction", "plan", "C1", "--at", "2030-01-01", "--kind", "purchase")
    assert result.exit_code == 1 and "kind: a plan is one of" in result.output


@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE customers; --",
        "Robert'); DELETE FROM interactions;--",
        "王小明 😀🎉 客户",
        "bell\x07 escape\x1b[31m red",
        "line1\nline2\ttab",
    ],
)
def test_hostile_text_is_stored_and_shown_as_text(kehu_app, kehu_cli, c1, text):
    log(kehu_app, customer_code="C1", kind="call", occurred_at="2026-01-05", note=text)
    listed = kehu_cli("interaction", "list", "--json").json
    assert listed[0]["note"] == text
    table = kehu_cli("interaction", "list").output
    assert "\x1b" not in table and "\x07" not in table
    assert kehu_cli("customer", "list", "--json").exit_code == 0  # the table is still there


def test_list_filters(kehu_app, kehu_cli, c1):
    log(kehu_app, customer_code="C1", kind="call", occurred_at="2026-01-05", salesperson="李娜")
    log(kehu_app, customer_code="C1", kind="purchase", occurred_at="2026-02-05", amount="10")
    assert [r["kind"] for r in kehu_cli("interaction", "list", "--kind", "call", "--json").json] == ["call"]
    assert [r["kind"] for r in kehu_cli("interaction", "list", "--since", "2026-02-01", "--json").json] == [
        "purchase"
    ]
    assert [r["kind"] for r in kehu_cli("interaction", "list", "--oldest-first", "--json").json] == [
        "call",
        "purchase",
    ]
    assert kehu_cli("interaction", "list", "--since", "yesterday").exit_code == 2
    csv_out = kehu_cli("interaction", "list", "--csv").output.splitlines()
    assert csv_out[0].startswith("id,occurred_at,customer_code") and len(csv_out) == 3
