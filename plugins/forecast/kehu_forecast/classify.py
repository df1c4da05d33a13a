"""Demand classes by ADI and CV² (Syntetos & Boylan, 2005), which choose the model per series.

Over a customer's active span (from its first purchase on):

* ADI, the average interval between purchases = periods in the span / periods with a purchase;
* CV², the squared coefficient of variation of the non-zero amounts.

=============  ===========  ===========  ==========================================
class          ADI          CV²          model (default)
=============  ===========  ===========  ==========================================
smooth         < 1.32       < 0.49       AutoTheta (or AutoETS)
erratic        < 1.32       ≥ 0.49       AutoTheta (or AutoETS)
intermittent   ≥ 1.32       < 0.49       CrostonOptimized
lumpy          ≥ 1.32       ≥ 0.49       ADIDA
short          span < 6 periods           customer-base model (BG/NBD)
dormant        no purchase in the last 6 months (26 weeks)   customer-base model (BG/NBD)
none           no purchase at all         zero
=============  ===========  ===========  ==========================================

Intermittent and lumpy series also go to the customer-base model under ``auto`` unless an
intermittent model is named (:func:`kehu_forecast.engine.choose`). A class is decided in this
order: none, short, dormant, then ADI/CV².
"""

from __future__ import annotations

import numpy as np

ADI_CUT = 1.32
CV2_CUT = 0.49
MIN_SPAN = 6
#: Periods without a purchase after which a customer is dormant (6 months, 26 weeks).
DORMANT = {"month": 6, "week": 26}
CLASSES = ("smooth", "erratic", "intermittent", "lumpy", "short", "dormant", "none")


def active_start(values: np.ndarray) -> np.ndarray:
    """Index of each row's first period with a purchase (the row length when there is none)."""
    positive = values > 0
    first = positive.argmax(axis=1)
    return np.where(positive.any(axis=1), first, values.shape[1])


def classify(values: np.ndarray, dormant: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(classes, adi, cv2)`` for each row of ``values`` (customers × periods), vectorised.

    With ``dormant``, a customer whose last purchase is at least that many periods before the
    end of the history (the last ``dormant`` periods have none) is ``dormant``."""
    n, t = values.shape
    start = active_start(values)
    span = t - start
    positive = values > 0
    count = positive.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        adi = np.where(count > 0, span / np.maximum(count, 1), np.nan)
        demand = np.where(positive, values, np.nan)
        mean = np.nanmean(np.where(count[:, None] > 0, demand, 0.0), axis=1)
        std = np.nanstd(np.where(count[:, None] > 0, demand, 0.0), axis=1)
        cv2 = np.where(count > 0, (std / mean) ** 2, np.nan)
    classes = np.empty(n, dtype=object)
    regular = adi < ADI_CUT
    variable = cv2 >= CV2_CUT
    classes[:] = np.where(
        regular, np.where(variable, "erratic", "smooth"), np.where(variable, "lumpy", "intermittent")
    )
    if dormant is not None:
        recent = positive[:, max(t - dormant, 0) :].any(axis=1)
        classes[~recent] = "dormant"
    classes[span < MIN_SPAN] = "short"
    classes[count == 0] = "none"
    return classes, adi, cv2
