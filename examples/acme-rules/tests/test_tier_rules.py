"""ACME's key-account rules, run by the tiering plugin (skipped where tiering is not installed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kehu_core import customers, interactions

pytest.importorskip("kehu_tiering")


@pytest.fixture
def kehu_plugins():
    from kehu_core.plugins import discover

    return discover(strict=True, allow={"acme_rules", "tiering"})


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
    assert kehu_cli("acme", "set", "C1", "--market-strength", "--by", "王芳").exit_code == 0
    assert kehu_cli("tier", "run").exit_code == 0
    assert key_account_reasons(kehu_cli, "C1") == ["acme.judged_key_account"]
    assert "rule acme.judged_key_account (acme_rules)" in kehu_cli("tier", "explain", "C1").output


def test_big_and_long_needs_both_revenue_and_tenure(shop, kehu_cli):
    assert kehu_cli("tier", "run").exit_code == 0
    assert "acme.big_and_long" in key_account_reasons(kehu_cli, "C2")
    assert "acme.big_and_long" not in key_account_reasons(kehu_cli, "C3")
