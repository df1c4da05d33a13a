"""The rules at their edges: each comparison of the built-in rules with statistics exactly on it
and one step either side, and what makes a rule, a rules file or a rule set refused.

The built-in rules are evaluated by the database on a statistics table written by hand (the
relation rules read, ``tiering_stats``), one customer per case; the expected customers are
written by hand from the documented conditions (docs/tiering.md):

* key account: ABC class A, first purchase 12+ calendar months ago, a purchase in each of the
  four 3-month periods, and an average order in the window of ¥1,000 or more;
* poor quality: a 小客户 with 2+ overdue payments, 30+ days late on average, or 3+ complaints;
* upgrade potential: a 小客户 with 2+ orders, revenue more than 20% above a previous window
  that had revenue, no overdue payment and fewer than 3 complaints.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Integer, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from tiering_helpers import only_oracle

from kehu_core import hookimpl
from kehu_core.errors import KehuError, ValidationError
from kehu_tiering import rules as rules_module
from kehu_tiering.rules import TierRule, builtin_rules, check, collect, load_toml, order
from kehu_tiering.settings import make_settings, rule_context
from kehu_tiering.stats import STATS, stats_table

CONTEXT = rule_context(make_settings(as_of="2026-06-15"))


def _matching(app: Any, rows: dict[int, dict[str, Any]]) -> dict[str, set[int]]:
    """{rule name: customers whose statistics match its condition} for the built-in SQL rules."""
    table = stats_table()
    with app.session() as session:
        table.create(session.connection())
        names = {name for row in rows.values() for name in row}
        filled = [{"customer_id": cid, **dict.fromkeys(names), **row} for cid, row in rows.items()]
        session.execute(insert(table), filled)
        return {
            rule.name: set(session.scalars(select(STATS.c.customer_id).where(rule.when)))
            for rule in builtin_rules()
            if rule.name != "key_account.salesperson_flag"  # reads the customer's card: test_has_attribute.py
        }


def _money(text: str) -> Decimal:
    return Decimal(text)


def _key(abc: str, tenure: int, quarters: int, orders: int, revenue: str) -> dict[str, Any]:
    return dict(
        abc=abc,
        tenure_months=tenure,
        quarters_active=quarters,
        orders_window=orders,
        revenue_window=_money(revenue),
        pyramid="VIP",
        overdue_payments=0,
        complaints_window=0,
    )


def _poor(pyramid: str, overdue: int, late: float | None, complaints: int) -> dict[str, Any]:
    return dict(
        abc="C",
        pyramid=pyramid,
        overdue_payments=overdue,
        avg_days_late=late,
        complaints_window=complaints,
        orders_window=0,
        revenue_window=_money("0"),
    )


def _growth(
    pyramid: str, orders: int, previous: str, revenue: str, overdue: int = 0, complaints: int = 0
) -> dict[str, Any]:
    return dict(
        abc="C",
        pyramid=pyramid,
        orders_window=orders,
        revenue_prev_window=_money(previous),
        revenue_window=_money(revenue),
        overdue_payments=overdue,
        complaints_window=complaints,
    )


KEY_ACCOUNT = {
    1: _key("A", 12, 4, 2, "2000.00"),  # every condition exactly on its edge
    2: _key("A", 11, 4, 2, "2000.00"),  # 11 months
    3: _key("A", 13, 4, 2, "2000.00"),
    4: _key("B", 12, 4, 2, "2000.00"),
    5: _key("A", 12, 3, 2, "2000.00"),  # one 3-month period without a purchase
    6: _key("A", 12, 4, 2, "1999.99"),  # average order ¥999.995
    7: _key("A", 12, 4, 2, "2000.01"),
    8: _key("A", 12, 4, 0, "0.00"),  # no order in the window: no average order
    9: _key("A", 12, 4, 1, "1000.00"),  # one order of exactly ¥1,000
    10: _key("A", 12, 4, 1, "999.99"),
}
POOR_QUALITY = {
    21: _poor("小客户", 2, None, 0),
    22: _poor("小客户", 1, None, 0),
    23: _poor("小客户", 3, None, 0),
    24: _poor("小客户", 1, 30.0, 0),  # exactly 30 days late on average
    25: _poor("小客户", 1, 29.99, 0),
    26: _poor("小客户", 0, None, 3),
    27: _poor("小客户", 0, None, 2),
    28: _poor("普通客户", 5, 60.0, 9),  # not a small customer
    29: _poor("小客户", 0, 30.01, 0),
    30: _poor("VIP", 2, 30.0, 3),  # the other tiers, whichever way their names sort
    20: _poor("主要客户", 2, 30.0, 3),
}
UPGRADE = {
    31: _growth("小客户", 2, "100.00", "120.01", complaints=2),  # every condition on its edge
    32: _growth("小客户", 1, "100.00", "120.01"),  # one order
    33: _growth("小客户", 2, "100.00", "120.00"),  # exactly 20% more: not more than 20%
    34: _growth("小客户", 2, "0.00", "50.00"),  # no previous revenue: no growth to measure
    35: _growth("小客户", 2, "0.01", "0.02"),  # the smallest previous revenue
    36: _growth("小客户", 2, "100.00", "120.01", overdue=1),
    37: _growth("小客户", 2, "100.00", "120.01", complaints=3),
    38: _growth("小客户", 2, "100.00", "120.01", complaints=4),
    39: _growth("VIP", 2, "100.00", "120.01"),
    40: _growth("小客户", 3, "100.00", "200.00"),
    41: _growth("小客户", 2, "-10.00", "50.00"),  # refunds before: no growth to measure
    42: _growth("小客户", 2, "100.00", "119.99"),
    43: _growth("小客户", 2, "100.00", "80.00"),  # shrinking
    44: _growth("普通客户", 2, "100.00", "120.01"),  # the other tiers, whichever way their names sort
    45: _growth("主要客户", 2, "100.00", "120.01"),
}


def test_builtin_rules_on_their_edges(kehu_app: Any) -> None:
    matched = _matching(kehu_app, {**KEY_ACCOUNT, **POOR_QUALITY, **UPGRADE})
    assert matched == {
        "key_account.large_continuous": {1, 3, 7, 9},
        "poor_quality.default": {21, 23, 24, 26, 29, 37, 38},  # 37, 38: 3 and 4 complaints
        "upgrade_potential.default": {31, 35, 40},
    }


def test_builtin_rules_as_listed() -> None:
    """Name, what it sets and priority: what ``kehu tier rules`` shows, in application order."""
    listed = [(r.name, r.target, r.sets, r.priority, r.source) for r in order(builtin_rules())]
    assert listed == [
        ("key_account.large_continuous", "flag:key_account", "flag key_account", 100, "builtin"),
        ("poor_quality.default", "flag:poor_quality", "flag poor_quality", 100, "builtin"),
        ("upgrade_potential.default", "flag:upgrade_potential", "flag upgrade_potential", 100, "builtin"),
        ("key_account.salesperson_flag", "flag:key_account", "flag key_account", 110, "builtin"),
    ]
    described = {r.name: r.description for r in builtin_rules()}
    assert "first purchase 12+ calendar months ago" in described["key_account.large_continuous"]
    assert "average order in the window ¥1000+" in described["key_account.large_continuous"]


# -- a rule: what it may be ---------------------------------------------------------------


def test_a_rule_takes_chinese_names_as_the_codes() -> None:
    when = STATS.c.measure > 1
    assert TierRule(name="x", flag="大客户", when=when).flag == "key_account"
    assert TierRule(name="x", flag="my_own", when=when).flag == "my_own"
    rule = TierRule(name="x", tier="major", method="金字塔", when=when)
    assert (rule.method, rule.tier, rule.target, rule.sets) == (
        "pyramid",
        "主要客户",
        "pyramid",
        "pyramid = 主要客户",
    )
    rule = TierRule(name="x", tier="冠军客户", method="rfm", when=when)
    assert (rule.tier, rule.sets) == ("champions", "rfm = champions")
    assert TierRule(name="x", tier="A类", method="ABC分类", when=when).tier == "A"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"name": "", "flag": "f"}, "rule name ''"),
        ({"name": "a" * 101, "flag": "f"}, "1-100 letters"),
        ({"name": 7, "flag": "f"}, "rule name 7"),
        ({"name": "x"}, "exactly one of flag= or tier="),
        ({"name": "x", "flag": "f", "tier": "A", "method": "abc"}, "exactly one of flag= or tier="),
        ({"name": "x", "flag": "f", "predicate": bool}, "exactly one of when= (SQL) or predicate="),
        ({"name": "x", "flag": "bad flag"}, "bad flag name 'bad flag'"),
        ({"name": "x", "flag": 3}, "bad flag name 3"),
        ({"name": "x", "tier": "A", "method": "kmeans"}, "method must be abc, pyramid or rfm, not 'kmeans'"),
        ({"name": "x", "tier": "VIP", "method": "abc"}, "'VIP' is not one of the abc tiers (A, B, C)"),
        ({"name": "x", "flag": "f", "priority": "1"}, "priority must be an integer"),
        ({"name": "x", "flag": "f", "priority": True}, "priority must be an integer"),
        ({"name": "x", "flag": "f", "priority": 1.0}, "priority must be an integer"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(fields: dict[str, Any], reason: str) -> None:
    fields.setdefault("when", STATS.c.measure > 1)
    with pytest.raises(ValueError, match=re.escape(reason)):
        TierRule(**fields)


def test_a_rule_on_its_edges_is_accepted() -> None:
    when = STATS.c.measure > 1
    assert TierRule(name="a" * 100, flag="f" * 100, when=when).name == "a" * 100
    assert TierRule(name="acme.x-y_z:1", flag="acme.f-1:x", when=when).flag == "acme.f-1:x"
    assert TierRule(name="x", flag="f", predicate=bool).when is None
    assert TierRule(name="x", flag="f", priority=-5, when=when).priority == -5
    assert TierRule(name="x", flag="f", priority=0, when=when).priority == 0
    assert TierRule(name="x", flag="f", when=when).priority == 100  # the documented default
    assert TierRule(name="x", tier="VIP", when=when).method == "pyramid"


def test_condition_text_and_sql() -> None:
    rule = TierRule(name="x", flag="f", when=STATS.c.revenue_window >= 500)
    assert rule.condition_text == "tiering_stats.revenue_window >= 500"
    assert rule.condition_sql(sqlite.dialect()) == "tiering_stats.revenue_window >= 500"
    # A value the generic compiler cannot write inline: shown as a parameter instead.
    dated = TierRule(name="d", flag="f", when=STATS.c.first_purchase_at < datetime(2026, 1, 1))
    assert dated.condition_text == "tiering_stats.first_purchase_at < :first_purchase_at_1"
    assert dated.condition_sql(postgresql.dialect()) == (
        "tiering_stats.first_purchase_at < %(first_purchase_at_1)s::TIMESTAMP WITH TIME ZONE"
    )

    def big_spender(row: Any) -> bool:
        return bool(row)

    slow = TierRule(name="p", flag="f", predicate=big_spender)
    assert slow.condition_text.startswith("python: ") and "big_spender (slow path)" in slow.condition_text
    assert slow.condition_sql(sqlite.dialect()) == slow.condition_text


def test_a_condition_no_compiler_can_write_is_shown_as_such_and_refused_by_name() -> None:
    rule = TierRule(name="own.oracle", flag="o", when=only_oracle(STATS.c.measure) > 1, source="acme")
    assert rule.condition_text == "(a condition that only the database's own SQL can show)"
    with pytest.raises(KehuError) as refused:
        rule.condition_sql(sqlite.dialect())
    message = str(refused.value)
    assert message.startswith("rule own.oracle (acme): its condition does not work on sqlite: ")
    # SQLAlchemy's reason without its "(Background on this error at: ...)" link
    assert "has no default compilation handler. (rules may use days_between" in message
    assert "Background" not in message and "\n" not in message


class exploding(FunctionElement[int]):  # noqa: N801 -- named like the SQL function it is
    """A plugin's construct whose compiler fails with an error of its own (not a CompileError)."""

    type = Integer()
    inherit_cache = True
    name = "exploding"


