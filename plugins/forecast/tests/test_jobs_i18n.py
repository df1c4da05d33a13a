"""The forecast's daily jobs speak the reader's language: their descriptions in ``kehu jobs
list --json`` and the messages their runs record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kehu_core import i18n
from kehu_core.jobs import run_due
from kehu_core.untranslated import english_words
from kehu_forecast.statuses import STATUS_LABELS, status_label

NOW = datetime(2026, 1, 15, 2, tzinfo=UTC)


def test_the_refresh_job_s_messages_are_chinese_under_zh_cn(fc, company):
    with i18n.using("zh_CN"):
        first = run_due(company, now=NOW, names=["forecast.refresh"], force=True)
        again = run_due(company, now=NOW, names=["forecast.refresh"], force=True)
    assert first[0].status == "ok", first[0].message
    assert "预测运行" in first[0].message and "5 位客户" in first[0].message
    assert "已涵盖截至 2025-12-01 的历史" in again[0].message
    assert not english_words(first[0].message) and not english_words(again[0].message)


def test_the_targets_job_with_nothing_to_record_says_so_in_chinese(fc, company):
    with i18n.using("zh_CN"):
        [done] = run_due(company, now=NOW, names=["forecast.targets"], force=True)
    assert (done.status, done.message) == ("ok", "没有目标改变状态")


def test_the_jobs_are_listed_with_chinese_descriptions(fc, company, kehu_cli, monkeypatch):
    monkeypatch.setenv("KEHU_LANG", "zh_CN")
    listed = kehu_cli("jobs", "list", "--json")
    assert listed.exit_code == 0, listed.output
    described = {job["name"]: job["description"] for job in listed.json}
    assert described["forecast.refresh"] == "每有一个月的历史完整时，刷新由下而上的销售预测"
    assert described["forecast.targets"].startswith("记录 SMART 目标截至今天的状态")


@pytest.mark.parametrize(
    ("status", "label"),
    [("on track", "进度正常"), ("behind", "落后"), ("met", "已达成"), ("missed", "未达成")],
)
def test_each_status_reads_in_chinese(status, label):
    with i18n.using("zh_CN"):
        assert status_label(status) == label
    assert status_label(status) == status  # the tests' own language is English


def test_an_unknown_status_is_shown_as_it_is():
    assert "paused" not in STATUS_LABELS
    with i18n.using("zh_CN"):
        assert status_label("paused") == "paused"
