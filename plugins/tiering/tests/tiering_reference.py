"""An independent pandas implementation of ABC, the pyramid and RFM, from raw interactions.

Written from the documented rules (docs/tiering.md), not from the plugin's SQL: used by the
cross-check tests and as the benchmark's pandas reference. Input frames:

* ``customers``: column ``customer_id`` (the active customers);
* ``purchases``: ``customer_id``, ``occurred_at`` (UTC, tz-aware or naive UTC), ``amount``
  (anything ``Decimal`` accepts), ``cost`` (may be missing), done purchases only.

Days and months are the company's local ones (``KEHU_TIMEZONE``, default Asia/Shanghai): a
purchase belongs to the local day and month it was made in, and "as of D" means up to the
end of local day D.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import numpy as np
import pandas as pd


def month_index(ts) -> object:  # noqa: ANN001
    """year * 12 + month - 1 of a datetime Series."""
    return ts.dt.year * 12 + ts.dt.month - 1


def classify(
    customers,
    purchases,
    as_of: date,
    window: int | None = 12,
    measure: str = "revenue",  # noqa: ANN001
    abc_cuts=(80, 95),
    pyramid_cuts=(1, 5, 50),
    new_days: int = 90,
):  # noqa: ANN001
    """A DataFrame indexed by customer_id with abc, pyramid, r_score, f_score, m_score, rfm."""

    zone = os.environ.get("KEHU_TIMEZONE", "Asia/Shanghai")
    p = purchases.copy()
    ts = pd.to_datetime(p["occurred_at"], utc=True).dt.tz_convert(zone)  # local wall time
    end = pd.Timestamp(as_of + timedelta(days=1)).tz_localize(zone)  # the end of local day as_of
    p = p[ts < end].copy()
    ts = ts[ts < end]
    p["month"] = month_index(ts)
    p["day"] = (ts.dt.tz_localize(None).dt.normalize() - pd.Timestamp("1970-01-01")).dt.days
    # Money in integer cents, each row rounded (half away from zero) as the plugin stores it.
    p["cents"] = (p["amount"].astype(float) * 100).round().astype("int64")
    has_cost = p["cost"].notna() if "cost" in p else pd.Series(False, index=p.index)
    cost_cents = (p["cost"].astype(float).fillna(0) * 100).round().astype("int64") if "cost" in p else 0
    # A refund's cost counts back (the goods return): its margin is amount + cost.
    signed_cost = np.where(p["cents"] < 0, -cost_cents, cost_cents)
    p["margin"] = np.where(has_cost, p["cents"] - signed_cost, 0)
    asof_month = as_of.year * 12 + as_of.month - 1
    in_window = p["month"] >= asof_month - window + 1 if window else pd.Series(True, index=p.index)
    w = p[in_window]
    value = w["cents"] if measure == "revenue" else w["margin"]
    m = value.groupby(w["customer_id"]).sum()
    orders = (w["cents"] > 0).groupby(w["customer_id"]).sum()
    last_day = p.groupby("customer_id")["day"].max()
    asof_day = (pd.Timestamp(as_of) - pd.Timestamp("1970-01-01")).days
    orders_total = (p["cents"] > 0).groupby(p["customer_id"]).sum()

    df = pd.DataFrame(index=pd.Index(customers["customer_id"], name="customer_id"))
    df["m"] = m.reindex(df.index).fillna(0).astype("int64")
    df["orders"] = orders.reindex(df.index).fillna(0).astype("int64")
    df["orders_total"] = orders_total.reindex(df.index).fillna(0).astype("int64")
    df["recency"] = (asof_day - last_day).reindex(df.index)  # NaN: never bought
    n = len(df)
    positive = df["m"].clip(lower=0)
    total = int(positive.sum())
    # Sum of the measures strictly larger than each value (ties share it).
    by_value = positive.groupby(df["m"]).sum().sort_index(ascending=False)
    before = by_value.cumsum().shift(1, fill_value=0)
    df["cum_before"] = df["m"].map(before).astype("int64")
    df["rank"] = (df["m"].rank(method="min", ascending=False) - 1).astype("int64")
    a_bp, b_bp = (int(round(c * 100)) for c in abc_cuts)
    p1, p2, p3 = (int(round(c * 100)) for c in pyramid_cuts)

    m, cum, rank = df["m"].to_numpy(), df["cum_before"].to_numpy(), df["rank"].to_numpy()
    # int64 products: exact up to ~9 * 10^14 cents of total measure.
    df["abc"] = np.select(
        [m <= 0, cum * 10000 < a_bp * total, cum * 10000 < b_bp * total], ["C", "A", "B"], "C"
    )
    df["pyramid"] = np.select(
        [m <= 0, rank * 10000 < p1 * n, rank * 10000 < p2 * n, rank * 10000 < p3 * n],
        ["小客户", "VIP", "主要客户", "普通客户"],
        "小客户",
    )
    # RFM over the buyers (an order in the window): strictly worse counts among them alone.
    first_day = p.groupby("customer_id")["day"].min()
    df["tenure_days"] = (asof_day - first_day).reindex(df.index)  # NaN: never bought
    buyers = df[df["orders"] > 0]
    b = len(buyers)
    r_worse = buyers["recency"].rank(method="min", ascending=False) - 1
    f_worse = buyers["orders"].rank(method="min") - 1
    m_worse = buyers["m"].rank(method="min") - 1
    for name, worse in (("r_score", r_worse), ("f_score", f_worse), ("m_score", m_worse)):
        df[name] = (1 + (5 * worse.astype("int64")) // b).reindex(df.index).astype("Int64") if b else pd.NA
    r, f, ms = (df[c].fillna(0).astype("int64").to_numpy() for c in ("r_score", "f_score", "m_score"))
    ot, ow = df["orders_total"].to_numpy(), df["orders"].to_numpy()
    new = (df["tenure_days"].fillna(10**9) <= new_days).to_numpy()
    df["rfm"] = np.select(
        [
            ot == 0,
            ow == 0,
            new,
            (r >= 4) & (f >= 4) & (ms >= 4),
            (r >= 3) & (f >= 4),
            r >= 4,
            (r == 3) & (f == 3),
            r == 3,
            (f >= 4) & (ms >= 4),
            f >= 3,
        ],
        [
            "prospect",
            "lost",
            "new",
            "champions",
            "loyal",
            "potential_loyalist",
            "need_attention",
            "about_to_sleep",
            "cannot_lose",
            "at_risk",
        ],
        "hibernating",
    )
    return df[["abc", "pyramid", "r_score", "f_score", "m_score", "rfm"]]
