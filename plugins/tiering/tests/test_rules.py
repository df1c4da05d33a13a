"""Rules: plugins' rules through kehu_tier_rules, the Python slow path, TOML files parsed safely."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String, func, select
from tiering_helpers import add_customers, current, purchase, record, run

from kehu_core import hookimpl
from kehu_core.customers import edit_customer
from kehu_tiering.models import assignments as a
from kehu_tiering.models import runs
from kehu_tiering.rules import TierRule
from kehu_tiering.stats import STATS as s
from kehu_tiering.stats import StatColumn, has_tag, stat


@pytest.fixture
def world(tiering_app: Any) -> dict[str, int]:
    ids = add_customers(tiering_app, [f"R{i}" for i in range(6)])
    when = datetime(2026, 5, 1, tzinfo=UTC)
    record(tiering_app, [purchase(ids[f"R{i}"], when, 100 * (i + 1)) for i in range(6)])
    return ids


def _acme(flag_code: str) -> Any:
    class Acme:
        @hookimpl
        def kehu_tier_rules(self) -> list[TierRule]:
            return [
                TierRule(
                    name="acme.big",
                    flag="key_account",
                    priority=10,
                    when=s.c.revenue_window >= 500,
                    description="acme: 500+ in the window",
                ),
                TierRule(
                    name="acme.tagged_vip", tier="VIP", method="pyramid", priority=5, when=has_tag("战略客户")
                ),
                TierRule(name="acme.python", flag="watch", predicate=lambda row: row["code"] == flag_code),
            ]

    return Acme()


def test_plugin_rules_flags_overrides_and_slow_path(
    tiering_app: Any, world: dict[str, int], kehu_register_plugin: Any, kehu_cli: Any
) -> None:
    kehu_register_plugin(_acme("R1"), "acme")
    with tiering_app.session() as session:
        edit_customer(tiering_app, session, "R0", {"tags": "战略客户"})
    run(tiering_app)
    key = current(tiering_app, "flag:key_account")
    assert set(key) == {world["R4"], world["R5"]}  # 500 and 600
    assert current(tiering_app, "pyramid")[world["R0"]] == "VIP"  # the override beats the rank
    assert current(tiering_app, "flag:watch") == {world["R1"]: "watch"}

    with tiering_app.session() as session:
        row = session.execute(
            select(a.c.decided_by, a.c.metrics).where(
                a.c.customer_id == world["R0"], a.c.method == "pyramid", a.c.valid_to.is_(None)
            )
        ).one()
        key_row = session.execute(
            select(a.c.decided_by, a.c.metrics).where(
                a.c.customer_id == world["R5"], a.c.method == "flag:key_account"
            )
        ).one()
    assert row.decided_by == "acme.tagged_vip"
    assert key_row.decided_by == "acme.big" and float(key_row.metrics["revenue_window"]) == 600.0
    _rules_command_lists_builtins_and_plugins_in_order(kehu_cli)


def _rules_command_lists_builtins_and_plugins_in_order(kehu_cli: Any) -> None:
    result = kehu_cli("tier", "rules", "--json")
    assert result.exit_code == 0, result.output
    names = [r["name"] for r in result.json]
    assert names[:2] == ["acme.tagged_vip", "acme.big"]  # priority 5, then 10
    assert {
        "key_account.large_continuous",
        "key_account.salesperson_flag",
        "poor_quality.default",
        "upgrade_potential.default",
        "acme.python",
    } <= set(names)
    sources = {r["name"]: r["source"] for r in result.json}
    assert sources["acme.big"] == "acme" and sources["poor_quality.default"] == "builtin"


TOML_OK = """
disable = ["upgrade_potential.default"]

[[rule]]
name = "toml.big"
flag = "key_account"
priority = 1
when = "revenue_window >= 600 or (orders_window >= 1 and has_tag('重点'))"

