"""Reconciliation at its edges, with the expected values written by hand: splitting a node by
forecasts that are negative or all zero, a negative figure that plans nothing, stated scenario
adjustments to the cent, the reconciled run's base, and a top-down run used only when it
starts in the same period (and only over the months it covers)."""

from __future__ import annotations

import warnings
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from kehu_forecast import api, intervals
from kehu_forecast import hierarchy as H
from kehu_forecast import periods as P
from kehu_forecast.history import customer_frame
from kehu_forecast.plan import Plan, load, store
from kehu_forecast.reconcile import combine, reconcile, run_history, scenarios, split_down, upper_forecasts


def _tree() -> H.Hierarchy:
    # One region, two salespeople: S0 has customers A, B, C; S1 has D.
    return H.build(
        pd.DataFrame(
            {
                "id": [1, 2, 3, 4],
                "code": ["A", "B", "C", "D"],
                "region": ["R"] * 4,
                "salesperson": ["S0", "S0", "S0", "S1"],
            }
        )
    )


def _monthly_by_hand(
    h: H.Hierarchy, bottom: np.ndarray, month: date, history_end: date | None, **more: Any
) -> Plan:
    """A bottom-up plan of one month whose customer values (cents) are written by hand."""
    return Plan.from_bottom(
        h,
        bottom,
        kind="bottomup",
        method="by hand",
        freq="month",
        periods=[month],
        history_end=history_end,
        **more,
    )


def test_forecast_proportions_count_a_negative_forecast_as_zero_and_split_nothing_evenly():
    h = _tree()
    index = h.index()
    nodes = np.array([index[("salesperson", "R/S0")], index[("salesperson", "R/S1")]])
    values = np.zeros((len(h.keys), 2))
    values[nodes[0]] = [90.0, 90.0]
    values[nodes[1]] = [7.0, 7.0]
    # Month 1: A 20, B -10 (counts 0), C 10: A 2/3, C 1/3. Month 2: nobody: thirds. Month 3:
    # forecasts under a yuan in all (A 0.25, C 0.5): still A 1/3, C 2/3.
    values = np.zeros((len(h.keys), 3))
    values[nodes[0]] = [90.0, 90.0, 90.0]
    values[nodes[1]] = [7.0, 7.0, 7.0]
    bottom_now = np.array([[20.0, 0.0, 0.25], [-10.0, 0.0, -1.0], [10.0, 0.0, 0.5], [0.0, 0.0, 0.0]])
    out = split_down(h, values, nodes, "forecast_proportions", bottom_now=bottom_now)
    assert out.tolist() == [[60.0, 30.0, 30.0], [0.0, 30.0, 0.0], [30.0, 30.0, 60.0], [7.0, 7.0, 7.0]]


def test_historical_proportions_within_each_node():
    h = _tree()
    index = h.index()
    nodes = np.array([index[("salesperson", "R/S0")]])
    values = np.zeros((len(h.keys), 1))
    values[nodes[0]] = [100.0]
    # A 10, 30; B 30, 10; C 0, 0: average of proportions A (1/4 + 3/4)/2 = 1/2; of averages
    # A 40/80 = 1/2 too; C bought nothing: 0. D is not under the node: 0.
    history = np.array([[10.0, 30.0], [30.0, 10.0], [0.0, 0.0], [500.0, 500.0]])
    for proportions in ("average_proportions", "proportion_averages"):
        out = split_down(h, values, nodes, proportions, history=history)
        assert out[:, 0].tolist() == [50.0, 50.0, 0.0, 0.0]
    # A node whose customers never bought: split evenly.
    out = split_down(h, values, nodes, "proportion_averages", history=np.zeros((4, 2)))
    assert out[:, 0].tolist() == pytest.approx([100 / 3, 100 / 3, 100 / 3, 0.0])


@pytest.mark.parametrize("method", ["top-down", "middle-out"])
def test_a_negative_figure_plans_nothing(method):
    h = _tree()
    y_hat = np.full((len(h.keys), 1), -50.0)
    history = np.ones((4, 3))
    out = combine(h, method, y_hat, np.ones((4, 1)), proportions="proportion_averages", history=history)
    assert out[:, 0].tolist() == [0.0, 0.0, 0.0, 0.0]
    # Top-down splits the company only; middle-out the middle level's own figures.
    y_hat[:] = 0.0
    y_hat[0] = 80.0
    y_hat[h.index()[("region", "R")]] = 40.0
    out = combine(h, method, y_hat, np.ones((4, 1)), proportions="proportion_averages", history=history)
    assert out[:, 0].tolist() == ([20.0] * 4 if method == "top-down" else [10.0] * 4)


