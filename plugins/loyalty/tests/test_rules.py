"""Earn rules: days of every year, multiplier rules ("double points"), dotted names, rule files
and one-line refusals. Boundaries are checked with hand-written values on both earning paths."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kehu_core import InteractionBatch, RecordedRows, hookimpl
from kehu_core.interactions import write_interactions
from kehu_loyalty import earning, hooks
from kehu_loyalty.api import EarnRule, EarnRuleError, load_rule_file, set_setting
from kehu_loyalty.earning import earn_batch, earn_rules, plan
from kehu_loyalty.ledger import member
from kehu_loyalty.models import LEDGER
from kehu_loyalty.rules import in_span, yearly_span

D = Decimal


class _Rollback(Exception):
    pass


class Rules:
    """A company plugin contributing rules."""

    def __init__(self, *rules: Any):
        self.rules = list(rules)

    @hookimpl
    def kehu_loyalty_earn_rules(self):
        return self.rules


class BadRules:
    """A company plugin whose rule is malformed: the error arises inside its hook."""

    @hookimpl
    def kehu_loyalty_earn_rules(self):
        return [EarnRule("acme.double_11", multiplier=2, every_year="11-31")]


class Tiers:
    """THE tier of some customers (by id)."""

    def __init__(self, tiers: dict[int, str]):
        self.tiers = tiers

    @hookimpl
    def kehu_customer_tiers(self, customer_ids, method):
        if method is not None:
            return None
        return {c: self.tiers[c] for c in customer_ids if c in self.tiers}


def record_quietly(app: Any, rows: list[dict[str, Any]], monkeypatch: Any) -> list[dict[str, Any]]:
    """Write interactions without earning them (earned below, through a chosen path)."""
    with monkeypatch.context() as patch:
        patch.setattr(hooks, "earn_batch", lambda *a, **k: earning.EMPTY)
        with app.session() as s:
            return write_interactions(app, s, rows, "test")


def as_batch(rows: list[dict[str, Any]]) -> InteractionBatch:
    keys = list(rows[0])
    return InteractionBatch(
        rows=RecordedRows(keys, [r["id"] for r in rows], [[r[k] for k in keys[1:]] for r in rows]),
        source="test",
    )


def earned_by(app: Any, rows: list[dict[str, Any]], path: str) -> dict[int, tuple[int, str, str]]:
    """``{interaction id: (points, rule, reason)}`` of the ``earn`` entries a path writes (rolled back)."""
    found: dict[int, tuple[int, str, str]] = {}
    try:
        with app.session() as s:
            earn_batch(app, s, as_batch(rows), path=path)  # type: ignore[arg-type]
            for iid, points, rule, reason in s.execute(
                LEDGER.select()
                .with_only_columns(LEDGER.c.interaction_id, LEDGER.c.points, LEDGER.c.rule, LEDGER.c.reason)
                .where(LEDGER.c.kind == "earn")
            ):
                found[iid] = (points, rule, reason)
            raise _Rollback
    except _Rollback:
        pass
    return found


def both_paths(app: Any, rows: list[dict[str, Any]]) -> dict[int, tuple[int, str, str]]:
    """What the SQL and the Python paths earn (they must agree), by interaction id."""
    with app.session() as s:
        settings, rules = earn_rules(app, s)
        assert plan(s, rules, as_batch(rows), list(settings.tier_multipliers.values())).path == "sql"
    by_sql, by_python = earned_by(app, rows, "sql"), earned_by(app, rows, "python")
    assert by_sql == by_python
    return by_python


def purchase(customer_id: int, at: str, amount: str = "100", **fields: Any) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "kind": "purchase",
        "status": "done",
        "occurred_at": datetime.fromisoformat(at).astimezone(UTC),
        "amount": D(amount),
        **fields,
    }


def member_ids(shop: Any, count: int) -> list[int]:
    codes = [shop.customer() for _ in range(count)]
    with shop.app.session() as s:
        return [member(s, code)[0].id for code in codes]


# -- item 1: every year -------------------------------------------------------------------------


@pytest.mark.parametrize("every_year", ["11-11", "11-11..11-11", "1-11..11-11"])
def test_double_points_on_11_11_every_year_by_the_local_day_on_both_paths(
    shop, kehu_app, kehu_register_plugin, monkeypatch, company_zone, every_year
):
    company_zone("Asia/Shanghai")
    kehu_register_plugin(Rules(EarnRule("acme.double_11", multiplier=2, every_year=every_year)), "acme")
    [cid] = member_ids(shop, 1)
    moments = [
        "2024-11-10T23:59:59.999999+08:00",  # the day before, its last moment: not matched
        "2024-11-11T00:00:00+08:00",  # 16:00 UTC on 11-10: matched (local day 11-11)
        "2024-11-11T23:59:59.999999+08:00",  # matched
        "2024-11-12T00:00:00+08:00",  # the day after, its first moment: not matched
        "2031-11-11T12:00:00+08:00",  # another year: matched
    ]
    rows = record_quietly(kehu_app, [purchase(cid, at) for at in moments], monkeypatch)
    earned = both_paths(kehu_app, rows)
    points = [earned[r["id"]][0] for r in rows]
    if every_year == "1-11..11-11":  # January 11 to November 11, both included
        assert points == [200, 200, 200, 100, 200]
    else:
        assert points == [100, 200, 200, 100, 200]
    assert earned[rows[1]["id"]][1:] == (
        "base+acme.double_11",
        "¥100.00 × 1 pt/¥ (base) × 2 (acme.double_11)",
    )
    assert earned[rows[3]["id"]][1:] == ("base", "¥100.00 × 1 pt/¥ (base)")


def test_a_yearly_range_over_the_new_year_on_both_paths(shop, kehu_app, kehu_register_plugin, monkeypatch):
    """``12-31..01-01``: both days of every year, nothing between."""
    kehu_register_plugin(
        Rules(EarnRule("acme.new_year", points_per_yuan=D("0.5"), every_year="12-31..01-01")), "acme"
    )
    [cid] = member_ids(shop, 1)
    moments = [
        "2024-12-30T23:59:59+08:00",
        "2024-12-31T00:00:00+08:00",
        "2025-01-01T23:59:59+08:00",
        "2025-01-02T00:00:00+08:00",
    ]
    rows = record_quietly(kehu_app, [purchase(cid, at) for at in moments], monkeypatch)
    earned = both_paths(kehu_app, rows)
    assert [earned[r["id"]][:2] for r in rows] == [
        (100, "base"),
        (150, "base+acme.new_year"),
        (150, "base+acme.new_year"),
        (100, "base"),
    ]


def test_every_year_follows_the_company_zone(shop, kehu_app, kehu_register_plugin, monkeypatch, company_zone):
    """Los Angeles: 11-11 local begins at 08:00 UTC (PST). Its SQL on SQLite cannot follow summer
    time, so the batch may fall back to Python; the result is the same on every path."""
    company_zone("America/Los_Angeles")
    kehu_register_plugin(Rules(EarnRule("acme.double_11", multiplier=2, every_year="11-11")), "acme")
    [cid] = member_ids(shop, 1)
    moments = ["2024-11-11T07:59:59+00:00", "2024-11-11T08:00:00+00:00", "2024-11-12T07:59:59+00:00"]
    rows = record_quietly(kehu_app, [purchase(cid, at) for at in moments], monkeypatch)
    for path in ("auto", "python"):
        earned = earned_by(kehu_app, rows, path)
        assert [earned[r["id"]][0] for r in rows] == [100, 200, 200]


def test_yearly_spans_by_hand():
    assert yearly_span("11-11") == (1111, 1111)
    assert yearly_span("11-11..11-12") == (1111, 1112)
    assert yearly_span("2-29") == (229, 229)
    assert [in_span((1111, 1112), v) for v in (1110, 1111, 1112, 1113)] == [False, True, True, False]
    assert [in_span((1231, 101), v) for v in (1230, 1231, 101, 102)] == [False, True, True, False]
    assert EarnRule("x", multiplier=2, every_year="1-2..3-4").every_year == "01-02..03-04"
    rule = EarnRule("x", multiplier=2, every_year="02-29")
    leap = {"kind": "purchase", "occurred_at": datetime(2024, 2, 29, 4, tzinfo=UTC)}
    assert rule.matches(leap, 2, None, date(2024, 2, 29))
    assert not rule.matches({**leap, "occurred_at": datetime(2025, 3, 1, 4, tzinfo=UTC)}, 3, None)


# -- item 2: multipliers ------------------------------------------------------------------------


def test_multipliers_multiply_the_rate_the_largest_applies_and_the_tier_multiplies_too(
    shop, kehu_app, kehu_register_plugin, monkeypatch
):
    """Base 1 pt/¥, VIP ×1.5 (the default setting), ``acme.double`` ×2 on every purchase,
    ``acme.tea_triple`` ×3 on tea, ``acme.flat`` 0.5 pt/¥ on coffee not multiplied by the tier."""
    kehu_register_plugin(
        Rules(
            EarnRule("acme.double", multiplier=2),
            EarnRule("acme.tea_triple", multiplier=3, categories=("茶",)),
            EarnRule("acme.flat", points_per_yuan=D("0.5"), categories=("咖啡",), tier_multiplier=False),
        ),
        "acme",
    )
    plain, vip = member_ids(shop, 2)
    kehu_register_plugin(Tiers({vip: "VIP"}), "tiers")
    at = "2024-03-10T12:00:00+08:00"
    rows = record_quietly(
        kehu_app,
        [
            purchase(plain, at, "100.99"),  # 10099 × 1 × 2 / 100 = 201.98
            purchase(vip, at, "100.99"),  # 10099 × 1.5 × 2 / 100 = 302.97
            purchase(vip, at, "100.99", category="茶"),  # ×3 only (the largest): 10099 × 4.5 / 100 = 454.455
            purchase(vip, at, "100.99", category="咖啡"),  # (1 × 1.5 + 0.5) × 2 = 4: 403.96
            purchase(plain, at, "0.49"),  # 49 × 2 / 100 = 0.98: nothing
            purchase(plain, at, "0.50"),  # 50 × 2 / 100 = 1
        ],
        monkeypatch,
    )
    earned = both_paths(kehu_app, rows)
    assert [earned.get(r["id"], (0,))[0] for r in rows] == [201, 302, 454, 403, 0, 1]
    assert earned[rows[1]["id"]][1:] == (
        "base+acme.double",
        "¥100.99 × 1 pt/¥ (base) × 1.5 tier VIP × 2 (acme.double)",
    )
    assert earned[rows[2]["id"]][1:] == (
        "base+acme.tea_triple",
        "¥100.99 × 1 pt/¥ (base) × 1.5 tier VIP × 3 (acme.tea_triple)",
    )
    assert earned[rows[3]["id"]][2] == (
        "¥100.99 × (1 pt/¥ (base) × 1.5 tier VIP + 0.5 pt/¥ (acme.flat)) × 2 (acme.double)"
    )


def test_a_multiplier_alone_earns_nothing_and_refunds_take_back_the_multiplied_points(
    shop, kehu_app, kehu_register_plugin
):
    """A multiplier rule multiplies the amount rules; without any (base 0) it gives nothing.
    A refund takes back what the refunded amount earns under the same rules."""
    kehu_register_plugin(Rules(EarnRule("acme.double", multiplier=2)), "acme")
    code = shop.customer()
    shop.log(code, amount="100")
    shop.log(code, amount="-30", at="2024-03-11T12:00:00+08:00")
    entries = [(e["kind"], e["rule"], e["points"]) for e in shop.ledger(code)]
    assert entries == [
        ("earn", "base+acme.double", 200),
        ("bonus", "first_purchase", 100),
        ("refund", "base+acme.double", -60),
    ]
    with kehu_app.session() as s:
        set_setting(s, "points_per_yuan", "0")
    shop.log(code, amount="100", at="2024-03-12T12:00:00+08:00")
    assert shop.balance(code) == 240


# -- item 3: names and refusals ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "Acme.Double"}, "earn rule 'Acme.Double': name: lower-case words"),
        ({"name": "acme..double"}, "earn rule 'acme..double': name:"),
        ({"name": "acme." + "x" * 60}, "name:"),  # 65 characters: one too many
        ({"every_year": "11-31"}, "earn rule 'acme.double_11': every_year: 11-31 is no day of the year"),
        ({"every_year": "13-01"}, "every_year: 13-01 is no day of the year (got '13-01')"),
        ({"every_year": "11/11"}, "every_year: a local day of the year as MM-DD"),
        ({"every_year": 1111}, "every_year: a local day of the year as MM-DD"),
        (
            {"multiplier": 1},
            "earn rule 'acme.double_11': multiplier: more than 1 (2 is double points) (got Decimal('1'))",
        ),
        ({"multiplier": "double"}, "multiplier: a number, not negative (got 'double')"),
        ({"multiplier": None}, "points_per_yuan: give exactly one of"),
        ({"points_per_yuan": 1}, "points_per_yuan: give exactly one of"),
        ({"fixed_points": 1.5}, "fixed_points: a whole number of points"),
        ({"once_per": "week"}, "once_per: one of customer, year, month"),
        ({"valid_from": datetime(2025, 1, 1)}, "valid_from: a time with its time zone"),
        ({"kinds": ()}, "kinds: at least one interaction kind"),
    ],
)
def test_a_bad_rule_is_refused_in_one_line_naming_the_rule_and_the_field(fields, message):
    values: dict[str, Any] = {"name": "acme.double_11", "multiplier": 2, "every_year": "11-11", **fields}
    with pytest.raises(EarnRuleError) as refused:
        EarnRule(**values)
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_names_with_dots_up_to_the_rule_column():
    assert EarnRule("acme.promo.double_11", multiplier=2).name == "acme.promo.double_11"
    assert EarnRule("a" + "." + "b" * 62, fixed_points=1).name  # 64 characters, the column's width


def test_a_plugins_bad_rule_stops_earning_with_one_line_naming_the_plugin(
    shop, kehu_cli, kehu_register_plugin
):
    kehu_register_plugin(BadRules(), "acme")
    code = shop.customer()
    for result in (
        kehu_cli("loyalty", "rules"),
        kehu_cli("interaction", "log", code, "purchase", "--amount", "100"),
    ):
        assert result.exit_code == 1
        assert result.output.strip() == (
            "Error: plugin 'acme': earn rule 'acme.double_11': "
            "every_year: 11-31 is no day of the year (got '11-31')"
        )
        assert "Traceback" not in result.output
    assert shop.ledger(code) == []


def test_two_rules_with_one_name_are_refused(shop, kehu_cli, kehu_register_plugin):
    kehu_register_plugin(Rules(EarnRule("base", multiplier=2)), "acme")
    result = kehu_cli("loyalty", "rules")
    assert result.exit_code == 1
    assert (
        result.output.strip() == "Error: earn rule 'base': name: two earn rules have it; names must be unique"
    )


RULE_FILE = """\
[[rule]]
name = "acme.double_11"
every_year = "11-11"
multiplier = 2
description = "double points on 11-11"

