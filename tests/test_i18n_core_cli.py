"""The core's command line in Chinese: a demo-like session under ``KEHU_LANG=zh_CN`` shows no
English words, ``--json`` keeps the same keys and codes in both languages, Chinese values work
wherever a code does, an unknown value is refused with the accepted ones, and ``--wide`` shows
whole cells."""

from __future__ import annotations

import getpass
import re
import unicodedata
from typing import Any

import pytest

from kehu_core.plugins import discover
from kehu_core.untranslated import english_words

ZH = {"KEHU_LANG": "zh_CN"}
EN = {"KEHU_LANG": "en"}
LONG_NAME = "上海浦东新区张江高科技园区国际医疗器械贸易有限责任公司第三分公司"


@pytest.fixture
def kehu_plugins():
    """The core alone: what it shows is the core's, whatever plugins are pip-installed."""
    return discover(strict=False, allow=set())


@pytest.fixture
def zh(kehu_cli):
    """``zh("customer", "list")``: run kehu in Chinese; the command must succeed."""

    def run(*args: str, env: dict[str, str] | None = None) -> Any:
        result = kehu_cli(*args, env={**ZH, **(env or {})})
        assert result.exit_code == 0, result.output
        return result

    return run


@pytest.fixture
def customers(kehu_cli):
    for args in (
        ("C1", "华为技术", "--region", "华南", "--source", "朋友介绍", "--kind", "企业", "--owner", "li"),
        ("C2", "小米", "--region", "华北", "--source", "trade_magazine", "--kind", "company"),
        ("C3", "张三", "--region", "华东", "--source", "转介绍", "--kind", "个人"),
    ):
        assert kehu_cli("customer", "add", *args).exit_code == 0
    for args in (
        ("C1", "purchase", "--amount", "1200.50", "--product", "手机", "--channel", "门店"),
        ("C1", "拜访", "--note", "介绍新品"),
        ("C2", "call", "--satisfaction", "4"),
    ):
        assert kehu_cli("interaction", "log", *args).exit_code == 0


# The session: what a new user types after `kehu init`, in the order of the README's demo.
SESSION = [
    ("customer", "add", "C9", "深圳宏达电子有限公司", "--region", "华南", "--source", "行业杂志"),
    ("customer", "edit", "C9", "--industry", "电子", "--tags", "vip,深圳"),
    ("customer", "list"),
    ("customer", "list", "--source", "转介绍", "--columns", "code,name,kind,source,active"),
    ("customer", "profile-set", "C9", "sensitivity.price=high"),
    ("customer", "profit", "C1"),
    ("customer", "profit-report"),
    ("customer", "archive", "C9"),
    ("customer", "archive", "C9", "--restore"),
    ("interaction", "log", "C9", "purchase", "--amount", "800", "--product", "显示器"),
    ("interaction", "plan", "C9", "--at", "2030-03-02 10:00", "--kind", "电话", "--note", "回访"),
    ("interaction", "list", "--customer", "C9"),
    ("interaction", "due", "--as-of", "2030-03-03"),
    ("settings", "list"),
    ("roles",),
    ("user", "add", "boss", "--name", "张总", "--role", "admin"),
    ("--as", "boss", "user", "list"),
    ("--as", "boss", "audit", "C9"),
    ("--as", "boss", "db", "status"),
    ("--as", "boss", "jobs", "list"),
    ("--as", "boss", "plugins", "list"),
]


#: Identifiers the session shows as they are: logins, role names (`--role admin`), a setting's
#: value (`sales_scope own`), the core's branch and plugin name.
IDENTIFIERS = {"li", "boss", getpass.getuser(), "admin", "manager", "sales", "service", "own", "core"}


def _words(output: str) -> set[str]:
    """English words a Chinese reader would see: not identifiers, database URLs
    (``postgresql+psycopg://...``, ``sqlite:///...?mode=rw``), nor revision ids (c0003)."""
    output = re.sub(r"[\w+.-]+://\S+", " ", output)
    return {w for w in english_words(output) - IDENTIFIERS if not re.fullmatch(r"c\d{4}", w)}