def test_bottom_up_is_the_customers_own_forecasts():
    h = _tree()
    bottom = np.array([[1.5], [-2.0], [0.0], [7.25]])
    assert combine(h, "bottom-up", np.zeros((len(h.keys), 1)), bottom) is bottom


#: Cents a month per customer of the test company (C1 … C5) in the bottom-up run.
CENTS = {"C1": 100_000, "C2": 50_000, "C3": 33_333, "C4": 0, "C5": 1}
MONTHS = [date(2026, 1, 1), date(2026, 2, 1)]


def _store(
    app,
    kind: str,
    bottom: dict[str, int],
    periods: list[date],
    pipeline: dict[str, int] | None = None,
    freq: str = "month",
    **params,
) -> int:
    with app.session() as session:
        h = H.build(customer_frame(session))
        cents = np.array([[bottom[c]] * len(periods) for c in h.customers["code"]], dtype=np.int64)
        if pipeline is not None:
            pipe = np.array(
                [[pipeline.get(c, 0)] * len(periods) for c in h.customers["code"]], dtype=np.int64
            )
            params["pipeline_cents"] = h.aggregate(pipe)
        plan = Plan.from_bottom(
            h,
            cents,
            kind=kind,
            method="by hand",
            freq=freq,
            periods=periods,
            history_end=date(2025, 12, 1),
            pipeline=params.pop("pipeline_cents", None),
            params={"history_start": "2025-01-01", "history_periods": 12, **params},
        )
        return store(app, session, plan)


def test_stated_adjustments_and_the_base_of_a_bottom_up_reconciliation(company):
    bu = _store(
        company, "bottomup", CENTS, MONTHS, scenario="stated adjustments", optimistic=0.1, pessimistic=-0.2
    )
    with company.session() as session:
        plan = reconcile(session, "bottom-up", bu_run=bu)
    h = plan.hierarchy
    codes = list(h.customers["code"])
    rows = [h.levels["customer"][codes.index(c)] for c in CENTS]
    # The customers' cents, unchanged, and the base they were reconciled from.
    assert plan.value[rows, 0].tolist() == list(CENTS.values())
    assert plan.base is not None and plan.base[rows, 0].tolist() == list(CENTS.values())
    assert plan.value[0].tolist() == [183_334, 183_334] and plan.base[0].tolist() == [183_334, 183_334]
    # +10% and -20%, each rounded to the cent: 33,333 → 36,666 and 26,666; 1 → 1 and 1.
    assert plan.high[rows, 0].tolist() == [110_000, 55_000, 36_666, 0, 1]
    assert plan.low[rows, 0].tolist() == [80_000, 40_000, 26_666, 0, 1]
    assert (plan.high[0, 0], plan.low[0, 0]) == (201_667, 146_667)
    assert plan.method == "bottom-up" and plan.params["scenario"] == "stated adjustments"
    # No optimistic adjustment stated: the optimistic value is the plan's.
    bu0 = _store(company, "bottomup", CENTS, MONTHS, scenario="stated adjustments", pessimistic=-0.2)
    with company.session() as session:
        plan0 = reconcile(session, "bottom-up", bu_run=bu0)
    assert plan0.high.tolist() == plan0.value.tolist()
    assert plan.params["topdown_run"] is None and plan.params["bottomup_run"] == bu


