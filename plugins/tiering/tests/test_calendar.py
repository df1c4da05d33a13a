"""The company calendar (Asia/Shanghai): months, days, the as-of boundary and recency are local.

Every expected value is written by hand from the local wall time of each purchase; each case
is one that UTC bucketing gets wrong.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select
from tiering_helpers import add_customers, current, local, purchase, record, run

from kehu_core import hookimpl, schema
from kehu_tiering.api import STATS, TierRule, customer_stats
from kehu_tiering.models import monthly
from kehu_tiering.settings import make_settings

pytestmark = pytest.mark.usefixtures("shanghai")
MAY = 2026 * 12 + 4  # month index of May 2026
APRIL = MAY - 1


def stats(app: Any, code: str, as_of: date, window: Any = 1) -> dict[str, Any]:
    with app.session() as session:
        return customer_stats(app, session, code, make_settings(as_of=as_of, window=window))


@pytest.fixture
def edges(tiering_app: Any) -> dict[str, int]:
    ids = add_customers(tiering_app, ["FIRST", "LAST", "LATE"])
    record(
        tiering_app,
        [
            # 2026-04-30 16:30 UTC: April in UTC, May in Shanghai.
            purchase(ids["FIRST"], local(2026, 5, 1, 0, 30), 100),
            # 2026-05-31 15:30 UTC: the last local day of May.
            purchase(ids["LAST"], local(2026, 5, 31, 23, 30), 200),
            # 2026-05-31 16:10 UTC: still May 31 in UTC, June 1 in Shanghai.
            purchase(ids["LATE"], local(2026, 6, 1, 0, 10), 300),
        ],
    )
    return ids


def test_monthly_buckets_are_local_months(tiering_app: Any, edges: dict[str, int]) -> None:
    with tiering_app.session() as session:
        buckets = dict(session.execute(select(monthly.c.customer_id, monthly.c.month)).all())
    assert buckets == {edges["FIRST"]: MAY, edges["LAST"]: MAY, edges["LATE"]: MAY + 1}


def test_a_purchase_at_half_past_midnight_on_the_first_counts_in_that_month(
    tiering_app: Any, edges: dict[str, int]
) -> None:
    assert stats(tiering_app, "FIRST", date(2026, 5, 31))["revenue_window"] == Decimal("100.00")
    assert stats(tiering_app, "FIRST", date(2026, 4, 30))["revenue_window"] == Decimal("0.00")  # not April's
    assert stats(tiering_app, "FIRST", date(2026, 5, 1))["revenue_window"] == Decimal(
        "100.00"
    )  # the as-of day itself
    assert stats(tiering_app, "FIRST", date(2026, 5, 1))["recency_days"] == 0


def test_a_purchase_late_on_the_last_day_counts_in_that_day_s_month(
    tiering_app: Any, edges: dict[str, int]
) -> None:
    assert stats(tiering_app, "LAST", date(2026, 5, 31))["revenue_window"] == Decimal("200.00")
    assert stats(tiering_app, "LAST", date(2026, 6, 30))["revenue_window"] == Decimal("0.00")  # not June's
    assert stats(tiering_app, "LAST", date(2026, 6, 30), window=2)["revenue_window"] == Decimal("200.00")


def test_as_of_means_the_end_of_the_local_day(tiering_app: Any, edges: dict[str, int]) -> None:
    """As of May 31: the purchase at 00:10 on June 1 (local) is after it, though it is May 31 in UTC."""
    late = stats(tiering_app, "LATE", date(2026, 5, 31))
    assert late["revenue_total"] == Decimal("0.00") and late["last_purchase_at"] is None
    june = stats(tiering_app, "LATE", date(2026, 6, 1))
    assert june["revenue_window"] == Decimal("300.00") and june["recency_days"] == 0
    run(tiering_app, as_of=date(2026, 5, 31), window=1)
    tiers = current(tiering_app, "abc")
    assert tiers[edges["LATE"]] == "C" and tiers[edges["LAST"]] == "A"  # LATE has nothing yet


def test_recency_counts_local_days(tiering_app: Any, kehu_register_plugin: Any) -> None:
    """As of 2026-06-15: bought 90 local days before (March 17) is within ``recency_days <= 90``;
    91 (March 16, 23:50 local) is not."""

    class Recent:
        @hookimpl
        def kehu_tier_rules(self) -> list[TierRule]:
            return [TierRule(name="t.recent", flag="recent", when=STATS.c.recency_days <= 90)]

    kehu_register_plugin(Recent(), "recent")
    ids = add_customers(tiering_app, ["D90", "D91"])
    record(
        tiering_app,
        [
            purchase(ids["D90"], local(2026, 3, 17, 0, 10), 50),  # 2026-03-16 16:10 UTC: 91 UTC days
            purchase(ids["D91"], local(2026, 3, 16, 23, 50), 50),  # 2026-03-16 15:50 UTC
        ],
    )
    as_of = date(2026, 6, 15)
    assert stats(tiering_app, "D90", as_of, window=12)["recency_days"] == 90
    assert stats(tiering_app, "D91", as_of, window=12)["recency_days"] == 91
    run(tiering_app, as_of=as_of)
    assert current(tiering_app, "flag:recent") == {ids["D90"]: "recent"}


def test_migration_rebuilds_utc_buckets_as_local_months(tiering_app: Any, edges: dict[str, int]) -> None:
    """Revision tiering0004 turns the UTC months of older databases into local ones (and back)."""

    def months() -> dict[int, int]:
        with tiering_app.session() as session:
            return dict(session.execute(select(monthly.c.customer_id, monthly.c.month)).all())

    def migrate(step: Any) -> None:
        with tiering_app.session() as session:
            connection = session.connection()
            config = schema.alembic_config(connection, tiering_app.schemas())
            with schema._alembic_rows(connection, config):
                step(config)

    migrate(lambda config: command.downgrade(config, "tiering0003"))
    assert months() == {edges["FIRST"]: APRIL, edges["LAST"]: MAY, edges["LATE"]: MAY}  # UTC months
    migrate(lambda config: command.upgrade(config, "tiering@head"))
    assert months() == {edges["FIRST"]: MAY, edges["LAST"]: MAY, edges["LATE"]: MAY + 1}
