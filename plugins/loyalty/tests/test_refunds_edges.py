"""Refunds whose purchases match no amount rule (issue 21): with no base rate and a rule for
coffee only, a refund of tea takes nothing back, and a later refund of coffee in the same file is
still taken back in full.
"""

from __future__ import annotations

import io
from decimal import Decimal

from kehu_core import hookimpl
from kehu_core.importing import import_interactions
from kehu_loyalty.rules import EarnRule
from kehu_loyalty.settings import set_setting


class Coffee:
    @hookimpl
    def kehu_loyalty_earn_rules(self):
        return [EarnRule("coffee", points_per_yuan=Decimal(1), categories=("咖啡",))]


def bring_in(shop, *rows):
    """Import ``(ref, code, occurred_at, amount, category)`` purchases in one file (one batch)."""
    lines = ["external_ref,customer_code,kind,occurred_at,amount,category"]
    lines += [
        f"{ref},{code},purchase,{when},{amount},{category}" for ref, code, when, amount, category in rows
    ]
    with shop.app.session() as s:
        import_interactions(shop.app, s, io.BytesIO(("\n".join(lines) + "\n").encode()))


def test_a_refund_no_rule_matches_leaves_the_next_refund_to_be_taken_back(shop, kehu_register_plugin):
    kehu_register_plugin(Coffee(), "coffee")
    for key in ("points_per_yuan", "first_purchase_bonus"):
        shop.run(set_setting, key, "0")
    code = shop.customer(since="2024-01-01")
    bring_in(
        shop,
        ("P1", code, "2024-04-01T12:00:00+08:00", "100", "咖啡"),  # 100 points
        ("P2", code, "2024-04-01T12:00:00+08:00", "50", "茶"),  # nothing
    )
    bring_in(
        shop,
        ("R1", code, "2024-04-02T12:00:00+08:00", "-50", "茶"),  # the earlier refund: nothing to take back
        ("R2", code, "2024-04-03T12:00:00+08:00", "-30", "咖啡"),  # 30 back
    )
    assert [(e["kind"], e["points"]) for e in shop.ledger(code)] == [("earn", 100), ("refund", -30)]
    assert shop.balance(code) == 70
