"""One customer's stage on the ladder is that customer's own (issue 21), whatever order the
database keeps the customers' rows in: a customer edited after others were added (PostgreSQL
then stores the edited row after theirs) still reads their own stage, not the next customer's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kehu_core.customers import edit_customer
from kehu_loyalty.accounts import require_customer
from kehu_loyalty.ladder import stage_of

D = datetime(2024, 6, 1, 4, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def stages(shop, *codes):
    with shop.app.session() as s:
        return [stage_of(s, require_customer(s, code).id, D) for code in codes]


def test_an_edited_customer_reads_their_own_stage(shop):
    first = shop.customer(member=False)  # the lower id
    shop.log(first, amount="10", at=(D - DAY).isoformat())  # one purchase: first_time
    later = [shop.customer(member=False) for _ in range(3)]  # added after D, no purchase: no stage
    shop.run_app(edit_customer, first, {"name": "改名"})  # rewrites the first customer's row
    assert stages(shop, first, *later) == ["first_time", None, None, None]