def _ambiguous(text: str) -> set[str]:
    return {ch for ch in text if unicodedata.east_asian_width(ch) == "A"}


def test_a_session_in_chinese_has_no_english_words(zh, customers):
    leaks = {}
    for args in SESSION:
        output = zh(*args).output
        if words := _words(output):
            leaks[" ".join(args)] = sorted(words)
        assert not _ambiguous(output), (args, _ambiguous(output))
    assert not leaks, "\n".join(f"kehu {k}: {v}" for k, v in leaks.items())


def test_messages_and_headers_are_chinese(zh, customers):
    assert "已添加客户 C9 深圳宏达电子有限公司" in zh("customer", "add", "C9", "深圳宏达电子有限公司").output
    listed = zh("customer", "list", "--columns", "code,name,source,kind,active").output
    header = listed.splitlines()[0].split()
    assert header == ["编号", "名称", "来源", "类型", "有效"]
    assert "转介绍" in listed and "referral" not in listed and "是" in listed
    assert listed.rstrip().endswith("4 个客户")
    interactions = zh("interaction", "list", "--customer", "C1").output
    assert interactions.splitlines()[0].split()[:4] == ["序号", "时间", "客户", "类型"]
    assert "拜访" in interactions and "visit" not in interactions


#: Values written for people (a setting's meaning, a role's description): in their language.
PROSE = {"meaning", "description"}


def _shape(value: Any, key: str | None = None) -> Any:
    """The document with its prose left out: keys, codes, numbers and names must not change."""
    if key in PROSE:
        return "<prose>"
    if isinstance(value, dict):
        return {k: _shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v, key) for v in value]
    return value


JSON_COMMANDS = [
    ("customer", "list", "--json"),
    ("customer", "list", "--source", "转介绍", "--json"),
    ("customer", "show", "C1", "--json"),
    ("customer", "profit-report", "--json"),
    ("interaction", "list", "--json"),
    ("interaction", "list", "--kind", "拜访", "--json"),
    ("settings", "list", "--json"),
    ("roles", "--json"),
    ("db", "status", "--json"),
]


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=lambda a: " ".join(a))
def test_json_is_the_same_in_both_languages(kehu_cli, customers, args):
    """Keys, codes and values: scripts read the same document whatever the language."""
    english = kehu_cli(*args, env=EN)
    chinese = kehu_cli(*args, env=ZH)
    assert english.exit_code == 0 and chinese.exit_code == 0, chinese.output
    assert _shape(chinese.json) == _shape(english.json)


def test_json_of_a_write_keeps_codes(kehu_cli):
    added = kehu_cli(
        "customer", "add", "C7", "美的", "--source", "朋友介绍", "--kind", "企业", "--json", env=ZH
    )
    assert (added.json["source"], added.json["kind"]) == ("referral", "company")
    kehu_cli("customer", "add", "C8", "格力", env=ZH)
    planned = kehu_cli(
        "interaction", "plan", "C8", "--at", "2030-01-02 09:00", "--kind", "电话", "--json", env=ZH
    )
    assert (planned.json["kind"], planned.json["status"]) == ("call", "planned")


# --------------------------------------------------------------------------------------------
# Chinese values give the same result as the codes


def _codes(kehu_cli, *args: str) -> list[Any]:
    result = kehu_cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return [r.get("code", r.get("id")) for r in result.json]


@pytest.mark.parametrize(
    ("chinese", "code"),
    [
        (("--source", "朋友介绍"), ("--source", "referral")),
        (("--source", "转介绍"), ("--source", "referral")),
        (("--source", "行业杂志"), ("--source", "trade_magazine")),
        (("--kind", "企业"), ("--kind", "company")),
        (("--kind", "个人"), ("--kind", "person")),
        (("--filter", "source=朋友介绍"), ("--filter", "source=referral")),
        (("--filter", "kind=个人"), ("--filter", "kind=person")),
    ],
)
def test_customer_list_takes_chinese_values(kehu_cli, customers, chinese, code):
    by_code = _codes(kehu_cli, "customer", "list", *code)
    assert by_code  # the code itself finds customers
    assert _codes(kehu_cli, "customer", "list", *chinese) == by_code


