"""ACME's key-account and late-payer rules, run by the tiering plugin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kehu_core import customers, interactions


@pytest.fixture
def shop(kehu_app, kehu_install):
    kehu_install("tiering", "acme_rules")
    now = datetime.now(UTC)
    with kehu_app.session() as session:
        # C1: small and new; C2: 1.2M over 30 months (ACME's big-and-long); C3: 1.2M but new.
        for code, name in (("C1", "安徽建材商行"), ("C2", "北京盛达贸易有限公司"), ("C3", "广州新客户公司")):
            customers.add_customer(kehu_app, session, {"code": code, "name": name})
        rows = [
            ("C1", now - timedelta(days=20), "500"),
            ("C2", now - timedelta(days=30 * 30), "600000"),
            ("C2", now - timedelta(days=40), "600000"),
            ("C3", now - timedelta(days=60), "1200000"),
        ]
        for code, when, amount in rows:
            interactions.log_interaction(
                kehu_app,
                session,
                {"customer_code": code, "kind": "purchase", "occurred_at": when, "amount": amount},
            )
    return kehu_app


def key_account_reasons(kehu_cli, code):
    flags = kehu_cli("tier", "show", code, "--json").json["flags"]
    return [f["decided_by"] for f in flags if f["tier"] == "key_account"]


def test_acme_rules_are_listed_before_the_builtins(shop, kehu_cli):
    rules = kehu_cli("tier", "rules", "--json").json
    names = [r["name"] for r in rules]
    assert names[:2] == ["acme.judged_key_account", "acme.big_and_long"]
    assert {r["source"] for r in rules if r["name"].startswith("acme.")} == {"acme_rules"}


def test_a_salespersons_judgement_makes_a_small_customer_a_key_account(shop, kehu_cli):
    assert kehu_cli("tier", "run").exit_code == 0
    assert key_account_reasons(kehu_cli, "C1") == []
    assert kehu_cli("--as", "王芳", "acme", "set", "C1", "--market-strength").exit_code == 0
    assert kehu_cli("tier", "run").exit_code == 0
    assert key_account_reasons(kehu_cli, "C1") == ["acme.judged_key_account"]
    assert "rule acme.judged_key_account (acme_rules)" in kehu_cli("tier", "explain", "C1").output


def test_big_and_long_needs_both_revenue_and_tenure(shop, kehu_cli):
    assert kehu_cli("tier", "run").exit_code == 0
    assert "acme.big_and_long" in key_account_reasons(kehu_cli, "C2")
    assert "acme.big_and_long" not in key_account_reasons(kehu_cli, "C3")


@pytest.fixture
def payers(kehu_app, kehu_install, kehu_cli):
    """Payments due on May 1 (company time), paid 30 and 31 local days later, or still unpaid."""
    kehu_install("tiering", "acme_rules")
    with kehu_app.session() as session:
        for code in ("P30", "P31", "OPEN30", "OPEN31", "ONTIME"):
            customers.add_customer(kehu_app, session, {"code": code, "name": f"客户{code}"})
    payments = [
        ("P30", "2026-05-01T10:00", "2026-05-31T23:50"),  # May 31 local: 30 days late
        ("P31", "2026-05-01T10:00", "2026-06-01T00:10"),  # June 1 local (still May 31 in UTC): 31
        ("OPEN30", "2026-05-16T10:00", None),  # unpaid: 30 days late as of June 15
        ("OPEN31", "2026-05-15T10:00", None),  # unpaid: 31 days late as of June 15
        ("ONTIME", "2026-05-01T10:00", "2026-05-01T18:00"),
    ]
    for code, due, paid in payments:
        args = ["interaction", "log", code, "payment", "--at", due, "--amount", "100", "--due-at", due]
        result = kehu_cli(*args, *(["--paid-at", paid] if paid else []))
        assert result.exit_code == 0, result.output
    return kehu_app


def test_a_payment_over_30_days_late_makes_a_late_payer(payers, kehu_cli):
    result = kehu_cli("tier", "run", "--as-of", "2026-06-15")
    assert result.exit_code == 0, result.output
    late = kehu_cli("customer", "list", "--filter", "tier=late_payer", "--json").json
    assert [r["code"] for r in late] == ["OPEN31", "P31"]
    for code, days in (("P31", 31), ("OPEN31", 31)):
        flags = kehu_cli("tier", "show", code, "--json").json["flags"]
        [flag] = [f for f in flags if f["tier"] == "late_payer"]
        assert (flag["decided_by"], flag["metrics"]) == ("acme.late_payer", {"max_days_late": days})
    assert "rule acme.late_payer (acme_rules)" in kehu_cli("tier", "explain", "P31").output
