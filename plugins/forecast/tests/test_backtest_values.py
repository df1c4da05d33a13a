"""The backtest's metrics as absolute values worked out by hand on tiny series: MASE (with the
seasonal lag once the history is longer than a season, the one-step lag before), sMAPE (points
where actual and forecast are both zero left out), the 80% band's coverage (a point exactly on
the band's edge is inside, one step beyond it is not), relative MASE over the origins both
methods were fitted at, and the counts of series, fits and misses."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from sqlalchemy import update

from kehu_core.customers import add_customer
from kehu_core.errors import ValidationError
from kehu_core.interactions import write_interactions
from kehu_core.models import Customer
from kehu_core.users import add_user
from kehu_forecast import engine as E
from kehu_forecast.backtest import _scale, backtest, backtest_history


def _scores(values, **kw) -> dict:
    return {s.method: s for s in backtest(np.atleast_2d(np.asarray(values, dtype=float)), "month", **kw)}


#: 15 months: a first year, then 120, 260, 250 in months 13 to 15.
SEASONAL = [100, 200, 300, 100, 100, 100, 100, 100, 100, 100, 100, 100, 120, 260, 250]


def test_seasonal_naive_mase_smape_and_coverage_by_hand():
    # Origins 13 and 14 (2 folds of 1 month). Origin 13: 13 months of history, longer than a
    # season, so the scale is the seasonal naive error |120 - 100| = 20; the forecast is
    # month 2's 200, actual 260: MASE 60 / 20 = 3, sMAPE 200·60/460. The model's residual
    # spread is sqrt(20²/1) = 20: band 200 ± 1.2816·20 = ±25.6 misses 260.
    # Origin 14: scale (20 + |260 - 200|) / 2 = 40; forecast month 3's 300, actual 250:
    # MASE 50 / 40 = 1.25, sMAPE 200·50/550; spread sqrt((20² + 60²)/2) = 44.72, band ±57.3
    # holds 250.
    score = _scores(SEASONAL, horizon=1, folds=2, methods=("snaive",))["snaive"]
    assert score.mase == (3 + 1.25) / 2 == 2.125
    assert score.smape == round((200 * 60 / 460 + 200 * 50 / 550) / 2, 2) == 22.13
    assert score.coverage == 50.0
    assert score.relative_mase == 1.0
    assert (score.series, score.fitted, score.unfitted) == (1, 2, 0)


def test_relative_mase_is_over_the_origins_both_methods_were_fitted_at():
    # The historic average at origin 13: 1620/13, actual 260, scale 20; at origin 14:
    # 1880/14, actual 250, scale 40.
    avg13 = abs(260 - 1620 / 13) / 20
    avg14 = abs(250 - 1880 / 14) / 40
    scores = _scores(SEASONAL, horizon=1, folds=2, methods=("average", "snaive"))
    assert scores["average"].mase == round((avg13 + avg14) / 2, 4)
    assert scores["average"].relative_mase == round(((avg13 + avg14) / 2) / 2.125, 4)
    # One month less: origins 12 and 13. Seasonal naive needs 13 months: fitted at 13 only,
    # so the relative MASE compares the average at origin 13 alone. At origin 12 the history
    # is exactly one season (12 months): the scale is the one-step naive error, mean of
    # 100, 100, 200, 0 … 0 over 11 differences = 400/11.
    scores = _scores(SEASONAL[:14], horizon=1, folds=2, methods=("average", "snaive"))
    avg12 = abs(120 - 1500 / 12) / (400 / 11)
    assert (scores["snaive"].fitted, scores["snaive"].unfitted) == (1, 1)
    assert (scores["average"].fitted, scores["average"].unfitted) == (2, 0)
    assert scores["average"].mase == round((avg12 + avg13) / 2, 4)
    assert scores["average"].relative_mase == round(avg13 / 3.0, 4)
    assert scores["snaive"].mase == 3.0 and scores["snaive"].relative_mase == 1.0


@pytest.mark.parametrize(
    ("train", "expected"),
    [
        ([], 0.0),  # no history at all
        ([5.0], 0.0),  # one point: no error to scale by
        ([5.0, 9.0], 4.0),
        ([1.0] * 11 + [13.0], 12 / 11),  # 12 points, one season: one-step lag
        ([1.0] * 12 + [4.0], 3.0),  # 13 points: the seasonal lag, |4 - 1|
        ([1.0, 3.0] * 6 + [4.0, 7.0], (3 + 4) / 2),  # 14 points: |4 - 1| and |7 - 3|
    ],
)
def test_the_scale_lag_turns_seasonal_past_one_season(train, expected):
    assert _scale(np.array(train), 12) == pytest.approx(expected, abs=1e-12)


def test_average_on_exactly_one_season_is_scored_with_the_one_step_scale():
    # 12 months of history: the scale is the one-step error (|10 - 20| … = 10), not the seasonal
    # one (which needs 13 and would leave the series unscored). Average 75, actual 90.
    values = [20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 90]
    score = _scores(values, horizon=1, folds=1, methods=("average",))["average"]
    assert (score.mase, score.fitted) == (1.5, 1)
    assert score.smape == round(200 * 15 / 165, 2)


def test_smape_over_points_where_actual_or_forecast_is_not_zero():
    # History 0, 0, 4, 0, 4, 0: from the first purchase 4, 0, 4, 0, average 2. Horizon 3:
    # actual 0, 2, 0; errors 2, 0, 2; sMAPE terms 200·2/2, 0, 200·2/2 → 133.33.
    # Scale: one-step errors 4, 4, 4 → 4; mean |error| 4/3: MASE 1/3.
    score = _scores([0, 0, 4, 0, 4, 0, 0, 2, 0], horizon=3, folds=1, methods=("average",))["average"]
    assert (score.smape, score.mase) == (round(400 / 3, 2), round(1 / 3, 4))
    # A refund that brings the history to 4, -4 averages 0, a forecast of 0: the actual 0
    # next to it has no sMAPE term, the actual 6 after it 200. Scale |-4 - 4| = 8, errors 0
    # and 6: MASE 3/8.
    score = _scores([4, -4, 0, 6], horizon=2, folds=1, methods=("average",))["average"]
    assert (score.smape, score.mase) == (200.0, 0.375)


def test_a_perfect_forecast_scores_zero_and_is_covered():
    # History 4, 0, 4, 0: average 2, actual 2.
    score = _scores([4, 0, 4, 0, 2], horizon=1, folds=1, methods=("average",))["average"]
    assert (score.smape, score.mase, score.coverage) == (0.0, 0.0, 100.0)


def _edge(train: np.ndarray, method: str, side: int) -> float:
    """The value exactly on the 80% band's lower (side -1) or upper (+1) edge, as the backtest
    computes it from the model's forecast."""
    fc = E.forecast(train[None, :], "month", 1, date(2000, 1, 1), method=method)
    half = E.Z80 * fc.sigma[0, 0]
    return float(fc.mean[0, 0] + side * half)


