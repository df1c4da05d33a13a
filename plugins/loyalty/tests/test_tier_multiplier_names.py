"""``tier_multiplier.<TIER>`` takes the tier by any name the tiering plugin knows (主要客户,
``major``, ``A类`` ...) and stores its code, resolved through the core hook
``kehu_tier_names`` (loyalty does not import tiering); an unknown tier, or a flag such as
大客户, is refused listing the tiers. Without a plugin that names tiers, any name is taken as
written."""

from __future__ import annotations

import pytest

from kehu_core.plugins import discover
from kehu_core.untranslated import english_words
from kehu_loyalty import api
from kehu_loyalty.settings import SettingRefused, tier_key

ZH = {"KEHU_LANG": "zh_CN"}
EN = {"KEHU_LANG": "en"}


@pytest.fixture
def kehu_plugins():
    return discover(strict=True, allow={"loyalty", "tiering"})


@pytest.fixture
def both(shop, kehu_install):
    kehu_install("tiering")
    return shop


def _stored(kehu_cli):
    return {r["key"]: r["value"] for r in kehu_cli("loyalty", "settings", "list", "--json").json}


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("主要客户", "主要客户"),
        ("major", "主要客户"),
        ("major customer", "主要客户"),
        ("Major-Customer", "主要客户"),
        ("VIP", "VIP"),
        ("贵宾客户", "VIP"),
        ("VIP客户", "VIP"),
        ("小客户", "小客户"),
        ("A", "A"),
        ("A类", "A"),
        ("class B", "B"),
        ("C类客户", "C"),
        ("冠军客户", "champions"),
        ("流失风险客户", "at_risk"),
    ],
)
def test_a_tier_by_any_name_is_stored_by_its_code(both, kehu_cli, name, code):
    before = _stored(kehu_cli)
    result = kehu_cli("loyalty", "settings", "set", f"tier_multiplier.{name}", "2.5", env=ZH)
    assert result.exit_code == 0, result.output
    assert result.output == f"tier_multiplier.{code} = 2.5\n"
    after = _stored(kehu_cli)
    assert after == {**before, f"tier_multiplier.{code}": "2.5"}


def test_json_gives_the_stored_key(both, kehu_cli):
    for env in (EN, ZH):
        shown = kehu_cli(
            "loyalty", "settings", "set", "tier_multiplier.贵宾客户", "2", "--json", env=env
        ).json
        assert shown == {"key": "tier_multiplier.VIP", "value": "2"}


@pytest.mark.parametrize(
    ("name", "english", "chinese"),
    [
        ("大客户", "大客户 is a flag, not a tier", "「大客户」是客户标记，不是分级"),
        ("key_account", "key_account is a flag, not a tier", "「key_account」是客户标记，不是分级"),
        ("钻石客户", "unknown tier 钻石客户", "没有分级「钻石客户」"),
        ("D", "unknown tier D", "没有分级「D」"),
    ],
)
def test_an_unknown_tier_is_refused_listing_the_tiers(both, kehu_cli, name, english, chinese):
    before = _stored(kehu_cli)
    en = kehu_cli("loyalty", "settings", "set", f"tier_multiplier.{name}", "2", env=EN)
    zh = kehu_cli("loyalty", "settings", "set", f"tier_multiplier.{name}", "2", env=ZH)
    assert en.exit_code == zh.exit_code == 1
    assert f"tier_multiplier.{name}: {english}" in en.output
    assert "tiers: VIP (VIP customer), 主要客户 (major customer), 普通客户 (ordinary customer), " in en.output
    assert "A (class A), B (class B), C (class C), prospect, lost, new, champions" in en.output
    assert "setting refused, nothing was changed" in en.output
    assert (
        chinese in zh.output
        and "可用的分级：VIP (VIP客户), 主要客户, 普通客户, 小客户, A (A类客户)" in zh.output
    )
    assert not english_words(zh.output.replace(name, ""))
    assert _stored(kehu_cli) == before


def test_without_a_plugin_naming_tiers_any_name_is_taken_as_written(shop, kehu_cli):
    """Loyalty alone: nothing classifies customers, so nothing names tiers either."""
    result = kehu_cli("loyalty", "settings", "set", "tier_multiplier.大客户", "2")
    assert result.exit_code == 0, result.output
    assert _stored(kehu_cli)["tier_multiplier.大客户"] == "2"
    assert tier_key(shop.app, "tier_multiplier.major") == "tier_multiplier.major"


def test_the_service_resolves_with_the_app_and_keeps_other_keys(both):
    app = both.app
    assert tier_key(app, "tier_multiplier.major") == "tier_multiplier.主要客户"
    assert tier_key(app, "expiry_months") == "expiry_months"
    assert tier_key(app, "tier_multiplier.") == "tier_multiplier."  # refused later as unknown
    with pytest.raises(SettingRefused, match="unknown tier gold"):
        tier_key(app, "tier_multiplier.gold")
    with app.session() as s:
        assert api.set_setting(s, "tier_multiplier.A类", "1.7", app=app) == {
            "key": "tier_multiplier.A",
            "value": "1.7",
        }
        # without app (a script of today): the name as written
        assert api.set_setting(s, "tier_multiplier.A类", "1.7")["key"] == "tier_multiplier.A类"


def test_the_multiplier_set_by_a_chinese_name_applies_to_the_tier(both, kehu_cli):
    """20 members, TOP buying most: the pyramid makes TOP the VIP (top 5%); ¥100 then earns
    100 x 3 = 300 points for TOP, 100 for the ordinary customer beside it."""
    codes = [f"M{i:02d}" for i in range(19)] + ["TOP"]
    for i, code in enumerate(codes):
        both.customer(code)
        both.log(code, amount=str(100 * (i + 1) ** 2), at="2026-04-01T12:00:00+08:00")
    assert kehu_cli("tier", "run", "--as-of", "2026-06-15").exit_code == 0
    tiers = {
        r["code"]: r["tier"] for r in kehu_cli("customer", "list", "--columns", "code,tier", "--json").json
    }
    assert (tiers["TOP"], tiers["M18"]) == ("VIP", "普通客户")
    assert kehu_cli("loyalty", "settings", "set", "tier_multiplier.贵宾客户", "3").exit_code == 0
    for code in ("TOP", "M18"):
        both.log(code, amount="100", at="2026-06-20T12:00:00+08:00")
    [top] = [e for e in both.ledger("TOP") if e["reason"].startswith("¥100.00")]
    [ordinary] = [e for e in both.ledger("M18") if e["reason"].startswith("¥100.00")]
    assert (top["points"], top["reason"]) == (300, "¥100.00 × 1 pt/¥ (base) × 3 tier VIP")
    assert (ordinary["points"], ordinary["reason"]) == (100, "¥100.00 × 1 pt/¥ (base)")