[[rule]]
name = "acme.tea"
points_per_yuan = 0.5
categories = ["茶"]
valid_from = 2025-01-01
valid_until = 2025-07-01T00:00:00+08:00
"""


def test_a_rule_file(tmp_path: Path):
    path = tmp_path / "rules.toml"
    path.write_text(RULE_FILE, encoding="utf-8")
    double, tea = load_rule_file(path)
    assert double == EarnRule(
        "acme.double_11", multiplier=D(2), every_year="11-11", description="double points on 11-11"
    )
    assert tea.points_per_yuan == D("0.5") and tea.categories == ("茶",)
    assert tea.valid_from == datetime(2024, 12, 31, 16, tzinfo=UTC)  # local midnight in Shanghai
    assert tea.valid_until == datetime(2025, 6, 30, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            RULE_FILE.replace('"11-11"', '"11-32"'),
            "rules.toml: earn rule 'acme.double_11': every_year: 11-32 is no day",
        ),
        (
            RULE_FILE.replace("every_year", "every_yaer"),
            "rules.toml: earn rule 'acme.double_11': every_yaer: no such field",
        ),
        (
            RULE_FILE.replace("multiplier = 2", 'multiplier = "x"'),
            "rules.toml: earn rule 'acme.double_11': multiplier: a number",
        ),
        (
            RULE_FILE.replace("valid_from = 2025-01-01", 'valid_from = "soon"'),
            "rules.toml: earn rule 'acme.tea': valid_from: a TOML date",
        ),
        (
            RULE_FILE.replace('name = "acme.tea"', 'name = "acme tea"'),
            "rules.toml: earn rule 'acme tea': name:",
        ),
        (RULE_FILE.replace('name = "acme.tea"\n', ""), "rules.toml: earn rule without a name"),
        (RULE_FILE.replace("[[rule]]", "[[rules]]", 1), "rules.toml: unknown table 'rules'"),
        ("[[rule]\n", "rules.toml: not a TOML rule file"),
    ],
)
def test_a_bad_rule_file_is_refused_in_one_line(tmp_path: Path, text: str, message: str):
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EarnRuleError) as refused:
        load_rule_file(path)
    assert message in str(refused.value) and "\n" not in str(refused.value)
