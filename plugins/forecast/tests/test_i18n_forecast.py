"""Forecast in Chinese (issue 19): levels, frequencies, methods, engines, dimensions,
allocations, target periods, statuses and assumption kinds accept their Chinese names (公司,
地区, 业务员, 月, 季, 由下而上 ...) on the command line and in the services, giving what the codes
give; an unknown value is refused with the accepted ones listed."""

from __future__ import annotations

from typing import Any

import pytest

from kehu_core.errors import ValidationError
from kehu_forecast import api, distributed, planning
from kehu_forecast.history import history_rows
from kehu_forecast.report import run_rows
from kehu_forecast.targets import GROUPING_NAMES


def _json(kehu_cli: Any, *args: str) -> Any:
    result = kehu_cli("forecast", *args, "--json")
    assert result.exit_code == 0, result.output
    return result.json


@pytest.mark.parametrize(
    ("chinese", "code"),
    [("公司", "company"), ("地区", "region"), ("业务员", "salesperson"), ("客户", "customer")],
)
def test_levels_by_their_chinese_names(fc, company, kehu_cli, chinese, code):
    by_name = _json(kehu_cli, "history", "--level", chinese, "--freq", "月", "--as-of", fc.AS_OF)
    by_code = _json(kehu_cli, "history", "--level", code, "--freq", "month", "--as-of", fc.AS_OF)
    assert by_name == by_code and by_name
    with company.session() as session:
        assert history_rows(session, freq="月", level=chinese, as_of=None, by_category=False, length=3) == (
            history_rows(session, freq="month", level=code, as_of=None, by_category=False, length=3)
        )


def test_a_run_shown_and_backtested_by_chinese_names(fc, company, kehu_cli):
    run = _json(kehu_cli, "run", "--as-of", fc.AS_OF, "--horizon", "3", "--freq", "月", "--method", "自动")
    assert run["freq"] == "month"
    shown = _json(kehu_cli, "show", "--level", "业务员")
    assert shown == _json(kehu_cli, "show", "--level", "salesperson")
    with company.session() as session:
        assert run_rows(session, "地区", None)[1] == run_rows(session, "region", None)[1]
    named = _json(kehu_cli, "backtest", "--level", "公司", "--methods", "自动,季节朴素", "--as-of", fc.AS_OF)
    coded = _json(kehu_cli, "backtest", "--level", "company", "--methods", "auto,snaive", "--as-of", fc.AS_OF)
    assert named == coded


def test_top_down_gap_reconcile_and_targets_by_chinese_names(fc, company, kehu_cli):
    fc.set_market(kehu_cli)
    _json(kehu_cli, "run", "--as-of", fc.AS_OF, "--horizon", "3")
    td = _json(kehu_cli, "topdown", "--as-of", fc.AS_OF, "--horizon", "3", "--dimension", "地区")
    assert {r["region"]: r["total"] for r in td["regions"]} == {"华东": "30000.00", "华北": "6000.00"}
    gap = _json(kehu_cli, "gap", "--level", "地区", "--level", "业务员")
    assert gap == _json(kehu_cli, "gap", "--level", "region", "--level", "salesperson")
    assert {r["level"] for r in gap["rows"]} == {"region", "salesperson"}
    by_name = _json(kehu_cli, "reconcile", "--method", "由中间向外", "--middle-level", "地区")
    by_code = _json(kehu_cli, "reconcile", "--method", "middle-out", "--middle-level", "region")
    assert by_name["regions"] == by_code["regions"] and by_name["method"] == by_code["method"]
    assert _json(kehu_cli, "reconcile", "--method", "由上而下")["total"] == "36000.00"
    quarterly = _json(kehu_cli, "targets", "--period", "季")
    assert {t["period_end"] for t in quarterly} == {"2026-03-31"}
    monthly = _json(kehu_cli, "targets", "--period", "月")
    assert {t["period_end"] for t in monthly} >= {"2026-01-31", "2026-02-28", "2026-03-31"}
    assert GROUPING_NAMES.parse("季度") == "quarter"


def test_opportunity_status_and_assumption_kind_by_chinese_names(company, kehu_cli):
    add = _json(kehu_cli, "opportunity", "add", "C1", "10000", "--close", "2026-02-20", "--stage", "线索")
    won = _json(kehu_cli, "opportunity", "move", add["ref"], "--status", "赢单")
    assert won["status"] == "won"
    assert _json(kehu_cli, "opportunity", "list", "--status", "成交") == _json(
        kehu_cli, "opportunity", "list", "--status", "won"
    )
    with company.session() as session:
        plan_id = planning.create_plan(session, "p").id
        row = planning.add_assumption(session, plan_id, "竞争对手", "A cuts prices")
    assert row["kind"] == "competitor"
    made = kehu_cli("forecast", "plan", "add-assumption", str(plan_id), "市场", "demand grows", "--json")
    assert made.exit_code == 0 and made.json["kind"] == "market", made.output


@pytest.mark.parametrize(
    ("args", "accepted"),
    [
        (["history", "--level", "省"], "company, region, salesperson, customer"),
        (["history", "--freq", "日"], "month, week"),
        (["targets", "--period", "年"], "month, quarter"),
        (["topdown", "--dimension", "城市"], "company, region, industry"),
        (["reconcile", "--method", "平均"], "bottom-up, top-down, middle-out"),
        (["opportunity", "list", "--status", "暂停"], "open, won, lost"),
        (["run", "--engine", "云"], "local"),
    ],
)
def test_unknown_values_are_refused_listing_the_accepted_ones(company, kehu_cli, args, accepted):
    result = kehu_cli("forecast", *args)
    assert result.exit_code == 2, result.output
    assert accepted in result.output


def test_services_refuse_unknown_values_listing_the_accepted_ones(company):
    with company.session() as session:
        with pytest.raises(ValidationError, match="level: must be one of company, region"):
            history_rows(session, freq="month", level="省", as_of=None, by_category=False, length=3)
        with pytest.raises(ValidationError, match="method: must be one of auto"):
            api.run_forecast(company, session, api.Options(method="神算"))
        with pytest.raises(ValidationError, match="freq: must be one of month, week"):
            api.run_forecast(company, session, api.Options(freq="日"))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="engine: must be one of local"):
        distributed.check_engine("云")
    assert distributed.check_engine("本机") == "local"


def test_json_is_the_same_in_both_languages(fc, company, kehu_cli):
    fc.set_market(kehu_cli)
    _json(kehu_cli, "run", "--as-of", fc.AS_OF, "--horizon", "3")
    _json(kehu_cli, "topdown", "--as-of", fc.AS_OF, "--horizon", "3")
    _json(kehu_cli, "opportunity", "add", "C1", "1000", "--close", "2026-02-01", "--stage", "线索")
    for args in (
        ("history", "--level", "业务员", "--as-of", fc.AS_OF),
        ("show", "--level", "地区"),
        ("gap",),
        ("opportunity", "list"),
        ("market", "list"),
        ("runs",),
    ):
        english = kehu_cli("forecast", *args, "--json", env={"KEHU_LANG": "en"})
        chinese = kehu_cli("forecast", *args, "--json", env={"KEHU_LANG": "zh_CN"})
        assert english.exit_code == chinese.exit_code == 0, (english.output, chinese.output)
        assert english.json == chinese.json, args
