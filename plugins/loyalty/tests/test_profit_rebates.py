"""Settled rebates (返利) in the customer-profit statement: operating profit, counted in the
statement whose period holds the rebate period's last day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from kehu_core import calendar, customers, interactions
from kehu_core.profit import customer_profit
from kehu_loyalty import rebates


def test_settled_quarter_rebate_is_operating_profit(kehu_app, kehu_install):
    kehu_install("loyalty")
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "D1", "name": "经销商一", "tags": "经销商"})
        interactions.log_interaction(
            kehu_app,
            s,
            {
                "customer_code": "D1",
                "kind": "purchase",
                "occurred_at": calendar.day_start(date(2026, 2, 1)) + timedelta(hours=2),
                "amount": "200000.00",
                "cost": "150000.00",
            },
        )
        programme = rebates.add_programme(
            s, "Q", "季返", "quarter", ["100000:2%"], starts_on=date(2026, 1, 1)
        )
        rebates.settle(s, programme, today=date(2026, 4, 1))
        # Q1's last day is 31 March: in a statement to 31 March, not in one to 30 March.
        whole = customer_profit(kehu_app, s, "D1", date(2026, 1, 1), date(2026, 3, 31))
        short = customer_profit(kehu_app, s, "D1", date(2026, 1, 1), date(2026, 3, 30))
        later = customer_profit(kehu_app, s, "D1", date(2026, 4, 1), date(2026, 6, 30))
    # 200000 at 2%: 4000, given by us; gross 50000, contribution 46000.
    assert [(x.item, x.amount, x.source) for x in whole.lines] == [("rebate", Decimal("4000.00"), "loyalty")]
    assert (whole.operating_profit, whole.given, whole.contribution) == (
        Decimal("4000.00"),
        Decimal("4000.00"),
        Decimal("46000.00"),
    )
    assert short.lines == () and later.lines == ()