@pytest.mark.parametrize(
    ("td_first", "td_months", "expected"),
    [
        # The same first month: the company's top-down figure, over the months it covers.
        (date(2026, 1, 1), 2, [500_000, 500_000]),
        (date(2026, 1, 1), 1, [500_000, None]),
        # A top-down run from another month (after or before) says nothing about this one.
        (date(2026, 2, 1), 2, [None, None]),
        (date(2025, 12, 1), 2, [None, None]),
    ],
)
def test_a_top_down_run_sets_the_company_figure_where_it_covers_the_same_months(
    company, td_first, td_months, expected
):
    bu = _store(company, "bottomup", CENTS, MONTHS, scenario="stated adjustments")
    td_periods = P.periods(td_first, td_months, "month")
    _store(company, "topdown", {c: 100_000 for c in CENTS}, td_periods, dimension="company")
    with company.session() as session:
        plan = reconcile(session, "top-down", proportions="proportion_averages", bu_run=bu)
        own = reconcile(session, "top-down", proportions="proportion_averages", bu_run=bu, td_run=None)
    for k, cents in enumerate(expected):
        if cents is None:
            assert plan.value[0, k] != 500_000
        else:
            assert (plan.value[0, k], plan.base[0, k]) == (cents, cents)
    assert own.value.tolist() == plan.value.tolist()  # the newest top-down run by default
    assert plan.method == "top-down (proportion_averages)"


def test_a_one_purchase_customers_spread_is_from_its_model_forecast_without_the_pipeline(company):
    # C1 bought once (100.00) and is planned 400.00, 300.00 of it from its pipeline: its
    # model's 100.00 gives σ = √(100 × 100) = 100, half band 1.2816 × 100 = 128.16. C3 (one
    # purchase of 100.00, 100.50 planned, no pipeline): σ = √(100 × 100.5), half 128.48; C2
    # bought twice: no spread.
    with company.session() as session:
        h = H.build(customer_frame(session))
        codes = list(h.customers["code"])
        planned = {"C1": 40_000, "C2": 40_000, "C3": 10_050, "C4": 0, "C5": 0}
        bottom = np.array([[planned[c]] for c in codes], dtype=np.int64)
        pipe = np.array([[30_000 if c == "C1" else 0] for c in codes], dtype=np.int64)
        bu = _monthly_by_hand(h, bottom, date(2026, 1, 1), date(2025, 12, 1), pipeline=h.aggregate(pipe))
        history = np.zeros((h.n_bottom, 12))
        history[codes.index("C1"), 5] = 100.0
        history[codes.index("C2"), [3, 7]] = 100.0
        history[codes.index("C3"), 11] = 100.0
        history[codes.index("C4"), 2] = 100.0  # one purchase, nothing planned: no spread
        low, high = scenarios(session, bu, bu, np.zeros(bu.value.shape), history)
        # Without any pipeline in the run, the same for C3.
        bare = _monthly_by_hand(h, bottom, date(2026, 1, 1), None)
        bare.high = bare.value.copy()  # a run whose own band is nil: the one-purchase spread instead
        _, bare_high = scenarios(session, bare, bare, np.zeros(bare.value.shape), history)
    c4 = h.levels["customer"][codes.index("C4")]
    assert (high[c4, 0], low[c4, 0]) == (0, 0)
    c3 = h.levels["customer"][codes.index("C3")]
    assert bare_high[c3, 0] - bare.value[c3, 0] == 12_848
    rows = {c: h.levels["customer"][codes.index(c)] for c in ("C1", "C2", "C3")}
    assert {c: int(high[r, 0] - bu.value[r, 0]) for c, r in rows.items()} == {
        "C1": 12_816,
        "C2": 0,
        "C3": 12_848,
    }
    # C3's 100.50 - 128.48 stops at zero.
    assert {c: int(low[r, 0]) for c, r in rows.items()} == {"C1": 40_000 - 12_816, "C2": 40_000, "C3": 0}


@pytest.mark.parametrize(
    ("pipeline", "company_cents"), [(None, 470_000), ({"C1": 10_000}, 480_000), ({"C1": 10_050}, 480_050)]
)
def test_the_company_figure_is_its_own_model_plus_its_pipeline(company, pipeline, company_cents):
    # The run's method is the historic average: the company's 2025 sales (the run's window)
    # are C1 22,900 + C2 8,100 + C3 2,400 + C4 19,800 + C5 3,200 (eleven 300s and a refund
    # of 100) = 56,400, an average of 4,700.00 a month; the pipeline adds 100.00.
    bu = _store(company, "bottomup", CENTS, MONTHS, pipeline=pipeline, method="average")
    with company.session() as session:
        plan = reconcile(session, "top-down", proportions="proportion_averages", bu_run=bu)
    assert plan.value[0].tolist() == [company_cents] * 2 and plan.base[0].tolist() == [company_cents] * 2


