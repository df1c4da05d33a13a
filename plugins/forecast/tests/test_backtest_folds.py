"""The backtest on equal folds: every method tried at the same origins, a method that cannot fit
reported rather than refused, nothing fitted on the zeros before a first purchase, 12 months
enough, --history, and the coverage of the 80% band; MASE checked against statsforecast and
pandas computed here independently."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from statsforecast import StatsForecast
from statsforecast.models import AutoTheta
from statsforecast.utils import AirPassengers

from kehu_core.customers import add_customer
from kehu_core.errors import ValidationError
from kehu_core.interactions import write_interactions
from kehu_forecast.backtest import backtest


def _wavy(t: int) -> np.ndarray:
    """A positive series with a trend and a yearly wave (never flat, so MASE has a scale)."""
    k = np.arange(t)
    return 100 + 2 * k + 20 * np.sin(2 * np.pi * k / 12) + 7 * (k % 3)


def _scores(values: np.ndarray, **kw) -> dict:
    return {s.method: s for s in backtest(np.atleast_2d(values), "month", **kw)}


@pytest.mark.parametrize(
    ("t", "theta_fitted", "snaive_fitted"),
    [
        (14, 2, 0),  # origins 5, 8, 11: theta needs 6, seasonal naive 13
        (15, 3, 0),  # origins 6, 9, 12: theta fits at 6 exactly; seasonal naive one short at 12
        (16, 3, 1),  # origins 7, 10, 13: seasonal naive fits at 13 exactly
    ],
)
def test_every_method_at_the_same_origins_and_a_method_that_cannot_fit_is_reported(
    t, theta_fitted, snaive_fitted
):
    scores = _scores(_wavy(t), horizon=3, folds=3, methods=("auto", "theta", "snaive"))
    assert (scores["auto"].fitted, scores["auto"].unfitted) == (3, 0)
    assert (scores["theta"].fitted, scores["theta"].unfitted) == (theta_fitted, 3 - theta_fitted)
    assert (scores["snaive"].fitted, scores["snaive"].unfitted) == (snaive_fitted, 3 - snaive_fitted)
    if snaive_fitted == 0:
        assert scores["snaive"].mase is None and scores["auto"].relative_mase is None
    else:
        assert scores["snaive"].relative_mase == 1.0 and scores["auto"].relative_mase is not None


def test_twelve_months_of_history_are_enough():
    for t in (12, 11):  # 3 folds of 3 months leave 3 or 2 months before the first origin
        scores = _scores(_wavy(t), horizon=3, folds=3, methods=("auto", "theta", "ets", "croston", "snaive"))
        assert scores["auto"].fitted == 3 and scores["snaive"].unfitted == 3
    with pytest.raises(ValidationError) as err:
        _scores(_wavy(10), horizon=3, folds=3, methods=("auto", "snaive"))
    assert str(err.value) == (
        "history: too short for 3 fold(s) of 3 month(s): 10 month(s) of sales history, at least 11 "
        "needed (fewer --folds or a shorter --horizon)"
    )


def test_no_method_is_fitted_on_the_zeros_before_the_first_purchase():
    series = np.array([0.0] * 6 + [10, 20, 30, 40, 50, 60])
    # The historic average of 10..50 is 30 (of the 11 months with the zeros it would be 13.64);
    # actual 60: |error| 30, in-sample naive error 10 (one-step, under a season): MASE 3.
    score = _scores(series, horizon=1, folds=1, methods=("average",))["average"]
    assert score.mase == 3.0 and score.smape == pytest.approx(200 * 30 / 90, abs=0.005)
    padded = np.concatenate([np.zeros(10), _wavy(40)])
    for method in ("ets", "theta", "croston", "snaive"):
        a = _scores(padded, horizon=3, folds=2, methods=(method,))[method]
        b = _scores(padded[10:], horizon=3, folds=2, methods=(method,))[method]
        assert (a.mase, a.smape, a.coverage) == (b.mase, b.smape, b.coverage), method


def test_a_series_with_no_purchase_before_an_origin_is_not_scored_there():
    late = np.array([0.0] * 9 + [5, 9, 4, 8, 6, 7])  # first purchase in period 9
    scores = _scores(np.vstack([_wavy(15), late]), horizon=3, folds=3, methods=("auto", "average"))
    # Origins 6, 9, 12: the late series is scored at 12 only (at 9 it has no history yet).
    assert scores["average"].fitted == 3 + 1 and scores["average"].series == 2


def test_mase_matches_statsforecast_and_pandas_to_the_fourth_decimal():
    rng = np.random.default_rng(11)
    y = _wavy(48) * rng.lognormal(0, 0.05, 48)
    horizon, folds = 6, 2
    ours = _scores(y, horizon=horizon, folds=folds, methods=("theta",))["theta"]
    ratios = []
    for origin in (36, 42):
        train = pd.DataFrame(
            {"unique_id": "s", "ds": pd.date_range("2000-01-01", periods=origin, freq="MS"), "y": y[:origin]}
        )
        fc = StatsForecast(models=[AutoTheta(season_length=12)], freq="MS").forecast(df=train, h=horizon)
        error = (pd.Series(y[origin : origin + horizon]) - fc["AutoTheta"].to_numpy()).abs().mean()
        scale = train["y"].diff(12).abs().mean()
        ratios.append(error / scale)
    assert abs(ours.mase - float(np.mean(ratios))) < 5e-5
    assert ours.fitted == folds


def test_progress_is_reported_for_every_method_at_every_origin():
    calls: list[tuple[int, int]] = []
    backtest(
        _wavy(20)[None, :],
        "month",
        horizon=2,
        folds=2,
        methods=("auto", "snaive"),
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def _seasonal_company(app, months: int = 60, salespeople: int = 12, seed: int = 18) -> None:
    """``salespeople`` salespeople of two customers each, buying every month for ``months``
    months up to 2025-12, with a trend (0.5%–2% a month), a yearly season of ±15–35% and 6%
    noise; amounts in cents."""
    rng = np.random.default_rng(seed)
    first = 2026 * 12 - months  # month index of the first month (2021-01 for 60)
    with app.session() as session:
        rows = []
        for s in range(salespeople):
            for c in range(2):
                code = f"S{s:02d}{c}"
                cid = add_customer(
                    app,
                    session,
                    {
                        "code": code,
                        "name": code,
                        "region": "华东" if s % 2 else "华北",
                        "owner": f"销售{s:02d}",
                    },
                ).id
                level, trend = rng.uniform(5_000, 20_000), rng.uniform(0.005, 0.02)
                amplitude, phase = rng.uniform(0.15, 0.35), rng.integers(12)
                for k in range(months):
                    amount = (
                        level
                        * (1 + trend) ** k
                        * (1 + amplitude * np.sin(2 * np.pi * (k + phase) / 12))
                        * rng.lognormal(0, 0.06)
                    )
                    year, month = divmod(first + k, 12)
                    rows.append(
                        dict(
                            customer_id=cid,
                            kind="purchase",
                            status="done",
                            occurred_at=datetime(year, month + 1, 12, 2, tzinfo=UTC),
                            amount=Decimal(f"{amount:.2f}"),
                            external_ref=f"g:{code}:{k}",
                        )
                    )
        write_interactions(app, session, rows, source="test")


@pytest.fixture
def seasonal(kehu_app, kehu_install):
    """The forecast plugin and 24 customers of 12 salespeople with 60 months of seasonal sales."""
    kehu_install("forecast")
    _seasonal_company(kehu_app)
    return kehu_app


def test_auto_beats_seasonal_naive_with_default_settings(seasonal, kehu_cli):
    result = kehu_cli("forecast", "backtest", "--as-of", "2026-01-15", "--json")
    assert result.exit_code == 0, result.output
    scores = {r["method"]: r for r in result.json}
    # 12 salespeople × 3 origins, every method at every one.
    assert all((r["fitted"], r["unfitted"]) == (36, 0) for r in result.json)
    assert scores["auto"]["relative_mase"] < 1.0
    assert all(0 <= r["coverage"] <= 100 for r in result.json)
    table = kehu_cli("forecast", "backtest", "--as-of", "2026-01-15", "--history", "15", "--methods", "auto")
    assert table.exit_code == 0, table.output
    assert "None" not in table.output
    # 15 months: origins 6, 9, 12; seasonal naive (13 months) fits at none and says so.
    snaive = [line.split() for line in table.output.splitlines() if line.startswith("snaive")][0]
    assert snaive[1:5] == ["-", "-", "-", "-"] and snaive[-2:] == ["0", "36"]


def test_the_80_band_of_auto_covers_70_to_90_percent_of_backtest_points(seasonal, kehu_cli):
    """60 months, 3 origins of 3 months: 48 to 54 months before each origin, so every series
    gets conformal intervals (AutoTheta's own interval covered 60% of these points)."""
    result = kehu_cli("forecast", "backtest", "--as-of", "2026-01-15", "--methods", "auto", "--json")
    assert result.exit_code == 0, result.output
    coverage = {r["method"]: r["coverage"] for r in result.json}["auto"]
    print(f"auto's 80% band covers {coverage}% of the held-out points")
    assert 70 <= coverage <= 90


def test_air_passengers_at_the_company_level_over_one_year(kehu_app, kehu_install, kehu_cli):
    """Box & Jenkins' airline passengers (1949-1960, shipped with statsforecast) as a company's
    monthly sales 2014-01 .. 2025-12: with all 144 months, auto beats seasonal naive on the
    next year from 2025-01."""
    kehu_install("forecast")
    with kehu_app.session() as session:
        cid = add_customer(
            kehu_app, session, {"code": "AIR", "name": "航空", "region": "华东", "owner": "张伟"}
        ).id
        rows = [
            dict(
                customer_id=cid,
                kind="purchase",
                status="done",
                occurred_at=datetime(2014 + k // 12, k % 12 + 1, 5, 2, tzinfo=UTC),
                amount=Decimal(int(v)),
                external_ref=f"air:{k}",
            )
            for k, v in enumerate(AirPassengers)
        ]
        write_interactions(kehu_app, session, rows, source="test")
    args = (
        "forecast",
        "backtest",
        "--level",
        "company",
        "--horizon",
        "12",
        "--folds",
        "1",
        "--as-of",
        "2026-01-15",
    )
    scores = {r["method"]: r for r in kehu_cli(*args, "--json").json}
    assert scores["auto"]["fitted"] == 1 and scores["auto"]["relative_mase"] < 1.0
    # The same with the last 36 months only: the origin has 24 months, still every method fits.
    short = {r["method"]: r for r in kehu_cli(*args, "--history", "36", "--json").json}
    assert all(r["fitted"] == 1 for r in short.values())
