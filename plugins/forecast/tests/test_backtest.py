"""Backtest on a real monthly series shipped inside statsmodels (no network)."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.datasets import co2

from kehu_core.errors import ValidationError
from kehu_forecast.backtest import backtest


@pytest.fixture(scope="module")
def co2_monthly() -> np.ndarray:
    """Mauna Loa CO2 (statsmodels.datasets.co2), weekly readings averaged per month: the last 10 years."""

    weekly = co2.load_pandas().data["co2"].interpolate()
    monthly = weekly.resample("MS").mean().dropna()
    return monthly.to_numpy()[-120:][None, :]


def test_chosen_method_beats_seasonal_naive_on_mase(co2_monthly):
    scores = {
        s.method: s
        for s in backtest(co2_monthly, "month", horizon=12, folds=3, methods=("auto", "theta", "snaive"))
    }
    assert scores["snaive"].relative_mase == 1.0
    # auto classifies CO2 as a smooth series and forecasts it with AutoTheta.
    assert scores["auto"].mase < scores["snaive"].mase
    assert scores["theta"].relative_mase < 1.0
    assert 0 < scores["auto"].smape < scores["snaive"].smape


def test_history_too_short_for_the_method_names_the_field():

    # theta needs 6 months before the first of 3 origins 3 months apart: 15 in all.
    with pytest.raises(ValidationError) as err:
        backtest(np.ones((1, 14)), "month", horizon=3, folds=3, methods=("theta",))
    assert str(err.value) == (
        "history: too short for 3 fold(s) of 3 month(s): 14 month(s) of sales history, at least 15 "
        "needed (fewer --folds or a shorter --horizon)"
    )