@pytest.mark.parametrize("side", [-1, 1])
@pytest.mark.parametrize(("step", "inside"), [(0, True), (-1, False), (1, True)])
def test_a_point_exactly_on_the_band_edge_is_covered(side, step, inside):
    """``step`` moves the actual one float step outwards (-1) or inwards (+1) from the edge."""
    train = np.array(SEASONAL[:13], dtype=float)
    edge = _edge(train, "snaive", side)
    toward = -side * np.inf if step > 0 else side * np.inf
    actual = edge if step == 0 else float(np.nextafter(edge, toward))
    values = np.concatenate([train, [actual]])
    score = _scores(values, horizon=1, folds=1, methods=("snaive",))["snaive"]
    assert score.coverage == (100.0 if inside else 0.0)


def test_coverage_counts_every_point_of_every_series_and_origin():
    # Two series, 2 origins × 1 month: the first's 2 points (as above: 1 in, 1 out), the
    # second (the first doubled) the same: 2 of 4 inside.
    values = [SEASONAL, [2 * v for v in SEASONAL]]
    score = _scores(values, horizon=1, folds=2, methods=("snaive",))["snaive"]
    assert score.coverage == 50.0 and (score.series, score.fitted) == (2, 4)
    assert score.mase == 2.125  # MASE has no unit: doubling a series changes nothing


