"""The customer-base model (BG/NBD with Gamma-Gamma) against data simulated with known parameters,
against Monte-Carlo, and on hand-made summaries; the ``auto`` rule at its edges."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from kehu_forecast import classify, engine
from kehu_forecast import customerbase as CB

TRUE = CB.BGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5)


def simulate(rng: np.random.Generator, params: CB.BGNBD, T: np.ndarray, extra: float = 0.0):
    """The BG/NBD process: ``(x, t_x)`` over ``[0, T]`` and the purchases in ``(T, T + extra]``."""
    n = len(T)
    lam = rng.gamma(params.r, 1 / params.alpha, n)
    p = rng.beta(params.a, params.b, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    future = np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T[i] + extra:
                break
            if t <= T[i]:
                x[i] += 1
                t_x[i] = t
            else:
                future[i] += 1
            if rng.random() < p[i]:
                break
    return x, t_x, future


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(7)
    T = rng.uniform(10, 40, 4000)
    x, t_x, future = simulate(rng, TRUE, T, extra=6.0)
    return x, t_x, T, future


def test_fit_recovers_simulated_parameters(sample):
    x, t_x, T, _ = sample
    fit = CB.fit_bgnbd(x, t_x, T)
    assert fit.r == pytest.approx(TRUE.r, rel=0.15)
    assert fit.alpha == pytest.approx(TRUE.alpha, rel=0.15)
    # a and b are identified mostly through their ratio: looser
    assert fit.a == pytest.approx(TRUE.a, rel=0.4)
    assert fit.b == pytest.approx(TRUE.b, rel=0.4)
    assert fit.a / (fit.a + fit.b) == pytest.approx(TRUE.a / (TRUE.a + TRUE.b), rel=0.2)
    # the maximum: no worse than the truth
    assert CB.bgnbd_loglik(fit, x, t_x, T).sum() >= CB.bgnbd_loglik(TRUE, x, t_x, T).sum()


def test_conditional_expectation_matches_the_simulated_future(sample):
    # Summed over customers, E[Y(t) | x, t_x, T] is the expected future count (total expectation).
    x, t_x, T, future = sample
    expected = CB.expected_purchases(TRUE, x, t_x, T, 6.0).sum()
    assert expected == pytest.approx(future.sum(), rel=0.08)


def test_unconditional_expectation_matches_monte_carlo():
    rng = np.random.default_rng(11)
    T = np.full(20_000, 12.0)
    x, _, _ = simulate(rng, TRUE, T)
    assert CB.unconditional_purchases(TRUE, 12.0) == pytest.approx(x.mean(), rel=0.05)


def test_p_alive_by_hand():
    # x = 0: alive for sure (BG/NBD drops out only after a purchase)
    assert CB.p_alive(TRUE, np.array([0.0]), np.array([0.0]), np.array([10.0]))[0] == 1.0
    # x = 2, t_x = 4, T = 10: 1 / (1 + 0.8 / 3.5 · (14 / 8)^2.25)
    odds = 0.8 / 3.5 * (14 / 8) ** 2.25
    got = CB.p_alive(TRUE, np.array([2.0]), np.array([4.0]), np.array([10.0]))[0]
    assert got == pytest.approx(1 / (1 + odds))
    # a purchase at the very end: t_x = T gives 1 / (1 + a / (b + x - 1))
    got = CB.p_alive(TRUE, np.array([2.0]), np.array([10.0]), np.array([10.0]))[0]
    assert got == pytest.approx(1 / (1 + 0.8 / 3.5))


def test_summary_of_periods_by_hand():
    values = np.array(
        [
            [0, 100, 0, 0, 50, -20],  # first in period 1, last in 4, refund in 5 (not a purchase)
            [0, 0, 0, 0, 0, 300],  # one purchase in the last period
            [0, 0, 0, 0, 0, 0],  # none
            [80, -80, 0, 0, 0, 0],  # a refund month is not a transaction
        ],
        dtype=float,
    )
    s = CB.summarize(values)
    assert s.x.tolist() == [1, 0, 0, 0]
    assert s.t_x.tolist() == [3, 0, 0, 0]
    assert s.T.tolist() == [4.5, 0.5, 0, 5.5]
    assert s.value.tolist() == [75, 300, 0, 80]
    assert s.n.tolist() == [2, 1, 0, 1]


def test_gamma_gamma_recovers_simulated_parameters():
    rng = np.random.default_rng(5)
    p, q, gamma = 4.0, 3.0, 2000.0
    nu = rng.gamma(q, 1 / gamma, 5000)
    n = rng.integers(1, 8, 5000).astype(float)
    m = np.array([rng.gamma(p, 1 / v, int(k)).mean() for v, k in zip(nu, n)])
    fit = CB.fit_gamma_gamma(n, m)
    assert fit.mean() == pytest.approx(p * gamma / (q - 1), rel=0.1)
    # one transaction of 1000: shrunk towards the population mean 4000
    got = CB.expected_value(CB.GammaGamma(p, q, gamma), np.array([1.0]), np.array([1000.0]))[0]
    assert got == pytest.approx(4 * (2000 + 1000) / (4 + 3 - 1))


def test_too_few_customers_keep_the_series_models():
    values = np.zeros((CB.MIN_CUSTOMERS - 1, 12))
    values[:, 3] = 100.0
    assert CB.fit(values) is None
    values = np.zeros((CB.MIN_CUSTOMERS, 12))
    values[:, 3] = 100.0
    values[::2, 7] = 50.0
    assert CB.fit(values) is not None


def test_dormant_edge():
    # dormant after 6 months without a purchase: 5 silent months are not, 6 are
    base = [100.0] * 6
    rows = np.array([base + [0] * 5 + [100], base + [100] + [0] * 5, base + [0] * 6], dtype=float)
    classes, _, _ = classify.classify(rows, dormant=6)
    # a purchase in the last period; 5 silent months after one; 6 silent months
    assert classes.tolist() == ["intermittent", "intermittent", "dormant"]
    assert classify.classify(rows)[0][2] != "dormant"  # no dormant class without the setting


def test_auto_rule_by_class():
    classes = np.array(["smooth", "erratic", "intermittent", "lumpy", "short", "dormant", "none"])
    assert engine.choose(classes, "auto").tolist() == [
        "theta",
        "theta",
        "bgnbd",
        "bgnbd",
        "bgnbd",
        "bgnbd",
        "zero",
    ]
    named = engine.choose(classes, "auto", intermittent="tsb").tolist()
    assert named[2:4] == ["tsb", "tsb"] and named[4:6] == ["bgnbd", "bgnbd"]
    small = engine.choose(classes, "auto", customer_base=False).tolist()
    assert small == ["theta", "theta", "croston", "adida", "average", "tsb", "zero"]


def test_one_first_order_is_not_repeated_every_month():
    # 30 occasional customers; one bought 100,000 once, 10 months ago.
    rng = np.random.default_rng(3)
    values = np.zeros((31, 24))
    for i in range(30):
        for j in rng.choice(24, size=int(rng.integers(1, 4)), replace=False):
            values[i, j] = float(rng.gamma(2.0, 500.0))
    values[30, 13] = 100_000.0
    fc = engine.forecast(values, "month", 12, date(2026, 1, 1))
    assert fc.model[30] == "bgnbd"
    # well under one order a year (the series models planned it at 12 orders), and fading
    assert fc.mean[30].sum() < 100_000
    assert np.all(np.diff(fc.mean[30]) < 0)