def test_a_top_down_run_named_is_used_rather_than_the_newest(company):
    bu = _store(company, "bottomup", CENTS, MONTHS, scenario="stated adjustments")
    older = _store(company, "topdown", {c: 100_000 for c in CENTS}, MONTHS, dimension="company")
    _store(company, "topdown", {c: 120_000 for c in CENTS}, MONTHS, dimension="company")
    with company.session() as session:
        named = reconcile(session, "top-down", bu_run=bu, td_run=older)
        newest = reconcile(session, "top-down", bu_run=bu)
    assert named.value[0].tolist() == [500_000, 500_000] and named.params["topdown_run"] == older
    assert newest.value[0].tolist() == [600_000, 600_000]


@pytest.mark.parametrize(("first", "months"), [("2025-01-01", 12), ("2024-07-01", 18), ("2024-01-01", 24)])
def test_top_down_splits_by_the_last_twelve_months_of_a_longer_window(company, first, months):
    # The run saw 12 to 24 months up to 2025-12; the proportions are 2025's: C1 22,900,
    # C2 8,100, C3 2,400, C4 19,800, C5 3,300 (its December refund counts as zero) of 56,500.
    # The company's top-down 56,500.00 a month gives each exactly its 2025 total.
    bu = _store(
        company, "bottomup", CENTS, MONTHS, history_start=first, history_periods=months, method="average"
    )
    td = _store(company, "topdown", {c: 1_130_000 for c in CENTS}, MONTHS, dimension="company")
    with company.session() as session:
        plan = reconcile(session, "top-down", proportions="proportion_averages", bu_run=bu, td_run=td)
    codes = list(plan.hierarchy.customers["code"])
    got = {c: int(plan.bottom()[codes.index(c), 0]) for c in CENTS}
    assert got == {"C1": 2_290_000, "C2": 810_000, "C3": 240_000, "C4": 1_980_000, "C5": 330_000}


def test_a_monthly_top_down_run_does_not_inform_a_weekly_one_starting_the_same_day(company):
    # 2025-12-01 is a Monday: a weekly bottom-up run from it and a monthly top-down run from it.
    weeks = [date(2025, 12, 1), date(2025, 12, 8)]
    bu = _store(
        company,
        "bottomup",
        CENTS,
        weeks,
        freq="week",
        history_start="2025-09-01",
        history_periods=13,
        method="average",
    )
    td = _store(company, "topdown", {c: 100_000 for c in CENTS}, [date(2025, 12, 1)], dimension="company")
    with company.session() as session:
        plan = reconcile(session, "top-down", bu_run=bu, td_run=td)
    assert plan.params["topdown_run"] is None and plan.value[0, 0] != 500_000


def test_upper_nodes_get_their_own_model_customers_keep_the_runs_values(company):
    # The run's method is the historic average over its window (2025): the company 56,400 / 12
    # = 4,700.00 a month (C5's refund counts in the net history), 华东 C1 + C2 + C3 =
    # 33,400 / 12; customers keep the run's cents and no spread of their own.
    bu_id = _store(company, "bottomup", CENTS, MONTHS, method="average")
    with company.session() as session:
        bu = load(session, bu_id)
        own = upper_forecasts(session, bu)
    h = bu.hierarchy
    cust = h.levels["customer"]
    assert own.mean[cust].tolist() == (bu.value[cust] / 100).tolist()
    assert own.sigma[cust].tolist() == np.zeros((len(cust), 2)).tolist()
    assert own.mean[0].tolist() == pytest.approx([4700.0, 4700.0])
    assert own.mean[h.index()[("region", "华东")]].tolist() == pytest.approx([33_400 / 12] * 2)
    assert (own.sigma[0] > 0).all()


def test_a_one_month_run_is_reconciled(company):
    bu = _store(company, "bottomup", CENTS, MONTHS[:1], method="average")
    with company.session() as session:
        plan = reconcile(session, "top-down", proportions="proportion_averages", bu_run=bu)
    assert plan.periods == MONTHS[:1] and plan.value[0].tolist() == [470_000]  # 56,400 / 12, as above


