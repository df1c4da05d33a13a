"""ABC by profit: tiering's ``--measure margin`` ranks by the gross profit of :mod:`kehu_core.profit`.

Both count a purchase's amount minus its cost over the purchases that carry a cost, refunds
included, in the same local-day window; a purchase without a cost counts for revenue only.
"""

from __future__ import annotations

import random
from decimal import Decimal

PERIOD = ("--since", "2025-12-01", "--until", "2026-11-30")
#: The window's edges: the first and last local moments of the 12 months, and one just before.
DAYS = ("2025-11-30T23:59:00", "2025-12-01T00:00:00", "2026-06-15", "2026-11-30T23:59:59")


def test_margin_ranks_by_the_gross_profit_of_the_profit_statement(kehu_install, kehu_cli):
    kehu_install("tiering")
    rng = random.Random(5)
    for n in range(1, 13):
        assert kehu_cli("customer", "add", f"C{n:02d}", f"客户{n}").exit_code == 0
        for k in range(rng.choice((1, 1, 1, 2, 5))):  # mostly one-time buyers, a long tail
            amount = Decimal(rng.choice((99, 1200, 35000))) + Decimal(rng.randrange(100)) / 100
            args = ["interaction", "log", f"C{n:02d}", "purchase", "--amount", str(amount)]
            if rng.random() < 0.7:  # some purchases carry no cost
                args += ["--cost", str((amount * Decimal("0.6")).quantize(Decimal("0.01")))]
            day = rng.choice(DAYS)
            assert kehu_cli(*args, "--at", day).exit_code == 0, args
            if k == 0 and rng.random() < 0.3:
                refund = ["interaction", "log", f"C{n:02d}", "purchase", "--amount", f"-{amount}"]
                assert kehu_cli(*refund, "--cost", "10.00", "--at", "2026-07-01").exit_code == 0
    assert kehu_cli("tier", "run", "--measure", "margin", "--as-of", "2026-11-30").exit_code == 0
    report = kehu_cli("customer", "profit-report", *PERIOD, "--json").json
    rows = report["rows"] if isinstance(report, dict) else report
    profit = {r["code"]: Decimal(r["gross_profit"]) for r in rows}
    # The measure ABC ranked by in the run: the margin of each customer's window.
    margin = {
        f"C{n:02d}": Decimal(
            kehu_cli("tier", "show", f"C{n:02d}", "--json").json["tiers"]["abc"]["metrics"]["measure"]
        )
        for n in range(1, 13)
    }
    assert margin == {code: profit.get(code, Decimal("0.00")) for code in margin}
    assert any(value != 0 for value in margin.values())
