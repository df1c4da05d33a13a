"""Loyalty in Chinese (issue 19): Chinese names accepted wherever a code is, unknown values
refused with the accepted ones listed, and the commands under ``KEHU_LANG=zh_CN`` showing no
English words while ``--json`` keeps the same keys and codes in both languages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kehu_core import i18n
from kehu_core.errors import ValidationError
from kehu_core.types import utcnow
from kehu_core.untranslated import english_words
from kehu_loyalty.api import EarnRule, EarnRuleError, load_rule_file
from kehu_loyalty.ladder import STAGE
from kehu_loyalty.rebates import PERIOD, add_programme
from kehu_loyalty.settings import set_setting

ZH = {"KEHU_LANG": "zh_CN"}
EN = {"KEHU_LANG": "en"}


def _programme(kehu_cli: Any, code: str, period: str, *more: str, env: dict[str, str] | None = None) -> Any:
    return kehu_cli(
        "loyalty", "rebate", "programme", "add", code, "--period", period, "--tier", "1000:2%", *more, env=env
    )


# --------------------------------------------------------------------------------------------
# Chinese values give the same result as codes


@pytest.mark.parametrize(
    ("chinese", "code"), [("月返", "month"), ("季返", "quarter"), ("年返", "year"), ("季度", "quarter")]
)
def test_rebate_periods_by_their_chinese_names(shop, kehu_cli, chinese, code):
    by_name = _programme(kehu_cli, "P-ZH", chinese, "--starts", "2025-05-20", "--json")
    by_code = _programme(kehu_cli, "P-CODE", code, "--starts", "2025-05-20", "--json")
    assert by_name.exit_code == 0 and by_code.exit_code == 0, (by_name, by_code)
    assert by_name.json["period"] == by_code.json["period"] == code
    assert by_name.json["starts_on"] == by_code.json["starts_on"]
    assert by_name.json["tiers"] == by_code.json["tiers"]
    # The Python API takes the same names (an import or a script in Chinese).
    made = shop.run(add_programme, "P-API", "", chinese, ["1000:2%"])
    assert made.period == code


def test_ladder_mode_by_its_chinese_name(shop, kehu_cli):
    member = shop.customer()  # enrolled, never bought: a prospect when buying counts, a member if not
    assert kehu_cli("loyalty", "settings", "set", "ladder_mode", "旧规则").exit_code == 0
    assert shop.run(lambda s: set_setting(s, "ladder_mode", "旧规则"))["value"] == "legacy"
    legacy = kehu_cli("loyalty", "ladder", "--json").json
    assert kehu_cli("loyalty", "settings", "set", "ladder_mode", "legacy").exit_code == 0
    assert kehu_cli("loyalty", "ladder", "--json").json["stages"] == legacy["stages"]
    assert {s["stage"]: s["end"] for s in legacy["stages"]}["member"] == 1
    assert kehu_cli("loyalty", "settings", "set", "ladder_mode", "按购买").exit_code == 0
    listed = {r["key"]: r["value"] for r in kehu_cli("loyalty", "settings", "list", "--json").json}
    assert listed["ladder_mode"] == "buying"  # stored and printed as the code
    _ = member


def test_earn_rules_take_chinese_kinds_and_options(tmp_path):
    chinese = EarnRule(
        "acme.vip_day", kinds=("购买", "反馈"), fixed_points=5, once_per="每年", beneficiary="推荐人"
    )
    codes = EarnRule(
        "acme.vip_day",
        kinds=("purchase", "feedback"),
        fixed_points=5,
        once_per="year",
        beneficiary="referrer",
    )
    assert chinese == codes
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[rule]]\nname = "acme.monthly"\nkinds = "购买"\nfixed_points = 10\nonce_per = "每月一次"\n'
        'beneficiary = "购买者"\n',
        encoding="utf-8",
    )
    [rule] = load_rule_file(path)
    assert (rule.kinds, rule.once_per, rule.beneficiary) == (("purchase",), "month", "customer")
    assert EarnRule("x.plugin_kind", kinds=("service_call",), fixed_points=1).kinds == ("service_call",)


def test_stage_names_of_the_course_material():
    assert [
        STAGE.parse(n) for n in ("合格预期顾客", "首次购买客户", "重复购买客户", "忠诚客户", "成员", "拥护者")
    ] == [
        "prospect",
        "first_time",
        "repeat",
        "loyal",
        "member",
        "advocate",
    ]
    with i18n.using("zh_CN"):
        assert STAGE.label("advocate") == "拥护者" and PERIOD.label("quarter") == "季返"


# --------------------------------------------------------------------------------------------
# Unknown values are refused with the accepted ones


def test_an_unknown_period_is_refused_listing_the_accepted_ones(shop, kehu_cli):
    refused = _programme(kehu_cli, "P-BAD", "半年")
    assert refused.exit_code == 2 and "半年" in refused.output
    assert "month (monthly), quarter (quarterly), year (yearly)" in refused.output
    chinese = _programme(kehu_cli, "P-BAD", "半年", env=ZH)
    assert chinese.exit_code == 2 and "month (月返), quarter (季返), year (年返)" in chinese.output
    with pytest.raises(ValidationError, match=r"period: one of month \(monthly\), quarter"):
        shop.run(add_programme, "P-API", "", "half", ["1000:2%"])
    assert kehu_cli("loyalty", "rebate", "programme", "list", "--json").json == []


def test_an_unknown_ladder_mode_is_refused_listing_the_accepted_ones(shop, kehu_cli):
    refused = kehu_cli("loyalty", "settings", "set", "ladder_mode", "按推荐", env=ZH)
    assert refused.exit_code == 1
    assert "ladder_mode：必须为以下之一：buying (按购买), legacy (旧规则)" in refused.output
    listed = {r["key"]: r["value"] for r in kehu_cli("loyalty", "settings", "list", "--json").json}
    assert listed["ladder_mode"] == "buying"  # unchanged


@pytest.mark.parametrize(
    ("fields", "field"), [({"once_per": "每周"}, "once_per"), ({"beneficiary": "店员"}, "beneficiary")]
)
def test_unknown_rule_options_are_refused_naming_the_field(fields, field):
    with pytest.raises(EarnRuleError, match=f"earn rule 'x.bad': {field}: "):
        EarnRule("x.bad", fixed_points=1, **fields)


# --------------------------------------------------------------------------------------------
# A demo-like sequence in Chinese: no English words; --json the same in both languages


def _members(shop):
    """Two members who bought (one a distributor 经销商), a customer they referred, a reward, a
    level and a quarterly rebate programme."""
    buyer = shop.customer(name="王芳")
    dist = shop.customer(name="华东经销", tags="经销商")
    friend = shop.customer(name="李强", member=False)
    for code, amount, at in ((buyer, "3000", "-40"), (dist, "120000", "-20"), (dist, "8000", "-3")):
        shop.log(code, amount=amount, at=at)
    shop.log(buyer, kind="feedback", at="-30", satisfaction="5")
    return buyer, dist, friend


#: Words of the data, not of the interface: built-in rule names (identifiers in the ledger).
IDENTIFIERS = {"base", "birthday", "referral", "feedback", "purchase"}


def _english(output: str) -> set[str]:
    return english_words(output) - IDENTIFIERS


#: Fields of --json that hold text for people (translated), not codes.
TEXT_FIELDS = {"help", "description", "reason", "name"}


def _codes(value: Any) -> Any:
    """``value`` with the text for people left out: what must not change with the language."""
    if isinstance(value, dict):
        return {k: _codes(v) for k, v in value.items() if k not in TEXT_FIELDS}
    if isinstance(value, list):
        return [_codes(v) for v in value]
    return value


def test_a_loyalty_session_in_chinese(shop, kehu_cli):
    with i18n.using("zh_CN"):  # the ledger's reasons are written in the language of the moment
        buyer, dist, friend = _members(shop)
    as_of = (utcnow() + timedelta(days=1)).isoformat()
    steps = [
        ("loyalty", "refer", buyer, friend),
        ("loyalty", "rewards", "add", "MUG", "定制马克杯", "--cost", "800", "--stock", "10"),
        ("loyalty", "levels", "set", "银卡", "--rank", "1", "--min-points", "1000"),
        ("loyalty", "earn", buyer, "500", "--reason", "参加新品发布会"),
        ("loyalty", "redeem", buyer, "MUG"),
        ("loyalty", "rebate", "programme", "add", "JIFAN", "--period", "季返", "--tier", "100000:2%"),
        ("loyalty", "settings", "set", "expiry_months", "24"),
        ("loyalty", "levels", "review"),
        ("loyalty", "expire", "--dry-run"),
        ("loyalty", "backfill"),
        ("loyalty", "enroll", friend),
    ]
    reports = [
        ("loyalty", "balance", buyer),
        ("loyalty", "statement", buyer),
        ("loyalty", "rules"),
        ("loyalty", "ladder", "--as-of", as_of),
        ("loyalty", "satisfaction"),
        ("loyalty", "rewards", "list"),
        ("loyalty", "levels", "list"),
        ("loyalty", "settings", "list"),
        ("loyalty", "rebate", "programme", "list"),
        ("loyalty", "rebate", "accrual", "JIFAN"),
        ("loyalty", "rebate", "statement", dist),
    ]
    leaks = {}
    for args in steps + reports:
        result = kehu_cli(*args, env=ZH)
        assert result.exit_code == 0, (args, result)
        if _english(result.output):
            leaks[" ".join(args[:3])] = sorted(_english(result.output))
    assert not leaks, leaks
    for args in reports:
        english = kehu_cli(*args, "--json", env=EN)
        chinese = kehu_cli(*args, "--json", env=ZH)
        assert english.exit_code == chinese.exit_code == 0, (args, english, chinese)
        assert _codes(chinese.json) == _codes(english.json), args
    # The ladder and the statement print codes in JSON and labels in text.
    ladder = kehu_cli("loyalty", "ladder", "--json", env=ZH).json
    assert [s["stage"] for s in ladder["stages"]] == list(STAGE.codes)
    table = kehu_cli("loyalty", "ladder", env=ZH).output
    assert "拥护者" in table and "advocate" not in table
    kinds = {r["kind"] for r in kehu_cli("loyalty", "statement", buyer, "--json", env=ZH).json["rows"]}
    assert {"earn", "adjust", "redeem"} <= kinds
    assert "兑换" in kehu_cli("loyalty", "statement", buyer, env=ZH).output


def test_refusals_in_chinese(shop, kehu_cli):
    buyer, _dist, friend = _members(shop)
    for args, words in [
        (("loyalty", "balance", friend), ["不是积分计划会员"]),
        (("loyalty", "redeem", buyer, "NOPE"), ["没有编码为", "NOPE"]),
        (("loyalty", "earn", buyer, "0", "--reason", " "), ["必须是正整数", "必填"]),
        (("loyalty", "rebate", "programme", "add", "X", "--period", "月返", "--tier", "abc"), ["门槛:比例"]),
        (("loyalty", "ladder", "--since", "2030-01-01", "--as-of", "2029-01-01"), ["必须早于"]),
    ]:
        result = kehu_cli(*args, env=ZH)
        assert result.exit_code == 1, (args, result)
        for word in words:
            assert word in result.output, (args, word, result.output)
