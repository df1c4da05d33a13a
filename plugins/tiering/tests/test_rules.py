"""Rules: plugins' rules through kehu_tier_rules, the Python slow path, TOML files parsed safely."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tiering_helpers import add_customers, current, purchase, record, run

from kehu_core import hookimpl
from kehu_core.customers import edit_customer
from kehu_tiering.models import assignments as a
from kehu_tiering.models import runs
from kehu_tiering.rules import TierRule
from kehu_tiering.stats import STATS as s
from kehu_tiering.stats import has_tag


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
    ("[[rule]]\nname = 'x'\ntier = 'Z'\nmethod = 'abc'\nwhen = 'measure > 1'", "'Z' is not a abc tier"),
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
