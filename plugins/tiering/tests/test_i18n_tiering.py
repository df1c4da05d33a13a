"""Tiering in Chinese: the tier filter of ``customer list``, the options of ``tier run`` and the
services take the course material's names (大客户, 劣质客户, 有升级潜力, 主要客户, 二八法则,
毛利 ...) and give what the codes give; an unknown value is refused with the accepted ones
listed, never read as an empty filter."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from kehu_core import i18n
from kehu_core.customers import CustomerQuery, list_customers
from kehu_core.errors import KehuError, ValidationError
from kehu_core.models import Customer
from kehu_core.untranslated import english_words, language_free
from kehu_tiering import api
from kehu_tiering.settings import make_settings
from kehu_tiering.stats import RFM_SEGMENTS
from kehu_tiering.vocab import RFM, TIER

ZH = {"KEHU_LANG": "zh_CN"}
EN = {"KEHU_LANG": "en"}

#: A Chinese name (or old English word) and the code it stands for.
NAMES = [
    ("大客户", "key_account"),
    ("劣质客户", "poor_quality"),
    ("有升级潜力", "upgrade_potential"),
    ("升级潜力", "upgrade_potential"),
    ("有升级潜力的客户", "upgrade_potential"),
    ("VIP", "VIP"),
    ("vip", "VIP"),
    ("major", "主要客户"),
    ("small customer", "小客户"),
    ("A类", "A"),
    ("c", "C"),
    ("冠军客户", "champions"),
    ("已流失客户", "lost"),
    ("休眠客户", "hibernating"),
]


@pytest.fixture
def demo_world(tiering_app: Any, kehu_cli: Any) -> Any:
    """The demo's customers, tiered (every pyramid tier, A/B/C and every built-in flag)."""
    result = kehu_cli("demo", "--customers", "120", "--json")
    assert result.exit_code == 0, result.output
    return tiering_app


def _codes(kehu_cli: Any, value: str, env: dict[str, str] | None = None) -> list[str]:
    result = kehu_cli("customer", "list", "--filter", f"tier={value}", "--columns", "code", "--json", env=env)
    assert result.exit_code == 0, result.output
    return [row["code"] for row in result.json]


def test_the_vocabularies_name_every_tier_segment_and_flag() -> None:
    assert RFM.codes == tuple(RFM_SEGMENTS)
    for name, code in NAMES:
        assert TIER.parse(name) == code, name
    assert TIER.parse("逾期付款") == "late_payer"


def test_the_tier_filter_takes_chinese_names_as_the_codes(demo_world: Any, kehu_cli: Any) -> None:
    for name, code in NAMES:
        by_code = _codes(kehu_cli, code)
        assert _codes(kehu_cli, name) == by_code, (name, code)
        assert _codes(kehu_cli, name, env=ZH) == by_code, (name, code)
    for flag in ("key_account", "poor_quality", "upgrade_potential"):
        assert _codes(kehu_cli, flag), flag
    assert _codes(kehu_cli, "flag:大客户") == _codes(kehu_cli, "key_account")
    assert _codes(kehu_cli, "flag:company_only") == []  # a company rule's flag nobody has yet


@pytest.mark.parametrize(
    ("env", "listed"),
    [(EN, "小客户 (small customer), A (class A)"), (ZH, "key_account (大客户)")],
)
def test_an_unknown_tier_is_refused_listing_the_accepted_ones(
    demo_world: Any, kehu_cli: Any, env: dict[str, str], listed: str
) -> None:
    for value in ("foo", "大大客户"):
        refused = kehu_cli("customer", "list", "--filter", f"tier={value}", env=env)
        assert refused.exit_code == 1, refused.output
        assert listed in refused.output and value in refused.output, refused.output
        assert "Traceback" not in refused.output


def test_run_options_take_chinese_names(tiering_app: Any, kehu_cli: Any) -> None:
    by_name = kehu_cli(
        "tier", "run", "--measure", "毛利", "--tier-method", "二八法则", "--method", "金字塔，ABC分类,标记",
        "--json",
    )  # fmt: skip
    assert by_name.exit_code == 0, by_name.output
    settings = by_name.json["settings"]
    assert (settings["measure"], settings["tier_method"]) == ("margin", "abc")
    assert settings["methods"] == ["abc", "pyramid", "flags"]
    refused = kehu_cli("tier", "run", "--measure", "流量", env=ZH)
    assert refused.exit_code == 2 and "revenue (" in refused.output and "margin (" in refused.output
    refused = kehu_cli("tier", "run", "--method", "abc,星座", env=EN)
    assert refused.exit_code == 1 and "rfm (RFM analysis)" in refused.output, refused.output