def test_mase_is_the_mean_over_series_and_origins():
    # The second series is fitted only at origin 14 (first purchase in month 2: 13 months
    # before origin 14 but only 12 before 13): its 1.25-like value counts once.
    late = [0.0] + SEASONAL[:14]  # shifted by one month: origin 14 is its 13th month
    score = _scores([SEASONAL, late], horizon=1, folds=2, methods=("snaive",))["snaive"]
    # late at origin 14: history 100, 200, 300, 100 … 100, 120 (13 months): scale 20,
    # forecast 200, actual 260: MASE 3. Mean of 3, 1.25 (SEASONAL) and 3.
    assert (score.fitted, score.unfitted, score.series) == (3, 1, 2)
    assert score.mase == round((3 + 1.25 + 3) / 3, 4)
    # Its point (forecast 200, band ±1.2816·20, actual 260) is outside: 1 of 3 points inside.
    assert score.coverage == 33.3


def test_the_first_origin_is_folds_times_horizon_before_the_end():
    # 15 months, 2 folds of 2: origins 11 and 13 (months 12-13 and 14-15 held out). The
    # historic average is scored at both.
    # Origin 11: the average of 100, 200, 300 and eight 100s is 1400/11, the one-step scale
    # (100 + 100 + 200) / 10. Origin 13: 1620/13, the seasonal scale |120 - 100| = 20.
    score = _scores(SEASONAL, horizon=2, folds=2, methods=("average",))["average"]
    a11 = np.mean(np.abs(np.array([100.0, 120.0]) - 1400 / 11)) / (400 / 10)
    a13 = np.mean(np.abs(np.array([260.0, 250.0]) - 1620 / 13)) / 20
    assert score.mase == round((a11 + a13) / 2, 4)
    assert score.fitted == 2


def test_too_short_by_one_is_refused_and_exactly_enough_is_not():
    # The average needs 1 month before the first origin: 2 folds of 3 need 7 months. At
    # origin 1 the one month has no error to scale by: not scored (nor counted unfitted).
    score = _scores([5, 6, 7, 8, 9, 10, 11], horizon=3, folds=2, methods=("average",))["average"]
    assert (score.fitted, score.unfitted) == (1, 0)
    with pytest.raises(ValidationError) as err:
        _scores([5, 6, 7, 8, 9, 10], horizon=3, folds=2, methods=("average",))
    assert str(err.value) == (
        "history: too short for 2 fold(s) of 3 month(s): 6 month(s) of sales history, at least 7 "
        "needed (fewer --folds or a shorter --horizon)"
    )


@pytest.mark.parametrize(
    ("horizon", "folds", "field"), [(0, 1, "horizon"), (1, 0, "folds"), (2, 0, "folds"), (0, 0, "horizon")]
)
def test_horizon_and_folds_below_one_are_refused(horizon, folds, field):
    with pytest.raises(ValidationError) as err:
        _scores([1, 2, 3, 4], horizon=horizon, folds=folds, methods=("average",))
    assert str(err.value) == f"{field}: must be at least 1"


def test_weekly_history_is_refused_in_weeks():
    with pytest.raises(ValidationError) as err:
        backtest(np.ones((1, 5)), "week", horizon=3, folds=2, methods=("average",))
    assert str(err.value) == (
        "history: too short for 2 fold(s) of 3 week(s): 5 week(s) of sales history, at least 7 "
        "needed (fewer --folds or a shorter --horizon)"
    )


def _refusing(monkeypatch, poison: float = 8.0) -> None:
    """The library refuses any call holding a series with a ``poison`` value (as it does on a
    series it cannot fit)."""
    real = E.forecast

    def forecast(train, *args, **kw):
        if (np.asarray(train) == poison).any():
            raise ValueError("cannot fit")
        return real(train, *args, **kw)

    monkeypatch.setattr(E, "forecast", forecast)