@compiles(exploding)
def _explode(element: Any, compiler: Any, **kw: Any) -> str:
    raise ValueError("no SQL for this\n construct")


def test_a_compiler_that_fails_is_refused_naming_the_rule() -> None:
    rule = TierRule(name="own.boom", flag="b", when=exploding(STATS.c.measure) > 1, source="acme")
    assert rule.condition_text == "(a condition that only the database's own SQL can show)"
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        with pytest.raises(KehuError) as refused:
            rule.condition_sql(dialect)
        reason = "no SQL for this construct ("
        assert str(refused.value).startswith(
            f"rule own.boom (acme): its condition does not work on {dialect.name}: "
        )
        assert reason in str(refused.value)


def test_the_refusal_is_one_line_with_the_databases_reason() -> None:
    rule = TierRule(name="r", flag="f", when=STATS.c.measure > 1, source="acme")
    wrapped = OperationalError("SELECT", {}, Exception("no such function:\n  acme_score"))
    message = str(rule.broken("sqlite", wrapped))
    assert message.startswith(
        "rule r (acme): its condition does not work on sqlite: no such function: acme_score ("
    )
    assert "days_between" in message and "\n" not in message
    long = str(rule.broken("postgresql", ValueError("x" * 400 + " [SQL: SELECT 1]")))
    assert "x" * 300 + " (rules may use" in long and "x" * 301 not in long
    cut = str(rule.broken("sqlite", ValueError("bad thing [SQL: SELECT 1] (Background on this error at: z)")))
    assert "sqlite: bad thing (rules may use" in cut