[[rule]]
name = "toml.abc"
tier = "A"
method = "abc"
when = "pyramid in ['小客户'] and measure > 150 and recency_days is not None"
"""


def test_toml_rules_and_salesperson_flag(
    tiering_app: Any, world: dict[str, int], tmp_path: Path, kehu_cli: Any
) -> None:
    with tiering_app.session() as session:
        edit_customer(tiering_app, session, "R0", {"attributes": '{"key_account_flags": ["strategic"]}'})
    path = tmp_path / "rules.toml"
    path.write_text(TOML_OK, encoding="utf-8")
    result = kehu_cli("tier", "run", "--as-of", "2026-06-15", "--rules", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert world["R5"] in current(tiering_app, "flag:key_account")
    assert world["R0"] in current(tiering_app, "flag:key_account")  # the salesperson's judgement
    abc = current(tiering_app, "abc")
    pyramid = current(tiering_app, "pyramid")
    small_over_150 = {cid for cid, t in pyramid.items() if t == "小客户" and cid != world["R0"]}
    assert small_over_150 and all(abc[cid] == "A" for cid in small_over_150)
    assert current(tiering_app, "flag:upgrade_potential") == {}
    listed = kehu_cli("tier", "rules", "--json")  # the run's rules file is remembered
    names = [r["name"] for r in listed.json]
    assert names[0] == "toml.big" and "upgrade_potential.default" not in names


BAD_TOML = [
    ("[[rule]\nname = 'x'", "not valid TOML"),
    (
        "[[rule]]\nname = 'x'\nflag = 'f'\nwhen = \"__import__('os').system('true')\"",
        "only these functions exist",
    ),
    ("[[rule]]\nname = 'x'\nflag = 'f'\nwhen = 'revenue_windw > 1'", "unknown column 'revenue_windw'"),
    ("[[rule]]\nname = 'x'\nflag = 'f'\nwhen = 'revenue_window.__class__ > 1'", "expected a number"),
    ("[[rule]]\nname = 'x'\nflag = 'f'\nwhen = 'revenue_window >'", "syntax error"),
    ("[[rule]]\nname = 'x'\ntier = 'Z'\nmethod = 'abc'\nwhen = 'measure > 1'", "'Z' is not one of the abc"),
    ("[[rule]]\nname = 'x'\nwhen = 'measure > 1'", "exactly one of flag= or tier="),
    ("[[rule]]\nname = 'x'\nflag = 'f'\nwhen = 'measure > 1'\ncolour = 'red'", "unknown key(s) colour"),
    ("disable = ['no.such.rule']", "cannot disable unknown rule"),
]


def test_bad_toml_is_refused_and_changes_nothing(
    tiering_app: Any, world: dict[str, int], tmp_path: Path, kehu_cli: Any
) -> None:
    for n, (text, expected) in enumerate(BAD_TOML):
        path = tmp_path / f"bad{n}.toml"
        path.write_text(text, encoding="utf-8")
        result = kehu_cli("tier", "run", "--rules", str(path))
        assert result.exit_code == 1, text
        assert expected in result.output and "Traceback" not in result.output, (text, result.output)
    assert "row 1, when:" in kehu_cli("tier", "run", "--rules", str(tmp_path / "bad2.toml")).output
    with tiering_app.session() as session:
        assert session.scalar(select(func.count()).select_from(runs)) == 0


def test_bad_rule_from_a_plugin_names_the_plugin(
    tiering_app: Any, world: dict[str, int], kehu_register_plugin: Any, kehu_cli: Any
) -> None:
    class Broken:
        @hookimpl
        def kehu_tier_rules(self) -> list[Any]:
            return ["not a rule"]

    kehu_register_plugin(Broken(), "broken")
    result = kehu_cli("tier", "run")
    assert result.exit_code == 1 and "broken" in result.output and "TierRule" in result.output


def test_rule_validation() -> None:
    with pytest.raises(ValueError, match="exactly one of when"):
        TierRule(name="x", flag="f")
    with pytest.raises(ValueError, match="method must be"):
        TierRule(name="x", tier="A", method="nope", when=s.c.measure > 1)
    with pytest.raises(ValueError, match="rule name"):
        TierRule(name="bad name!", flag="f", when=s.c.measure > 1)


def test_a_rule_gets_the_columns_it_reads(
    tiering_app: Any, world: dict[str, int], kehu_register_plugin: Any
) -> None:
    """A run computes only what methods and rules read: a rule on columns no built-in reads sees them."""

    seen: list[Any] = []

    class Steady:
        @hookimpl
        def kehu_tier_rules(self, app: Any) -> list[TierRule]:
            seen.append(app)
            return [
                TierRule(
                    name="steady.buyer",
                    flag="steady",
                    when=(s.c.months_active >= 1)
                    & (s.c.revenue_total >= 300)
                    & (s.c.margin_total == 0)
                    & s.c.first_purchase_at.is_not(None),
                )
            ]

    kehu_register_plugin(Steady(), "steady")
    run(tiering_app)
    assert set(current(tiering_app, "flag:steady")) == {world[f"R{i}"] for i in range(2, 6)}  # 300 ... 600
    assert seen == [tiering_app]  # an implementation that takes app gets the running one


#: Comparisons of two kinds that do not compare: (condition, the error after "rule x (FILE): ").
MISMATCHED = [
    ("revenue_window > 'abc'", "revenue_window is a number and cannot be compared with the text 'abc'"),
    ("'abc' < revenue_window", "revenue_window is a number and cannot be compared with the text 'abc'"),
    ("pyramid == 5", "pyramid is text and cannot be compared with the number 5"),
    ("5 == pyramid", "pyramid is text and cannot be compared with the number 5"),
    ("abc != 1.5", "abc is text and cannot be compared with the number 1.5"),
    (
        "revenue_window * 2 > 'abc'",
        "revenue_window * 2 is a number and cannot be compared with the text 'abc'",
    ),
    (
        "revenue_window + 'abc' > 1",
        "revenue_window is a number and cannot be used in arithmetic with the text 'abc'",
    ),
    (
        "orders_window >= 1 and region in ['华东', 7]",
        "region is text and cannot be compared with the number 7",
    ),
    ("rfm not in [1]", "rfm is text and cannot be compared with the number 1"),
    ("tenure_months in ['12']", "tenure_months is a number and cannot be compared with the text '12'"),
    ("kind == revenue_window", "kind is text and cannot be compared with revenue_window, which is a number"),
    ("first_purchase_at > 5", "first_purchase_at is a date and cannot be compared with the number 5"),
    (
        "last_purchase_at < '2026-01-01'",
        "last_purchase_at is a date and cannot be compared with the text '2026-01-01'",
    ),
    ("measure > True", "measure is a number and cannot be compared with True"),
]


@pytest.mark.parametrize(("condition", "error"), MISMATCHED)
def test_a_comparison_of_incompatible_kinds_is_refused_before_anything_is_written(
    tiering_app: Any, world: dict[str, int], tmp_path: Path, kehu_cli: Any, condition: str, error: str
) -> None:
    """SQLite would run ``revenue_window > 'abc'`` (every number sorts before every text) and match
    nothing; PostgreSQL would fail. Both refuse it in one line naming the rule, when listing and running."""
    path = tmp_path / "kinds.toml"
    path.write_text(f'[[rule]]\nname = "x"\nflag = "f"\nwhen = "{condition}"\n', encoding="utf-8")
    for command in ("rules", "run"):
        result = kehu_cli("tier", command, "--rules", str(path))
        assert result.exit_code == 1, (command, result.output)
        assert result.output == f"Error: rule x ({path}): {error}\n", (command, condition)
    with tiering_app.session() as session:
        assert session.scalar(select(func.count()).select_from(runs)) == 0
        assert session.scalar(select(func.count()).select_from(a)) == 0


MATCHED = """
[[rule]]
name = "kinds.numbers"
flag = "numbers"
when = "revenue_window > 450 and 100 < revenue_window * 2 and orders_window in [1, 2] and tenure_months >= 0"

