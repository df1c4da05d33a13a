"""Scenario bands (pessimistic / optimistic): the 80% interval of every node, honest at every level.

* A customer's band is its own model's interval. A customer with one purchase on record
  has no spread to measure, so its purchases in a period are taken as Poisson with the
  forecast's mean, each the size of that purchase: σ² = size × mean.
* An upper node's band is its own model's interval on its own aggregated history, not
  √Σσ² over its customers: customers move together (season, economy), and summing their
  variances as if independent made the company's band far too narrow.
* The pipeline adds p(1 − p)·amount² per open opportunity (won or not), independent across
  opportunities, to every node above it.

The half-width is z₀.₉ × √(σ² + pipeline variance); the pessimistic value is floored at zero.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from kehu_forecast import engine as E
from kehu_forecast import hierarchy as H
from kehu_forecast.engine import Z80
from kehu_forecast.periods import Freq

#: The run parameter that says a run's customer bands include the pipeline's variance (a run
#: whose bands come from :func:`node_bands` sets it), so that ``reconcile`` adds it once.
PIPELINE_VARIANCE = "pipeline_variance"


def one_purchase_sigma(history: np.ndarray, mean: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """``sigma`` with a spread for customers that have at most one period with a purchase.

    ``history``: customers × past periods; ``mean``/``sigma``: customers × forecast periods.
    Such a customer's σ is √(size × mean), size being its one purchase (Poisson purchases of
    that size); customers with more history, or a σ already, keep theirs.
    """
    positive = np.where(history > 0, history, 0.0)
    bought = (positive > 0).sum(axis=1)
    size = positive.max(axis=1, initial=0.0)
    fill = (bought <= 1)[:, None] & (sigma <= 0)
    poisson = np.sqrt(np.maximum(size[:, None] * np.maximum(mean, 0.0), 0.0))
    return np.where(fill, poisson, sigma)


def node_sigma(h: H.Hierarchy, customer_sigma: np.ndarray, upper_sigma: np.ndarray) -> np.ndarray:
    """σ at every node: the customers' own, and each upper node's own model's (``upper_sigma``,
    nodes × periods; its customer rows are ignored)."""
    sigma = np.array(upper_sigma, dtype=float, copy=True)
    sigma[h.levels["customer"]] = customer_sigma
    return sigma


def bands(
    value_cents: np.ndarray, sigma: np.ndarray, pipeline_variance: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The pessimistic and optimistic values (cents) around ``value_cents`` at every node.

    ``sigma`` in yuan per node and period; ``pipeline_variance`` in yuan² per node and period
    (summed from the opportunities under the node).
    """
    variance = np.square(np.asarray(sigma, dtype=float))
    if pipeline_variance is not None:
        variance = variance + pipeline_variance
    half = np.rint(Z80 * np.sqrt(variance) * 100.0).astype(np.int64)
    value = np.asarray(value_cents, dtype=np.int64)
    return np.maximum(value - half, 0), value + half


def start_upper(
    h: H.Hierarchy,
    node_history: np.ndarray,
    horizon: int,
    *,
    freq: Freq,
    first: date,
    method: str = "auto",
    regular: str = "theta",
    intermittent: str | None = None,
) -> E.Started | None:
    """Begin the upper nodes' own models for their bands (:func:`kehu_forecast.engine.start`,
    with the settings of the run, on ``node_history`` as in :func:`node_bands`); None when the
    hierarchy has no upper node or there is no history. Inside a run's pool of workers their
    series are queued behind the customers', so the workers go on without a pause while the
    run collects the customers' forecasts and reads the pipeline."""
    upper = int(h.levels["customer"][0]) if h.n_bottom else len(h.keys)
    if not upper or not node_history.shape[1]:
        return None
    return E.start(
        node_history[:upper],
        freq,
        horizon,
        first,
        method=method,
        regular=regular,
        intermittent=intermittent,
    )


def node_bands(
    h: H.Hierarchy,
    value_cents: np.ndarray,
    node_history: np.ndarray,
    customer_mean: np.ndarray,
    customer_sigma: np.ndarray,
    pipeline_variance: np.ndarray | None,
    upper: E.Started | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The 80% band (pessimistic, optimistic cents) of a plan at every node, for a bottom-up run.

    ``node_history``: every node's own net sales (nodes × past periods, as
    :meth:`kehu_forecast.history.SalesHistory.node_values` gives); ``customer_mean`` and
    ``customer_sigma``: the customers' model forecasts and σ (customers × horizon, without the
    pipeline); ``pipeline_variance``: the customers' pipeline variance
    (:func:`kehu_forecast.pipeline.pipeline_by_period`); ``upper``: the upper nodes' own
    models, begun by :func:`start_upper` on ``node_history`` with the run's settings (None when
    it began none), whose σ are their bands'. A run using these bands records
    ``params[PIPELINE_VARIANCE] = True``.
    """
    horizon = value_cents.shape[1]
    upper_sigma = np.zeros((len(h.keys), horizon))
    if upper is not None:
        sigma = upper.result().sigma
        upper_sigma[: len(sigma)] = sigma
    cust = h.levels["customer"]
    filled = one_purchase_sigma(node_history[cust], customer_mean, customer_sigma)
    variance = None if pipeline_variance is None else h.aggregate(pipeline_variance)
    return bands(value_cents, node_sigma(h, filled, upper_sigma), variance)
