"""Top-down at its edges, with the expected values written by hand: a market input's fields and
what it must give (potential and share, or growth), inputs replaced by period, dimension and
key only, the months one command sets, the group figure in cents, growth from exactly a year
of history and from one month short of it, the proportions of a window of history and of a
group that sold nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import false, select, update

from kehu_core.errors import Conflict, ValidationError
from kehu_core.models import Customer
from kehu_forecast import hierarchy as H
from kehu_forecast import topdown
from kehu_forecast.history import customer_frame
from kehu_forecast.models import market_inputs
from kehu_forecast.plan import Plan, store
from kehu_forecast.topdown import (
    _figure,
    clean_market_input,
    list_market_inputs,
    proportions,
    save_top_down,
    set_market_inputs,
    set_market_months,
    top_down,
)

JAN = date(2026, 1, 1)
FEB = date(2026, 2, 1)


def _problems(values):
    return [(p.field, p.reason) for p in clean_market_input(values, 3)[1]]


@pytest.mark.parametrize(
    ("values", "clean", "problems"),
    [
        (
            {"period": "2026-01", "dimension": "company", "growth": "10%"},
            {"period": JAN, "dimension": "company", "key": H.COMPANY, "growth": Decimal("0.1")},
            [],
        ),
        # A day is read as its month; the company's key is the company whatever was typed.
        (
            {"period": "2026-01-15", "dimension": "company", "key": "x", "potential": "0", "share": "0"},
            {
                "period": JAN,
                "dimension": "company",
                "key": H.COMPANY,
                "potential": Decimal("0.00"),
                "share": Decimal("0"),
            },
            [],
        ),
        (
            {"period": "2026-01", "dimension": "region", "key": "华东", "growth": "-100%"},
            {"period": JAN, "dimension": "region", "key": "华东", "growth": Decimal("-1")},
            [],
        ),
        (
            {"period": "2026-01", "dimension": "region", "key": "华东", "growth": "100"},
            {"period": JAN, "dimension": "region", "key": "华东", "growth": Decimal("100")},
            [],
        ),
        # An ISO day of eight characters, without dashes, is a day too.
        (
            {"period": "20260115", "dimension": "company", "growth": "0"},
            {"period": JAN, "dimension": "company", "key": H.COMPANY, "growth": Decimal("0")},
            [],
        ),
    ],
)
def test_market_inputs_accepted_at_their_edges(values, clean, problems):
    assert clean_market_input(values, 3) == (clean, problems)


@pytest.mark.parametrize(
    ("values", "problems"),
    [
        (
            {},
            [("period", "required"), ("dimension", "required"), ("key", "required: the region or industry")],
        ),
        (
            {"period": "2026-01", "dimension": "region", "growth": "0"},
            [("key", "required: the region or industry")],
        ),
        # A key refused for itself is not also reported missing.
        (
            {"period": "2026-01", "dimension": "region", "key": "x" * 101, "growth": "0"},
            [("key", "too long: 101 characters, at most 100")],
        ),
        (
            {"period": "2026-01", "dimension": "region", "key": "华东", "growth": "-1.01"},
            [("growth", "must be between -1 (-100%) and 100")],
        ),
        (
            {"period": "2026-01", "dimension": "region", "key": "华东", "growth": "100.01"},
            [("growth", "must be between -1 (-100%) and 100")],
        ),
        # Potential without share, or share without potential, is not a figure.
        (
            {"period": "2026-01", "dimension": "region", "key": "华东", "potential": "100"},
            [("share", "give potential and share, or growth")],
        ),
        (
            {"period": "2026-01", "dimension": "region", "key": "华东", "share": "0.1"},
            [("share", "give potential and share, or growth")],
        ),
        # Another problem already refuses the row: no second line for the missing figure.
        (
            {"period": "2026-13", "dimension": "region", "key": "华东"},
            [("period", "not a date like 2024-03-01")],
        ),
    ],
)
def test_market_inputs_refused_with_one_line_each(values, problems):
    assert _problems(values) == problems


def test_an_input_replaces_only_its_own_period_dimension_and_key(company):
    with company.session() as session:
        set_market_months(
            session,
            "2026-01",
            {"dimension": "region", "key": "华东", "potential": "100", "share": "0.1"},
            months=2,
        )
        set_market_inputs(
            session,
            [
                {"period": "2026-01", "dimension": "region", "key": "华北", "growth": "5%"},
                {"period": "2026-01", "dimension": "industry", "key": "华东", "growth": "1%"},
            ],
        )
        # February's 华东 again, then January's: each replaces only itself.
        set_market_inputs(
            session, [{"period": "2026-02", "dimension": "region", "key": "华东", "growth": "20%"}]
        )
        set_market_inputs(
            session,
            [{"period": "2026-01", "dimension": "region", "key": "华东", "potential": "100", "share": "0.1"}],
        )
        rows = [
            (r["period"], r["dimension"], r["key"], r["potential"], r["share"], r["growth"], r["figure"])
            for r in list_market_inputs(session)
        ]
    assert rows == [
        (JAN, "industry", "华东", None, None, Decimal("0.01"), None),
        (JAN, "region", "华东", Decimal("100.00"), Decimal("0.1"), None, Decimal("10.00")),
        (JAN, "region", "华北", None, None, Decimal("0.05"), None),
        (date(2026, 2, 1), "region", "华东", None, None, Decimal("0.2"), None),
    ]


@pytest.mark.parametrize(("months", "expected"), [(-1, 1), (0, 1), (1, 1), (2, 2), (3, 3)])
def test_the_months_one_command_sets(company, months, expected):
    with company.session() as session:
        assert (
            set_market_months(session, "2025-12", {"dimension": "company", "growth": "0"}, months=months)
            == expected
        )
        periods = session.scalars(select(market_inputs.c.period).order_by(market_inputs.c.period)).all()
    assert periods == [date(2025, 12, 1), JAN, date(2026, 2, 1)][:expected]


@pytest.mark.parametrize(
    ("item", "cents"),
    [
        ({"potential": Decimal("100000.00"), "share": Decimal("0.1"), "growth": None}, 1_000_000),
        ({"potential": Decimal("100.01"), "share": Decimal("0.333"), "growth": None}, 3330),  # 33.30333
        (
            {"potential": Decimal("100.03"), "share": Decimal("0.5"), "growth": None},
            5002,
        ),  # 50.015, half to even
        ({"potential": Decimal("0.00"), "share": Decimal("0.5"), "growth": Decimal("9")}, 0),
        # Potential without share (or share without potential) grows last year's sales.
        ({"potential": Decimal("100.00"), "share": None, "growth": Decimal("0.1")}, 3300),
        ({"potential": None, "share": Decimal("0.5"), "growth": Decimal("-0.5")}, 1500),
        ({"potential": None, "share": None, "growth": Decimal("-1")}, 0),
    ],
)
def test_the_group_figure_in_cents(item, cents):
    # Last year (2025-01): the group's customers bought 10.00 and 20.00.
    periods = [date(2025, 1, 1), date(2025, 2, 1)]
    y = np.array([[10.0, 99.0], [20.0, 99.0]])
    problems: list = []
    assert _figure({"key": "华东", **item}, y, periods, JAN, problems) == cents and problems == []


def test_growth_needs_the_same_month_a_year_earlier():
    y = np.array([[10.0, 20.0]])
    problems: list = []
    item = {"key": "华东", "potential": None, "share": None, "growth": Decimal("0.1")}
    # History 2025-02 and 2025-03: January 2026 has no year-earlier month; February has.
    periods = [date(2025, 2, 1), date(2025, 3, 1)]
    assert _figure(item, y, periods, JAN, problems) == 0
    assert [(p.field, p.reason) for p in problems] == [
        ("growth", "华东 2026-01: no sales history for 2025-01 to grow from")
    ]
    assert _figure(item, y, periods, date(2026, 2, 1), []) == 1100
    assert _figure(item, y, periods, date(2026, 3, 1), []) == 2200


def test_proportions_of_a_group_that_sold_nothing_are_zero():
    for history in (np.zeros((2, 3)), np.array([[0.0, -5.0], [-1.0, 0.0]])):
        for method in ("average_proportions", "proportion_averages"):
            assert proportions(history, method).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError):
        proportions(np.ones((1, 1)), "bottomup")
    # A refund counts as zero in the proportion of averages too: 10 of 10 + 0.
    assert proportions(np.array([[10.0, 0.0], [0.0, -4.0]]), "proportion_averages").tolist() == [1.0, 0.0]


def _set_company(company, months: int, potential: str = "56500", share: str = "1") -> None:
    with company.session() as session:
        set_market_months(
            session,
            "2026-01",
            {"dimension": "company", "potential": potential, "share": share},
            months=months,
        )


def test_twelve_months_split_by_the_last_twelve_months_of_history_by_default(company):
    # 2025's purchases (history ends 2025-12): C1 22,900 (1,000 + 50·i for i = 12 … 23, and
    # 200 more in November and December), C2 8,100, C3 2,400, C4 19,800, C5 3,300 (its
    # December refund counts as zero): 56,500 in all. The company's 56,500 a month goes to
    # each customer in that proportion: exactly their 2025 total.
    _set_company(company, 12)
    with company.session() as session:
        plan = top_down(session, allocation="proportion_averages", as_of=date(2026, 1, 15))
        saved = save_top_down(company, session, allocation="proportion_averages", as_of=date(2026, 1, 15))
    assert saved.bottom().tolist() == plan.bottom().tolist()  # the same defaults, saved
    assert plan.periods == [date(2026, m, 1) for m in range(1, 13)]
    by_code = dict(zip(plan.hierarchy.customers["code"], plan.bottom()[:, 0].tolist(), strict=True))
    assert by_code == {"C1": 2_290_000, "C2": 810_000, "C3": 240_000, "C4": 1_980_000, "C5": 330_000}
    assert plan.bottom().sum(axis=0).tolist() == [5_650_000] * 12


def test_a_window_of_one_month_splits_by_that_month(company):
    # December 2025: C1 2,350, C2 730, C3 700, C4 1,540, C5 a refund (zero): 5,320.
    _set_company(company, 1, potential="53200", share="0.1")
    with company.session() as session:
        plan = top_down(
            session, allocation="proportion_averages", as_of=date(2026, 1, 15), horizon=1, window=1
        )
    by_code = dict(zip(plan.hierarchy.customers["code"], plan.bottom()[:, 0].tolist(), strict=True))
    assert by_code == {"C1": 235_000, "C2": 73_000, "C3": 70_000, "C4": 154_000, "C5": 0}


def test_the_dimension_is_the_one_the_inputs_have_or_must_be_chosen(company):
    with company.session() as session:
        with pytest.raises(ValidationError) as none:
            top_down(session, as_of=date(2026, 1, 15), horizon=1)
        set_market_months(session, "2026-01", {"dimension": "region", "key": "华东", "growth": "0"})
        set_market_months(session, "2026-01", {"dimension": "company", "growth": "0"})
        with pytest.raises(ValidationError) as two:
            top_down(session, as_of=date(2026, 1, 15), horizon=1)
        # Named, the company's input is enough for one month; a second month is missing.
        assert top_down(session, dimension="company", as_of=date(2026, 1, 15), horizon=1).periods == [JAN]
        with pytest.raises(ValidationError) as missing:
            top_down(session, dimension="company", as_of=date(2026, 1, 15), horizon=3)
    assert str(none.value) == "dimension: no market inputs yet: add them with `kehu forecast market set`"
    assert str(two.value) == "dimension: inputs exist for company, region: choose one"
    # Every missing month is named, not only the first.
    assert "market input: missing for company 公司合计 in 2026-02" in str(missing.value)
    assert "market input: missing for company 公司合计 in 2026-03" in str(missing.value)


def test_a_region_reads_its_own_inputs_not_an_industrys_of_the_same_name(company):
    with company.session() as session:
        set_market_months(session, "2026-01", {"dimension": "region", "key": "华东", "growth": "0"})
        set_market_months(session, "2026-01", {"dimension": "industry", "key": "华北", "growth": "0"})
        with pytest.raises(ValidationError) as err:
            top_down(session, dimension="region", as_of=date(2026, 1, 15), horizon=1)
    assert str(err.value) == "top-down refused:\nmarket input: missing for region 华北 in 2026-01"


def test_at_most_fifty_problems_are_listed(company):
    # Two regions without inputs over 26 months: 52 months missing, the first 50 listed.
    with company.session() as session, pytest.raises(ValidationError) as err:
        top_down(session, dimension="region", as_of=date(2026, 1, 15), horizon=26)
    lines = str(err.value).splitlines()
    assert len(lines) == 1 + 50 and lines[0] == "top-down refused:"
    assert lines[1] == "market input: missing for region 华东 in 2026-01"
    assert lines[-1] == "market input: missing for region 华北 in 2027-12"


def test_a_month_the_group_sold_one_yuan_or_one_cent_counts():
    # Month 1: A alone sold 1.00 (or 0.01); month 2: B alone 10. Each month counts: halves.
    for small in (1.0, 0.01):
        assert proportions(np.array([[small, 0.0], [0.0, 10.0]]), "average_proportions").tolist() == [
            0.5,
            0.5,
        ]


@pytest.mark.parametrize("method", ["", "average", "bottomup", "forecast_proportions", "proportions"])
def test_an_unknown_proportion_is_refused(method):
    with pytest.raises(ValueError):
        proportions(np.ones((2, 2)), method)


def test_refused_rows_are_numbered_from_the_first_row_given(company):
    rows = [
        {"period": "2026-01", "dimension": "company", "growth": "0"},
        {"period": "2026-01", "dimension": "region", "key": "华东", "growth": "101"},
        {"period": "2026-01", "dimension": "region", "key": "华北"},
    ]
    with company.session() as session, pytest.raises(ValidationError) as err:
        set_market_inputs(session, rows, first_row=5)
    assert str(err.value).splitlines() == [
        "market input refused; nothing was written:",
        "row 6, growth: must be between -1 (-100%) and 100 (got '101')",
        "row 7, share: give potential and share, or growth",
    ]


def test_an_industry_reads_its_own_inputs_not_a_regions_of_the_same_name(company):
    with company.session() as session:
        for codes, industry in ((["C1", "C2"], "零售"), (["C3", "C4", "C5"], "制造")):
            session.execute(update(Customer).where(Customer.code.in_(codes)).values(industry=industry))
        set_market_months(session, "2026-01", {"dimension": "industry", "key": "零售", "growth": "0"})
        set_market_months(session, "2026-01", {"dimension": "region", "key": "制造", "growth": "0"})
        with pytest.raises(ValidationError) as err:
            top_down(session, dimension="industry", as_of=date(2026, 1, 15), horizon=1)
    assert str(err.value) == "top-down refused:\nmarket input: missing for industry 制造 in 2026-01"


def test_each_region_splits_only_its_own_figure(company):
    # 华东 (C1, C2, C3) 10,000.00 and 华北 (C4, C5) 2,000.00 in January: each region's
    # customers add up to its own figure exactly.
    with company.session() as session:
        set_market_months(
            session, "2026-01", {"dimension": "region", "key": "华东", "potential": "100000", "share": "0.1"}
        )
        set_market_months(
            session, "2026-01", {"dimension": "region", "key": "华北", "potential": "40000", "share": "0.05"}
        )
        plan = top_down(
            session, dimension="region", allocation="proportion_averages", as_of=date(2026, 1, 15), horizon=1
        )
    codes = list(plan.hierarchy.customers["code"])
    cents = {c: int(plan.bottom()[codes.index(c), 0]) for c in codes}
    assert cents["C1"] + cents["C2"] + cents["C3"] == 1_000_000
    assert cents["C4"] + cents["C5"] == 200_000


def test_setting_an_input_again_keeps_the_month_before_and_the_other_dimension(company):
    """February's 华东 set again keeps January's; an industry 华东 keeps the region 华东 of its month."""
    with company.session() as session:
        set_market_months(
            session, "2026-01", {"dimension": "region", "key": "华东", "growth": "1%"}, months=2
        )
        set_market_inputs(
            session, [{"period": "2026-01", "dimension": "industry", "key": "华东", "growth": "2%"}]
        )
        set_market_inputs(
            session, [{"period": "2026-02", "dimension": "region", "key": "华东", "growth": "3%"}]
        )
        rows = [(r["period"], r["dimension"], r["key"], r["growth"]) for r in list_market_inputs(session)]
    assert rows == [
        (JAN, "industry", "华东", Decimal("0.02")),
        (JAN, "region", "华东", Decimal("0.01")),
        (FEB, "region", "华东", Decimal("0.03")),
    ]


def test_an_input_that_grows_has_no_figure_whatever_half_of_one_it_gives(company):
    """Potential without share, or share without potential (growth given), lists no figure."""
    with company.session() as session:
        set_market_inputs(
            session,
            [
                {
                    "period": "2026-01",
                    "dimension": "region",
                    "key": "华东",
                    "potential": "100",
                    "growth": "5%",
                },
                {"period": "2026-01", "dimension": "region", "key": "华北", "share": "0.5", "growth": "-5%"},
            ],
        )
        rows = [
            (r["key"], r["potential"], r["share"], r["growth"], r["figure"])
            for r in list_market_inputs(session)
        ]
    assert rows == [
        ("华东", Decimal("100.00"), None, Decimal("0.05"), None),
        ("华北", None, Decimal("0.5"), Decimal("-0.05"), None),
    ]


def test_an_input_another_command_wrote_meanwhile_is_a_conflict(company, monkeypatch):
    """An input another command wrote between this one's delete and insert: a conflict, nothing written."""
    with company.session() as session:
        set_market_months(session, "2026-01", {"dimension": "company", "growth": "1%"})
    real = topdown.delete
    monkeypatch.setattr(topdown, "delete", lambda table: real(table).where(false()))  # the other's row stays
    with company.session() as session, pytest.raises(Conflict) as err:
        set_market_months(session, "2026-01", {"dimension": "company", "growth": "2%"}, months=2)
    assert str(err.value) == (
        "another command wrote market inputs for the same period and key at the same time; "
        "nothing was written, try again"
    )
    monkeypatch.undo()
    with company.session() as session:
        assert [(r["period"], r["growth"]) for r in list_market_inputs(session)] == [(JAN, Decimal("0.01"))]