@pytest.mark.parametrize(("dimension", "regions_from_td"), [("region", True), ("company", False)])
def test_a_top_down_run_by_region_sets_the_regions_figures(company, dimension, regions_from_td):
    # Top-down by region: 华东 (C1, C2, C3) 3 × 1,000.00, 华北 (C4, C5) 2 × 1,000.00 a month;
    # middle-out at the region level keeps those figures. By company: each region's own
    # model (the historic average of its 2025 sales: 华东 33,400 / 12).
    bu = _store(company, "bottomup", CENTS, MONTHS, method="average")
    td = _store(company, "topdown", {c: 100_000 for c in CENTS}, MONTHS, dimension=dimension)
    with company.session() as session:
        plan = reconcile(session, "middle-out", middle_level="region", bu_run=bu, td_run=td)
    index = plan.hierarchy.index()
    east = plan.value[index[("region", "华东")]].tolist()
    assert east == ([300_000, 300_000] if regions_from_td else [round(33_400 / 12 * 100)] * 2)


def test_a_run_band_narrower_than_its_pipeline_leaves_the_pipeline_alone(company):
    # The run says its band holds the pipeline's variance, but its band (1.00) is narrower
    # than the pipeline's own: p(1 - p)·amount² = 0.25 × 10,000² (σ 5,000). The model's part
    # is then nothing, and the band is the pipeline's: 1.2816 × 5,000 = 6,407.76.
    with company.session() as session:
        api.add_opportunity(
            session,
            {
                "customer": "C1",
                "amount": "10000",
                "probability": "0.5",
                "close_date": "2026-02-10",
                "ref": "OPP-1",
            },
        )
        h = H.build(customer_frame(session))
        bottom = np.full((h.n_bottom, 1), 100_000, dtype=np.int64)
        bu = _monthly_by_hand(
            h, bottom, date(2026, 2, 1), date(2026, 1, 1), params={intervals.PIPELINE_VARIANCE: True}
        )
        bu.high = bu.value + 100
        low, high = scenarios(session, bu, bu, np.zeros(bu.value.shape), np.ones((h.n_bottom, 12)))
    c1 = h.levels["customer"][list(h.customers["code"]).index("C1")]
    assert high[c1, 0] - bu.value[c1, 0] == 640_776


