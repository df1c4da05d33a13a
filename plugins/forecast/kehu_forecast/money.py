"""Exact money at the edges: float forecasts become integer cents that add up, then Decimal."""

from __future__ import annotations

from decimal import Decimal

import numpy as np


def to_cents(values: np.ndarray) -> np.ndarray:
    """Round yuan to integer cents (half away from zero is not needed: forecasts are floats)."""
    return np.rint(np.nan_to_num(values, nan=0.0) * 100.0).astype(np.int64)


def allocate_cents(total: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` cents (one per column) over the rows of ``weights`` exactly.

    Largest-remainder rounding: each row gets the floor of its share, and the cents left
    over go to the rows with the largest fractional parts, so every column sums to its
    total to the cent. Columns whose weights sum to zero are split evenly.
    """
    weights = np.asarray(weights, dtype=float)
    total = np.asarray(total, dtype=np.int64)
    n = weights.shape[0]
    if n == 0:
        return np.zeros_like(weights, dtype=np.int64)
    sums = weights.sum(axis=0)
    share = np.where(sums != 0, weights / np.where(sums == 0, 1, sums), 1.0 / n)
    exact = share * total
    base = np.floor(exact).astype(np.int64)
    left = total - base.sum(axis=0)
    order = np.argsort(-(exact - base), axis=0, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(n)[:, None].repeat(order.shape[1], axis=1), axis=0)
    # Flooring takes less than one cent from each row, so 0 <= left < n.
    base += (rank < left[None, :]).astype(np.int64)
    return base


def round_coherent(values: np.ndarray) -> np.ndarray:
    """Round rows of yuan to cents so each column sums to the rounded column total."""
    values = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
    totals = np.rint(values.sum(axis=0) * 100.0).astype(np.int64)
    return allocate_cents(totals, values)


def allocate_within(parent_cents: np.ndarray, group: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split each group's cents over its members by largest remainder, all groups at once.

    ``parent_cents`` (groups × columns) are the groups' totals, ``group`` (members) the group
    of each member, ``weights`` (members × columns) the members' own values. Each member gets
    the floor of its share and the cents left over in a group go to its members with the
    largest fractional parts (ties: the first member), so every group adds up to its total to
    the cent. A group whose weights sum to zero is split evenly.
    """
    weights = np.asarray(weights, dtype=float)
    group = np.asarray(group, dtype=np.int64)
    n, cols = weights.shape
    if n == 0:
        return np.zeros((0, cols), dtype=np.int64)
    groups = parent_cents.shape[0]
    sums = np.zeros((groups, cols))
    np.add.at(sums, group, weights)
    count = np.bincount(group, minlength=groups).astype(float)
    total = parent_cents[group]
    own = sums[group]
    share = np.where(own != 0, weights / np.where(own == 0, 1.0, own), 1.0 / count[group][:, None])
    exact = share * total
    base = np.floor(exact).astype(np.int64)
    given = np.zeros((groups, cols), dtype=np.int64)
    np.add.at(given, group, base)
    left = parent_cents - given  # 0 <= left < members of the group: each floor takes under a cent
    fraction = exact - base
    first = np.searchsorted(np.sort(group), np.arange(groups))  # each group's first sorted slot
    for j in range(cols):
        order = np.lexsort((-fraction[:, j], group))
        position = np.empty(n, dtype=np.int64)
        position[order] = np.arange(n) - first[group[order]]
        base[:, j] += (position < left[group, j]).astype(np.int64)
    return base


def round_down_tree(parent: np.ndarray, levels: list[np.ndarray], values: np.ndarray) -> np.ndarray:
    """Cents at every node of a tree from float ``values`` (nodes × columns), level by level.

    ``levels`` lists node indices top to bottom; the nodes of the first level are rounded on
    their own (half to even), and each further level gets its parents' cents split by
    largest remainder over the children's own values (:func:`allocate_within`). So every
    node is its children's exact sum, every node is within a cent of its share of its parent,
    and the first level keeps its own rounded values: middle-out passes the middle level.
    """
    values = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
    cents = np.zeros(values.shape, dtype=np.int64)
    if not levels:
        return cents
    cents[levels[0]] = np.rint(values[levels[0]] * 100.0).astype(np.int64)
    for above, nodes in zip(levels, levels[1:]):
        if not len(nodes):
            continue
        slot = np.full(len(values), -1, dtype=np.int64)
        slot[above] = np.arange(len(above))
        group = slot[parent[nodes]]
        cents[nodes] = allocate_within(cents[above], group, values[nodes] * 100.0)
    return cents


def cents_to_decimal(cents: int) -> Decimal:
    """Integer cents as a Decimal of yuan with two places."""
    return Decimal(int(cents)).scaleb(-2)
