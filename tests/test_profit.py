"""Customer profit (客户利润 = 经营利润 + 费用支持 − 费用支出) and the 80/20 of profit, by hand.

Every figure below is worked out in the comments next to it, on a small distributor whose
markup differs by category; period edges are tested to the local day.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest

from kehu_core import calendar, customers, interactions
from kehu_core.errors import KehuError
from kehu_core.profit import customer_profit, gross_profit_select, profit_by_customer, profit_report
from kehu_core.users import add_user

SINCE, UNTIL = date(2026, 1, 1), date(2026, 3, 31)


def _log(app, s, code, kind, when, amount=None, cost=None, category=None, **more):
    values = {"customer_code": code, "kind": kind, "occurred_at": when}
    for key, value in (("amount", amount), ("cost", cost), ("category", category), *more.items()):
        if value is not None:
            values[key] = value
    interactions.log_interaction(app, s, values)


def _day(d: date, seconds: int = 3600):
    return calendar.day_start(d) + timedelta(seconds=seconds)


def _distributor(app, s):
    customers.add_customer(
        app,
        s,
        {"code": "D1", "name": "华东经销商", "attributes": {"profit.markup_rate": "饮料=0.25; *=0.2"}},
    )
    for args in (
        ("purchase", _day(date(2026, 1, 10)), "10000.00", "7000.00", "饮料"),
        ("purchase", _day(date(2026, 2, 10)), "5000.00", "4000.00", "零食"),
        ("purchase", _day(date(2026, 3, 5)), "-1000.00", "700.00", "饮料"),  # a refund, goods back
        ("purchase", _day(date(2026, 3, 20)), "2000.00", None, "零食"),  # no cost recorded
        # The period's edges: the last second before it and the first second after it.
        ("purchase", calendar.day_start(SINCE) - timedelta(seconds=1), "999.00", "1.00", "饮料"),
        ("purchase", calendar.day_end(UNTIL), "888.00", "1.00", "饮料"),
        # Exactly on the edges: the first and the last second of the period count.
        ("support", calendar.day_start(SINCE), "500.00", None, "year_end_reward"),
        ("support", calendar.day_end(UNTIL) - timedelta(seconds=1), "800.00", None, "advertising"),
        ("support", _day(date(2026, 2, 1)), "200.00", None, "training"),
        ("support", _day(date(2026, 2, 2)), "100.00", None, "custom"),  # unknown: other support
        ("expense", _day(date(2026, 2, 3)), "300.00", None, "warehousing"),
        ("expense", _day(date(2026, 2, 4)), "150.00", None, "transport"),
        ("expense", _day(date(2026, 2, 5)), "1000.00", None, "wages"),
    ):
        _log(app, s, "D1", *args)
    _log(app, s, "D1", "support", _day(date(2026, 2, 6)), "7777.00", category="promotion", status="cancelled")


def test_distributor_statement_line_by_line(kehu_app):
    with kehu_app.session() as s:
        _distributor(kehu_app, s)
        p = customer_profit(kehu_app, s, "D1", SINCE, UNTIL)
    # Revenue: 10000 + 5000 - 1000 + 2000 (the edges' 999 and 888 are outside).
    assert p.revenue == Decimal("16000.00")
    # With a cost: 10000 + 5000 - 1000; cost 7000 + 4000 - 700 (the refund's goods come back).
    assert (p.costed_revenue, p.cost) == (Decimal("14000.00"), Decimal("10300.00"))
    assert p.gross_profit == Decimal("3700.00")
    assert p.uncosted_purchases == 1
    lines = [(x.section, x.item, x.amount, x.source) for x in p.lines]
    assert lines == [
        # 饮料 net 10000 - 1000 = 9000 at 25%: 2250; 零食 5000 + 2000 = 7000 at 20% (*): 1400.
        ("operating", "markup", Decimal("3650.00"), "markup rate"),
        ("operating", "year_end_reward", Decimal("500.00"), "recorded"),
        ("support", "advertising", Decimal("800.00"), "recorded"),
        ("support", "other", Decimal("100.00"), "recorded"),
        ("support", "training", Decimal("200.00"), "recorded"),
        ("outlay", "transport", Decimal("150.00"), "recorded"),
        ("outlay", "wages", Decimal("1000.00"), "recorded"),
        ("outlay", "warehousing", Decimal("300.00"), "recorded"),
    ]
    assert p.operating_profit == Decimal("4150.00")  # 3650 + 500
    assert p.support == Decimal("1100.00")  # 800 + 100 + 200
    assert p.outlay == Decimal("1450.00")  # 150 + 1000 + 300
    assert p.customer_profit == Decimal("3800.00")  # 4150 + 1100 - 1450
    assert p.given == Decimal("1600.00")  # 500 + 1100: the markup is theirs, not given by us
    assert p.contribution == Decimal("2100.00")  # 3700 - 1600
    assert p.markup_basis == "markup rate"


def test_recorded_resale_figures_replace_the_markup_rate(kehu_app):
    with kehu_app.session() as s:
        _distributor(kehu_app, s)
        # Their own figures: sold our goods for 13000, which cost them 10100.
        _log(kehu_app, s, "D1", "resale", _day(date(2026, 3, 31)), "13000.00", "10100.00")
        p = customer_profit(kehu_app, s, "D1", SINCE, UNTIL)
    assert p.markup_basis == "recorded"
    assert p.lines[0].amount == Decimal("2900.00")
    assert p.operating_profit == Decimal("3400.00")  # 2900 + 500
    assert p.customer_profit == Decimal("3050.00")  # 3400 + 1100 - 1450


def test_period_edges_move_the_figures_by_one_day(kehu_app):
    with kehu_app.session() as s:
        _distributor(kehu_app, s)
        wider = customer_profit(kehu_app, s, "D1", SINCE - timedelta(days=1), UNTIL + timedelta(days=1))
        narrower = customer_profit(kehu_app, s, "D1", SINCE + timedelta(days=1), UNTIL - timedelta(days=1))
        with pytest.raises(KehuError, match="after until"):
            customer_profit(kehu_app, s, "D1", UNTIL, SINCE)
        single = customer_profit(kehu_app, s, "D1", SINCE, SINCE)
    assert wider.revenue == Decimal("17887.00")  # + 999 + 888
    assert narrower.support == Decimal("300.00")  # 800 on the last day is out, 200 + 100 stay
    assert narrower.operating_profit == Decimal("3650.00")  # the 500 on the first day is out
    assert single.revenue == Decimal("0.00") and single.operating_profit == Decimal("500.00")


def test_report_ranks_by_contribution_and_marks_the_80_percent(kehu_app, kehu_cli):
    with kehu_app.session() as s:
        # Contributions 80, 15, 5 and -10: total 90; 80% of it is 72, reached by A alone.
        for code, amount, cost in (("A", "180.00", "100.00"), ("B", "35.00", "20.00"), ("C", "5.00", "0.00")):
            customers.add_customer(kehu_app, s, {"code": code, "name": code})
            _log(kehu_app, s, code, "purchase", _day(date(2026, 2, 1)), amount, cost)
        customers.add_customer(kehu_app, s, {"code": "N", "name": "N"})
        _log(kehu_app, s, "N", "purchase", _day(date(2026, 2, 1)), "10.00", "10.00")
        _log(kehu_app, s, "N", "support", _day(date(2026, 2, 1)), "10.00", category="promotion")
        report = profit_report(kehu_app, s, SINCE, UNTIL)
    assert [r.profit.code for r in report.rows] == ["A", "B", "C", "N"]
    assert [r.profit.contribution for r in report.rows] == [
        Decimal("80.00"),
        Decimal("15.00"),
        Decimal("5.00"),
        Decimal("-10.00"),
    ]
    assert report.total_contribution == Decimal("90.00")
    # 80 / 90 = 0.888...: at or above 0.8, so A alone is the 20%.
    assert report.pareto_customers == 1
    assert [r.pareto for r in report.rows] == [True, False, False, False]
    assert report.rows[2].cumulative_share == Decimal(100) / Decimal(90)  # the whale curve's top
    assert report.rows[3].cumulative_share == 1

    out = kehu_cli("customer", "profit-report", "--since", "2026-01-01", "--until", "2026-03-31", "--csv")
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert [(r["code"], r["contribution"], r["pareto"]) for r in rows][0] == ("A", "80.00", "True")
    out = kehu_cli("customer", "profit-report", "--json")
    assert out.json["pareto_customers"] == 1 and out.json["customers"] == 4


@pytest.mark.parametrize(
    ("first", "expected"),
    [("71.99", 2), ("72.00", 1), ("72.01", 1)],
)
def test_pareto_edge_exactly_80_percent(kehu_app, first, expected):
    with kehu_app.session() as s:
        # First contribution x, second 90 - x: the total is 90, 80% of it 72.
        for code, margin in (("A", Decimal(first)), ("B", Decimal("90.00") - Decimal(first))):
            customers.add_customer(kehu_app, s, {"code": code, "name": code})
            _log(kehu_app, s, code, "purchase", _day(date(2026, 2, 1)), str(margin), "0.00")
        report = profit_report(kehu_app, s, SINCE, UNTIL)
    assert report.pareto_customers == expected


def test_cli_statement_and_sql_select(kehu_app, kehu_cli):
    with kehu_app.session() as s:
        _distributor(kehu_app, s)
        rows = {r.customer_id: r for r in s.execute(gross_profit_select(SINCE, UNTIL))}
        (only,) = rows.values()
        assert Decimal(str(only.gross_profit)).quantize(Decimal("0.01")) == Decimal("3700.00")
        assert only.uncosted == 1
    out = kehu_cli("customer", "profit", "D1", "--since", "2026-01-01", "--until", "2026-03-31")
    assert out.exit_code == 0, out.output
    assert "客户利润 customer profit" in out.output and "3800.00" in out.output
    out = kehu_cli("customer", "profit", "D1", "--since", "2026-01-01", "--until", "2026-03-31", "--json")
    assert out.json["customer_profit"] == "3800.00" and out.json["contribution"] == "2100.00"
    card = kehu_cli("customer", "show", "D1", "--json")
    assert card.exit_code == 0, card.output
    assert "profit" in card.json


def test_only_visible_customers(kehu_app):
    with kehu_app.session() as s:
        add_user(kehu_app, s, "boss", roles=["admin"])
        add_user(kehu_app, s, "li", roles=["sales"])
        add_user(kehu_app, s, "wang", roles=["sales"])
        customers.add_customer(kehu_app, s, {"code": "LI1", "name": "li's", "owner": "li"})
        customers.add_customer(kehu_app, s, {"code": "W1", "name": "wang's", "owner": "wang"})
        _log(kehu_app, s, "LI1", "purchase", _day(date(2026, 2, 1)), "100.00", "60.00")
        _log(kehu_app, s, "W1", "purchase", _day(date(2026, 2, 1)), "98765.43", "1.00")
    with kehu_app.session(as_user="li") as s:
        report = profit_report(kehu_app, s)
        assert [r.profit.code for r in report.rows] == ["LI1"]
        assert set(profit_by_customer(kehu_app, s)) == {report.rows[0].profit.customer_id}
        with pytest.raises(KehuError, match="no customer"):
            customer_profit(kehu_app, s, "W1")
    with kehu_app.session(as_user="boss") as s:
        assert [r.profit.code for r in profit_report(kehu_app, s).rows] == ["W1", "LI1"]
