"""A forecasting session in Chinese (issue 19): on the demo data, every forecast command a
planner runs (history, opportunities, run, market inputs, top-down, gap, reconcile, runs,
targets, track, a sales plan and its check, a small backtest, the profile card) prints no
English word under KEHU_LANG=zh_CN, and the same commands with --json give the same keys and
codes in both languages. The run's method, the plan check's flags and the SMART note are
composed in the reader's language when shown; what is stored stays as it was written."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from kehu_core import calendar, i18n
from kehu_core.cli.help import translate_help
from kehu_core.untranslated import english_words, language_free
from kehu_forecast import MANIFEST, planning
from kehu_forecast.cli import COMMANDS
from kehu_forecast.methods import describe, model_label
from kehu_forecast.models import targets
from kehu_forecast.targets import STRETCH, smart_note

ZH = {"KEHU_LANG": "zh_CN"}
EN = {"KEHU_LANG": "en"}

#: Values worded in the reader's language, compared by key only: a flag's message, a target's
#: SMART note.
WORDED = {"message", "note"}


def _ok(kehu_cli: Any, *args: str, env: dict[str, str] = ZH) -> Any:
    result = kehu_cli(*args, env=env)
    assert result.exit_code == 0, (args, result.output)
    return result


@pytest.fixture
def demo(kehu_app: Any, kehu_install: Any, kehu_cli: Any) -> Any:
    """The demo data with the forecast plugin: customers, opportunities, market inputs, a
    bottom-up and a top-down run."""
    kehu_install("forecast")
    shown = _ok(kehu_cli, "demo", "--customers", "40")
    assert "由下而上" in shown.output and not english_words(shown.output), shown.output
    return kehu_app


def test_a_forecast_session_in_chinese_has_no_english(demo: Any, kehu_cli: Any, tmp_path: Any) -> None:
    today = calendar.today()
    month = calendar.period_start(today, "month")
    customer = _ok(kehu_cli, "customer", "list", "--columns", "code", "--json", env=EN).json[0]["code"]
    region = _ok(kehu_cli, "forecast", "market", "list", "--json", env=EN).json[0]["key"]
    close = (today + timedelta(days=40)).isoformat()
    added = _ok(
        kehu_cli,
        "forecast",
        "opportunity",
        "add",
        customer,
        "120000",
        "--probability",
        "60%",
        "--close",
        close,
    )
    assert "跟进中" in added.output
    ref = _ok(kehu_cli, "forecast", "opportunity", "list", "--json", env=EN).json
    ref = next(o["ref"] for o in ref if o["customer"] == customer and o["amount"] == "120000.00")
    steps: list[tuple[str, ...]] = [
        ("forecast", "opportunity", "move", ref, "--stage", "商务谈判", "--probability", "0.75"),
        ("forecast", "history", "--level", "地区", "--periods", "6"),
        ("forecast", "history", "--level", "业务员", "--by-category", "--periods", "3"),
        ("forecast", "opportunity", "list", "--status", "跟进中"),
        ("forecast", "run", "--horizon", "6", "--plot", str(tmp_path / "forecast.png")),
        ("forecast", "market", "set", f"{month:%Y-%m}", "地区", region, "--potential", "2000000", "--share",
         "12%", "--months", "6"),
        ("forecast", "market", "list"),
        ("forecast", "topdown", "--horizon", "6", "--allocation", "比例平均值"),
        ("forecast", "gap", "--threshold", "10"),
        ("forecast", "gap", "--flagged", "--plot", str(tmp_path / "gap.png")),
        ("forecast", "reconcile", "--method", "由中间向外", "--middle-level", "地区"),
        ("forecast", "reconcile", "--method", "由上而下"),
        ("forecast", "reconcile", "--method", "最优调和"),
        ("forecast", "runs"),
        ("forecast", "show", "--level", "业务员"),
        ("forecast", "targets", "--period", "月"),
        ("forecast", "targets", "--period", "季"),
        ("forecast", "targets", "--list"),
        ("forecast", "track", "--plot", str(tmp_path / "track.png")),
        ("forecast", "plan", "create", "一季度华东计划", "--internal", "三月新增两名业务员",
         "--external", "竞争对手降价 5%"),
        ("forecast", "plan", "create", "空计划"),
        ("forecast", "plan", "add-assumption", "1", "竞争对手", "对手降价持续到六月"),
        ("forecast", "plan", "add-action", "1", "拜访前十名客户", "--owner", "张伟", "--due", close,
         "--resources", "每周两天，一辆车"),
        ("forecast", "plan", "add-action", "1", "电话回访", "--owner", "张伟", "--due", close),
        ("forecast", "plan", "add-budget", "1", "客户拜访", "12000", "--expected", "150000", "--action", "1"),
        ("forecast", "backtest", "--level", "公司", "--horizon", "3", "--folds", "1", "--methods",
         "auto,theta,snaive"),
    ]  # fmt: skip
    for step in steps:
        result = _ok(kehu_cli, *step)
        assert not english_words(result.output, _logins(kehu_cli)), (
            step,
            english_words(result.output),
            result.output,
        )
    target = _ok(kehu_cli, "forecast", "targets", "--list", "--json", env=EN).json[0]
    key = f"{target['salesperson']}/{target['period_start']}"
    run = _ok(kehu_cli, "forecast", "runs", "--json", env=EN).json[0]["id"]
    reads: list[tuple[str, ...]] = [
        ("forecast", "plan", "add-target", "1", key),
        ("forecast", "plan", "show", "1"),
        ("forecast", "plan", "list"),
        ("forecast", "plan", "check"),
        ("forecast", "plan", "check", "1"),
        ("forecast", "runs"),
        ("forecast", "show", str(run), "--level", "地区"),
        ("forecast", "history", "--level", "地区", "--periods", "6"),
        ("forecast", "gap"),
        ("forecast", "opportunity", "list"),
        ("forecast", "market", "list"),
        ("forecast", "targets", "--list"),
        ("forecast", "track"),
    ]
    for read in reads:
        result = _ok(kehu_cli, *read)
        assert not english_words(result.output, _logins(kehu_cli)), (
            read,
            english_words(result.output),
            result.output,
        )
    check = _ok(kehu_cli, "forecast", "plan", "check").output
    for words in ("行动 2", "计划 2", "目标 ", "掌握情势", "没有优先级", "只预测趋势"):
        assert words in check, (words, check)
    runs = _ok(kehu_cli, "forecast", "runs").output
    for words in (
        "由下而上（自动）",
        "由上而下，按地区（比例平均值）",
        "MinT（WLS）",
        "调和",
        "演示数据",
        "命令行",
    ):
        assert words in runs, (words, runs)
    card = _ok(kehu_cli, "customer", "show", customer).output
    section = card.split("销售预测\n")[-1]
    assert "下一季度预计" in section and "（调和）" in section, card
    assert not english_words(section), (english_words(section), section)
    for read in [*reads[1:], ("forecast", "backtest", "--level", "公司", "--horizon", "3", "--folds", "1")]:
        chinese = _ok(kehu_cli, *read, "--json").json
        english = _ok(kehu_cli, *read, "--json", env=EN).json
        assert language_free(chinese, WORDED) == language_free(english, WORDED), read
    assert {r["kind"] for r in _ok(kehu_cli, "forecast", "runs", "--json").json} == {
        "bottomup",
        "topdown",
        "reconciled",
    }


def _logins(kehu_cli: Any) -> set[str]:
    """Who made the runs (a login is an identifier, shown as it is)."""
    return {r["by"] for r in kehu_cli("forecast", "runs", "--json", env=EN).json if r["by"]}


# --------------------------------------------------------------------------------------------
# The run's method, composed when shown


@pytest.mark.parametrize(
    ("kind", "method", "params", "english", "chinese"),
    [
        ("bottomup", "bottom-up (auto)", {"method": "auto"}, "bottom-up (auto)", "由下而上（自动）"),
        ("bottomup", "bottom-up (snaive)", None, "bottom-up (snaive)", "由下而上（季节朴素）"),
        ("bottomup", "bottom-up (theta)", None, "bottom-up (theta)", "由下而上（AutoTheta）"),
        (
            "topdown",
            "top-down by region (average_proportions)",
            {"dimension": "region", "allocation": "average_proportions"},
            "top-down by region (average_proportions)",
            "由上而下，按地区（比例平均值）",
        ),
        (
            "topdown",
            "top-down by industry (bottomup)",
            None,
            "top-down by industry (bottomup)",
            "由上而下，按行业（由下而上比例）",
        ),
        (
            "reconciled",
            "middle-out (average_proportions) at region",
            None,
            "middle-out (average_proportions) at region",
            "由中间向外（比例平均值），自地区层",
        ),
        (
            "reconciled",
            "middle-out (proportion_averages) at salesperson",
            {"method": "middle-out", "proportions": "proportion_averages", "middle_level": "salesperson"},
            "middle-out (proportion_averages) at salesperson",
            "由中间向外（平均值比例），自业务员层",
        ),
        (
            "reconciled",
            "top-down (forecast_proportions)",
            None,
            "top-down (forecast_proportions)",
            "由上而下（预测比例）",
        ),
        ("reconciled", "mint-wls", {"method": "mint-wls"}, "mint-wls", "MinT（WLS）"),
        ("reconciled", "mint-ols", None, "mint-ols", "MinT（OLS）"),
        ("reconciled", "bottom-up", None, "bottom-up", "由下而上"),
        # Of no form kehu writes: shown as stored.
        ("reconciled", "my own blend", None, "my own blend", "my own blend"),
        ("bottomup", "", None, "-", "-"),
    ],
)  # fmt: skip
def test_a_runs_method_is_stored_in_english_and_composed_in_chinese(
    kind: str, method: str, params: dict[str, Any] | None, english: str, chinese: str
) -> None:
    with i18n.using("en"):
        assert describe(kind, method, params) == english
    with i18n.using("zh_CN"):
        assert describe(kind, method, params) == chinese


def test_model_labels() -> None:
    with i18n.using("en"):
        assert [model_label(m) for m in ("auto", "theta", "snaive", "bgnbd", None)] == [
            "auto",
            "theta",
            "snaive",
            "bgnbd",
            "-",
        ]
    with i18n.using("zh_CN"):
        assert [model_label(m) for m in ("auto", "theta", "ets", "bgnbd", "zero", "average", None, "x")] == [
            "自动",
            "AutoTheta",
            "AutoETS",
            "客户群模型（BG/NBD）",
            "无（从未购买）",
            "平均",
            "-",
            "x",
        ]


# --------------------------------------------------------------------------------------------
# The SMART note: saved in English, shown in the reader's language

END = date(2026, 3, 31)
TOP = [
    ("C1", Decimal("600.00")),
    ("C2", Decimal("400.00")),
    ("C3", Decimal("-10.00")),
    ("C4", Decimal("5.00")),
]


@pytest.mark.parametrize(
    ("amount", "baseline", "achievable"),
    [
        # growth = amount / baseline - 1 against STRETCH (0.30): on the edge, one cent either side
        ("1300.00", "1000.00", "A: +30% vs same period last year (¥1,000.00); R:"),
        ("1299.99", "1000.00", "A: +30% vs same period last year (¥1,000.00); R:"),
        ("1300.01", "1000.00", "A: +30% vs same period last year (¥1,000.00); stretch; R:"),
        ("900.00", "1000.00", "A: -10% vs same period last year (¥1,000.00); R:"),
        # no baseline: new business; a cent of baseline is a baseline
        ("1000.00", "0.00", "A: no sales in the same period last year: new business; R:"),
        ("1000.00", "0.01", "A: +9999900% vs same period last year (¥0.01); stretch; R:"),
    ],
)
def test_the_smart_note_boundary(amount: str, baseline: str, achievable: str) -> None:
    assert STRETCH == 0.30
    with i18n.using("en"):
        note = smart_note("张伟", 4, TOP, Decimal(amount), Decimal(baseline), END)
    assert note.startswith(
        f"S: 张伟, 4 customer(s), top: C1 ¥600.00、C2 ¥400.00、C3 ¥-10.00; M: ¥{Decimal(amount):,}"
    )
    assert achievable in note and note.endswith("R: revenue; T: by 2026-03-31"), note
    with i18n.using("zh_CN"):
        chinese = smart_note("张伟", 4, TOP, Decimal(amount), Decimal(baseline), END)
    assert chinese.startswith("S：张伟，4 位客户") and chinese.endswith("T：2026-03-31 前"), chinese
    assert ("挑战性目标" in chinese) == ("stretch" in note)
    assert ("新业务" in chinese) == ("new business" in note)
    assert not english_words(chinese), chinese


def test_a_target_keeps_its_english_note_and_shows_it_in_chinese(
    fc: Any, company: Any, kehu_cli: Any
) -> None:
    fc.set_market(kehu_cli)
    _ok(kehu_cli, "forecast", "run", "--as-of", fc.AS_OF, "--horizon", "3", env=EN)
    _ok(kehu_cli, "forecast", "topdown", "--as-of", fc.AS_OF, "--horizon", "3", env=EN)
    _ok(kehu_cli, "forecast", "reconcile", "--method", "mint-wls", env=EN)
    saved = _ok(kehu_cli, "forecast", "targets", "--period", "quarter", "--json", env=ZH).json
    english = _ok(kehu_cli, "forecast", "targets", "--list", "--json", env=EN).json
    with company.session() as session:
        stored = dict(session.execute(select(targets.c.salesperson, targets.c.note)).all())
    zhang = next(t for t in english if t["salesperson"] == "张伟")
    # Saved in English whatever the language of the command that set it; listed as saved.
    assert stored["张伟"] == zhang["note"]
    assert (
        zhang["note"].startswith("S: 张伟, 2 customer(s), top: C1 ¥") and "T: by 2026-03-31" in zhang["note"]
    )
    shown = next(t for t in saved if t["salesperson"] == "张伟")["note"]
    assert shown.startswith("S：张伟，2 位客户，主要：C1 ¥") and shown.endswith("T：2026-03-31 前"), shown


# --------------------------------------------------------------------------------------------
# The plan check: messages in the reader's language, subjects kept as codes in --json


def test_flag_subjects_are_shown_in_the_readers_language() -> None:
    with i18n.using("zh_CN"):
        assert planning.subject_label("plan 3") == "计划 3"
        assert planning.subject_label("target 张伟/2026-01-01") == "目标 张伟/2026-01-01"
        assert planning.subject_label("action 7") == "行动 7"
        assert planning.subject_label("something else") == "something else"
        assert planning.subject_label("plan") == "plan"
    with i18n.using("en"):
        assert planning.subject_label("plan 3") == "plan 3"


def test_plan_check_in_chinese_keeps_codes_and_subjects_in_json(company: Any, kehu_cli: Any) -> None:
    _ok(kehu_cli, "forecast", "plan", "create", "空计划")
    shown = _ok(kehu_cli, "forecast", "plan", "check", "1").output
    assert "计划 1" in shown and "没有情势说明" in shown and not english_words(shown), shown
    chinese = _ok(kehu_cli, "forecast", "plan", "check", "1", "--json").json
    english = _ok(kehu_cli, "forecast", "plan", "check", "1", "--json", env=EN).json
    assert [(f["code"], f["step"], f["subject"]) for f in chinese] == [
        (f["code"], f["step"], f["subject"]) for f in english
    ]
    assert {f["subject"] for f in chinese} == {"plan 1"}
    assert english[0]["message"].startswith("no situation notes") and chinese[0]["message"].startswith(
        "没有情势说明"
    )


def test_the_groups_list_of_commands_is_chinese_before_any_is_loaded() -> None:
    """``kehu forecast --help`` lists its commands from their short helps without importing them,
    and ``kehu --help`` the group from the manifest's."""
    with i18n.using("zh_CN"):
        listed = {
            name: translate_help(short, ("kehu_forecast", "kehu_core"))
            for name, (_p, short) in COMMANDS.items()
        }
        listed["forecast"] = translate_help(MANIFEST.commands["forecast"][1], ("kehu_forecast", "kehu_core"))
    assert listed["runs"] == "已保存的预测，最新的在前。"
    assert listed["forecast"] == "销售预测：由下而上、由上而下、两者差距、SMART 目标。"
    leaks = {name: english_words(text) for name, text in listed.items() if english_words(text)}
    assert not leaks, leaks
