"""ACME in Chinese: the filters take Chinese values, unknown ones are refused listing the
accepted ones, and the commands under ``KEHU_LANG=zh_CN`` show no English words while
``--json`` stays the same in both languages."""

from __future__ import annotations

import pytest

from kehu_core import customers
from kehu_core.untranslated import english_words

ZH = {"KEHU_LANG": "zh_CN"}
EN = {"KEHU_LANG": "en"}


@pytest.fixture
def acme(kehu_app, kehu_install, kehu_cli):
    kehu_install("acme_rules")
    with kehu_app.session() as session:
        for code, name in (("C1", "华为技术"), ("C2", "小米科技"), ("C3", "安徽建材")):
            customers.add_customer(kehu_app, session, {"code": code, "name": name, "owner": "王芳"})
    kehu_cli("--as", "王芳", "acme", "set", "C1", "--strategic-project", "--influence")
    kehu_cli("--as", "王芳", "acme", "set", "C2", "--no-influence")
    return kehu_app


def _codes(kehu_cli, *filters):
    found = kehu_cli("customer", "list", *[w for f in filters for w in ("--filter", f)], "--json")
    assert found.exit_code == 0, found
    return [r["code"] for r in found.json]


@pytest.mark.parametrize(
    ("chinese", "code"),
    [
        ("acme_key=是", "acme_key=yes"),
        ("acme_key=否", "acme_key=no"),
        ("acme_flag=影响力", "acme_flag=influence"),
        ("acme_flag=具有战略性意义的项目", "acme_flag=strategic_project"),
    ],
)
def test_filters_take_chinese_values(acme, kehu_cli, chinese, code):
    assert _codes(kehu_cli, chinese) == _codes(kehu_cli, code) != []


def test_an_unknown_value_is_refused_listing_the_accepted_ones(acme, kehu_cli):
    refused = kehu_cli("customer", "list", "--filter", "acme_flag=规模", env=ZH)
    assert refused.exit_code == 1
    assert (
        "strategic_project (具有战略性意义的项目), influence (对企业经营或形象有重要影响)" in refused.output
    )
    assert (
        "必须为以下之一：yes (是), no (否)"
        in kehu_cli("customer", "list", "--filter", "acme_key=也许", env=ZH).output
    )


def test_the_commands_in_chinese(acme, kehu_cli):
    for args in (
        ("--as", "李强", "acme", "set", "C3", "--technical-strength", "--note", "省级示范项目"),
        ("acme", "show", "C1"),
        ("acme", "show", "C2"),
        ("acme", "manager", "赵敏"),
        ("acme", "manager"),
        ("acme", "reviews"),
    ):
        result = kehu_cli(*args, env=ZH)
        assert result.exit_code == 0, (args, result)
        assert not english_words(result.output), (args, result.output)
    assert "大客户判定（ACME）" in kehu_cli("acme", "show", "C1", env=ZH).output
    for args in (("acme", "show", "C1"), ("acme", "manager"), ("acme", "reviews")):
        english, chinese = kehu_cli(*args, "--json", env=EN), kehu_cli(*args, "--json", env=ZH)
        assert chinese.json == english.json, args