def test_the_services_take_chinese_names(demo_world: Any) -> None:
    app = demo_world
    with app.session() as s:
        ids = list(s.scalars(select(Customer.id)))
        assert api.current_tiers(app, s, ids, "金字塔") == api.current_tiers(app, s, ids, "pyramid")
        assert api.current_tiers(app, s, ids, "flag:大客户") == api.current_tiers(
            app, s, ids, "flag:key_account"
        )
        assert api.current_tiers(app, s, ids, "二八法则") == api.current_tiers(app, s, ids, "abc")
        for name, code in NAMES:
            chinese = list_customers(app, s, CustomerQuery(extra_filters={"tier": name})).rows
            english = list_customers(app, s, CustomerQuery(extra_filters={"tier": code})).rows
            assert [r["code"] for r in chinese] == [r["code"] for r in english], name
        with i18n.using("en"), pytest.raises(KehuError, match=r"unknown tier 'foo'; use one of: VIP"):
            list_customers(app, s, CustomerQuery(extra_filters={"tier": "foo"}))
        with (
            i18n.using("zh_CN"),
            pytest.raises(KehuError, match="poor_quality （劣质客户）|poor_quality \\(劣质客户\\)"),
        ):
            list_customers(app, s, CustomerQuery(extra_filters={"tier": "foo"}))
    settings = make_settings(
        as_of="2026-06-30", measure="销售额", tier_method="客户金字塔", methods="RFM,标记"
    )
    assert (settings.measure, settings.tier_method, settings.methods) == (
        "revenue",
        "pyramid",
        ("rfm", "flags"),
    )
    with pytest.raises(ValidationError, match="measure"):
        make_settings(as_of="2026-06-30", measure="流量")
    rule = api.TierRule(name="x", flag="大客户", when=api.STATS.c.revenue_window > 0)
    assert rule.flag == "key_account"
    rule = api.TierRule(name="y", tier="主要客户", method="金字塔", when=api.STATS.c.revenue_window > 0)
    assert (rule.method, rule.tier) == ("pyramid", "主要客户")
    rule = api.TierRule(name="z", tier="A类", method="二八法则", when=api.STATS.c.revenue_window > 0)
    assert (rule.method, rule.tier) == ("abc", "A")


# --------------------------------------------------------------------------------------------
# A session in Chinese

#: Values worded in the reader's language (a rule's description, why a tier was decided),
#: compared by key only.
WORDED = {"reason", "description"}


def test_a_session_in_chinese_has_no_english_and_json_keeps_keys_and_codes(
    demo_world: Any, kehu_cli: Any, tmp_path: Any
) -> None:
    key = _codes(kehu_cli, "大客户")[0]
    poor = _codes(kehu_cli, "劣质客户")[0]
    steps: list[tuple[str, ...]] = [
        ("tier", "run", "--measure", "毛利", "--tier-method", "二八法则", "--window", "6"),
        ("tier", "run", "--defaults", "--method", "金字塔,ABC分类,RFM,标记"),
        ("tier", "rebuild"),
        ("tier", "run"),
        ("customer", "list", "--filter", "tier=大客户", "--columns", "code,tier"),
        ("customer", "list", "--filter", "tier=主要客户", "--columns", "code,tier"),
        ("tier", "report", "--plot", str(tmp_path / "tiers.png")),
    ]
    reads: list[tuple[str, ...]] = [
        ("tier", "show", key),
        ("tier", "show", poor),
        ("tier", "explain", key),
        ("tier", "explain", poor),
        ("tier", "history", key),
        ("tier", "rules"),
        ("tier", "stats", poor),
        ("tier", "report"),
    ]
    cards = [("customer", "show", key), ("customer", "show", poor)]  # the card's 客户分级 section
    for step in [*steps, *reads, *cards]:
        result = kehu_cli(*step, env=ZH)
        assert result.exit_code == 0, (step, result.output)
        # Of a card, tiering's own section (the rest is the core's).
        shown = result.output.split("客户分级\n")[-1] if step in cards else result.output
        assert "客户分级" in result.output if step in cards else True
        assert not english_words(shown), (step, sorted(english_words(shown)), shown)
    report = kehu_cli("tier", "report", env=ZH).output
    for words in ("二八法则检验", "客户金字塔", "主要客户", "大客户", "劣质客户"):
        assert words in report, (words, report)
    for read in reads:
        chinese = kehu_cli(*read, "--json", env=ZH).json
        english = kehu_cli(*read, "--json", env=EN).json
        assert language_free(chinese, WORDED) == language_free(english, WORDED), read
    for card in cards:
        chinese = kehu_cli(*card, "--json", env=ZH).json["tiering"]
        assert chinese == kehu_cli(*card, "--json", env=EN).json["tiering"], card
    listed = kehu_cli("customer", "list", "--filter", "tier=大客户", "--json", env=ZH).json
    assert listed == kehu_cli("customer", "list", "--filter", "tier=key_account", "--json", env=EN).json
