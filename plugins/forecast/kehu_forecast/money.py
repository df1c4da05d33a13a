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


def cents_to_decimal(cents: int) -> Decimal:
    """Integer cents as a Decimal of yuan with two places."""
    return Decimal(int(cents)).scaleb(-2)