# -- the database checks every condition before a run -------------------------------------


def test_check_refuses_a_function_the_database_lacks_and_changes_nothing(kehu_app: Any) -> None:
    good = TierRule(name="good", flag="f", when=STATS.c.revenue_window >= 500)
    bad = TierRule(name="bad", flag="f", when=func.acme_score(STATS.c.revenue_window) > 3, source="acme")
    slow = TierRule(name="slow", flag="f", predicate=bool)
    with kehu_app.session() as session:
        check(session, [good, slow])
        check(session, [slow])
        with pytest.raises(
            KehuError, match=r"^rule bad \(acme\): its condition does not work on \w+: .*acme_score"
        ):
            check(session, [good, bad])
        oracle = TierRule(name="own.oracle", flag="o", when=only_oracle(STATS.c.measure) > 1, source="acme")
        with pytest.raises(KehuError, match=r"^rule own\.oracle \(acme\): its condition does not work on "):
            check(session, [good, oracle])
        # The empty table went with the savepoint: the name is free, and the session goes on.
        stats_table().create(session.connection())
        assert session.scalar(select(func.count()).select_from(STATS)) == 0


# -- rules files ---------------------------------------------------------------------------


def _file(tmp_path: Path, text: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path, headline: str = "") -> list[tuple[str, str, int | None, str | None]]:
    with pytest.raises(ValidationError) as refused:
        load_toml(path)
    headline = headline or f"bad rules file {path}; nothing was changed (row = the n-th [[rule]]):"
    assert str(refused.value).splitlines()[0] == headline
    return [(p.field, p.reason, p.row, p.value) for p in refused.value.problems]


