"""The profile card and its 6W1H1S summary, against hand-computed figures."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kehu_core import ProfileSection, customers, hookimpl, interactions
from kehu_core.profile import summarize


def test_summary_matches_hand_computed_figures(kehu_app, kehu_cli):
    now = datetime(2026, 11, 1, 12, tzinfo=UTC)
    with kehu_app.session() as s:
        c = customers.add_customer(kehu_app, s, {"code": "C1", "name": "成都丰泰商贸公司"})
        rows = [
            ("purchase", now - timedelta(days=400), "100.00", "耗材", "A4纸", "门店", None),
            ("purchase", now - timedelta(days=100), "250.50", "办公设备", "打印机", "门店", None),
            ("purchase", now - timedelta(days=40), "300.00", "耗材", "硒鼓", "线上商城", None),
            ("feedback", now - timedelta(days=30), None, None, None, None, 4),
            ("feedback", now - timedelta(days=10), None, None, None, None, 5),
            ("call", now - timedelta(days=5), None, None, None, None, None),
        ]
        for kind, when, amount, category, product, channel, sat in rows:
            values = {"customer_code": "C1", "kind": kind, "occurred_at": when}
            values |= {
                k: v
                for k, v in (
                    ("amount", amount),
                    ("category", category),
                    ("product", product),
                    ("channel", channel),
                    ("satisfaction", sat),
                )
                if v is not None
            }
            interactions.log_interaction(kehu_app, s, values)
        interactions.plan_interaction(
            kehu_app, s, {"customer_code": "C1", "occurred_at": now + timedelta(days=7)}
        )
        interactions.log_interaction(
            kehu_app,
            s,
            {
                "customer_code": "C1",
                "kind": "purchase",
                "status": "cancelled",
                "occurred_at": now - timedelta(days=2),
                "amount": "999",
            },
        )
        summary = summarize(s, c.id, now=now)
    assert summary.total_revenue == Decimal("650.50")
    assert summary.revenue_12m == Decimal("550.50")
    assert summary.purchases == 3
    assert summary.top_categories == (("耗材", Decimal("400.00")), ("办公设备", Decimal("250.50")))
    assert summary.channels == (("门店", 2), ("线上商城", 1))
    assert summary.last_satisfaction == 5
    assert summary.days_since_last_contact == 5
    assert summary.next_planned == now + timedelta(days=7)

    card = kehu_cli("customer", "show", "C1", "--json").json
    assert set(card) >= {"profile", "summary", "history"}
    assert card["summary"]["total_revenue"] == "650.50"
    assert len(card["history"]["interactions"]) == 6  # done ones only: not the plan, not the cancelled

    text = kehu_cli("customer", "show", "C1").output
    assert "Summary 6W1H1S" in text and "耗材 (400.00)" in text and "Visit history" in text


def test_plugin_section_appears_on_the_card(kehu_app, kehu_cli, kehu_register_plugin):
    class Credit:
        @hookimpl
        def kehu_profile_sections(self, session, customer):
            return [
                ProfileSection(
                    title="Credit 信用",
                    rows=[("Rating 评级", "AA")],
                    data={"rating": "AA"},
                    key="credit",
                    order=5,
                )
            ]

    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "甲"})
    kehu_register_plugin(Credit(), "credit")
    card = kehu_cli("customer", "show", "C1", "--json").json
    assert card["credit"] == {"rating": "AA"}
    assert list(card).index("credit") == 1  # order 5: after the fields (0), before the summary (10)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/Los_Angeles"])
def test_buying_months_are_local_months(kehu_app, kehu_cli, company_zone, zone):
    # 00:30 on the 1st is still the month before in UTC in Shanghai (+08:00); 23:30 on the last
    # day is already the next month in UTC in Los Angeles (-07:00 in May).
    company_zone(zone)
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "甲"})
        for at in ("2025-03-01 00:30", "2026-03-01 00:30", "2026-05-31 23:30"):
            interactions.log_interaction(
                kehu_app, s, {"customer_code": "C1", "kind": "purchase", "occurred_at": at, "amount": "10"}
            )
    card = kehu_cli("customer", "show", "C1", "--json").json
    assert card["summary"]["buying_months"] == [3, 5]
    text = kehu_cli("customer", "show", "C1").output
    assert re.search(r"Buying months +3, 5\n", text), text


def test_visit_history_and_next_plan_print_local_times(kehu_app, kehu_cli):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "甲"})
        interactions.log_interaction(
            kehu_app,
            s,
            {
                "customer_code": "C1",
                "kind": "purchase",
                "occurred_at": "2025-02-10T21:00:00+00:00",
                "amount": "5",
            },
        )
        interactions.plan_interaction(
            kehu_app, s, {"customer_code": "C1", "occurred_at": datetime(2099, 12, 31, 16, 30, tzinfo=UTC)}
        )
    text = kehu_cli("customer", "show", "C1").output
    assert "  2025-02-11 05:00  purchase 5.00" in text and "2025-02-10 21:00" not in text
    assert re.search(r"Next planned contact +2100-01-01 00:30\n", text), text
    card = kehu_cli("customer", "show", "C1", "--json").json
    assert card["history"]["interactions"][0]["occurred_at"] == "2025-02-10T21:00:00+00:00"
    assert card["summary"]["next_planned"] == "2099-12-31T16:30:00+00:00"


def test_days_since_last_contact_counts_local_days(kehu_app):
    now = datetime(2026, 3, 31, 17, 0, tzinfo=UTC)  # 01:00 on 1 April in Shanghai
    with kehu_app.session() as s:
        c = customers.add_customer(kehu_app, s, {"code": "C1", "name": "甲"})
        interactions.log_interaction(
            kehu_app, s, {"customer_code": "C1", "kind": "call", "occurred_at": "2026-03-31 23:00"}
        )
        assert summarize(s, c.id, now=now).days_since_last_contact == 1  # two hours ago, yesterday
