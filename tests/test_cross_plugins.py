"""Plugins cooperating only through hooks: tiering's tiers reach loyalty and complaints."""

from __future__ import annotations

import pytest

from kehu_core import customers, interactions

for plugin in ("kehu_tiering", "kehu_loyalty", "kehu_complaints"):
    pytest.importorskip(plugin)


@pytest.fixture
def shop(kehu_app, kehu_install, kehu_cli):
    kehu_install("tiering", "loyalty", "complaints")
    with kehu_app.session() as session:
        for n in range(1, 11):
            customers.add_customer(kehu_app, session, {"code": f"C{n}", "name": f"客户{n}号"})
            amount = "100000" if n == 1 else "100"
            interactions.log_interaction(
                kehu_app,
                session,
                {"customer_code": f"C{n}", "kind": "purchase", "occurred_at": "2026-09-01", "amount": amount},
            )
    assert kehu_cli("tier", "run").exit_code == 0
    return kehu_app


def test_loyalty_multiplies_points_by_the_tier_from_tiering(shop, kehu_cli):
    assert kehu_cli("tier", "show", "C1", "--json").json["tier"] == "VIP"
    assert kehu_cli("loyalty", "enroll", "C1", "C2").exit_code == 0
    for code in ("C1", "C2"):
        assert kehu_cli("interaction", "log", code, "purchase", "--amount", "1000").exit_code == 0
    c1 = kehu_cli("loyalty", "balance", "C1", "--json").json["balance"]
    c2 = kehu_cli("loyalty", "balance", "C2", "--json").json["balance"]
    # Both got the first-purchase bonus; the VIP earned 1.5 points per yuan, the other 1.
    assert c1 - c2 == 500


def test_a_complaint_interaction_opens_a_complaint_with_the_tiers_sla(shop, kehu_cli):
    result = kehu_cli("interaction", "log", "C1", "complaint", "--note", "送货延迟三天", "--channel", "电话")
    assert result.exit_code == 0, result
    opened = kehu_cli("complaint", "list", "--json").json
    assert [(c["customer_code"], c["tier"], c["sla_policy"], c["description"]) for c in opened] == [
        ("C1", "VIP", "key-account", "送货延迟三天")
    ]
    ordinary = kehu_cli("interaction", "log", "C5", "complaint", "--note", "包装破损")
    assert ordinary.exit_code == 0
    policies = {c["customer_code"]: c["sla_policy"] for c in kehu_cli("complaint", "list", "--json").json}
    assert policies["C5"] != "key-account"


def test_uninstalling_tiering_leaves_the_others_working(shop, kehu_cli):
    assert kehu_cli("plugins", "uninstall", "tiering", "--yes").exit_code == 0
    assert kehu_cli("loyalty", "enroll", "C1").exit_code == 0
    assert kehu_cli("interaction", "log", "C1", "purchase", "--amount", "1000").exit_code == 0
    # Without a tiering plugin everybody earns the base rate: 1000 points plus the first-purchase bonus.
    assert kehu_cli("loyalty", "balance", "C1", "--json").json["balance"] == 1100
    assert kehu_cli("interaction", "log", "C1", "complaint", "--note", "态度差").exit_code == 0
    assert kehu_cli("complaint", "list", "--json").json[0]["tier"] in (None, "")
    assert "kehu plugins install tiering" in kehu_cli("tier", "show", "C1").output


def test_the_demo_leaves_nothing_for_the_next_run_or_backfill(kehu_app, kehu_install, kehu_cli):
    """Each plugin's demo runs after those it depends on; what a later one adds (ACME's judged key
    accounts, loyalty's referrals) is taken into account in the demo, not by the user's next command."""
    pytest.importorskip("kehu_acme_rules")
    kehu_install("tiering", "loyalty", "complaints", "acme_rules")
    lines = kehu_cli("demo", "--customers", "80", "--json").json["lines"]
    judged = [line for line in lines if line.startswith("acme_rules: ")]
    assert len(judged) == 1 and "tiered again with them: key account " in judged[0]
    rerun = kehu_cli("tier", "run", "--json").json
    assert (rerun["written"], rerun["moved"]) == (0, 0)
    key_accounts = sum(rerun["counts"]["flag:key_account"].values())
    assert judged[0].endswith(f"key account {key_accounts}")
    assert kehu_cli("loyalty", "backfill", "--json").json["entries"] == 0
