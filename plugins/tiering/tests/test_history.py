"""Assignments and history: validity dates, snapshots, no new history on unchanged data, the hooks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from tiering_helpers import AS_OF, add_customers, current, generated, purchase, record, run

from kehu_core import hookimpl
from kehu_core.customers import archive_customer
from kehu_core.errors import KehuError
from kehu_tiering.aggregates import rebuild
from kehu_tiering.api import customer_tiers, tier_method
from kehu_tiering.models import assignments as a
from kehu_tiering.models import monthly
from kehu_tiering.rules import TierRule
from kehu_tiering.settings import TierSettings
from kehu_tiering.stats import STATS as s
from kehu_tiering.tiers import history


def history_of(app: Any, code: str) -> list[Any]:
    """``kehu tier history CODE`` as the service gives it (snapshots included)."""

    with app.session() as session:
        return history(session, code)


def _history_rows(app: Any) -> list[Any]:
    with app.session() as session:
        return session.execute(select(a).order_by(a.c.id)).all()


@pytest.fixture
def small_world(tiering_app: Any) -> dict[str, int]:
    """Ten customers with revenue 1000, 2000, ... 10000 in the window; one without purchases."""
    ids = add_customers(tiering_app, [f"H{i:02d}" for i in range(11)])
    when = datetime(2026, 5, 1, 10, tzinfo=UTC)
    record(tiering_app, [purchase(ids[f"H{i:02d}"], when, 1000 * i) for i in range(1, 11)])
    return ids


def test_change_closes_old_row_and_keeps_snapshot(tiering_app: Any, small_world: dict[str, int]) -> None:
    run(tiering_app)
    h00 = small_world["H00"]
    assert current(tiering_app, "pyramid")[h00] == "小客户"
    record(tiering_app, [purchase(h00, datetime(2026, 6, 20, tzinfo=UTC), 50000)])
    later = date(2026, 6, 30)
    result = run(tiering_app, as_of=later)
    assert current(tiering_app, "pyramid")[h00] == "VIP"
    assert current(tiering_app, "abc")[h00] == "A"
    rows = [r for r in _history_rows(tiering_app) if r.customer_id == h00 and r.method == "pyramid"]
    assert [(r.tier, r.valid_from, r.valid_to) for r in rows] == [
        ("小客户", AS_OF, later),
        ("VIP", later, None),
    ]
    assert rows[1].decided_by == "pyramid"
    snapshot = [h for h in history_of(tiering_app, "H00") if h.method == "pyramid"][1].metrics
    assert snapshot["rank"] == 0 and float(snapshot["measure"]) == 50000.0 and snapshot["customers"] == 11
    assert result.moved >= 1


def test_tier_changed_fires_once_with_every_move(
    tiering_app: Any, small_world: dict[str, int], kehu_register_plugin: Any
) -> None:
    calls: list[list[Any]] = []

    class Listener:
        @hookimpl
        def kehu_tier_changed(self, session: Any, changes: Any) -> None:
            calls.append(list(changes))

    kehu_register_plugin(Listener(), "listener")
    run(tiering_app, methods="pyramid")
    assert len(calls) == 1
    assert {(c.customer_id, c.old_tier) for c in calls[0]} == {(cid, None) for cid in small_world.values()}
    assert all(c.method == "pyramid" and c.is_tier for c in calls[0])  # the pyramid is the tier
    calls.clear()
    run(tiering_app, methods="pyramid")
    assert calls == []  # nothing moved: not fired
    before = current(tiering_app, "pyramid")
    record(tiering_app, [purchase(small_world["H01"], datetime(2026, 6, 1, tzinfo=UTC), 99999)])
    run(tiering_app, methods="pyramid")
    after = current(tiering_app, "pyramid")
    moved = {(cid, before[cid], after[cid]) for cid in after if before[cid] != after[cid]}
    assert (small_world["H01"], "小客户", "VIP") in moved  # rank-based: others move down with it
    assert len(calls) == 1 and {(c.customer_id, c.old_tier, c.new_tier) for c in calls[0]} == moved


def test_customer_tiers_hook_answers_the_tier_or_a_segment(
    tiering_app: Any, small_world: dict[str, int]
) -> None:
    """``method=None`` is the tier (the tier method's class, default the pyramid); a method name,
    that segment. The tier method is a setting of the run."""
    ids = list(small_world.values())
    h10, h00 = small_world["H10"], small_world["H00"]

    def tiers(method: str | None) -> dict[int, str]:
        with tiering_app.session() as session:
            return tiering_app.hook.kehu_customer_tiers(session=session, customer_ids=ids, method=method)

    assert tiers(None) == {}  # no run yet
    run(tiering_app)
    assert (tiers(None)[h10], tiers(None)[h00]) == ("VIP", "小客户")  # the pyramid
    assert (tiers("abc")[h10], tiers("abc")[h00]) == ("A", "C")  # a segment
    assert tiers("rfm")[h00] == "prospect" and tiers("flag:no_such_flag") == {}
    run(tiering_app, tier_method="abc")
    assert (tiers(None)[h10], tiers(None)[h00]) == ("A", "C")  # the tier is now ABC's class
    assert (tiers("pyramid")[h10], tiers("pyramid")[h00]) == ("VIP", "小客户")  # the pyramid a segment

    with tiering_app.session() as session:
        assert tier_method(session) == "abc"
        shown = customer_tiers(session, "H10")
    assert (shown.tier_method, shown.tier) == ("abc", "A")


def test_tier_changes_say_which_is_the_tier(
    tiering_app: Any, small_world: dict[str, int], kehu_register_plugin: Any
) -> None:
    """``TierChange.is_tier`` is true for the tier method's changes only; segments' are false."""
    calls: list[Any] = []

    class Listener:
        @hookimpl
        def kehu_tier_changed(self, changes: Any) -> None:
            calls.extend(changes)

    kehu_register_plugin(Listener(), "listener")
    run(tiering_app, methods="abc,pyramid,rfm", tier_method="rfm")
    assert {c.method for c in calls if c.is_tier} == {"rfm"}
    assert {c.method for c in calls if not c.is_tier} == {"abc", "pyramid"}


def test_rerun_unchanged_as_of_backwards_and_archived(tiering_app: Any, small_world: dict[str, int]) -> None:
    """Unchanged data writes no history; an earlier as-of is refused; archived customers leave."""

    first = run(tiering_app)
    assert first.written > 0 and first.customers == 11
    before = _history_rows(tiering_app)
    second = run(tiering_app, as_of=AS_OF + timedelta(days=1))
    assert second.written == 0 and second.moved == 0
    assert _history_rows(tiering_app) == before
    with pytest.raises(KehuError, match="before the current assignments"):
        run(tiering_app, as_of=AS_OF - timedelta(days=1))
    assert _history_rows(tiering_app) == before
    with tiering_app.session() as session:
        archive_customer(tiering_app, session, "H05")
    run(tiering_app, as_of=AS_OF + timedelta(days=1))
    assert small_world["H05"] not in current(tiering_app, "pyramid")
    assert len(current(tiering_app, "pyramid")) == 10


def test_flag_that_stops_holding_is_closed(
    tiering_app: Any, small_world: dict[str, int], kehu_register_plugin: Any
) -> None:
    """A flag whose rule no longer holds ends (valid_to); the others stay untouched."""

    class Thrift:
        @hookimpl
        def kehu_tier_rules(self) -> list[TierRule]:
            return [TierRule(name="thrift.low", flag="thrifty", when=s.c.revenue_window <= 1000)]

    kehu_register_plugin(Thrift(), "thrift")
    run(tiering_app)
    assert set(current(tiering_app, "flag:thrifty")) == {small_world["H00"], small_world["H01"]}
    before = {r.id: r for r in _history_rows(tiering_app)}
    record(tiering_app, [purchase(small_world["H01"], datetime(2026, 6, 20, tzinfo=UTC), 1)])
    later = date(2026, 6, 30)
    result = run(tiering_app, as_of=later, methods="flags")
    assert set(current(tiering_app, "flag:thrifty")) == {small_world["H00"]}
    ended = [r for r in _history_rows(tiering_app) if r.valid_to is not None]
    assert [(r.customer_id, r.method, r.valid_to) for r in ended] == [
        (small_world["H01"], "flag:thrifty", later)
    ]
    after = _history_rows(tiering_app)
    added = [r for r in after if r.id not in before]
    assert all(
        r.method.startswith("flag:") and r.method != "flag:thrifty" for r in added
    )  # e.g. upgrade potential
    assert result.written == len(ended) + len(added)
    # Every other row is exactly as it was: nothing else closed or rewritten.
    assert all(r == before[r.id] for r in after if r.id in before and r.valid_to is None)


def test_incremental_buckets_equal_a_rebuild(tiering_app: Any) -> None:
    """The monthly aggregates kept on insert equal those recomputed from scratch."""

    generated(tiering_app, 40, seed=5)
    ids = add_customers(tiering_app, ["INC"])
    for k in range(3):  # several batches into the same bucket
        record(
            tiering_app,
            [purchase(ids["INC"], datetime(2026, 3, 2 + k, tzinfo=UTC), "10.10", "5.05")],
        )
    with tiering_app.session() as session:
        kept = session.execute(select(monthly).order_by(monthly.c.customer_id, monthly.c.month)).all()
        rebuild(session)
        rebuilt = session.execute(select(monthly).order_by(monthly.c.customer_id, monthly.c.month)).all()
    assert kept == rebuilt and len(kept) > 40


def test_rebuild_leaves_postgresql_statistics_of_the_new_rows(tiering_app: Any) -> None:
    """After a rebuild PostgreSQL plans on the rebuilt table's statistics, not the old rows' (ANALYZE)."""

    if tiering_app.dialect != "postgresql":
        pytest.skip("PostgreSQL's planner statistics; SQLite keeps none unless asked")
    generated(tiering_app, 40, seed=5)
    ids = add_customers(tiering_app, [f"NEW{n}" for n in range(30)])
    with tiering_app.session() as session:
        rebuild(session)
        before = session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'tiering_monthly'"))
    record(
        tiering_app, [purchase(i, datetime(2026, 3, 2, tzinfo=UTC), "10.10", "5.05") for i in ids.values()]
    )
    with tiering_app.session() as session:
        rows = rebuild(session)
    with tiering_app.session() as session:
        after = session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'tiering_monthly'"))
    # A table this small is read whole by ANALYZE: the count is exact.
    assert after == rows == before + 30


def test_runs_recorded_with_primary_still_name_the_tier_method() -> None:
    """Runs recorded before the setting was called ``tier_method`` stored it as ``primary``."""

    old = TierSettings.from_json({"as_of": "2026-06-15", "primary": "abc"})
    assert old.tier_method == "abc" and old.to_json()["tier_method"] == "abc"
    assert TierSettings.from_json({"as_of": "2026-06-15"}).tier_method == "pyramid"