def test_a_rules_file_is_read_with_its_defaults(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "\ufeff"  # a byte-order mark, as some editors write it
        'disable = ["poor_quality.default"]\n'
        '[[rule]]\nname = "t.big"\nflag = "大客户"\nwhen = "revenue_window >= 600"\n'
        '[[rule]]\nname = "t.vip"\ntier = "VIP"\npriority = 5\ndescription = "VIPs"\nwhen = "measure > 1"\n',
    )
    rules, disabled = load_toml(path)
    assert disabled == ["poor_quality.default"]
    assert [(r.name, r.flag, r.tier, r.method, r.priority, r.description, r.source) for r in rules] == [
        ("t.big", "key_account", None, "pyramid", 100, "revenue_window >= 600", str(path)),
        ("t.vip", None, "VIP", "pyramid", 5, "VIPs", str(path)),
    ]
    assert rules[0].condition_text == "tiering_stats.revenue_window >= 600"
    assert load_toml(_file(tmp_path, "", "empty.toml")) == ([], [])


def test_every_problem_of_a_rules_file_is_listed(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        'colour = "red"\ndisable = "all"\n'
        '[[rule]]\nname = "a"\nflag = "f"\nwhen = "measure > 1"\nshade = 1\n'
        '[[rule]]\nname = "b"\nflag = "f"\nwhen = "measure >"\n'
        '[[rule]]\nname = "c"\nwhen = "measure > 1"\n'
        '[[rule]]\nname = "d"\nflag = "f"\nwhen = "measure > 1"\npriority = "high"\n'
        '[[rule]]\nname = "e"\nflag = "f"\nwhen = "measure > 1"\n',
    )
    problems = _problems(path)
    assert [(field, row) for field, _, row, _ in problems] == [
        (str(path), None),
        ("disable", None),
        ("rule", 1),
        ("when", 2),
        ("rule", 3),
        ("rule", 4),
    ]
    assert problems[0][1] == "unknown key(s) colour; expected [[rule]] and disable"
    assert problems[1][1:] == ("a list of rule names", None, "all")
    assert problems[2][1] == "unknown key(s) shade"
    assert problems[3][3] == "measure >"
    assert "exactly one of flag= or tier=" in problems[4][1]
    assert "priority must be an integer" in problems[5][1]


