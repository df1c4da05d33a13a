"""Tier runs written as history: run, change, run, and a run on unchanged data writes nothing.

Seven customers (C0 never bought; C1 ... C6 bought 100 ... 600 yuan in May 2026), an override
rule (pyramid VIP from a measure of 500) and a flag rule (watch up to 200 yuan in the window),
as of 2026-06-15. Expected rows written by hand from the documented classes:

* first run: N = 7, so rank 0 is VIP, ranks 1-3 普通客户 (below 50% of 7 = 3.5), the rest
  小客户; the rule makes C5 and C6 VIP; C0, C1 and C2 are watched.
* C1 buys 1000 yuan more on 10 June: C1 is VIP by the rule, C3 falls to rank 4 (小客户),
  C1 is no longer watched; nobody else moves.
* the same run again: nothing written, nothing fired.
* the override rule renamed: the three rows it decides are written again (decided by the new
  name), though no tier moves; and again nothing on the next unchanged run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, MetaData, String, Table, func, insert, select
from tiering_helpers import AS_OF, add_customers, purchase, record

from kehu_core import hookimpl
from kehu_core.customers import archive_customer
from kehu_tiering.engine import run as run_engine
from kehu_tiering.models import assignments, runs, snapshots
from kehu_tiering.rules import TierRule
from kehu_tiering.settings import make_settings
from kehu_tiering.stats import STATS


def _rules(vip_name: str) -> list[TierRule]:
    s = STATS.c
    return [
        TierRule(name=vip_name, tier="VIP", method="pyramid", when=s.measure >= 500),
        TierRule(name="watch.small", flag="watch", when=s.revenue_window <= 200),
    ]


class Listener:
    def __init__(self) -> None:
        self.moves: list[list[Any]] = []

    @hookimpl
    def kehu_tier_changed(self, session: Any, changes: list[Any]) -> None:
        self.moves.append([(c.customer_id, c.method, c.old_tier, c.new_tier) for c in changes])


def _run(app: Any, vip_name: str = "big.vip") -> Any:
    with app.session() as session:
        result = run_engine(app, session, make_settings(as_of=AS_OF), rules=_rules(vip_name))
        session.commit()
    return result


def _table(app: Any, table: Any) -> list[Any]:
    with app.session() as session:
        return session.execute(select(table).order_by(*table.primary_key.columns)).all()


def _rows(app: Any, ids: dict[str, int], method: str) -> list[tuple[str, str, str, Any, Any]]:
    """(customer, tier, decided by, valid to, ended by which run) of every row of ``method``."""
    codes = {cid: code for code, cid in ids.items()}
    a = assignments.c
    with app.session() as session:
        rows = session.execute(
            select(a.customer_id, a.tier, a.decided_by, a.valid_to, a.ended_run_id)
            .where(a.method == method)
            .order_by(a.customer_id, a.id)
        ).all()
    return [(codes[cid], tier, by, valid_to, ended) for cid, tier, by, valid_to, ended in rows]


def _snapshot_customers(app: Any, ids: dict[str, int], run_id: int) -> list[str]:
    codes = {cid: code for code, cid in ids.items()}
    with app.session() as session:
        found = session.scalars(select(snapshots.c.customer_id).where(snapshots.c.run_id == run_id))
        return sorted(codes[cid] for cid in found)


def _metrics(app: Any, customer_id: int, method: str) -> Any:
    """The current row's own snapshot (a rule decided it: the columns its condition reads)."""
    a = assignments.c
    with app.session() as session:
        metrics = session.scalar(
            select(a.metrics).where(a.customer_id == customer_id, a.method == method, a.valid_to.is_(None))
        )
    return {k: float(v) for k, v in metrics.items()} if metrics else metrics


