"""The plausibility warning: a plan above a stated multiple of its trailing 12 months."""

from __future__ import annotations

import numpy as np

from kehu_forecast.bottomup import plausibility


def _check(plan_yuan_per_month: list[float], history: list[list[float]], horizon: int = 12):
    plan = np.array([[p * 100] * horizon for p in plan_yuan_per_month], dtype=np.int64)
    keys = ["company"] + [f"C{i}" for i in range(1, len(history))]
    return plausibility(np.array(history, dtype=float), plan, "month", 2.0, keys)


def test_edge_of_the_multiple():
    # trailing year 1,200 each: a year's plan of 2,400 (exactly 2x) is not flagged, 2,412 is, 2,388 is not
    history = [[300.0] * 12, [100.0] * 12, [100.0] * 12, [100.0] * 12]
    got = _check([600, 200, 201, 199], history)
    assert got["company"] is None  # 7,200 against 3,600: exactly 2x
    assert [c["node"] for c in got["customers"]] == ["C2"]
    assert got["customers"][0] == {
        "node": "C2",
        "plan_year": 2412.0,
        "trailing_year": 1200.0,
        "multiple": 2.01,
    }
    assert got["customers_flagged"] == 1 and got["multiple"] == 2.0


def test_company_flagged_and_short_horizon_scaled_to_a_year():
    # 6 months of 250 a month = 3,000 a year against 1,200: 2.5x
    got = _check([250, 250], [[100.0] * 12, [100.0] * 12], horizon=6)
    assert got["company"]["multiple"] == 2.5 and got["company"]["plan_year"] == 3000.0


def test_one_first_order_planned_every_month_is_flagged():
    # one order of 100,000 eleven months ago, planned at 100,000 a month: 12x
    history = [[0.0] * 12, [0.0] + [100_000.0] + [0.0] * 10]
    history[0] = history[1]
    got = _check([100_000, 100_000], history)
    assert got["customers"][0]["multiple"] == 12.0


def test_silent_year_compared_with_the_yearly_average_and_no_history_not_judged():
    # 24 months: 2,400 in the first year, nothing in the last: reference 1,200 a year
    silent = [200.0] * 12 + [0.0] * 12
    none = [0.0] * 24
    got = _check([300, 300, 5], [silent, silent, none])
    assert got["customers"][0]["trailing_year"] == 1200.0 and got["customers"][0]["multiple"] == 3.0
    assert got["customers_flagged"] == 1  # the customer without history is not judged