def test_a_rules_file_that_is_not_toml_or_not_there(tmp_path: Path) -> None:
    broken = _problems(_file(tmp_path, "[[rule]\n"), "bad rules file; nothing was changed:")
    assert broken[0][0] == str(tmp_path / "rules.toml") and broken[0][1].startswith("not valid TOML: ")
    assert _problems(_file(tmp_path, "rule = 3\n")) == [("rule", "use [[rule]] tables", None, None)]
    assert _problems(_file(tmp_path, "disable = [1]\n"))[0][:2] == ("disable", "a list of rule names")
    long = "x" * 70
    assert (
        _problems(_file(tmp_path, f'[[rule]]\nname = "a"\nflag = "f"\nwhen = "{long}"\n'))[0][3] == "x" * 60
    )
    with pytest.raises(KehuError, match="^rules file .*nothing.toml does not exist$"):
        load_toml(tmp_path / "nothing.toml")


def test_collect_disables_orders_and_refuses_a_name_twice(tmp_path: Path) -> None:
    first = _file(
        tmp_path,
        'disable = ["poor_quality.default"]\n'
        '[[rule]]\nname = "t.b"\nflag = "f"\npriority = 100\nwhen = "measure > 1"\n'
        '[[rule]]\nname = "t.a"\nflag = "f"\npriority = 100\nwhen = "measure > 1"\n'
        '[[rule]]\nname = "t.first"\nflag = "f"\npriority = -1\nwhen = "measure > 1"\n',
        "first.toml",
    )
    names = [r.name for r in collect(None, CONTEXT, [str(first)])]
    assert names == [
        "t.first",  # priority -1
        "key_account.large_continuous",  # then 100, by name
        "t.a",
        "t.b",
        "upgrade_potential.default",
        "key_account.salesperson_flag",  # 110
    ]
    assert [r.name for r in collect(None, CONTEXT)] == [r.name for r in order(builtin_rules())]
    again = _file(tmp_path, '[[rule]]\nname = "t.a"\nflag = "g"\nwhen = "measure > 2"\n', "again.toml")
    with pytest.raises(KehuError, match=rf"^rule name 't\.a' is used twice \({first} and {again}\)$"):
        collect(None, CONTEXT, [str(first), str(again)])
    builtin = _file(
        tmp_path, '[[rule]]\nname = "poor_quality.default"\nflag = "g"\nwhen = "measure > 2"\n', "b.toml"
    )
    with pytest.raises(KehuError, match=r"^rule name 'poor_quality\.default' is used twice \(builtin and "):
        collect(None, CONTEXT, [str(builtin)])
    unknown = _file(tmp_path, 'disable = ["no.such", "t.a", "nor.this"]\n', "unknown.toml")
    with pytest.raises(KehuError, match=r"^cannot disable unknown rule\(s\): no\.such, nor\.this$"):
        collect(None, CONTEXT, [str(first), str(unknown)])


def test_order_is_priority_then_name() -> None:
    when = STATS.c.measure > 1
    rules = [
        TierRule(name=name, flag="f", priority=priority, when=when)
        for name, priority in (("b", 1), ("a", 2), ("c", 1), ("a0", -3), ("b", 0))
    ]
    assert [(r.name, r.priority) for r in order(rules)] == [
        ("a0", -3),
        ("b", 0),
        ("b", 1),
        ("c", 1),
        ("a", 2),
    ]


def test_plugins_rules_carry_their_plugins_name(kehu_app: Any, kehu_register_plugin: Any) -> None:
    class Acme:
        @hookimpl
        def kehu_tier_rules(self, context: Any) -> list[TierRule]:
            assert context is CONTEXT
            return [TierRule(name="acme.one", flag="f", when=STATS.c.measure > 1)]

    kehu_register_plugin(Acme(), "acme")
    assert [(r.name, r.source) for r in rules_module.plugin_rules(kehu_app, CONTEXT)] == [
        ("acme.one", "acme")
    ]
    assert [r.name for r in collect(kehu_app, CONTEXT)][:2] == ["acme.one", "key_account.large_continuous"]
    assert date(2026, 6, 15) == CONTEXT.as_of