[[rule]]
name = "kinds.text"
flag = "text"
when = "kind == 'company' and region != '华北' or region is None"

[[rule]]
name = "kinds.tiers"
flag = "tiers"
when = "pyramid == 'VIP' or abc in ['A'] or 'C' == abc or rfm not in ['lost']"

[[rule]]
name = "kinds.columns"
flag = "columns"
when = "revenue_window >= revenue_prev_window + 1 and last_purchase_at >= first_purchase_at"
"""


def test_comparisons_of_one_kind_are_accepted(
    tiering_app: Any, world: dict[str, int], tmp_path: Path, kehu_cli: Any
) -> None:
    path = tmp_path / "kinds.toml"
    path.write_text(MATCHED, encoding="utf-8")
    assert kehu_cli("tier", "rules", "--rules", str(path)).exit_code == 0
    result = kehu_cli("tier", "run", "--as-of", "2026-06-15", "--rules", str(path))
    assert result.exit_code == 0, result.output
    assert set(current(tiering_app, "flag:numbers")) == {world["R4"], world["R5"]}  # 500, 600
    assert set(current(tiering_app, "flag:text")) == set(world.values())
    assert set(current(tiering_app, "flag:tiers")) == set(world.values())
    assert set(current(tiering_app, "flag:columns")) == set(world.values())


def test_a_plugin_rule_of_incompatible_kinds_names_the_plugin(
    tiering_app: Any, world: dict[str, int], kehu_register_plugin: Any, kehu_cli: Any
) -> None:
    """Python rules alike: a bound value of the wrong kind, ``between``, and a plugin's typed column."""
    label = StatColumn(name="label", expression=lambda customer_id: customer_id, type=String(8))
    checks = [
        (s.c.revenue_window > "abc", "revenue_window is a number and cannot be compared with the text 'abc'"),
        (s.c.measure.between(1, "9"), "measure is a number and cannot be compared with the text '9'"),
        (label.column >= 3, "label is text and cannot be compared with the number 3"),
        (stat("label", String(8)).in_(["a", 2]), "label is text and cannot be compared with the number 2"),
    ]
    for when, error in checks:
        rule = TierRule(name="acme.kinds", flag="f", when=when)
        problem = rule.mismatch()
        assert problem is not None and str(problem) == f"rule acme.kinds (builtin): {error}"

    class Acme:
        @hookimpl
        def kehu_tier_statistics(self) -> list[StatColumn]:
            return [label]

        @hookimpl
        def kehu_tier_rules(self) -> list[TierRule]:
            return [TierRule(name="acme.kinds", flag="f", when=label.column >= 3)]

    kehu_register_plugin(Acme(), "acme")
    for command in ("rules", "run"):
        result = kehu_cli("tier", command)
        assert result.exit_code == 1
        assert (
            result.output
            == "Error: rule acme.kinds (acme): label is text and cannot be compared with the number 3\n"
        )
    with tiering_app.session() as session:
        assert session.scalar(select(func.count()).select_from(runs)) == 0
    assert (
        TierRule(name="ok", flag="f", when=(label.column == "x") | (s.c.measure.between(1, 9))).mismatch()
        is None
    )


def test_the_documented_rules_files_pass_the_checks(tiering_app: Any, tmp_path: Path, kehu_cli: Any) -> None:
    """Every TOML block with a ``when =`` in the docs, plugins' and examples' READMEs loads and is checked."""
    root = Path(__file__).resolve().parents[3]
    docs = [*root.glob("docs/*.md"), *root.glob("plugins/*/README.md"), *root.glob("examples/*/README.md")]
    blocks = [
        block.split("\n```", 1)[0]
        for doc in sorted(docs)
        for block in doc.read_text(encoding="utf-8").split("```toml\n")[1:]
        if "\nwhen = " in block
    ]
    assert blocks
    for n, block in enumerate(blocks):
        path = tmp_path / f"doc{n}.toml"
        path.write_text(block, encoding="utf-8")
        result = kehu_cli("tier", "rules", "--rules", str(path), "--json")
        assert result.exit_code == 0, (block, result.output)
