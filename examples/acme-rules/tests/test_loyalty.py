"""ACME's double points on 11-11, where loyalty is installed too (it is not a dependency)."""

from __future__ import annotations

from datetime import datetime

import pytest

from kehu_core import customers, interactions
from kehu_core.plugins import discover
from kehu_loyalty.api import enroll, statement


@pytest.fixture
def kehu_plugins():
    return discover(strict=True, allow={"acme_rules", "tiering", "complaints", "loyalty"})


def at(text):
    return datetime.fromisoformat(text)


def test_double_points_on_11_11_by_the_company_day(kehu_app, kehu_install, kehu_cli, company_zone):
    company_zone("Asia/Shanghai")
    kehu_install("loyalty", "acme_rules")
    app = kehu_app
    with app.session() as session:
        customers.add_customer(app, session, {"code": "C1", "name": "北京盛达贸易"})
        enroll(app, session, ["C1"], since=at("2025-01-01T00:00+08:00"))
        for moment in (
            "2025-11-10T23:59+08:00",  # the day before: the usual points
            "2025-11-11T00:00+08:00",  # 16:00 UTC on 11-10, but 11-11 in the company: double
            "2025-11-11T23:59+08:00",  # double
            "2025-11-12T00:00+08:00",  # the day after: the usual points
        ):
            interactions.log_interaction(
                app,
                session,
                {"customer_code": "C1", "kind": "purchase", "occurred_at": at(moment), "amount": "100"},
            )
    with app.session() as session:
        entries = statement(session, "C1")
    earned = [(e["points"], e["rule"]) for e in entries if e["kind"] == "earn" and "base" in e["rule"]]
    assert earned == [
        (100, "base"),
        (200, "base+acme.double_11"),
        (200, "base+acme.double_11"),
        (100, "base"),
    ]
    rules = kehu_cli("loyalty", "rules", "--json")
    assert rules.exit_code == 0, rules.output
    [double] = [r for r in rules.json if r["name"] == "acme.double_11"]
    assert (double["multiplier"], double["every_year"]) == ("2", "11-11")


def test_without_loyalty_installed_acme_works_and_adds_no_rule(kehu_app, kehu_install, kehu_cli):
    kehu_install("acme_rules")
    assert "loyalty" not in kehu_app.installed()
    assert kehu_cli("acme", "manager", "赵敏").exit_code == 0