def test_run_change_run_unchanged_run(tiering_app: Any, kehu_register_plugin: Any) -> None:
    listener = Listener()
    kehu_register_plugin(listener, "listener")
    ids = add_customers(tiering_app, [f"C{k}" for k in range(7)])
    may = datetime(2026, 5, 1, 10, tzinfo=UTC)
    record(tiering_app, [purchase(ids[f"C{k}"], may, 100 * k) for k in range(1, 7)])

    first = _run(tiering_app)
    assert (first.customers, first.written, first.moved) == (7, 3 * 7 + 3, 3 * 7 + 3)
    assert _rows(tiering_app, ids, "pyramid") == [
        ("C0", "小客户", "pyramid", None, None),
        ("C1", "小客户", "pyramid", None, None),
        ("C2", "小客户", "pyramid", None, None),
        ("C3", "普通客户", "pyramid", None, None),
        ("C4", "普通客户", "pyramid", None, None),
        ("C5", "VIP", "big.vip", None, None),
        ("C6", "VIP", "big.vip", None, None),
    ]
    assert _rows(tiering_app, ids, "flag:watch") == [
        ("C0", "watch", "watch.small", None, None),
        ("C1", "watch", "watch.small", None, None),
        ("C2", "watch", "watch.small", None, None),
    ]

    record(tiering_app, [purchase(ids["C1"], datetime(2026, 6, 10, 10, tzinfo=UTC), 1000)])
    second = _run(tiering_app)
    closed = second.run_id
    assert _rows(tiering_app, ids, "pyramid") == [
        ("C0", "小客户", "pyramid", None, None),
        ("C1", "小客户", "pyramid", AS_OF, closed),
        ("C1", "VIP", "big.vip", None, None),
        ("C2", "小客户", "pyramid", None, None),
        ("C3", "普通客户", "pyramid", AS_OF, closed),
        ("C3", "小客户", "pyramid", None, None),
        ("C4", "普通客户", "pyramid", None, None),
        ("C5", "VIP", "big.vip", None, None),
        ("C6", "VIP", "big.vip", None, None),
    ]
    assert _rows(tiering_app, ids, "flag:watch") == [
        ("C0", "watch", "watch.small", None, None),
        ("C1", "watch", "watch.small", AS_OF, closed),
        ("C2", "watch", "watch.small", None, None),
    ]
    # ABC: 1100 is now ahead of everyone; C3 has 2600 of 3100 ahead (83.9%): B. Every customer's
    # first purchase is 45 days old, so RFM says new for every buyer, before and after.
    assert sorted(listener.moves[-1]) == [
        (ids["C1"], "abc", "C", "A"),
        (ids["C1"], "flag:watch", "watch", None),
        (ids["C1"], "pyramid", "小客户", "VIP"),
        (ids["C3"], "abc", "A", "B"),
        (ids["C3"], "pyramid", "普通客户", "小客户"),
    ]
    assert (second.written, second.moved) == (5, 5)  # five (customer, method) pairs: four moves, a flag ended
    # The methods' numbers are kept for the customers a method moved (the rule's row keeps its own).
    assert _snapshot_customers(tiering_app, ids, second.run_id) == ["C1", "C3"]
    assert _snapshot_customers(tiering_app, ids, first.run_id) == [f"C{k}" for k in range(7)]
    assert _metrics(tiering_app, ids["C1"], "pyramid") == {"measure": 1100}

    history, kept = _table(tiering_app, assignments), _table(tiering_app, snapshots)
    calls = len(listener.moves)
    third = _run(tiering_app)
    assert (third.written, third.moved) == (0, 0)
    assert _table(tiering_app, assignments) == history  # nothing closed, nothing rewritten
    assert _table(tiering_app, snapshots) == kept
    assert len(listener.moves) == calls  # nothing fired
    assert third.counts == second.counts
    assert third.counts["pyramid"] == {"VIP": 3, "普通客户": 1, "小客户": 3}
    assert list(third.counts["pyramid"]) == ["VIP", "普通客户", "小客户"]  # the pyramid's order

    # The override renamed: the rows it decides are written again, decided by the new name.
    renamed = _run(tiering_app, "large.vip")
    assert (renamed.written, renamed.moved) == (3, 0)
    current = [r for r in _rows(tiering_app, ids, "pyramid") if r[3] is None]
    assert [(code, by) for code, _, by, _, _ in current if by != "pyramid"] == [
        ("C1", "large.vip"),
        ("C5", "large.vip"),
        ("C6", "large.vip"),
    ]
    history = _table(tiering_app, assignments)
    assert len(listener.moves) == calls  # no tier moved: nothing fired
    again = _run(tiering_app, "large.vip")
    assert (again.written, again.moved) == (0, 0)
    assert _table(tiering_app, assignments) == history
    # And back to a name that sorts before it: rewritten again.
    assert (_run(tiering_app).written, _run(tiering_app).written) == (3, 0)
    with tiering_app.session() as session:
        assert session.scalar(select(func.count()).select_from(runs)) == 7
        assert session.scalar(select(func.max(runs.c.as_of))) == date(2026, 6, 15)


