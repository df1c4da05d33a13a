"""The engine's rules at their edges: every method fitted from each series' first purchase, net
history (refund months stay negative, only the forecast is clipped), each model's fewest
periods, the conformal 80% band (checked against statsforecast called here directly), the
customer-base band, and progress. Expected values are worked out by hand in the comments."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from statsforecast import StatsForecast
from statsforecast.models import AutoTheta
from statsforecast.utils import ConformalIntervals

from kehu_core.errors import ValidationError
from kehu_forecast import customerbase as CB
from kehu_forecast import engine as E

DAY = date(2026, 1, 1)


def _wavy(t: int) -> np.ndarray:
    k = np.arange(t)
    return 100 + 2 * k + 20 * np.sin(2 * np.pi * k / 12) + 7 * (k % 3)


def _one(values, method: str, horizon: int = 2) -> E.Forecasts:
    return E.forecast(np.atleast_2d(np.asarray(values, dtype=float)), "month", horizon, DAY, method=method)


def test_a_fixed_method_is_fitted_from_the_first_purchase():
    # The average of 10..60 is 210 / 6 = 35; with the six zeros before it would be 17.5.
    fc = _one([0] * 6 + [10, 20, 30, 40, 50, 60], "average")
    assert fc.mean[0].tolist() == pytest.approx([35.0, 35.0])
    padded = _one(np.concatenate([np.zeros(10), _wavy(30)]), "theta", horizon=3)
    plain = _one(_wavy(30), "theta", horizon=3)
    assert np.array_equal(padded.mean, plain.mean) and np.array_equal(padded.sigma, plain.sigma)


def test_net_refund_months_are_fitted_net_and_only_the_forecast_is_clipped():
    # (100 + 100 − 50 + 100) / 4 = 62.5; clipping the refund month to 0 would give 75.
    assert _one([100, 100, -50, 100], "average").mean[0, 0] == pytest.approx(62.5)
    # (100 − 300 + 50) / 3 = −50: the forecast is clipped to zero, the history was not.
    assert _one([100, -300, 50], "average").mean[0].tolist() == [0.0, 0.0]
    # One month more of refunds than purchases, exactly on the edge: (100 − 100) / 2 = 0.
    assert _one([100, -100], "average").mean[0, 0] == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("method", "length", "model"),
    [
        ("ets", 7, "ets"),  # AutoETS fits 7 periods: 2 parameters + 4 < 7
        ("ets", 6, "average"),  # 6 would be "tiny datasets" for the library
        ("theta", 6, "theta"),
        ("theta", 5, "average"),
        ("croston", 3, "croston"),
        ("croston", 2, "average"),
        ("tsb", 3, "tsb"),
        ("tsb", 2, "average"),
    ],
)
def test_a_series_shorter_than_its_model_needs_gets_the_historic_average(method, length, model):
    # Two customers: one with 12 months (so the run itself is long enough), one whose first
    # purchase leaves `length` months.
    values = np.vstack([_wavy(12), np.concatenate([np.zeros(12 - length), _wavy(length)])])
    fc = E.forecast(values, "month", 2, DAY, method=method)
    assert fc.model.tolist() == [method, model]
    if model == "average":
        assert fc.mean[1, 0] == pytest.approx(_wavy(length).mean())


def test_ets_minimum_is_what_the_library_fits():
    assert E.MIN_PERIODS["ets"] == 7
    E.check_length("ets", "month", 7)
    with pytest.raises(ValidationError) as err:
        E.check_length("ets", "month", 6)
    assert "at least 7 needed" in str(err.value)
    fc = _one(_wavy(7), "ets")
    assert fc.model.tolist() == ["ets"] and np.isfinite(fc.mean).all()


@pytest.mark.parametrize(
    ("length", "windows"),
    [
        (20, 0),  # (20 − 6) // 3 = 4 windows: under 5, the model's own interval
        (21, 5),  # (21 − 6) // 3 = 5: exactly the fewest
        (29, 7),
        (30, 8),  # (30 − 6) // 3 = 8: the most
        (33, 8),  # 9 capped at 8
    ],
)
def test_conformal_windows_at_their_edges(length, windows):
    assert E.conformal_windows("theta", "month", np.array([length]), 3).tolist() == [windows]


def test_ets_conformal_windows_count_from_its_own_minimum():
    # (22 − 7) // 3 = 5 for AutoETS; 21 leaves 4.
    assert E.conformal_windows("ets", "month", np.array([21, 22]), 3).tolist() == [0, 5]


def test_the_conformal_band_is_statsforecasts_own():
    y = _wavy(40) * np.random.default_rng(3).lognormal(0, 0.05, 40)
    fc = _one(y, "theta", horizon=3)
    # (40 − 6) // 3 = 11 windows, capped at 8.
    frame = pd.DataFrame({"unique_id": 0, "ds": pd.date_range("2022-09-01", periods=40, freq="MS"), "y": y})
    model = AutoTheta(season_length=12, prediction_intervals=ConformalIntervals(h=3, n_windows=8))
    ref = StatsForecast(models=[model], freq="MS").forecast(df=frame, h=3, level=[80])
    assert fc.mean[0] == pytest.approx(ref["AutoTheta"].to_numpy(), abs=1e-9)
    half = (ref["AutoTheta-hi-80"] - ref["AutoTheta-lo-80"]).to_numpy() / 2
    assert E.Z80 * fc.sigma[0] == pytest.approx(half, abs=1e-9)


def test_below_five_windows_the_band_is_the_models_own():
    y = _wavy(20)  # (20 − 6) // 3 = 4 windows
    fc = _one(y, "theta", horizon=3)
    frame = pd.DataFrame({"unique_id": 0, "ds": pd.date_range("2024-05-01", periods=20, freq="MS"), "y": y})
    ref = StatsForecast(models=[AutoTheta(season_length=1)], freq="MS").forecast(df=frame, h=3, level=[80])
    half = (ref["AutoTheta-hi-80"] - ref["AutoTheta-lo-80"]).to_numpy() / 2
    assert E.Z80 * fc.sigma[0] == pytest.approx(half, abs=1e-9)


def test_progress_counts_series():
    values = np.vstack([np.zeros(12), _wavy(12), _wavy(12), [0] * 9 + [5.0, 6, 7]])
    calls: list[tuple[int, int]] = []
    E.forecast(values, "month", 2, DAY, method="theta", progress=lambda d, t: calls.append((d, t)))
    # 1 series with no purchase first; then the group of 2 long theta series; the short one
    # (3 months) goes to the historic average, which sorts before theta.
    assert calls == [(1, 4), (2, 4), (4, 4)]


def _customer_log(n: int, months: int, seed: int) -> np.ndarray:
    """A BG/NBD customer base in months: most buy once, some return; lognormal order sizes."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.4, 1 / 3.0, n)
    p = rng.beta(1.0, 3.0, n)
    first = rng.integers(0, months, n)
    values = np.zeros((n, months))
    for i in range(n):
        size = rng.lognormal(6, 0.5)
        t, alive = first[i], True
        values[i, t] += size * rng.lognormal(0, 0.3)
        while alive:
            t += max(1, int(np.ceil(rng.exponential(1 / max(lam[i], 1e-9)))))
            if t >= months:
                break
            values[i, t] += size * rng.lognormal(0, 0.3)
            alive = rng.random() >= p[i]
    return values