@pytest.mark.parametrize(
    ("chinese", "code"),
    [
        (("--kind", "拜访"), ("--kind", "visit")),
        (("--kind", "购买"), ("--kind", "purchase")),
        (("--kind", "电话"), ("--kind", "call")),
        (("--status", "已完成"), ("--status", "done")),
    ],
)
def test_interaction_list_takes_chinese_values(kehu_cli, customers, chinese, code):
    by_code = _codes(kehu_cli, "interaction", "list", *code)
    assert by_code
    assert _codes(kehu_cli, "interaction", "list", *chinese) == by_code


def test_planned_status_and_kind_in_chinese(kehu_cli, customers):
    kehu_cli("interaction", "plan", "C2", "--at", "2030-01-02 09:00", "--kind", "电话")
    by_code = _codes(kehu_cli, "interaction", "list", "--status", "planned", "--kind", "call")
    assert len(by_code) == 1
    assert _codes(kehu_cli, "interaction", "list", "--status", "已计划", "--kind", "电话") == by_code


@pytest.mark.parametrize(
    ("args", "param", "accepted"),
    [
        (("customer", "list", "--filter", "source=foo"), "--filter", "referral (转介绍)"),
        (("customer", "list", "--filter", "kind=大公司"), "--filter", "company (企业)"),
        (("customer", "list", "--source", "朋友"), "--source", "trade_magazine (行业杂志)"),
        (("customer", "add", "C5", "某公司", "--source", "foo"), "--source", "referral (转介绍)"),
        (("interaction", "list", "--kind", "foo"), "--kind", "visit (拜访)"),
        (("interaction", "list", "--status", "foo"), "--status", "planned (已计划)"),
        (("interaction", "plan", "C1", "--at", "2030-01-01", "--kind", "foo"), "--kind", "call (电话)"),
    ],
)
def test_unknown_values_are_refused_listing_the_accepted_ones(kehu_cli, customers, args, param, accepted):
    """Never a silent empty list: the error names the option and what it accepts, in Chinese."""
    result = kehu_cli(*args, env=ZH)
    assert result.exit_code == 2, result.output
    assert param in result.output and accepted in result.output, result.output
    english = kehu_cli(*args, env=EN)
    assert english.exit_code == 2 and "use one of:" in english.output, english.output


# --------------------------------------------------------------------------------------------
# --wide


@pytest.mark.parametrize(
    ("before", "after", "env"),
    [
        ((), ("--wide",), {}),  # the list command's own option
        (("--wide",), (), {}),  # kehu --wide, for any table
        ((), (), {"KEHU_WIDE": "1"}),
    ],
    ids=["list --wide", "kehu --wide", "KEHU_WIDE=1"],
)
def test_wide_shows_long_cells_whole(kehu_cli, before, after, env):
    kehu_cli("customer", "add", "C1", LONG_NAME)
    cut = kehu_cli("customer", "list", env=EN).output
    assert LONG_NAME not in cut and "..." in cut and "…" not in cut
    whole = kehu_cli(*before, "customer", "list", *after, env={**EN, **env})
    assert whole.exit_code == 0, whole.output
    assert LONG_NAME in whole.output


def test_wide_interaction_notes(kehu_cli):
    note = "客户希望下季度增加采购量，并要求我们提供更详细的售后服务方案和培训计划，下周再次拜访确认"
    kehu_cli("customer", "add", "C1", "华为")
    kehu_cli("interaction", "log", "C1", "visit", "--note", note)
    assert note not in kehu_cli("interaction", "list").output
    assert note in kehu_cli("interaction", "list", "--wide").output


def test_a_cut_cell_keeps_the_columns_aligned(kehu_cli):
    """``...`` is ASCII: every terminal gives it three columns, CJK ones included."""
    kehu_cli("customer", "add", "C1", LONG_NAME, "--region", "华东")
    kehu_cli("customer", "add", "C2", "小米", "--region", "华北")
    lines = kehu_cli("customer", "list", env=ZH).output.splitlines()
    starts = set()
    for line in lines:
        found = re.search(r"华[东北]|地区", line)
        if found:
            starts.add(_columns(line[: found.start()]))
    assert len(starts) == 1, lines


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