def test_a_flag_nobody_holds_any_more_is_closed(tiering_app: Any) -> None:
    """A flags-only run whose one flag holds for nobody after a change closes every row of it."""
    ids = add_customers(tiering_app, ["W1", "W2"])
    record(tiering_app, [purchase(ids["W2"], datetime(2026, 5, 1, 10, tzinfo=UTC), 300)])
    rules = [TierRule(name="watch.small", flag="watch", when=STATS.c.revenue_window <= 200)]

    def flags_run() -> Any:
        with tiering_app.session() as session:
            result = run_engine(
                tiering_app, session, make_settings(as_of=AS_OF, methods="flags"), rules=rules
            )
            session.commit()
        return result

    assert (flags_run().written, _rows(tiering_app, ids, "flag:watch")) == (
        1,
        [("W1", "watch", "watch.small", None, None)],
    )
    record(tiering_app, [purchase(ids["W1"], datetime(2026, 6, 1, 10, tzinfo=UTC), "200.01")])
    second = flags_run()
    assert (second.written, second.moved) == (1, 1)
    assert _rows(tiering_app, ids, "flag:watch") == [("W1", "watch", "watch.small", AS_OF, second.run_id)]
    assert flags_run().written == 0
    # W2 refunds 100 of its 300: watched. Then W1 gets a fen back and W2 buys one: in one run a
    # flag begins (W1) as another ends (W2).
    june = datetime(2026, 6, 2, 10, tzinfo=UTC)
    record(tiering_app, [purchase(ids["W2"], june, -100)])
    assert flags_run().written == 1
    record(tiering_app, [purchase(ids["W1"], june, "-0.01"), purchase(ids["W2"], june, "0.01")])
    fifth = flags_run()
    assert (fifth.written, fifth.moved) == (2, 2)
    assert _rows(tiering_app, ids, "flag:watch") == [
        ("W1", "watch", "watch.small", AS_OF, second.run_id),
        ("W1", "watch", "watch.small", None, None),
        ("W2", "watch", "watch.small", AS_OF, fifth.run_id),
    ]


def test_a_flag_raised_by_a_renamed_rule_is_written_again(tiering_app: Any) -> None:
    """The flag rule renamed (watch.small, then watch.tiny, which sorts after, then back): the
    flag's row is written again each time, decided by the new name, though the flag does not move."""
    ids = add_customers(tiering_app, ["W1", "W2"])
    record(tiering_app, [purchase(ids["W2"], datetime(2026, 5, 1, 10, tzinfo=UTC), 300)])

    def flags_run(name: str) -> Any:
        rules = [TierRule(name=name, flag="watch", when=STATS.c.revenue_window <= 200)]
        with tiering_app.session() as session:
            result = run_engine(
                tiering_app, session, make_settings(as_of=AS_OF, methods="flags"), rules=rules
            )
            session.commit()
        return result

    first = flags_run("watch.small")
    second = flags_run("watch.tiny")
    assert (first.written, second.written, second.moved) == (1, 1, 0)  # a new row, no tier moved
    assert _rows(tiering_app, ids, "flag:watch") == [
        ("W1", "watch", "watch.small", AS_OF, second.run_id),
        ("W1", "watch", "watch.tiny", None, None),
    ]
    assert flags_run("watch.tiny").written == 0
    third = flags_run("watch.small")  # back to a name sorting before
    assert (third.written, third.moved) == (1, 0)
    assert _rows(tiering_app, ids, "flag:watch")[1:] == [
        ("W1", "watch", "watch.tiny", AS_OF, third.run_id),
        ("W1", "watch", "watch.small", None, None),
    ]


