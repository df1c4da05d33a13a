"""Allocation, rounding, classification and reconciliation, without a database."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hierarchicalforecast.methods import TopDownSparse
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu_forecast import classify, hierarchy, money, topdown
from kehu_forecast.plan import Plan
from kehu_forecast.reconcile import combine


def test_average_of_proportions_by_hand():
    # Two customers over three months: A = 10, 30, 20; B = 30, 10, 0 (group 40, 40, 20).
    y = np.array([[10, 30, 20], [30, 10, 0]], dtype=float)
    # A: (10/40 + 30/40 + 20/20) / 3 = (0.25 + 0.75 + 1) / 3 = 2/3 ; B: (0.75 + 0.25 + 0) / 3 = 1/3
    assert np.allclose(topdown.proportions(y, "average_proportions"), [2 / 3, 1 / 3])
    # A: 60 / 100 = 0.6 ; B: 40 / 100 = 0.4
    assert np.allclose(topdown.proportions(y, "proportion_averages"), [0.6, 0.4])


def test_average_of_proportions_skips_months_without_sales_and_ignores_refunds():
    y = np.array([[10, 0, -5], [30, 0, 15]], dtype=float)
    # Month 2 had no sales (skipped); the refund counts as zero: A = (0.25 + 0) / 2, B = (0.75 + 1) / 2.
    assert np.allclose(topdown.proportions(y, "average_proportions"), [0.125, 0.875])


def test_allocation_adds_up_to_the_cent():
    total = np.array([100_000, 1], dtype=np.int64)  # 1000.00 yuan, and one cent
    weights = np.array([[1, 1], [1, 1], [1, 1]], dtype=float)
    cents = money.allocate_cents(total, weights)
    assert cents[:, 0].tolist() == [33_334, 33_333, 33_333]
    assert cents.sum(axis=0).tolist() == [100_000, 1]
    # No weight at all: an even split, still exact.
    assert money.allocate_cents(np.array([10]), np.zeros((3, 1))).sum() == 10


def test_demand_classes_by_adi_and_cv2():
    values = np.array(
        [
            [100, 110, 90, 105, 95, 100, 100, 98],  # smooth
            [10, 300, 5, 200, 20, 400, 15, 250],  # erratic
            [0, 100, 0, 0, 100, 0, 0, 100],  # intermittent
            [0, 10, 0, 0, 500, 0, 0, 40],  # lumpy
            [0, 0, 0, 0, 0, 100, 120, 90],  # short: 3 periods since the first purchase
            [0, 0, 0, 0, 0, 0, 0, 0],  # none
        ],
        dtype=float,
    )
    classes, adi, cv2 = classify.classify(values)
    assert classes.tolist() == ["smooth", "erratic", "intermittent", "lumpy", "short", "none"]
    assert adi[2] == pytest.approx(7 / 3)  # 7 periods since the first purchase, 3 with one
    assert cv2[2] == pytest.approx(0.0)


def _hierarchy(regions: list[int]) -> hierarchy.Hierarchy:
    rows = []
    n = 0
    for r, sps in enumerate(regions):
        for s in range(sps):
            for _ in range(1 + (n % 3)):
                rows.append({"id": n + 1, "code": f"C{n:03d}", "region": f"R{r}", "salesperson": f"S{s}"})
                n += 1
    return hierarchy.build(pd.DataFrame(rows))


def _assert_children_sum(plan: Plan) -> None:
    h = plan.hierarchy
    for node in range(len(h.keys)):
        children = np.flatnonzero(h.parent == node)
        if len(children):
            assert np.all(np.abs(plan.value[children].sum(axis=0) - plan.value[node]) <= 1)


@settings(max_examples=40, deadline=None)
@given(
    regions=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    seed=st.integers(0, 10_000),
    method=st.sampled_from(["bottom-up", "top-down", "middle-out", "mint-ols", "mint-wls"]),
    middle=st.sampled_from(["region", "salesperson"]),
)
def test_every_method_gives_a_plan_that_adds_up(regions, seed, method, middle):
    h = _hierarchy(regions)
    rng = np.random.default_rng(seed)
    bottom = rng.gamma(2.0, 5000.0, (h.n_bottom, 3)) * (rng.random((h.n_bottom, 3)) > 0.2)
    y_hat = np.asarray(h.S @ bottom) * rng.uniform(0.7, 1.4, (len(h.keys), 1))  # incoherent upper forecasts
    history = rng.gamma(2.0, 100.0, (h.n_bottom, 6)) * (rng.random((h.n_bottom, 6)) > 0.3)
    proportions = ("average_proportions", "proportion_averages", "forecast_proportions")[seed % 3]
    result = combine(h, method, y_hat, bottom, proportions=proportions, history=history, middle_level=middle)
    plan = Plan.from_bottom(
        h,
        money.round_coherent(result),
        kind="reconciled",
        method=method,
        freq="month",
        periods=[],
        history_end=None,
    )
    _assert_children_sum(plan)
    # The company total is the reconciled one, to the cent.
    assert np.all(np.abs(plan.value[0] - np.rint(result.sum(axis=0) * 100)) <= 1)
    if method == "top-down":
        assert np.allclose(plan.value[0] / 100, y_hat[0], atol=0.01)


def test_top_down_split_matches_hierarchicalforecast():

    h = _hierarchy([2, 1])
    rng = np.random.default_rng(3)
    history = rng.gamma(2.0, 100.0, (h.n_bottom, 12)) + 1
    y_hat = np.asarray(h.S @ rng.gamma(2.0, 100.0, (h.n_bottom, 2)))
    ours = combine(
        h, "top-down", y_hat, y_hat[h.levels["customer"]], proportions="proportion_averages", history=history
    )
    tags = {lv: h.levels[lv] for lv in hierarchy.LEVELS}
    theirs = TopDownSparse("proportion_averages").fit_predict(
        S=h.S.astype(float), y_hat=y_hat, y_insample=np.asarray(h.S @ history), tags=tags
    )["mean"]
    assert np.allclose(ours, theirs[h.levels["customer"]])


def test_middle_out_takes_average_proportions_within_each_node():
    # One region, two salespeople: S0 has customers A, B; S1 has C. Middle level: salesperson.
    h = hierarchy.build(
        pd.DataFrame(
            {"id": [1, 2, 3], "code": ["A", "B", "C"], "region": ["R"] * 3, "salesperson": ["S0", "S0", "S1"]}
        )
    )
    history = np.array([[10, 30], [30, 10], [500, 0]], dtype=float)  # A: 1/4 then 3/4 of S0
    y_hat = np.zeros((len(h.keys), 1))
    index = h.index()
    y_hat[index[("salesperson", "R/S0")]] = 100.0
    y_hat[index[("salesperson", "R/S1")]] = 7.0
    result = combine(
        h,
        "middle-out",
        y_hat,
        np.zeros((3, 1)),
        proportions="average_proportions",
        history=history,
        middle_level="salesperson",
    )
    # Within S0: A = (10/40 + 30/40) / 2 = 0.5, B = 0.5; C alone takes all of S1.
    assert result[:, 0].tolist() == [50.0, 50.0, 7.0]


def test_names_with_the_separator_survive_a_stored_round_trip():
    h = hierarchy.build(
        pd.DataFrame(
            {
                "id": [1, 2],
                "code": ["A", "B"],
                "region": ["华东/上海", "华东/上海"],
                "salesperson": ["张/伟", "李娜"],
            }
        )
    )
    assert h.keys[:4] == [hierarchy.COMPANY, "华东/上海", "华东/上海/张/伟", "华东/上海/李娜"]
    assert h.salesperson_of[2:4] == ["张/伟", "李娜"]
    assert h.parent.tolist() == [-1, 0, 1, 1, 2, 3]
