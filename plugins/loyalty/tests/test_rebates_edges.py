"""Rebate programmes' rates at their limits (issue 21): a rate is more than 0 and less than 100%,
so a negative rate and a rate of 100% or more are refused, on either side of the limit, written as
a percentage or as a fraction; programmes whose codes sort one before the other keep their own
tiers; cancelled and planned purchases make no volume.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from kehu_core.errors import ValidationError
from kehu_core.models import Customer
from kehu_loyalty.rebates import add_programme, get_programme, list_programmes, settle, statement, volumes


@pytest.mark.parametrize(
    ("tier", "rate"),
    [
        ("100000:-1%", None),  # negative
        ("100000:-0.0001", None),
        ("100000:100.01%", None),  # past 100%
        ("100000:150%", None),
        ("100000:1.5", None),
        ("100000:99.99%", "0.9999"),  # just under 100%
        ("100000:0.9999", "0.9999"),
        ("100000:0.01%", "0.0001"),  # just over 0
    ],
)
def test_a_rate_is_over_0_and_under_100_percent(shop, tier, rate):
    if rate is None:
        with pytest.raises(ValidationError, match="the rate between 0 and 100%"):
            shop.run(add_programme, "P", "", "month", [tier])
        assert shop.run(list_programmes) == []
    else:
        [(threshold, kept)] = shop.run(add_programme, "P", "", "month", [tier]).tiers
        assert (str(threshold), str(kept)) == ("100000.00", rate)


def test_each_programme_keeps_its_own_code_and_tiers(shop):
    # "A" sorts before "B": adding B after A is no conflict, and neither reads the other's tiers.
    a = shop.run(add_programme, "A", "", "month", ["100:1%"])
    b = shop.run(add_programme, "B", "", "quarter", ["200:2%", "300:3%"])
    assert a.tiers == ((D("100.00"), D("0.0100")),)
    assert b.tiers == ((D("200.00"), D("0.0200")), (D("300.00"), D("0.0300")))
    assert shop.run(add_programme, "AA", "", "year", ["400:4%"]).code == "AA"  # between A and B
    assert [(p.code, len(p.tiers)) for p in shop.run(list_programmes)] == [("A", 1), ("AA", 1), ("B", 2)]
    assert shop.run(get_programme, "A").tiers == a.tiers


def test_only_done_purchases_of_the_programmes_tag_make_the_volume(shop, company_zone):
    company_zone("Asia/Shanghai")
    dist = shop.customer(member=False, tags="经销商")
    for status, amount in (("done", "100"), ("cancelled", "1000"), ("planned", "10000")):
        shop.log(dist, amount=amount, status=status, at="2024-02-01T12:00:00+08:00")
    for kind in ("call", "visit"):  # not purchases, sorting before and after "purchase"
        shop.log(dist, kind=kind, amount="100000", at="2024-02-01T12:00:00+08:00")
    for tag in ("VIP", "零售"):  # other tags, sorting before and after 经销商: not the programme's
        other = shop.customer(member=False, tags=tag)
        shop.log(other, amount="500", at="2024-02-01T12:00:00+08:00")
    programme = shop.run(add_programme, "Q", "", "quarter", ["100:1%"], starts_on=date(2024, 1, 1))
    assert list(shop.run(volumes, programme, date(2024, 1, 1), date(2024, 4, 1)).values()) == [D("100.00")]


def test_a_statement_shows_only_its_own_distributors_settlements_and_accrual(shop, company_zone):
    company_zone("Asia/Shanghai")
    first = shop.customer(member=False, tags="经销商")  # the lower id
    second = shop.customer(member=False, tags="经销商")
    shop.log(first, amount="300", at="2024-02-01T12:00:00+08:00")
    shop.log(second, amount="200", at="2024-02-01T12:00:00+08:00")
    shop.log(first, amount="1000", at="2024-04-01T12:00:00+08:00")  # the second quarter
    shop.log(second, amount="2000", at="2024-04-01T12:00:00+08:00")
    # Programmes stored before and after Q, with nothing settled: Q's rows are joined to Q alone.
    shop.run(add_programme, "X", "", "year", ["1000000:1%"], starts_on=date(2024, 1, 1))
    programme = shop.run(add_programme, "Q", "", "quarter", ["100:1%"], starts_on=date(2024, 1, 1))
    shop.run(settle, programme, date(2024, 4, 1))  # the first quarter
    shop.run(add_programme, "Y", "", "year", ["1000000:1%"], starts_on=date(2024, 1, 1))
    for code, settled, running in (
        (first, ("300.00", "3.00"), ("1000.00", "10.00")),
        (second, ("200.00", "2.00"), ("2000.00", "20.00")),
    ):
        customer_id = shop.run(lambda s, c=code: s.scalar(select(Customer.id).where(Customer.code == c)))
        found = shop.run(statement, customer_id, date(2024, 4, 2))
        assert [(r["code"], r["volume"], r["rebate"]) for r in found["settled"]] == [("Q", *map(D, settled))]
        assert found["settled_total"] == D(settled[1])
        [accruing] = [a for a in found["accruing"] if a.programme == "Q"]
        assert (accruing.customer, accruing.volume, accruing.accrued) == (code, *map(D, running))


def test_every_bad_tier_is_named_at_once(shop):
    with pytest.raises(ValidationError) as refused:
        shop.run(add_programme, "P", "", "month", ["abc", "1e20:1%", "100:0%", "200:2%", "300:150%"])
    assert [p.value for p in refused.value.problems] == ["abc", "1e20:1%", "100:0%", "300:150%"]
    assert shop.run(list_programmes) == []
