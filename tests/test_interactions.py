"""Interactions: log, plan, due, list; bad values; hostile text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

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


# -- the company calendar: local days in filters, local times in output ------------------------


def test_list_until_a_day_includes_all_of_that_local_day(kehu_app, kehu_cli, c1):
    # Shanghai: 23:59 on 31 March is 15:59 UTC; 00:00 on 1 April is 16:00 UTC on 31 March.
    log(kehu_app, customer_code="C1", kind="call", occurred_at="2026-03-31 23:59", note="last")
    log(kehu_app, customer_code="C1", kind="call", occurred_at="2026-04-01 00:00", note="next")
    log(kehu_app, customer_code="C1", kind="call", occurred_at="2026-03-01 00:00", note="first")

    def notes(*args):
        result = kehu_cli("interaction", "list", "--oldest-first", *args, "--json")
        assert result.exit_code == 0, result
        return [r["note"] for r in result.json]

    assert notes("--until", "2026-03-31") == ["first", "last"]
    assert notes("--until", "2026/03/31") == ["first", "last"]
    assert notes("--since", "2026-04-01") == ["next"]
    assert notes("--since", "2026-03-31", "--until", "2026-03-31") == ["last"]
    assert notes("--since", "2026-03-01", "--until", "2026-03-01") == ["first"]
    # A time is an instant: --until excludes it.
    assert notes("--until", "2026-03-31T23:59") == ["first"]
    assert notes("--until", "2026-04-01T00:00:00+08:00") == ["first", "last"]
    with kehu_app.session() as s:
        query = interactions.InteractionQuery(until=date(2026, 3, 31), newest_first=False)
        assert [r.note for r in interactions.list_interactions(s, query)] == ["first", "last"]


def test_due_as_of_a_day_includes_all_of_that_local_day(kehu_app, kehu_cli, c1):
    for at, note in (("2026-03-31 23:59", "late"), ("2026-04-01 00:00", "tomorrow")):
        assert kehu_cli("interaction", "plan", "C1", "--at", at, "--note", note).exit_code == 0
    due = kehu_cli("interaction", "due", "--as-of", "2026-03-31", "--json").json
    assert [d["note"] for d in due] == ["late"]
    due = kehu_cli("interaction", "due", "--as-of", "2026-03-31T23:59", "--json").json
    assert [d["note"] for d in due] == ["late"]  # a plan at the instant itself is due
    due = kehu_cli("interaction", "due", "--as-of", "2026-04-01", "--json").json
    assert [d["note"] for d in due] == ["late", "tomorrow"]
    with kehu_app.session() as s:
        assert len(interactions.due_interactions(s, date(2026, 3, 31))) == 1


def test_times_are_printed_local_and_exported_in_utc(kehu_app, kehu_cli, c1):
    log(kehu_app, customer_code="C1", kind="purchase", occurred_at="2025-02-10T21:00:00+00:00", amount="5")
    table = kehu_cli("interaction", "list").output
    assert "2025-02-11 05:00" in table and "2025-02-10 21:00" not in table
    listed = kehu_cli("interaction", "list", "--json").json
    assert listed[0]["occurred_at"] == "2025-02-10T21:00:00+00:00"
    csv_out = kehu_cli("interaction", "list", "--csv").output.splitlines()
    assert ",2025-02-10T21:00:00+00:00," in csv_out[1]


def test_plan_and_errors_show_times_as_given_or_local(kehu_app, kehu_cli, c1):
    planned = kehu_cli("interaction", "plan", "C1", "--at", "2026-12-31T17:00")
    assert planned.exit_code == 0, planned
    assert "at 2026-12-31 17:00" in planned.output and "09:00" not in planned.output
    assert kehu_cli("interaction", "plan", "C1", "--at", "2026-12-31T17:00", "--json").json[
        "occurred_at"
    ] == ("2026-12-31T09:00:00+00:00")
    for args, shown in (
        (("interaction", "log", "C1", "call", "--at", "2026-02-30T17:00"), "2026-02-30T17:00"),
        (("interaction", "log", "C1", "call", "--at", "1800-12-31T17:00"), "1800-12-31T17:00"),
        (("interaction", "plan", "C1", "--at", "2026-12-31T25:00"), "2026-12-31T25:00"),
        (("interaction", "list", "--until", "2026-13-01"), "2026-13-01"),
        (("interaction", "due", "--as-of", "2026-12-31T17:00:99"), "2026-12-31T17:00:99"),
    ):
        result = kehu_cli(*args)
        assert result.exit_code != 0, result
        assert f"'{shown}'" in result.output, result
        assert "+00:00" not in result.output and "T09:00" not in result.output, result
