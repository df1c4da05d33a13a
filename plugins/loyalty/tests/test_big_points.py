"""Points are 64-bit on both databases: a ¥3,000,000,000.00 purchase earns 3,000,000,000 points
(more than a 32-bit integer holds) on SQLite and PostgreSQL alike, through both earning paths,
and points that would pass 64 bits are refused in one line, with nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kehu_core import InteractionBatch, RecordedRows, hookimpl
from kehu_core.models import Interaction
from kehu_loyalty.earning import earn_batch
from kehu_loyalty.models import LEDGER, MAX_POINTS
from kehu_loyalty.rules import EarnRule

BIG = 3_000_000_000  # > 2**31 - 1


class Rules:
    def __init__(self, rules):
        self.rules = rules

    @hookimpl
    def kehu_loyalty_earn_rules(self):
        return self.rules


def _earned(shop, code):
    return [r["points"] for r in shop.ledger(code) if r["kind"] == "earn"]


def _counts(shop):
    return shop.run(
        lambda s: (
            s.scalar(select(func.count()).select_from(Interaction)),
            s.scalar(select(func.count()).select_from(LEDGER)),
        )
    )


def test_three_billion_yuan_earns_three_billion_points(shop, kehu_cli):
    code = shop.customer()
    result = kehu_cli("interaction", "log", code, "purchase", "--amount", "3,000,000,000.00", "--json")
    assert result.exit_code == 0, result.output
    assert _earned(shop, code) == [BIG]
    bonus = sum(r["points"] for r in shop.ledger(code) if r["kind"] == "bonus")
    balance = kehu_cli("loyalty", "balance", code, "--json")
    assert balance.exit_code == 0, balance.output
    assert balance.json["balance"] == BIG + bonus == shop.balance(code)
    rows = kehu_cli("loyalty", "statement", code, "--json").json["rows"]
    assert [r["points"] for r in rows if r["kind"] == "earn"] == [BIG]
    assert rows[-1]["balance"] == BIG + bonus
    assert "3000000000" in kehu_cli("loyalty", "statement", code, "--csv").output
    # Refunding half takes back exactly half, from the 3-billion lot.
    refund = kehu_cli("interaction", "log", code, "purchase", "--amount", "-1500000000.00", "--json")
    assert refund.exit_code == 0, refund.output
    assert shop.balance(code) == BIG // 2 + bonus


@pytest.mark.parametrize("path", ["sql", "python"])
def test_both_earning_paths_write_big_points(shop, kehu_app, path):
    code = shop.customer()
    for amount, at in (("3000000000.00", "-3"), ("2147483.65", "-2")):
        shop.log(code, amount=amount, at=at)
    i = Interaction.__table__
    keys = ["customer_id", "kind", "status", "amount", "occurred_at"]
    with kehu_app.session() as s:
        found = s.execute(select(i.c.id, *(i.c[k] for k in keys)).order_by(i.c.id)).all()
        s.execute(LEDGER.delete())  # earned again below, through the path under test
        batch = InteractionBatch(
            rows=RecordedRows(["id", *keys], [r[0] for r in found], [list(r[1:]) for r in found]),
            source="test",
        )
        earn_batch(kehu_app, s, batch, path=path)
    assert sorted(_earned(shop, code)) == [2147483, BIG]


def test_points_past_64_bits_are_refused_in_one_line(shop, kehu_cli, kehu_register_plugin):
    kehu_register_plugin(Rules([EarnRule("mega", points_per_yuan=Decimal(10**7))]), "mega")
    code = shop.customer()
    before = _counts(shop)
    result = kehu_cli("interaction", "log", code, "purchase", "--amount", "9999999999999.99")
    assert result.exit_code == 1, result.output
    message = result.output.strip()
    assert "\n" not in message and "Traceback" not in result.output
    assert "¥9999999999999.99 × " in message and "earns 100000009999999899999 points" in message
    assert f"more than a ledger entry holds (at most {MAX_POINTS})" in message
    assert "nothing was written" in message
    assert _counts(shop) == before
    # An amount whose points fit (base 1 + mega 10^7 points per yuan) is earned exactly.
    ok = kehu_cli("interaction", "log", code, "purchase", "--amount", "900000000000.00")
    assert ok.exit_code == 0, ok.output
    assert _earned(shop, code) == [900000000000 * 10_000_001]


def test_points_entered_by_hand_are_64_bit(shop, kehu_cli):
    code = shop.customer()
    assert kehu_cli("loyalty", "rewards", "add", "CAR", "汽车", "--cost", str(BIG)).exit_code == 0
    assert kehu_cli("loyalty", "earn", code, str(BIG), "--reason", "大客户").exit_code == 0
    redeemed = kehu_cli("loyalty", "redeem", code, "CAR", "--json")
    assert redeemed.exit_code == 0, redeemed.output
    assert [r["points"] for r in shop.ledger(code) if r["kind"] in ("adjust", "redeem")] == [BIG, -BIG]

    before = _counts(shop)
    too_many = kehu_cli("loyalty", "earn", code, str(MAX_POINTS + 1), "--reason", "x")
    assert too_many.exit_code == 1 and "Traceback" not in too_many.output
    assert f"points: at most {MAX_POINTS} in one entry" in too_many.output
    costly = kehu_cli("loyalty", "rewards", "add", "X", "坏", "--cost", str(MAX_POINTS + 1))
    assert costly.exit_code == 1 and f"at most {MAX_POINTS}" in costly.output
    stock = kehu_cli("loyalty", "rewards", "add", "Y", "坏", "--cost", "1", "--stock", str(2**31))
    assert stock.exit_code == 1 and "stock: must be between 0 and 2147483647" in stock.output
    level = kehu_cli("loyalty", "levels", "set", "钻石", "--rank", "9", "--min-points", str(MAX_POINTS + 1))
    assert level.exit_code == 1 and f"min_points: must be between 0 and {MAX_POINTS}" in level.output
    assert (
        kehu_cli("loyalty", "levels", "set", "钻石", "--rank", "9", "--min-points", str(BIG)).exit_code == 0
    )
    assert _counts(shop) == before


@pytest.mark.parametrize(
    "tier, reason",
    [
        ("1e30:2%", "threshold: out of range: money must be below 10^13"),
        ("10000000000000:2%", "threshold: out of range: money must be below 10^13"),
        ("NaN:2%", "threshold: not a finite number"),
        ("1000:NaN", "the rate between 0 and 100%"),
    ],
)
def test_rebate_thresholds_are_money(shop, kehu_cli, tier, reason):
    result = kehu_cli("loyalty", "rebate", "programme", "add", "Q", "--period", "quarter", "--tier", tier)
    assert result.exit_code == 1, result.output
    assert reason in result.output and "Traceback" not in result.output