def test_each_rule_decided_row_keeps_the_numbers_its_own_rule_reads(tiering_app: Any) -> None:
    """Two rules per target, each reading its own column: every row keeps the numbers of the rule that
    decided it, on a first run (written whole) and on a re-run (written from the diff).

    R1 bought 3 x 200, R2 2 x 50, R3 10 yuan (N = 3, total 710). Rules, in order: abc.twice (A from 2
    orders), pyramid.big (VIP from a measure of 500), pyramid.mid (主要客户 from 100 ever),
    watch.a (up to 50 in the window), watch.b (3 orders or more)."""
    ids = add_customers(tiering_app, ["R1", "R2", "R3"])
    may = datetime(2026, 5, 1, 10, tzinfo=UTC)
    bought = [("R1", 200), ("R1", 200), ("R1", 200), ("R2", 50), ("R2", 50), ("R3", 10)]
    record(tiering_app, [purchase(ids[code], may, amount) for code, amount in bought])
    s = STATS.c
    rules = [
        TierRule(name="abc.twice", tier="A", method="abc", when=s.orders_window >= 2),
        TierRule(name="pyramid.big", tier="VIP", method="pyramid", when=s.measure >= 500),
        TierRule(name="pyramid.mid", tier="主要客户", method="pyramid", when=s.revenue_total >= 100),
        TierRule(name="watch.a", flag="watch", when=s.revenue_window <= 50),
        TierRule(name="watch.b", flag="watch", when=s.orders_window >= 3),
    ]

    def rule_run() -> Any:
        with tiering_app.session() as session:
            result = run_engine(tiering_app, session, make_settings(as_of=AS_OF), rules=rules)
            session.commit()
        return result

    def kept(code: str, method: str) -> Any:
        return _metrics(tiering_app, ids[code], method)

    rule_run()  # a first run: every row written whole
    assert kept("R1", "abc") == {"orders_window": 3}
    assert kept("R2", "abc") == {"orders_window": 2}
    assert kept("R3", "abc") is None  # the method decided (C: 98.6% ahead)
    assert kept("R1", "pyramid") == {"measure": 600}
    assert kept("R2", "pyramid") == {"revenue_total": 100}  # rule 2
    assert kept("R3", "pyramid") is None  # 小客户 by its rank
    assert kept("R1", "flag:watch") == {"orders_window": 3}  # rule 2 of the flag
    assert kept("R3", "flag:watch") == {"revenue_window": 10}
    assert kept("R2", "flag:watch") is None  # not watched: no row
    # R2 buys 600 more: the pyramid's rule 1 and the flag's rule 2 decide its new rows (the diff).
    record(tiering_app, [purchase(ids["R2"], datetime(2026, 6, 1, 10, tzinfo=UTC), 600)])
    second = rule_run()
    assert second.moved == 2
    # Both moves were decided by rules: their rows keep the numbers, no methods' snapshot is written.
    assert _snapshot_customers(tiering_app, ids, second.run_id) == []
    assert kept("R2", "pyramid") == {"measure": 700}
    assert kept("R2", "flag:watch") == {"orders_window": 3}
    # ABC: still A by the same rule, so the row and its numbers stay those of the first run.
    assert kept("R2", "abc") == {"orders_window": 2}


