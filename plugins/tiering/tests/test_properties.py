"""Property tests (hypothesis): tiers partition the customers; rank-free rules move one customer only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from tiering_helpers import AS_OF, add_customers, current, purchase, record, run

from kehu_core import hookimpl
from kehu_core.models import Customer, CustomerTag, Interaction
from kehu_tiering.engine import delete_history
from kehu_tiering.models import monthly
from kehu_tiering.rules import TierRule
from kehu_tiering.settings import ABC_TIERS, PYRAMID_TIERS
from kehu_tiering.stats import RFM_SEGMENTS
from kehu_tiering.stats import STATS as s

END = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 12, tzinfo=UTC)
amounts = st.lists(
    st.tuples(st.sampled_from(["10.00", "99.99", "500.00", "0.01", "-5.00"]), st.integers(0, 500)), max_size=4
)
worlds = st.lists(amounts, min_size=1, max_size=10)


def _reset(app: Any) -> None:
    with app.session() as session:
        delete_history(session)
        for table in (monthly, Interaction.__table__, CustomerTag.__table__, Customer.__table__):
            session.execute(delete(table))


def _load(app: Any, world: list[list[tuple[str, int]]]) -> dict[str, int]:
    ids = add_customers(app, [f"P{i}" for i in range(len(world))])
    rows = [
        purchase(ids[f"P{i}"], END - timedelta(days=days), amount)
        for i, items in enumerate(world)
        for amount, days in items
    ]
    if rows:
        record(app, rows)
    return ids


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=worlds)
def test_tiers_partition_the_customers(tiering_app: Any, world: list[list[tuple[str, int]]]) -> None:
    _reset(tiering_app)
    ids = set(_load(tiering_app, world).values())
    run(tiering_app)
    for method, allowed in (("abc", ABC_TIERS), ("pyramid", PYRAMID_TIERS), ("rfm", tuple(RFM_SEGMENTS))):
        tiers = current(tiering_app, method)
        assert set(tiers) == ids, method  # every customer exactly once (the unique index forbids twice)
        assert set(tiers.values()) <= set(allowed), method


class RankFree:
    """Rules that look at one customer's own numbers only."""

    @hookimpl
    def kehu_tier_rules(self) -> list[Any]:
        return [
            TierRule(name="p.big", flag="big", when=s.c.revenue_window >= 100),
            TierRule(name="p.frequent", flag="frequent", when=s.c.orders_window >= 2),
            TierRule(name="p.recent", flag="recent", when=s.c.recency_days <= 30),
        ]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=worlds, who=st.integers(0, 9), extra=amounts)
def test_rank_free_rules_move_only_the_changed_customer(
    tiering_app: Any,
    kehu_register_plugin: Any,
    world: list[list[tuple[str, int]]],
    who: int,
    extra: list[tuple[str, int]],
) -> None:
    if "rankfree" not in tiering_app.plugins.loaded:
        kehu_register_plugin(RankFree(), "rankfree")
    _reset(tiering_app)
    ids = _load(tiering_app, world)
    target = ids[f"P{who % len(world)}"]
    run(tiering_app, methods="flags")
    before = {flag: current(tiering_app, f"flag:{flag}") for flag in ("big", "frequent", "recent")}
    if extra:
        record(tiering_app, [purchase(target, END - timedelta(days=days), amount) for amount, days in extra])
    run(tiering_app, methods="flags")
    for flag, was in before.items():
        now = current(tiering_app, f"flag:{flag}")
        changed = set(was) ^ set(now)
        assert changed <= {target}, (flag, changed)
