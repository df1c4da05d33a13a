"""Distributor rebates at their edges (issue 21): a threshold reached exactly and a cent either
side, half-up rounding to the fen, rates at their limits, period ends (a purchase at the first
instant of the next period, a period ending exactly on the as-of day), the next threshold, and
settlement run, changed, run and run again unchanged.

The company calendar is Shanghai's (UTC+8, no summer time): a local day starts at 16:00 UTC
the day before. Every expected value is worked out by hand beside it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from kehu_core.errors import Conflict, NotFound, ValidationError
from kehu_loyalty.models import SETTLEMENTS
from kehu_loyalty.rebates import (
    accruals,
    add_programme,
    get_programme,
    list_programmes,
    period_of,
    rate_for,
    rebate_for,
    settle,
    settle_all,
    statement,
    volumes,
)

D = Decimal
TIERS = ((D("100000.00"), D("0.0200")), (D("500000.00"), D("0.0300")))


@pytest.mark.parametrize(
    ("volume", "rate", "rebate"),
    [
        ("-5", "0", "0.00"),  # a net refund earns nothing
        ("0", "0", "0.00"),
        ("99999.99", "0", "0.00"),  # a cent below the first threshold
        ("100000.00", "0.02", "2000.00"),  # exactly the first threshold
        ("100000.01", "0.02", "2000.00"),  # 2000.0002
        ("100000.25", "0.02", "2000.01"),  # 2000.005: half up (half to even would give 2000.00)
        ("499999.99", "0.02", "10000.00"),  # 9999.9998
        ("500000.00", "0.03", "15000.00"),  # exactly the second: 3% of the whole volume
        ("600000", "0.03", "18000.00"),
    ],
)
def test_the_highest_threshold_reached_applies_to_the_whole_volume(volume, rate, rebate):
    assert rate_for(TIERS, D(volume)) == D(rate)
    assert rebate_for(TIERS, D(volume)) == (D(rate), D(rebate))


def test_no_tiers_no_rebate():
    assert rebate_for((), D("1000000")) == (D(0), D("0.00"))


@pytest.mark.parametrize(
    ("period", "day", "start", "end"),
    [
        ("month", date(2024, 2, 29), date(2024, 2, 1), date(2024, 3, 1)),
        ("month", date(2024, 3, 1), date(2024, 3, 1), date(2024, 4, 1)),
        ("month", date(2024, 12, 31), date(2024, 12, 1), date(2025, 1, 1)),
        ("quarter", date(2024, 3, 31), date(2024, 1, 1), date(2024, 4, 1)),
        ("quarter", date(2024, 4, 1), date(2024, 4, 1), date(2024, 7, 1)),
        ("year", date(2024, 12, 31), date(2024, 1, 1), date(2025, 1, 1)),
        ("year", date(2025, 1, 1), date(2025, 1, 1), date(2026, 1, 1)),
    ],
)
def test_periods_at_their_first_and_last_day(period, day, start, end):
    assert period_of(period, day) == (start, end)


@pytest.mark.parametrize(
    ("tier", "accepted"),
    [
        ("100000:0%", False),  # a rate of 0 is refused
        ("100000:0", False),
        ("100000:0.0001", True),  # the smallest rate kept (four places)
        ("100000:99.99%", True),
        ("100000:100%", False),  # a rate of 1 is refused
        ("100000:1", False),
        ("0:1%", True),  # a threshold of 0: every volume
        ("-1:1%", False),
        ("abc", False),
        ("100000:x%", False),
        ("100000:NaN", False),
    ],
)
def test_tier_rates_between_0_and_100_percent_exclusive(shop, tier, accepted):
    if accepted:
        assert len(shop.run(add_programme, "P", "", "month", [tier]).tiers) == 1
    else:
        with pytest.raises(ValidationError, match="tier"):
            shop.run(add_programme, "P", "", "month", [tier])
        assert shop.run(list_programmes) == []


def test_tiers_are_sorted_and_parsed_as_money_and_rates(shop):
    programme = shop.run(add_programme, "P", "", "季返", ["500000:3%", "100000:0.02"])
    assert programme.tiers == TIERS
    assert (programme.period, programme.name, programme.tag) == ("quarter", "季返 P", "经销商")


def test_programme_refusals(shop):
    with pytest.raises(ValidationError, match="two tiers have the same threshold"):
        shop.run(add_programme, "P", "", "month", ["100:1%", "100.00:2%"])
    with pytest.raises(ValidationError, match="at least one threshold"):
        shop.run(add_programme, "P", "", "month", [])
    with pytest.raises(ValidationError, match="period"):
        shop.run(add_programme, "P", "", "weekly", ["100:1%"])
    with pytest.raises(ValidationError, match="code"):
        shop.run(add_programme, " ", "", "month", ["100:1%"])
    with pytest.raises(ValidationError, match="tag"):
        shop.run(add_programme, "P", "", "month", ["100:1%"], " ")
    shop.run(add_programme, "P", "名", "month", ["100:1%"])
    with pytest.raises(Conflict, match="already exists"):
        shop.run(add_programme, "P", "", "month", ["100:1%"])
    with pytest.raises(NotFound, match="NOPE"):
        shop.run(get_programme, "NOPE")
    assert shop.run(get_programme, "P").name == "名"


@pytest.fixture
def shanghai(company_zone):
    company_zone("Asia/Shanghai")


@pytest.fixture
def dist(shop, shanghai):
    return shop.customer(member=False, tags="经销商")


def quarter(shop):
    return shop.run(add_programme, "Q", "", "quarter", ["100000:2%", "500000:3%"], starts_on=date(2024, 1, 1))


def test_a_purchase_at_the_first_instant_of_the_next_quarter_is_not_in_this_one(shop, dist):
    shop.log(dist, amount="100", at="2024-01-01T00:00:00+08:00")  # first instant of Q1: in
    shop.log(dist, amount="20", at="2023-12-31T23:59:59.999999+08:00")  # last instant of Q4 2023
    shop.log(dist, amount="7", at="2024-03-31T23:59:59.999999+08:00")  # last instant of Q1: in
    shop.log(dist, amount="1000", at="2024-04-01T00:00:00+08:00")  # first instant of Q2
    programme = quarter(shop)
    [(_, q1)] = shop.run(volumes, programme, date(2024, 1, 1), date(2024, 4, 1)).items()
    assert q1 == D("107.00")
    [(_, q2)] = shop.run(volumes, programme, date(2024, 4, 1), date(2024, 7, 1)).items()
    assert q2 == D("1000.00")


def test_only_tagged_done_purchases_count(shop, dist):
    untagged = shop.customer(member=False)
    shop.log(untagged, amount="500000", at="2024-02-01T12:00:00+08:00")
    shop.log(dist, amount="300", at="2024-02-01T12:00:00+08:00")
    shop.log(dist, kind="feedback", at="2024-02-01T12:00:00+08:00")
    shop.log(dist, amount="-100", at="2024-02-02T12:00:00+08:00")  # a refund nets off
    volume = shop.run(volumes, quarter(shop), date(2024, 1, 1), date(2024, 4, 1))
    assert list(volume.values()) == [D("200.00")]


def test_a_quarter_ending_exactly_on_the_as_of_day_is_settled(shop, dist):
    shop.log(dist, amount="100000", at="2024-03-15T12:00:00+08:00")
    programme = quarter(shop)
    early = shop.run(settle, programme, date(2024, 3, 31))
    assert (early.periods, early.written, early.total_rebate) == (0, 0, D(0))
    done = shop.run(settle, programme, date(2024, 4, 1))
    assert (done.periods, done.written, done.total_rebate) == (1, 1, D("2000.00"))  # exactly 100000: 2%


def settlement_rows(shop):
    return shop.run(
        lambda s: [
            dict(r)
            for r in s.execute(
                select(SETTLEMENTS).order_by(SETTLEMENTS.c.period_start, SETTLEMENTS.c.customer_id)
            ).mappings()
        ]
    )


def test_settlement_run_change_run_unchanged_run(shop, dist):
    small = shop.customer(member=False, tags="经销商")
    shop.log(dist, amount="499999.99", at="2024-02-01T12:00:00+08:00")
    shop.log(small, amount="50", at="2024-02-01T12:00:00+08:00")
    programme = quarter(shop)
    first = shop.run(settle, programme, date(2024, 4, 1))
    assert (first.periods, first.written, first.total_rebate) == (1, 2, D("10000.00"))  # 9999.9998 and 0
    q1 = settlement_rows(shop)
    # The change: a late purchase dated in the settled quarter (which pushes it past 500000) and
    # purchases in the second quarter.
    shop.log(dist, amount="0.01", at="2024-03-30T12:00:00+08:00")
    shop.log(dist, amount="500000", at="2024-05-01T12:00:00+08:00")
    second = shop.run(settle, programme, date(2024, 7, 1))
    assert (second.periods, second.written, second.total_rebate) == (2, 1, D("15000.00"))
    rows = settlement_rows(shop)
    assert rows[:2] == q1  # a settled period is never rewritten
    assert [(r["period_start"], r["volume"], r["rate"], r["rebate"]) for r in rows[2:]] == [
        (date(2024, 4, 1), D("500000.00"), D("0.0300"), D("15000.00"))
    ]
    third = shop.run(settle, programme, date(2024, 7, 1))
    assert (third.periods, third.written, third.total_rebate) == (2, 0, D(0))
    assert settlement_rows(shop) == rows
    assert [(r.programme, r.written) for r in shop.run(settle_all, date(2024, 7, 1))] == [("Q", 0)]


def test_accrual_at_a_threshold_points_to_the_next_one(shop, dist):
    other = shop.customer(member=False, tags="经销商")
    top = shop.customer(member=False, tags="经销商")
    shop.log(dist, amount="100000", at="2024-02-01T12:00:00+08:00")
    shop.log(other, amount="99999.99", at="2024-02-01T12:00:00+08:00")
    shop.log(top, amount="500000", at="2024-02-01T12:00:00+08:00")
    found = {
        a.customer: (a.volume, a.rate, a.accrued, a.next_threshold, a.to_next, a.next_rate)
        for a in shop.run(accruals, quarter(shop), date(2024, 3, 31))
    }
    assert found == {
        top: (D("500000.00"), D("0.0300"), D("15000.00"), None, None, None),
        dist: (D("100000.00"), D("0.0200"), D("2000.00"), D("500000.00"), D("400000.00"), D("0.0300")),
        other: (D("99999.99"), D(0), D("0.00"), D("100000.00"), D("0.01"), D("0.0200")),
    }
    order = [a.customer for a in shop.run(accruals, get_programme_q(shop), date(2024, 3, 31))]
    assert order == [top, dist, other]  # largest volume first


def get_programme_q(shop):
    return shop.run(get_programme, "Q")


def test_statement_totals_settled_periods_and_shows_the_running_one(shop, dist):
    shop.log(dist, amount="100000.25", at="2024-02-01T12:00:00+08:00")  # 2000.005: 2000.01
    shop.log(dist, amount="100000", at="2024-05-01T12:00:00+08:00")
    programme = quarter(shop)
    shop.run(settle, programme, date(2024, 5, 2))
    customer_id = shop.run(lambda s: s.execute(select(SETTLEMENTS.c.customer_id)).scalar_one())
    found = shop.run(statement, customer_id, date(2024, 5, 2))
    assert [(r["volume"], r["rebate"]) for r in found["settled"]] == [(D("100000.25"), D("2000.01"))]
    assert found["settled_total"] == D("2000.01")
    [running] = found["accruing"]
    assert (running.period_start, running.period_end, running.accrued) == (
        date(2024, 4, 1),
        date(2024, 7, 1),
        D("2000.00"),
    )