def test_the_moves_say_which_is_the_tier(tiering_app: Any, kehu_register_plugin: Any) -> None:
    """Tier method pyramid (the default): only the pyramid's move is the customer's tier moving."""
    seen: list[Any] = []

    class Tiers:
        @hookimpl
        def kehu_tier_changed(self, session: Any, changes: list[Any]) -> None:
            seen.extend((c.method, c.old_tier, c.new_tier, c.is_tier) for c in changes)

    kehu_register_plugin(Tiers(), "tiers")
    ids = add_customers(tiering_app, ["P"])
    record(tiering_app, [purchase(ids["P"], datetime(2024, 1, 10, 10, tzinfo=UTC), 100)])
    _run(tiering_app)  # bought before the window only: lost, no measure
    seen.clear()
    record(tiering_app, [purchase(ids["P"], datetime(2026, 6, 1, 10, tzinfo=UTC), 100)])
    _run(tiering_app)  # the only buyer of the window, first purchase long ago: every score 1
    assert sorted(seen) == [
        ("abc", "C", "A", False),  # watched before and after (100 yuan): no flag move
        ("pyramid", "小客户", "VIP", True),
        ("rfm", "lost", "hibernating", False),
    ]


def test_a_runs_counts_per_tier_over_three_hundred_customers(tiering_app: Any) -> None:
    """N = 300 with distinct measures: VIP below rank 3 (1%), 主要客户 below 15, 普通客户 below 150."""
    ids = add_customers(tiering_app, [f"N{k:03d}" for k in range(1, 301)])
    may = datetime(2026, 5, 1, 10, tzinfo=UTC)
    record(tiering_app, [purchase(ids[f"N{k:03d}"], may, k) for k in range(1, 301)])
    result = _run(tiering_app)
    assert result.counts["pyramid"] == {"VIP": 3, "主要客户": 12, "普通客户": 135, "小客户": 150}
    assert list(result.counts["pyramid"]) == ["VIP", "主要客户", "普通客户", "小客户"]
    assert result.counts["flag:watch"] == {"watch": 200}  # 1 ... 200 yuan


def test_customers_who_leave_and_arrive_in_the_same_run(tiering_app: Any, kehu_register_plugin: Any) -> None:
    """A archived while B arrives: A's rows end, B's begin; then everyone leaves, and the next
    customer's first rows are the only moves told (not the earlier runs' closed rows)."""

    listener = Listener()
    kehu_register_plugin(listener, "listener")
    may = datetime(2026, 5, 1, 10, tzinfo=UTC)

    def arrive(code: str) -> int:
        cid = add_customers(tiering_app, [code])[code]
        record(tiering_app, [purchase(cid, may, 100)])
        return cid

    def leave(code: str) -> None:
        with tiering_app.session() as session:
            archive_customer(tiering_app, session, code)

    def current_of(cid: int) -> list[tuple[str, str]]:
        a = assignments.c
        with tiering_app.session() as session:
            rows = session.execute(
                select(a.method, a.tier).where(a.customer_id == cid, a.valid_to.is_(None)).order_by(a.method)
            ).all()
        return [tuple(r) for r in rows]

    first_rows = [("abc", "A"), ("flag:watch", "watch"), ("pyramid", "VIP"), ("rfm", "new")]
    a_id = arrive("A")
    _run(tiering_app)
    assert current_of(a_id) == first_rows
    leave("A")
    b_id = arrive("B")
    second = _run(tiering_app)
    assert (current_of(a_id), current_of(b_id)) == ([], first_rows)
    assert (second.written, second.moved) == (8, 8)  # four rows ended, four begun
    leave("B")
    _run(tiering_app)
    assert current_of(b_id) == []
    c_id = arrive("C")
    listener.moves.clear()
    _run(tiering_app)
    assert sorted(listener.moves[0]) == [(c_id, method, None, tier) for method, tier in first_rows]


