"""Non-negative MinT (MinTrace) on the company → region → salesperson → customer tree, solved exactly.

MinT with a diagonal weight matrix W (``ols``: every node weighs 1; ``wls_struct``: a node
weighs the number of customers under it) is the generalised least-squares problem

    minimise  Σ_v (ŷ_v − (S b)_v)² / w_v   over customer values b ≥ 0,

per period, where ŷ are the base forecasts at every node (negative ones taken as zero, as
hierarchicalforecast's ``MinTrace(nonnegative=True)`` does). On a tree its unconstrained
solution is exact in two sweeps (precision-weighted combination upwards, the difference
split downwards in proportion to each subtree's variance), O(nodes) per period, with no
dense matrix and no iterative solver. Non-negativity is an active set of customers held
at zero, updated by block principal pivoting (Kim & Park 2011), which ends after finitely
many exact solves. The result is then checked against the optimality (KKT) conditions; a
solve that does not meet them is refused, never stored.
"""

from __future__ import annotations

import numpy as np
from attrs import frozen

from kehu_core.errors import Problem, ValidationError
from kehu_core.i18n import messages
from kehu_forecast import hierarchy as H

_ = messages("kehu_forecast").gettext

METHODS = {"mint-ols": "ols", "mint-wls": "wls_struct"}
#: Block principal pivoting swaps whole sets this many times without progress before it
#: falls back to one variable at a time (Kim & Park's backup rule, which cannot cycle).
BACKUP = 3


@frozen
class Solution:
    """Reconciled customer values (customers × periods, ≥ 0) and how the solve went."""

    bottom: np.ndarray
    iterations: int
    #: The largest violation of the optimality conditions, relative to the forecasts' scale.
    residual: float


def weights(h: H.Hierarchy, method: str) -> np.ndarray:
    """The diagonal of W per node: 1 (``ols``) or the customers under the node (``wls_struct``)."""
    if method == "ols":
        return np.ones(len(h.keys))
    if method == "wls_struct":
        return np.asarray(h.S.sum(axis=1)).ravel().astype(float)
    raise ValueError(method)


def _children_levels(h: H.Hierarchy) -> list[tuple[np.ndarray, np.ndarray]]:
    """(parent level nodes, child level nodes), bottom pair first."""
    names = H.LEVELS
    return [(h.levels[names[k - 1]], h.levels[names[k]]) for k in range(len(names) - 1, 0, -1)]


def solve_tree(h: H.Hierarchy, y: np.ndarray, w: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """The weighted least-squares customer values with the customers in ``fixed`` held at zero.

    ``y``: base forecasts (nodes × periods); ``w``: node weights; ``fixed``: customers ×
    periods. Exact (two sweeps of the tree); see the module docstring.
    """
    n, cols = y.shape
    parent = h.parent
    cust = h.levels["customer"]
    estimate = np.zeros((n, cols))
    variance = np.zeros((n, cols))
    below = np.zeros((n, cols))  # the children's summed estimate
    below_var = np.zeros((n, cols))
    estimate[cust] = np.where(fixed, 0.0, y[cust])
    variance[cust] = np.where(fixed, 0.0, w[cust][:, None])
    for upper, nodes in _children_levels(h):
        np.add.at(below, parent[nodes], estimate[nodes])
        np.add.at(below_var, parent[nodes], variance[nodes])
        v = below_var[upper]
        own = w[upper][:, None]
        known = v > 0
        safe = np.where(known, v, 1.0)
        combined = np.where(known, 1.0 / (1.0 / own + 1.0 / safe), 0.0)
        variance[upper] = combined
        estimate[upper] = np.where(known, combined * (y[upper] / own + below[upper] / safe), below[upper])
    final = estimate.copy()
    for _, nodes in reversed(_children_levels(h)):
        p = parent[nodes]
        share = np.where(
            below_var[p] > 0, variance[nodes] / np.where(below_var[p] > 0, below_var[p], 1.0), 0.0
        )
        final[nodes] = estimate[nodes] + share * (final[p] - below[p])
    result = final[cust]
    result[fixed] = 0.0
    return result


def gradient(h: H.Hierarchy, y: np.ndarray, w: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """Half the objective's gradient per customer: Σ over the customer and its ancestors of
    ((S b)_v − ŷ_v) / w_v."""
    residual = (h.aggregate(bottom) - y) / w[:, None]
    total = residual.copy()
    for _, nodes in reversed(_children_levels(h)):
        total[nodes] = residual[nodes] + total[h.parent[nodes]]
    return total[h.levels["customer"]]


def nonnegative(h: H.Hierarchy, y_hat: np.ndarray, method: str, *, max_iter: int | None = None) -> Solution:
    """Non-negative MinT (``method`` ``ols`` or ``wls_struct``) of the base forecasts ``y_hat``.

    Raises :class:`~kehu_core.errors.ValidationError` (field ``method``, one line) when the
    solve does not meet the optimality conditions within ``max_iter`` exact solves.
    """
    y = np.maximum(np.nan_to_num(np.asarray(y_hat, dtype=float)), 0.0)
    w = weights(h, method)
    n_b, cols = h.n_bottom, y.shape[1]
    scale = max(1.0, float(np.abs(y).max(initial=0.0)))
    tol = 1e-9 * scale
    fixed = np.zeros((n_b, cols), dtype=bool)
    best = np.full(cols, n_b + 1)
    chances = np.full(cols, BACKUP)
    limit = max_iter if max_iter is not None else 50 + 3 * n_b
    x = np.zeros((n_b, cols))
    it = 0
    while True:
        x = solve_tree(h, y, w, fixed)
        g = gradient(h, y, w, x)
        wrong = (~fixed & (x < -tol)) | (fixed & (g < -tol))
        count = wrong.sum(axis=0)
        if not count.any() or it >= limit:
            break
        it += 1
        for j in np.flatnonzero(count):
            if count[j] < best[j]:
                best[j], chances[j] = count[j], BACKUP
                fixed[wrong[:, j], j] ^= True
            elif chances[j] > 0:
                chances[j] -= 1
                fixed[wrong[:, j], j] ^= True
            else:
                last = np.flatnonzero(wrong[:, j])[-1]
                fixed[last, j] ^= True
    residual = _kkt(x, g, fixed) / scale
    if residual > 1e-7:
        raise ValidationError(
            [
                Problem(
                    "method",
                    _(
                        "{method}: the non-negative solve did not converge "
                        "(optimality residual {residual} after {pivots} pivots); nothing was saved"
                    ).format(
                        method="mint-ols" if method == "ols" else "mint-wls",
                        residual=f"{residual:.2g}",
                        pivots=it,
                    ),
                )
            ]
        )
    return Solution(bottom=np.maximum(x, 0.0), iterations=it, residual=residual)


def _kkt(x: np.ndarray, g: np.ndarray, fixed: np.ndarray) -> float:
    """The largest violation of: x ≥ 0; gradient 0 where free; gradient ≥ 0 where held at zero."""
    if not x.size:
        return 0.0
    free = ~fixed
    parts = [
        np.maximum(-x, 0.0).max(initial=0.0),
        np.abs(np.where(free, g, 0.0)).max(initial=0.0),
        np.maximum(-np.where(fixed, g, 0.0), 0.0).max(initial=0.0),
    ]
    return float(max(parts))