def test_a_series_the_library_refuses_is_unfitted_and_the_others_are_scored(monkeypatch):
    _refusing(monkeypatch)
    # Origin 4. A: average 25, actual 50, one-step scale 10: MASE 2.5. C: average 25,
    # actual 40, scale 10: MASE 1.5. B (refused with them, then alone) is not fitted.
    values = [[10, 20, 30, 40, 50], [7, 7, 7, 8, 7], [40, 30, 20, 10, 40]]
    score = _scores(values, horizon=1, folds=1, methods=("average",))["average"]
    assert (score.fitted, score.unfitted, score.series, score.mase) == (2, 1, 2, 2.0)
    # B last, or first: the same.
    for order in ([0, 2, 1], [1, 0, 2]):
        again = _scores([values[i] for i in order], horizon=1, folds=1, methods=("average",))["average"]
        assert (again.fitted, again.unfitted, again.mase) == (2, 1, 2.0)


def test_a_method_fitted_on_every_series_at_once_is_all_or_nothing(monkeypatch):
    _refusing(monkeypatch)
    # B's first purchase is a month after the others': still one call for the three.
    values = [[10, 20, 30, 40, 50], [0, 7, 7, 8, 7], [40, 30, 20, 10, 40]]
    score = _scores(values, horizon=1, folds=1, methods=("auto",))["auto"]
    assert (score.fitted, score.unfitted, score.mase, score.smape, score.coverage) == (0, 3, None, None, None)


def test_three_folds_of_three_months_by_default():
    # 1, 2 … 11: origins 2, 5 and 8, each followed by 3 months. The average of 1, 2 is 1.5
    # against 3, 4, 5: MASE 2.5 (one-step scale 1); of 1 … 5, 3 against 6, 7, 8: 4; of 1 … 8,
    # 4.5 against 9, 10, 11: 5.5. Mean 4.
    (score,) = backtest(np.arange(1.0, 12.0)[None, :], "month", methods=("average",))
    assert (score.fitted, score.mase) == (3, 4.0)
    # 3 × 3 held-out months and the one the average needs: 10.
    with pytest.raises(ValidationError) as err:
        backtest(np.arange(1.0, 10.0)[None, :], "month", methods=("average",))
    assert "too short for 3 fold(s) of 3 month(s): 9 month(s) of sales history, at least 10" in str(err.value)


def test_no_relative_mase_when_seasonal_naive_is_exact():
    # Month 14 repeats month 2 (200): seasonal naive's error is 0, MASE 0 at its one origin;
    # nothing can be scaled by it.
    values = SEASONAL[:13] + [200]
    scores = _scores(values, horizon=1, folds=1, methods=("average", "snaive"))
    assert (scores["snaive"].mase, scores["snaive"].relative_mase) == (0.0, None)
    assert scores["average"].mase is not None and scores["average"].relative_mase is None


def test_the_sales_history_is_backtested_over_three_folds_of_three_months_by_default(company):
    # Salespeople's monthly sales 2024-01 .. 2025-12: origins 15, 18 and 21. 王芳's C3 repeats
    # its year exactly (no seasonal error to scale by): 张伟 and 李娜 are scored, 3 times each.
    with company.session() as session:
        default = backtest_history(session, methods=("average",), as_of=date(2026, 1, 15))
        named = backtest_history(
            session, level="salesperson", horizon=3, folds=3, methods=("average",), as_of=date(2026, 1, 15)
        )
    assert [s.method for s in default] == ["average", "snaive"]
    assert [(s.series, s.fitted, s.unfitted) for s in default] == [(2, 6, 0), (2, 6, 0)]
    assert default == named


def test_no_sales_history_is_refused_in_one_line(kehu_app, kehu_install):
    kehu_install("forecast")
    with kehu_app.session() as session, pytest.raises(ValidationError) as err:
        backtest_history(session, as_of=date(2026, 1, 15))
    assert str(err.value) == (
        "history: too short for 3 fold(s) of 3 month(s): 0 month(s) of sales history, at least 11 "
        "needed (fewer --folds or a shorter --horizon)"
    )


