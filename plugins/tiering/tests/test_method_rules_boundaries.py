"""A run's targets (each method, then each flag) and how a target's rules decide it.

Written by hand from the documented order: the methods in the order abc, pyramid, rfm (those
the run computes), then one target per flag in the order its first rule applies; a method's
tier is the first rule that holds (by priority, then name), else the method's own class; a
flag is raised by the first of its rules that holds, and is absent when none does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, cast, literal, null, select
from tiering_helpers import add_customers, purchase, record

from kehu_tiering.engine import run as run_engine
from kehu_tiering.method_rules import Target, targets_of
from kehu_tiering.models import assignments as a
from kehu_tiering.rules import TierRule, order
from kehu_tiering.settings import make_settings
from kehu_tiering.stats import STATS

WHEN = STATS.c.measure > 1


def _rule(name: str, priority: int, **sets: Any) -> TierRule:
    return TierRule(name=name, when=WHEN, priority=priority, **sets)


RULES = order(
    [
        _rule("p.vip", 1, tier="VIP", method="pyramid"),
        _rule("f.watch", 2, flag="watch"),
        _rule("a.a", 3, tier="A", method="abc"),
        _rule("f.key", 4, flag="key_account"),
        _rule("p.small", 5, tier="小客户", method="pyramid"),
        _rule("f.watch2", 6, flag="watch"),
        _rule("r.champ", 7, tier="champions", method="rfm"),
    ]
)


def _targets(methods: str) -> list[tuple[int, str, list[str]]]:
    targets = targets_of(make_settings(as_of="2026-06-15", methods=methods), RULES)
    return [(t.key, t.method, [r.name for r in t.rules]) for t in targets]


def test_targets_are_the_methods_in_order_then_each_flag() -> None:
    assert _targets("abc,pyramid,rfm,flags") == [
        (0, "abc", ["a.a"]),
        (1, "pyramid", ["p.vip", "p.small"]),
        (2, "rfm", ["r.champ"]),
        (3, "flag:watch", ["f.watch", "f.watch2"]),
        (4, "flag:key_account", ["f.key"]),
    ]
    assert _targets("flags,pyramid") == [
        (0, "pyramid", ["p.vip", "p.small"]),
        (1, "flag:watch", ["f.watch", "f.watch2"]),
        (2, "flag:key_account", ["f.key"]),
    ]
    assert _targets("rfm,abc") == [(0, "abc", ["a.a"]), (1, "rfm", ["r.champ"])]
    assert _targets("flags") == [
        (0, "flag:watch", ["f.watch", "f.watch2"]),
        (1, "flag:key_account", ["f.key"]),
    ]
    plain = targets_of(make_settings(as_of="2026-06-15"), [])
    assert [(t.key, t.method, t.rules) for t in plain] == [(0, "abc", ()), (1, "pyramid", ()), (2, "rfm", ())]


def test_what_each_target_can_give() -> None:
    targets = {t.method: t for t in targets_of(make_settings(as_of="2026-06-15"), RULES)}
    assert [(m, t.is_flag) for m, t in targets.items()] == [
        ("abc", False),
        ("pyramid", False),
        ("rfm", False),
        ("flag:watch", True),
        ("flag:key_account", True),
    ]
    assert targets["abc"].possible_tiers() == ("A", "B", "C")
    assert targets["pyramid"].possible_tiers() == ("VIP", "主要客户", "普通客户", "小客户")
    assert targets["rfm"].possible_tiers()[:3] == ("prospect", "lost", "new")
    assert len(targets["rfm"].possible_tiers()) == 11
    assert targets["flag:watch"].possible_tiers() == ("watch",)
    assert targets["flag:key_account"].possible_tiers() == ("key_account",)


def _decisions(app: Any, target: Target, cases: list[tuple[str | None, int | None]]) -> list[tuple[Any, Any]]:
    """(tier, decided by) of ``target`` for each (method's class, number of the first rule that holds)."""
    columns = []
    for n, (t, r) in enumerate(cases):
        tier_in = null() if t is None else cast(literal(t), String)
        rule_in = null() if r is None else literal(r)
        columns += [target.tier(tier_in, rule_in).label(f"t{n}"), target.decided_by(rule_in).label(f"b{n}")]
    with app.session() as session:
        row = session.execute(select(*columns)).one()
    return [(row[2 * n], row[2 * n + 1]) for n in range(len(cases))]


def test_the_first_rule_that_holds_decides(kehu_app: Any) -> None:
    targets = {t.method: t for t in targets_of(make_settings(as_of="2026-06-15"), RULES)}
    # Rule 0: none holds, the method's own class; rule 1 and rule 2: the rules in order.
    assert _decisions(kehu_app, targets["pyramid"], [("普通客户", 0), ("普通客户", 1), ("VIP", 2)]) == [
        ("普通客户", "pyramid"),
        ("VIP", "p.vip"),
        ("小客户", "p.small"),
    ]
    assert _decisions(kehu_app, targets["abc"], [("B", 0), ("C", 1)]) == [("B", "abc"), ("A", "a.a")]
    # A flag: raised by rule 1 or 2, absent when none holds (NULL).
    assert _decisions(kehu_app, targets["flag:watch"], [(None, None), (None, 1), (None, 2)]) == [
        (None, None),
        ("watch", "f.watch"),
        ("watch", "f.watch2"),
    ]
    assert _decisions(kehu_app, targets["flag:key_account"], [(None, 1)]) == [("key_account", "f.key")]
    # A method no rule decides: its own class, decided by the method.
    plain = Target(0, "rfm", ())
    assert _decisions(kehu_app, plain, [("champions", 0), ("lost", 0)]) == [
        ("champions", "rfm"),
        ("lost", "rfm"),
    ]


def _run(app: Any, rules: list[TierRule]) -> Any:
    with app.session() as session:
        result = run_engine(app, session, make_settings(as_of="2026-06-15"), rules=rules)
        session.commit()
    return result


def test_a_run_applies_the_first_rule_and_counts_every_tier(tiering_app: Any) -> None:
    """Three customers of 10, 20 and 30 yuan; two pyramid rules that both hold for the largest."""
    ids = add_customers(tiering_app, ["S10", "S20", "S30"])
    when = datetime(2026, 5, 1, 10, tzinfo=UTC)
    record(tiering_app, [purchase(ids[f"S{k}"], when, k) for k in (10, 20, 30)])
    m = STATS.c.measure
    rules = order(
        [
            TierRule(name="big.small", tier="小客户", method="pyramid", priority=2, when=m >= 30),
            TierRule(name="mid.vip", tier="VIP", method="pyramid", priority=1, when=m >= 20),
            TierRule(name="w.one", flag="watch", priority=1, when=m == 10),
            TierRule(name="w.two", flag="watch", priority=2, when=m <= 20),
        ]
    )
    result = _run(tiering_app, rules)
    assert result.counts["pyramid"] == {"VIP": 2, "小客户": 1}  # 30 and 20 by mid.vip; 10: rank 2 of 3
    assert result.counts["flag:watch"] == {"watch": 2}
    assert result.counts["abc"] == {"A": 2, "B": 1}  # 30 (0%), 20 (50%) ahead; 10: 83% ahead
    with tiering_app.session() as session:
        rows = session.execute(
            select(a.c.customer_id, a.c.method, a.c.tier, a.c.decided_by).where(a.c.valid_to.is_(None))
        ).all()
    by = {(cid, method): (tier, decided) for cid, method, tier, decided in rows}
    assert by[(ids["S30"], "pyramid")] == ("VIP", "mid.vip")  # both hold: the first by priority
    assert by[(ids["S20"], "pyramid")] == ("VIP", "mid.vip")
    assert by[(ids["S10"], "pyramid")] == ("小客户", "pyramid")
    assert by[(ids["S10"], "flag:watch")] == ("watch", "w.one")
    assert by[(ids["S20"], "flag:watch")] == ("watch", "w.two")
    assert (ids["S30"], "flag:watch") not in by
    assert _run(tiering_app, rules).written == 0  # the same again: nothing to write
