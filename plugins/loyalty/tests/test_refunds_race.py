"""A refund taken back while a redemption of the same member is in progress (issue 21).

The refund must wait for the redemption (PostgreSQL: the account's row lock that both take;
SQLite: the database's write lock), then take back only the points the redemption left. Without
the lock, on PostgreSQL the refund would read the lot as unspent and take back all of it: the
lot's points allocated twice, and the balance below zero.
"""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from kehu_core.importing import import_interactions
from kehu_loyalty.rewards import add_reward, redeem
from kehu_loyalty.settings import set_setting

#: The redemption: an hour after the purchase that earned the points (12:00 in Shanghai).
REDEEMED_AT = datetime(2024, 4, 1, 5, 0, tzinfo=UTC)
#: Long enough that a refund which does not wait would have written its entry by then.
PAUSE_SECONDS = 1.0


def bring_in(shop, ref, code, when, amount):
    """Import one purchase (or refund) in a transaction of its own."""
    lines = ["external_ref,customer_code,kind,occurred_at,amount", f"{ref},{code},purchase,{when},{amount}"]
    with shop.app.session() as s:
        import_interactions(shop.app, s, io.BytesIO(("\n".join(lines) + "\n").encode()))


def test_a_refund_waits_for_a_redemption_in_progress_and_takes_back_only_what_it_left(shop):
    for key, value in (("points_per_yuan", "1"), ("first_purchase_bonus", "0")):
        shop.run(set_setting, key, value)
    code = shop.customer(since="2024-01-01")
    bring_in(shop, "P1", code, "2024-04-01T12:00:00+08:00", "100")  # a lot of 100 points
    shop.run(add_reward, "MUG", "杯子", 80)
    with ThreadPoolExecutor(1) as pool:
        with shop.app.session() as redeeming:
            assert redeem(shop.app, redeeming, code, "MUG", now=REDEEMED_AT).balance == 20
            refund = pool.submit(bring_in, shop, "R1", code, "2024-04-02T12:00:00+08:00", "-100")
            time.sleep(PAUSE_SECONDS)
            assert not refund.done()  # waiting for the redemption's transaction
        refund.result(timeout=60)
    entries = [(e["kind"], e["points"], e["shortfall"]) for e in shop.ledger(code)]
    # 100 refunded would take back 100: 80 are spent, so 20 come back and 80 are the shortfall.
    assert entries == [("earn", 100, 0), ("redeem", -80, 0), ("refund", -20, 80)]
    assert shop.balance(code) == 0