def test_an_unknown_method_is_refused_listing_the_accepted_ones():
    """A method the engine does not know is refused in one line, before any fit."""
    with pytest.raises(ValidationError) as err:
        _scores(np.arange(1.0, 21.0), horizon=1, folds=1, methods=("average", "prophet"))
    assert str(err.value) == (
        "methods: unknown method; choose from auto, theta, ets, croston, adida, tsb, "
        "snaive (seasonal naive), average, bgnbd (got 'prophet')"
    )


def test_progress_counts_folds_times_methods_steps():
    """Three folds of two methods are six steps, reported one by one."""
    calls: list[tuple[int, int]] = []
    _scores(
        np.arange(1.0, 21.0),
        horizon=1,
        folds=3,
        methods=("average", "snaive"),
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(1, 6), (2, 6), (3, 6), (4, 6), (5, 6), (6, 6)]


def test_a_series_that_is_not_scored_is_not_fitted(monkeypatch):
    """A flat series (no in-sample error to scale by) is never handed to the library."""
    calls: list[np.ndarray] = []
    real = E.forecast

    def forecast(train, *args, **kw):
        calls.append(np.asarray(train))
        return real(train, *args, **kw)

    monkeypatch.setattr(E, "forecast", forecast)
    for method in ("auto", "average"):
        score = _scores([5, 5, 5, 5, 5], horizon=1, folds=1, methods=(method,))[method]
        assert (score.fitted, score.unfitted, score.mase) == (0, 0, None)
    assert calls == []


@pytest.mark.parametrize(
    ("actual", "smape"),
    [
        (0.0, 200.0),  # |0| + |0.5| = 0.5: 200·0.5/0.5
        (0.5, 0.0),  # |0.5| + |0.5| = 1, exactly a yuan: 0
        (1.0, round(200 * 0.5 / 1.5, 2)),  # 1.5
    ],
)
def test_smape_counts_points_that_add_up_to_a_yuan_or_less(actual, smape):
    """A point counts in sMAPE as soon as actual and forecast are not both zero, however small."""
    # History 1, 0, 1, 0: the average 0.5 is the forecast.
    score = _scores([1, 0, 1, 0, actual], horizon=1, folds=1, methods=("average",))["average"]
    assert score.smape == smape


def test_a_salesperson_backtests_only_the_customers_they_see(company):
    """The acting user's record rules decide which customers are scored."""
    with company.session() as session:
        add_user(company, session, "boss", roles=["admin"])
        add_user(company, session, "zhangwei", roles=["sales"], team="east")
        session.execute(update(Customer).where(Customer.code.in_(["C1", "C2"])).values(owner="zhangwei"))
    kw = dict(level="customer", horizon=1, folds=1, methods=("average",), as_of=date(2026, 1, 15))
    # Everyone's: C1, C2 and C4 (C3 repeats its year exactly and C5's 23 months of 300 before
    # its refund are flat: no scale).
    with company.session() as session:
        assert [s.series for s in backtest_history(session, **kw)] == [3, 3]
    with company.session(as_user="zhangwei") as session:
        assert [s.series for s in backtest_history(session, **kw)] == [2, 2]


def test_one_month_of_sales_history_is_refused_in_one_line(kehu_app, kehu_install, fc):
    """A history of a single period is too short, said as such (not an error of the code)."""
    kehu_install("forecast")
    with kehu_app.session() as session:
        cid = add_customer(
            kehu_app, session, {"code": "C1", "name": "一", "region": "华东", "owner": "张伟"}
        ).id
        write_interactions(
            kehu_app, session, fc.month_rows(cid, "C1", [500.0], start=(2025, 12)), source="test"
        )
    with kehu_app.session() as session, pytest.raises(ValidationError) as err:
        backtest_history(session, horizon=1, folds=1, methods=("average",), as_of=date(2026, 1, 15))
    assert str(err.value) == (
        "history: too short for 1 fold(s) of 1 month(s): 1 month(s) of sales history, at least 2 "
        "needed (fewer --folds or a shorter --horizon)"
    )
