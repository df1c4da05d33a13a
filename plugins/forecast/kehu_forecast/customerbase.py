"""The customer-base model for customers who buy now and then: BG/NBD with Gamma-Gamma.

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way") gives the number of
future purchases of a customer who may have stopped buying without saying so; Gamma-Gamma
(Fader, Hardie & Lee 2005, "RFM and CLV", after Colombo & Jiang 1999) gives the value of each.
Both are fitted by maximum likelihood on every customer's frequency/recency/T summary.

The summary is counted in the history's periods (months or ISO weeks), not days:

* a *transaction* is a period with a positive net total (refunds of the same period are
  netted first; a period whose refunds exceed its purchases is not a transaction);
* ``x`` (frequency) = transactions after the first one, so a one-time buyer has ``x = 0``;
* purchases are placed mid-period: ``t_x`` (recency) = last transaction period − first,
  ``T`` (age) = periods from the middle of the first one to the end of the history;
* the value of a transaction is its period's net total; Gamma-Gamma averages all of a
  customer's transactions, the first one included, so a one-time buyer's own order counts
  (shrunk towards the population's mean).

The paper counts repeat purchases in weeks; counting in the forecast's own periods keeps one
purchase per period at most, which is what a monthly plan needs, and means the summary
comes from the same history matrix as the other models.

Refunds booked in a later period than their purchase lower net sales without being a
transaction: the expected value is scaled by the population's ratio of net sales to the sum
of its positive periods (``keep``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from attrs import asdict, frozen
from scipy import optimize
from scipy.special import betaln, gammaln, hyp2f1

#: Fewest customers with a purchase for the model to be fitted; fewer use the series models.
MIN_CUSTOMERS = 20


@frozen
class Summary:
    """Frequency/recency/age per customer in periods, and the mean value of its transactions."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    value: np.ndarray
    #: transactions, the first one included (``x + 1``; 0 for a customer with none)
    n: np.ndarray


@frozen
class BGNBD:
    """BG/NBD parameters: purchase rates ~ Gamma(r, alpha), drop-out probabilities ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float


@frozen
class GammaGamma:
    """Gamma-Gamma parameters: transaction values ~ Gamma(p, nu), nu ~ Gamma(q, gamma)."""

    p: float
    q: float
    gamma: float

    def mean(self) -> float:
        """The population's mean transaction value, ``p·gamma / (q − 1)``."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else float("nan")


@frozen
class CustomerBase:
    """A fitted customer-base model: both parts and the share of sales refunds leave."""

    bgnbd: BGNBD
    gg: GammaGamma | None
    keep: float

    def params(self) -> dict[str, Any]:
        """Plain numbers for the run's parameters (and to rebuild the model on the profile card)."""
        return {
            "bgnbd": asdict(self.bgnbd),
            "gamma_gamma": asdict(self.gg) if self.gg is not None else None,
            "keep": self.keep,
        }

    @classmethod
    def from_params(cls, data: dict[str, Any]) -> CustomerBase:
        """The model stored by :meth:`params`."""
        gg = data.get("gamma_gamma")
        return cls(
            bgnbd=BGNBD(**data["bgnbd"]),
            gg=GammaGamma(**gg) if gg else None,
            keep=float(data["keep"]),
        )


def summarize(values: np.ndarray) -> Summary:
    """The frequency/recency/T summary of each row of ``values`` (customers × periods)."""
    n_rows, t = values.shape
    positive = values > 0
    count = positive.sum(axis=1)
    has = count > 0
    first = np.where(has, positive.argmax(axis=1), t)
    last = np.where(has, t - 1 - positive[:, ::-1].argmax(axis=1), t)
    x = np.maximum(count - 1, 0).astype(float)
    t_x = np.where(has, last - first, 0).astype(float)
    age = np.where(has, t - first - 0.5, 0.0)
    total = np.where(positive, values, 0.0).sum(axis=1)
    value = np.where(has, total / np.maximum(count, 1), 0.0)
    return Summary(x=x, t_x=t_x, T=age, value=value, n=count.astype(float))


def bgnbd_loglik(params: BGNBD, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each customer's BG/NBD log-likelihood (Fader, Hardie & Lee 2005, equation 6)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    # the second term exists only for customers with a repeat purchase
    xr = np.maximum(x, 1.0)
    a3 = betaln(a + 1, b + xr - 1) - betaln(a, b) - (r + x) * np.log(alpha + t_x)
    return a1 + np.where(x > 0, np.logaddexp(a2, a3), a2)


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> BGNBD:
    """Maximum-likelihood BG/NBD parameters (Nelder-Mead, then L-BFGS-B, on their logs).

    Customers with the same ``(x, t_x, T)`` have the same likelihood: counted in periods,
    10,000 customers have a few thousand distinct summaries, each evaluated once and weighted
    by how many customers share it."""
    scale = max(float(np.mean(T)), 1e-9)  # keeps alpha near 1 for the optimiser
    distinct, weight = np.unique(np.stack([x, t_x, T], axis=1), axis=0, return_counts=True)
    ux, ut_x, uT = distinct[:, 0], distinct[:, 1] / scale, distinct[:, 2] / scale

    def negative(theta: np.ndarray) -> float:
        r, alpha, a, b = np.exp(theta)
        ll = bgnbd_loglik(BGNBD(r, alpha, a, b), ux, ut_x, uT)
        total = float(np.dot(weight, ll))
        return -total if np.isfinite(total) else 1e300

    start = np.zeros(4)
    bounds = [(-9.0, 9.0)] * 4
    first = optimize.minimize(negative, start, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-6})
    best = optimize.minimize(negative, np.clip(first.x, -9, 9), method="L-BFGS-B", bounds=bounds)
    theta = best.x if best.fun <= first.fun else np.clip(first.x, -9, 9)
    r, alpha, a, b = np.exp(theta)
    return BGNBD(r=float(r), alpha=float(alpha * scale), a=float(a), b=float(b))