def test_two_customers_leave_while_one_arrives(tiering_app: Any) -> None:
    """A1 and A2 archived while B arrives: 8 rows end though 4 begin (current 8 = given 4 + new 4)."""

    may = datetime(2026, 5, 1, 10, tzinfo=UTC)
    ids = add_customers(tiering_app, ["A1", "A2"])
    record(tiering_app, [purchase(ids["A1"], may, 100), purchase(ids["A2"], may, 100)])
    _run(tiering_app)
    with tiering_app.session() as session:
        archive_customer(tiering_app, session, "A1")
    with tiering_app.session() as session:
        archive_customer(tiering_app, session, "A2")
    b_id = add_customers(tiering_app, ["B"])["B"]
    record(tiering_app, [purchase(b_id, may, 100)])
    second = _run(tiering_app)
    a = assignments.c
    with tiering_app.session() as session:
        current = session.execute(
            select(a.customer_id, a.method, a.tier)
            .where(a.valid_to.is_(None))
            .order_by(a.customer_id, a.method)
        ).all()
    assert [tuple(r) for r in current] == [
        (b_id, "abc", "A"),
        (b_id, "flag:watch", "watch"),
        (b_id, "pyramid", "VIP"),
        (b_id, "rfm", "new"),
    ]
    assert (second.written, second.moved) == (12, 12)  # eight rows ended, four begun


def test_a_method_run_for_the_first_time_keeps_every_customers_numbers(tiering_app: Any) -> None:
    """ABC and RFM ran before; the pyramid's first run writes every customer's row and snapshot,
    the rule-decided customer's too (the methods' numbers, beside its rule's own)."""
    ids = add_customers(tiering_app, ["F1", "F2"])
    may = datetime(2026, 5, 1, 10, tzinfo=UTC)
    record(tiering_app, [purchase(ids["F1"], may, 600), purchase(ids["F2"], may, 100)])
    rules = [TierRule(name="pyramid.big", tier="VIP", method="pyramid", when=STATS.c.measure >= 500)]

    def methods_run(methods: str) -> Any:
        with tiering_app.session() as session:
            result = run_engine(
                tiering_app, session, make_settings(as_of=AS_OF, methods=methods), rules=rules
            )
            session.commit()
        return result

    methods_run("abc,rfm")
    first = methods_run("pyramid")
    assert (first.written, first.moved) == (2, 2)
    assert _rows(tiering_app, ids, "pyramid") == [
        ("F1", "VIP", "pyramid.big", None, None),
        ("F2", "小客户", "pyramid", None, None),  # rank 1 of 2: exactly 50% ahead, not below it
    ]
    assert _snapshot_customers(tiering_app, ids, first.run_id) == ["F1", "F2"]


def test_a_rule_reading_a_plugins_table_keeps_only_the_statistics_it_reads(tiering_app: Any) -> None:
    """A plugin's own table (``watchlist``, named after ``tiering_stats``): the flag's row keeps the
    statistics columns its condition reads, not the plugin table's columns."""

    watchlist = Table(
        "watchlist", MetaData(), Column("customer_id", BigInteger), Column("reason", String(20))
    )
    ids = add_customers(tiering_app, ["L1", "L2"])
    with tiering_app.session() as session:
        watchlist.create(session.connection())
        session.execute(insert(watchlist).values(customer_id=ids["L1"], reason="late"))
        session.commit()
    listed = select(watchlist.c.customer_id).where(watchlist.c.reason == "late")
    rules = [TierRule(name="listed.late", flag="listed", when=STATS.c.customer_id.in_(listed))]
    with tiering_app.session() as session:
        run_engine(tiering_app, session, make_settings(as_of=AS_OF, methods="flags"), rules=rules)
        session.commit()
    assert _rows(tiering_app, ids, "flag:listed") == [("L1", "listed", "listed.late", None, None)]
    assert _metrics(tiering_app, ids["L1"], "flag:listed") == {"customer_id": ids["L1"]}