def test_the_customer_base_band_covers_70_to_90_percent_of_held_out_group_months():
    """The customer-base model's spread of a period is compound Poisson, sqrt(E[N]) × value,
    so that spreads add up as variances. On 3,000 simulated customers (30 months fitted, 6
    held out), the 80% band of groups of 50 customers' sums holds 70–90% of the held-out
    group-months (84%); one customer's month, mostly no purchase, is inside its band more
    often (95%): its outcome is all or nothing, and the band is made for sums."""
    values = _customer_log(3000, 36, seed=5)
    train, test = values[:, :30], values[:, 30:]
    bought = (train > 0).any(axis=1)
    model = CB.fit(train[bought])
    assert model is not None
    seen = CB.outlook(model, train[bought], 6)
    actual = test[bought]
    groups = np.arange(len(actual) // 50 * 50).reshape(-1, 50)
    mean, actual_sum = seen.mean[groups].sum(axis=1), actual[groups].sum(axis=1)
    half = E.Z80 * np.sqrt((seen.sigma[groups] ** 2).sum(axis=1))
    inside = (actual_sum >= mean - half) & (actual_sum <= mean + half)
    assert 0.70 <= inside.mean() <= 0.90
    one = (actual >= seen.mean - E.Z80 * seen.sigma) & (actual <= seen.mean + E.Z80 * seen.sigma)
    assert one.mean() >= 0.80
