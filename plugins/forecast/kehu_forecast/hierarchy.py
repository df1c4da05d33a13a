"""The hierarchy company → region → salesperson → customer as nodes and a summing matrix.

Nodes are ordered top to bottom (company, regions, salespeople, customers), the order
hierarchicalforecast expects, and the summing matrix ``S`` maps customer values to every
node. A salesperson with customers in two regions is two nodes (``华东/张伟``, ``华南/张伟``),
so the hierarchy stays strict: each node has exactly one parent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from attrs import frozen
from scipy import sparse

from kehu_core.choices import Choice, Vocabulary
from kehu_core.i18n import N_

LEVELS = ("company", "region", "salesperson", "customer")
#: The levels as people name them (公司, 地区, 业务员, 客户).
LEVEL_NAMES = Vocabulary(
    "kehu_forecast",
    N_("level"),
    [
        Choice("company", N_("company"), aliases=("公司", "全公司")),
        Choice("region", N_("region"), aliases=("地区", "区域")),
        Choice("salesperson", N_("salesperson"), aliases=("业务员", "销售员", "销售代表")),
        Choice("customer", N_("customer"), aliases=("客户",)),
    ],
)
COMPANY = "公司合计"
SEP = "/"


@frozen
class Hierarchy:
    """Nodes by level, each node's parent, and the sparse summing matrix."""

    levels: dict[str, np.ndarray]  # level -> node indices (hierarchicalforecast's ``tags``)
    keys: list[str]  # node index -> key (customer code at the bottom)
    level_of: list[str]
    parent: np.ndarray  # node index -> parent node index (-1 for the company)
    S: sparse.csr_matrix
    customer_ids: np.ndarray  # bottom node order
    customers: pd.DataFrame  # the customers in bottom node order
    salesperson_of: list[str]  # node index -> salesperson name ("" above that level)

    @property
    def n_bottom(self) -> int:
        """How many customers (bottom nodes)."""
        return self.S.shape[1]

    def parent_key(self, index: int) -> str | None:
        """The key of a node's parent (``None`` for the company)."""
        p = int(self.parent[index])
        return None if p < 0 else self.keys[p]

    def index(self) -> dict[tuple[str, str], int]:
        """``(level, key) -> node index``."""
        return {(lv, k): i for i, (lv, k) in enumerate(zip(self.level_of, self.keys))}

    def aggregate(self, bottom: np.ndarray) -> np.ndarray:
        """Values at every node from customer values (rows = bottom nodes)."""
        result = self.S @ bottom
        return np.asarray(result)


def build(customers: pd.DataFrame) -> Hierarchy:
    """The hierarchy of ``customers`` (sorted by region, salesperson, code)."""
    customers = customers.sort_values(["region", "salesperson", "code"], kind="stable").reset_index(drop=True)
    regions = list(dict.fromkeys(customers["region"]))
    pairs = list(zip(customers["region"], customers["salesperson"]))
    sp_pairs = list(dict.fromkeys(pairs))  # (region, salesperson), in order
    sp_keys = [f"{r}{SEP}{name}" for r, name in sp_pairs]
    n_bottom = len(customers)
    top = 1 + len(regions) + len(sp_keys)
    region_idx = {r: 1 + i for i, r in enumerate(regions)}
    sp_idx = {pair: 1 + len(regions) + i for i, pair in enumerate(sp_pairs)}
    cust_sp = np.array([sp_idx[pair] for pair in pairs], dtype=np.int64)
    sp_region = np.array([region_idx[r] for r, _ in sp_pairs], dtype=np.int64)
    parent = np.concatenate([[-1], np.zeros(len(regions), dtype=np.int64), sp_region, cust_sp])
    keys = [COMPANY, *regions, *sp_keys, *customers["code"].tolist()]
    level_of = (
        ["company"] + ["region"] * len(regions) + ["salesperson"] * len(sp_keys) + ["customer"] * n_bottom
    )
    cols = np.arange(n_bottom)
    rows = np.concatenate(
        [
            np.zeros(n_bottom, dtype=np.int64),
            sp_region[cust_sp - 1 - len(regions)],
            cust_sp,
            top + cols,
        ]
    )
    S = sparse.csr_matrix((np.ones(4 * n_bottom), (rows, np.tile(cols, 4))), shape=(top + n_bottom, n_bottom))
    levels = {
        "company": np.array([0]),
        "region": np.arange(1, 1 + len(regions)),
        "salesperson": np.arange(1 + len(regions), top),
        "customer": np.arange(top, top + n_bottom),
    }
    salesperson_of = (
        [""] * (1 + len(regions)) + [name for _, name in sp_pairs] + customers["salesperson"].tolist()
    )
    return Hierarchy(
        levels=levels,
        keys=keys,
        level_of=level_of,
        parent=parent,
        S=S,
        customer_ids=customers["id"].to_numpy(),
        salesperson_of=salesperson_of,
        customers=customers,
    )