def expected_purchases(params: BGNBD, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, t: float) -> np.ndarray:
    """Expected transactions in the next ``t`` periods given ``x, t_x, T`` (equation 10)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if t <= 0:
        return np.zeros_like(np.asarray(x, dtype=float))
    z = t / (alpha + T + t)
    head = (a + b + x - 1) / (a - 1)
    tail = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    return np.asarray(head * tail / _odds(params, x, t_x, T))


def p_alive(params: BGNBD, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """The probability that each customer still buys: 1 / (1 + [x > 0]·a/(b+x−1)·((α+T)/(α+t_x))^(r+x))."""
    return np.asarray(1.0 / _odds(params, x, t_x, T))


def _odds(params: BGNBD, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    xr = np.maximum(x, 1.0)
    with np.errstate(over="ignore"):
        term = a / (b + xr - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return np.asarray(1.0 + np.where(x > 0, term, 0.0))


def unconditional_purchases(params: BGNBD, t: float) -> float:
    """Expected transactions of a new customer in its first ``t`` periods after the first one."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    tail = 1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return float((a + b - 1) / (a - 1) * tail)


def gamma_gamma_loglik(params: GammaGamma, n: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Each customer's Gamma-Gamma log-likelihood of its mean value ``m`` over ``n`` transactions."""
    p, q, g = params.p, params.q, params.gamma
    return (
        gammaln(p * n + q)
        - gammaln(p * n)
        - gammaln(q)
        + q * np.log(g)
        + (p * n - 1) * np.log(m)
        + p * n * np.log(n)
        - (p * n + q) * np.log(g + n * m)
    )


def fit_gamma_gamma(n: np.ndarray, m: np.ndarray) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma parameters from customers with a positive mean value."""
    scale = float(np.median(m))

    def negative(theta: np.ndarray) -> float:
        p, q, g = np.exp(theta)
        total = float(np.sum(gamma_gamma_loglik(GammaGamma(p, q, g), n, m / scale)))
        return -total if np.isfinite(total) else 1e300

    best = optimize.minimize(
        negative, np.array([0.0, 1.0, 0.0]), method="Nelder-Mead", options={"maxiter": 4000}
    )
    p, q, g = np.exp(np.clip(best.x, -12, 12))
    return GammaGamma(p=float(p), q=float(q), gamma=float(g * scale))


def expected_value(gg: GammaGamma | None, n: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Each customer's expected transaction value, ``p(γ + n·m) / (p·n + q − 1)``: its own mean
    shrunk towards the population's. Without a usable Gamma-Gamma fit (``q ≤ 1``), its own mean."""
    if gg is None or gg.q <= 1:
        return np.asarray(m, dtype=float)
    return np.asarray(gg.p * (gg.gamma + n * m) / (gg.p * n + gg.q - 1))


def can_fit(values: np.ndarray) -> bool:
    """Whether :func:`fit` fits the model on ``values``: at least :data:`MIN_CUSTOMERS`
    customers with a purchase (a period with a positive net total)."""
    return int((values > 0).any(axis=1).sum()) >= MIN_CUSTOMERS


def fit(values: np.ndarray) -> CustomerBase | None:
    """The model fitted on every customer with a purchase (``None`` when fewer than
    :data:`MIN_CUSTOMERS` have one, see :func:`can_fit`)."""
    if not can_fit(values):
        return None
    s = summarize(values)
    buyers = s.n > 0
    bg = fit_bgnbd(s.x[buyers], s.t_x[buyers], s.T[buyers])
    gg = None
    if (s.value > 0).sum() >= MIN_CUSTOMERS:
        gg = fit_gamma_gamma(s.n[s.value > 0], s.value[s.value > 0])
    positive = np.where(values > 0, values, 0.0).sum()
    # Refunds in later periods lower net sales: keep the population's net share.
    keep = float(np.clip(values[buyers].sum() / positive, 0.0, 1.0)) if positive > 0 else 1.0
    return CustomerBase(bgnbd=bg, gg=gg, keep=keep)


@frozen
class Outlook:
    """Per customer: the expected value per future period, its spread, and what the card shows."""

    mean: np.ndarray
    sigma: np.ndarray
    alive: np.ndarray
    value: np.ndarray


def outlook(model: CustomerBase, values: np.ndarray, horizon: int) -> Outlook:
    """Expected net sales per future period (``E[transactions in period] × E[value] × keep``)."""
    s = summarize(values)
    cum = np.stack(
        [expected_purchases(model.bgnbd, s.x, s.t_x, s.T, float(k)) for k in range(horizon + 1)], axis=1
    )
    per_period = np.clip(np.diff(cum, axis=1), 0.0, None)
    value = np.clip(expected_value(model.gg, s.n, s.value), 0.0, None) * model.keep
    value = np.where(s.n > 0, value, 0.0)
    mean = per_period * value[:, None]
    # Compound-Poisson spread of a period: sqrt(E[N]) × value.
    sigma = np.sqrt(per_period) * value[:, None]
    return Outlook(
        mean=np.nan_to_num(mean),
        sigma=np.nan_to_num(sigma),
        alive=np.where(s.n > 0, p_alive(model.bgnbd, s.x, s.t_x, s.T), 0.0),
        value=value,
    )