def test_a_window_the_group_sold_one_yuan_or_one_cent_in_counts():
    """A proportion of averages over a window of one yuan (or one cent) in all is that share, not zero."""
    for small in (1.0, 0.01):
        assert proportions(np.array([[small, 0.0], [0.0, 0.0]]), "proportion_averages").tolist() == [1.0, 0.0]


def test_bottom_up_shares_month_by_month_and_even_where_the_run_has_none(company):
    """Bottom-up shares are the run's own month by month; a month past the run, or a customer
    it lacks, has none: that month is split evenly over every customer."""
    with company.session() as session:
        customers = customer_frame(session)
        h = H.build(customers[customers["code"] != "C5"].reset_index(drop=True))  # C5 is not in the run
        cents = {"C1": [4000, 100], "C2": [3000, 100], "C3": [2000, 100], "C4": [1000, 100]}
        bottom = np.array([cents[c] for c in h.customers["code"]], dtype=np.int64)
        plan = Plan.from_bottom(
            h,
            bottom,
            kind="bottomup",
            method="by hand",
            freq="month",
            periods=[JAN, FEB],
            history_end=date(2025, 12, 1),
        )
        store(company, session, plan)
    _set_company(company, 3, potential="1000", share="1")  # 100,000 cents a month, January to March
    with company.session() as session:
        td = top_down(session, dimension="company", allocation="bottomup", as_of=date(2026, 1, 15), horizon=3)
    codes = list(td.hierarchy.customers["code"])
    got = {c: td.bottom()[codes.index(c)].tolist() for c in codes}
    assert got == {
        "C1": [40_000, 25_000, 20_000],
        "C2": [30_000, 25_000, 20_000],
        "C3": [20_000, 25_000, 20_000],
        "C4": [10_000, 25_000, 20_000],
        "C5": [0, 0, 20_000],
    }
