"""One company calendar everywhere: every plugin puts a purchase in the same local month.

Shanghai is UTC+8. A purchase at 00:30 on 1 March in Shanghai is still 28 February in UTC, and
one at 00:30 on 1 April is still 31 March in UTC: bucketing by UTC would move 1,000 yuan into
February and 30 yuan into March. Every plugin must count March as 1,000 + 500 = 1,500 yuan.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kehu_core import customers, interactions
from kehu_core.profile import summarize

for plugin in ("kehu_tiering", "kehu_loyalty", "kehu_forecast"):
    pytest.importorskip(plugin)

from kehu_forecast import api as forecast  # noqa: E402
from kehu_loyalty import api as loyalty  # noqa: E402
from kehu_tiering import api as tiering  # noqa: E402

PURCHASES = (
    ("2026-02-28T23:30:00+08:00", "7"),  # the last half hour of February: February everywhere
    ("2026-03-01T00:30:00+08:00", "1000"),  # the first half hour of March: February in UTC
    ("2026-03-31T23:30:00+08:00", "500"),  # the last half hour of March
    ("2026-04-01T00:30:00+08:00", "30"),  # the first half hour of April: March in UTC
)
MARCH = Decimal("1500.00")


@pytest.fixture
def shop(kehu_app, kehu_install, company_zone):
    company_zone("Asia/Shanghai")
    kehu_install("tiering", "loyalty", "forecast")
    with kehu_app.session() as session:
        customers.add_customer(
            kehu_app, session, {"code": "D1", "name": "华东经销商", "region": "华东", "tags": "经销商"}
        )
        for at, amount in PURCHASES:
            interactions.log_interaction(
                kehu_app,
                session,
                {"customer_code": "D1", "kind": "purchase", "occurred_at": at, "amount": amount},
            )
    return kehu_app


def test_tiering_counts_the_local_month(shop):
    with shop.session() as session:
        settings = tiering.tier_settings(session, date(2026, 3, 31), defaults=True, window=1)
        stats = tiering.customer_stats(shop, session, "D1", settings)
    assert stats["revenue_window"] == MARCH
    assert stats["orders_window"] == 2


def test_loyalty_rebate_counts_the_local_month(shop):
    with shop.session() as session:
        programme = loyalty.add_programme(session, "YUEFAN", "月返", "month", ["100:1%"])
        (accrual,) = loyalty.accruals(session, programme, today=date(2026, 3, 31))
    assert (accrual.period_start, accrual.volume) == (date(2026, 3, 1), MARCH)


def test_forecast_history_counts_the_local_month(shop):
    with shop.session() as session:
        periods, rows = forecast.history_rows(session, freq="month", level="company", as_of=date(2026, 5, 1))
    (company,) = rows
    assert [company[month] for month in ("2026-02-01", "2026-03-01", "2026-04-01")] == [
        Decimal("7.00"),
        MARCH,
        Decimal("30.00"),
    ]


def test_the_profile_cards_buying_months_are_local(shop):
    with shop.session() as session:
        customer = customers.get_customer(session, "D1")
        summary = summarize(session, customer.id)
    assert summary.buying_months[0] == 3  # two purchases in March, one each in February and April