def test_a_node_whose_customers_weigh_nothing_is_split_without_a_numeric_warning():
    """The even split of a node with no weight divides by nothing (no 0/0 warning to the reader)."""
    h = _tree()
    nodes = np.array([h.index()[("salesperson", "R/S0")]])
    values = np.zeros((len(h.keys), 1))
    values[nodes[0]] = [90.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = split_down(h, values, nodes, "forecast_proportions", bottom_now=np.zeros((4, 1)))
    assert out[:, 0].tolist() == [30.0, 30.0, 30.0, 0.0]


def test_a_run_that_recorded_no_history_window_is_reconciled_on_all_its_history(company):
    """A run without ``history_start`` and ``history_periods`` saw everything from the first purchase."""
    bu = _store(company, "bottomup", CENTS, MONTHS, history_start=None, history_periods=None)
    with company.session() as session:
        nodes = run_history(session, load(session, bu))
    # 2024-01 .. 2025-12; the company's first month: C1 1,000 + C2 500 + C4 2,000 + C5 300.
    assert nodes.shape[1] == 24 and nodes[0, 0] == 3_800.0


def test_with_no_history_every_node_keeps_the_runs_values(company):
    """No period of history to model the upper nodes on: they keep the run's own values, no spread."""
    bu_id = _store(company, "bottomup", CENTS, MONTHS, method="average")
    with company.session() as session:
        bu = load(session, bu_id)
        own = upper_forecasts(session, bu, np.zeros((len(bu.hierarchy.keys), 0)))
    assert own.mean.tolist() == (bu.value / 100).tolist()
    assert not own.sigma.any()


def test_top_down_keeps_the_company_figure_to_the_cent_whatever_the_middle_level(company):
    """A top-down figure with cents is the plan's company value to the cent, however its parts round."""
    # The top-down run's company figure is 5,000.04 a month. By the 2025 proportions (56,500 in
    # all, C5's refund month as zero) the salespeople get 31,000 (张伟), 2,400 (王芳) and 23,100
    # (李娜) of it: 2,743.3848, 212.3911 and 2,044.2641; each rounded alone, 5,000.03 in all.
    # Rounded within the company: floors 274,338 + 21,239 + 204,426 cents and the last cent to
    # the largest remainder, 张伟's.
    bu = _store(company, "bottomup", CENTS, MONTHS, method="average")
    td = _store(
        company, "topdown", {**{c: 100_000 for c in CENTS}, "C1": 100_004}, MONTHS, dimension="company"
    )
    with company.session() as session:
        plan = reconcile(
            session,
            "top-down",
            proportions="proportion_averages",
            middle_level="salesperson",
            bu_run=bu,
            td_run=td,
        )
    index = plan.hierarchy.index()
    assert plan.value[0].tolist() == [500_004, 500_004]
    people = [index[("salesperson", key)] for key in ("华东/张伟", "华东/王芳", "华北/李娜")]
    assert plan.value[people, 0].tolist() == [274_339, 21_239, 204_426]


def test_middle_out_keeps_the_middle_levels_own_figures_to_the_cent(company):
    """Middle-out rounds each middle node on its own; the company is their sum, not its own rounding."""
    # The run saw 2024-01 .. 2025-12; each region's historic average over those 24 months:
    # 华东 58,160 / 24 = 2,423.33⅓, 华北 49,280 / 24 = 2,053.33⅓. Each to the cent: 2,423.33 and
    # 2,053.33, so the company 4,476.66 (its own 4,476.66⅔ would round to 4,476.67).
    bu = _store(
        company, "bottomup", CENTS, MONTHS, history_start="2024-01-01", history_periods=24, method="average"
    )
    with company.session() as session:
        plan = reconcile(session, "middle-out", middle_level="region", bu_run=bu, td_run=None)
    index = plan.hierarchy.index()
    regions = [index[("region", "华东")], index[("region", "华北")]]
    assert plan.value[regions].tolist() == [[242_333] * 2, [205_333] * 2]
    assert plan.value[0].tolist() == [447_666] * 2
    assert plan.method == "middle-out (average_proportions) at region"
    assert (
        plan.params["scenario"] == "80% interval: each node's own model, with the pipeline's p(1-p)·amount²"
    )


def test_stated_adjustments_without_a_pessimistic_one_keep_the_plan_as_pessimistic(company):
    """Only an optimistic adjustment stated: the pessimistic value is the plan's own."""
    bu = _store(company, "bottomup", CENTS, MONTHS, scenario="stated adjustments", optimistic=0.1)
    with company.session() as session:
        plan = reconcile(session, "bottom-up", bu_run=bu)
    assert plan.low.tolist() == plan.value.tolist()
    assert plan.high[0].tolist() == [201_667, 201_667]


def test_a_one_purchase_customer_planned_one_cent_gets_the_band_of_a_cent(company):
    """σ = √(size × mean) with the mean to the cent: a purchase of 100.00 and 0.01 planned, σ = 1."""
    with company.session() as session:
        h = H.build(customer_frame(session))
        codes = list(h.customers["code"])
        bottom = np.array([[1 if c == "C1" else 0] for c in codes], dtype=np.int64)
        bare = _monthly_by_hand(h, bottom, date(2026, 1, 1), None)
        history = np.zeros((h.n_bottom, 12))
        history[codes.index("C1"), 5] = 100.0
        low, high = scenarios(session, bare, bare, np.zeros(bare.value.shape), history)
    c1 = h.levels["customer"][codes.index("C1")]
    # Half band 1.2816 × 1 yuan = 128 cents; the pessimistic value stops at zero.
    assert (int(low[c1, 0]), int(high[c1, 0])) == (0, 1 + 128)


def test_top_down_over_no_customers_plans_nothing():
    """A company without customers: its figure has nobody to go to, and the split does not fail."""
    h = H.build(pd.DataFrame({"id": [], "code": [], "region": [], "salesperson": []}))
    history = np.zeros((0, 3))
    out = combine(
        h,
        "top-down",
        np.full((1, 2), 50.0),
        np.zeros((0, 2)),
        proportions="proportion_averages",
        history=history,
    )
    assert out.shape == (0, 2)
