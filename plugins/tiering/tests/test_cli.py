"""The command line, end to end: run, show, explain, history, report (and --plot), stats, errors;
and what tiering adds elsewhere: profile card, customer list column and filter, job, demo, export."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select
from tiering_helpers import add_customers, payment, purchase, record

from kehu_core.jobs import run_due
from kehu_tiering.models import runs


@pytest.fixture
def cli_world(tiering_app: Any) -> dict[str, int]:
    ids = add_customers(tiering_app, [f"K{i:02d}" for i in range(20)])
    when = datetime(2026, 4, 1, tzinfo=UTC)
    rows = [purchase(ids[f"K{i:02d}"], when, 100 * (i + 1) ** 2) for i in range(19)]  # K19 never buys
    due = datetime(2026, 3, 1, tzinfo=UTC)
    for paid in (None, datetime(2026, 3, 21, tzinfo=UTC)):
        rows.append(payment(ids["K00"], due, paid, amount=100, at=when))
    record(tiering_app, rows)
    return ids


def test_run_show_explain_history_report(
    tiering_app: Any, cli_world: dict[str, int], kehu_cli: Any, tmp_path: Path
) -> None:
    result = kehu_cli("tier", "run", "--as-of", "2026-06-15", "--json")
    assert result.exit_code == 0, result.output
    assert result.json["customers"] == 20 and result.json["counts"]["pyramid"]["VIP"] == 1

    shown = kehu_cli("tier", "show", "K18", "--json").json
    assert shown["tier"] == "VIP" and shown["tiers"]["abc"]["tier"] == "A"
    text = kehu_cli("tier", "show", "K18").output
    assert "VIP" in text and "pyramid" in text

    explained = kehu_cli("tier", "explain", "K00", "--json").json
    by_method = {e["method"]: e for e in explained["explanations"]}
    assert (
        by_method["pyramid"]["tier"] == "小客户"
        and by_method["pyramid"]["cut_points"]["普通客户_top_pct"] == "50"
    )
    assert by_method["flag:poor_quality"]["decided_by"] == "poor_quality.default"
    assert by_method["flag:poor_quality"]["metrics"]["overdue_payments"] == 2  # one unpaid, one 20 days late
    assert "rule poor_quality.default (builtin)" in kehu_cli("tier", "explain", "K00").output

    stats = kehu_cli("tier", "stats", "K00", "--as-of", "2026-06-15", "--json").json
    assert stats["overdue_payments"] == 2 and stats["avg_days_late"] == pytest.approx((106 + 20) / 2)
    assert stats["revenue_window"] == "100.00" and stats["recency_days"] == 75

    record(tiering_app, [purchase(cli_world["K00"], datetime(2026, 6, 20, tzinfo=UTC), 1_000_000)])
    assert kehu_cli("tier", "run", "--as-of", "2026-06-30").exit_code == 0
    history = kehu_cli("tier", "history", "K00", "--json").json
    pyramid = [h for h in history if h["method"] == "pyramid"]
    assert [(h["tier"], h["valid_from"], h["valid_to"]) for h in pyramid] == [
        ("小客户", "2026-06-15", "2026-06-30"),
        ("VIP", "2026-06-30", None),
    ]
    csv_lines = kehu_cli("tier", "history", "K00", "--csv").output.splitlines()
    assert (
        csv_lines[0] == "method,tier,valid_from,valid_to,decided_by"
        and "pyramid,VIP,2026-06-30,,pyramid" in csv_lines
    )

    plot = tmp_path / "tiers.png"
    report = kehu_cli("tier", "report", "--json", "--plot", str(plot))
    assert report.exit_code == 0, report.output
    data = report.json
    assert data["pareto"]["customers"] == 20 and data["pareto"]["top_customers"] == 4
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    moves = {(m["method"], m["old_tier"], m["new_tier"]) for m in data["movements"]}
    assert ("pyramid", "小客户", "VIP") in moves and ("pyramid", "VIP", "普通客户") in moves
    shares = [t for t in data["tiers"] if t["method"] == "pyramid"]
    assert sum(t["customers"] for t in shares) == 20
    human = kehu_cli("tier", "report").output
    assert "top 20% of customers (4 of 20) bring" in human


def test_bad_input_gives_clear_errors_and_changes_nothing(
    tiering_app: Any, cli_world: dict[str, int], kehu_cli: Any
) -> None:
    bad_day = kehu_cli("tier", "run", "--as-of", "2026-13-01")
    assert bad_day.exit_code == 2 and "not a date" in bad_day.output, bad_day.output
    cases = [
        (("--method", "abc,nope"), "method: unknown method"),
        (("--abc-cuts", "95,80"), "abc_cuts: cut points must increase strictly"),
        (("--abc-cuts", "80"), "abc_cuts: needs exactly 2 cut points"),
        (("--pyramid-cuts", "1,5,150"), "pyramid_cuts: each cut point must be above 0 and at most 100"),
        (("--pyramid-cuts", "a,b,c"), "pyramid_cuts: cut points are percentages"),
        (("--window", "0"), "window: a number of months"),
    ]
    for args, expected in cases:
        result = kehu_cli("tier", "run", *args)
        assert result.exit_code == 1, args
        assert expected in result.output and "Traceback" not in result.output, (args, result.output)
    assert kehu_cli("tier", "show", "NOPE").exit_code == 1
    assert "no tiering run yet" in kehu_cli("tier", "report").output
    with tiering_app.session() as session:
        assert session.scalar(select(func.count()).select_from(runs)) == 0


def test_not_installed_is_explained_and_uninstall_drops_the_tables(kehu_app: Any, kehu_cli: Any) -> None:
    result = kehu_cli("tier", "run")
    assert result.exit_code == 1 and "kehu plugins install tiering" in result.output
    assert kehu_cli("plugins", "install", "tiering").exit_code == 0
    assert kehu_cli("tier", "run").exit_code == 0
    assert kehu_cli("plugins", "uninstall", "tiering", "--yes").exit_code == 0
    with kehu_app.engine.connect() as conn:
        assert not [t for t in inspect(conn).get_table_names() if t.startswith("tiering")]


def test_profile_list_job_export(tiering_app: Any, cli_world: dict[str, int], kehu_cli: Any) -> None:
    assert kehu_cli("tier", "run", "--as-of", "2026-06-15").exit_code == 0
    card = kehu_cli("customer", "show", "K18", "--json").json
    assert card["tiering"]["tier"] == "VIP" and card["tiering"]["tiers"]["rfm"]["tier"]
    listed = kehu_cli("customer", "list", "--json", "--filter", "tier=VIP").json
    assert [r["code"] for r in listed] == ["K18"] and listed[0]["tier"] == "VIP"
    small = kehu_cli("customer", "list", "--json", "--filter", "tier=small").json
    assert len(small) == 10 and all(r["tier"] == "小客户" for r in small)
    by_tier = kehu_cli("customer", "list", "--json", "--sort", "tier", "--columns", "code,tier").json
    assert len(by_tier) == 20
    exported = kehu_cli("customer", "export", "K18").json
    assert {r["method"] for r in exported["tiering"]} >= {"abc", "pyramid", "rfm"}

    record(tiering_app, [purchase(cli_world["K19"], datetime.now(UTC), 5_000_000)])
    outcomes = run_due(tiering_app, names=["tiering.retier"], force=True)
    assert outcomes[0].status == "ok", outcomes[0].message
    assert "tiered 20 customers" in outcomes[0].message
    assert kehu_cli("tier", "show", "K19", "--json").json["tier"] == "VIP"


def test_demo_shows_every_tier(tiering_app: Any, kehu_cli: Any) -> None:
    result = kehu_cli("demo", "--customers", "120", "--json")
    assert result.exit_code == 0, result.output
    lines = "\n".join(result.json["lines"])
    assert "tiers (pyramid): VIP" in lines and "80/20 check" in lines
    report = kehu_cli("tier", "report", "--json").json
    tiers = {(t["method"], t["tier"]) for t in report["tiers"]}
    assert {("pyramid", t) for t in ("VIP", "主要客户", "普通客户", "小客户")} <= tiers
    assert {("abc", t) for t in "ABC"} <= tiers
    assert {
        ("flag:key_account", "key_account"),
        ("flag:poor_quality", "poor_quality"),
        ("flag:upgrade_potential", "upgrade_potential"),
    } <= tiers
    flagged = kehu_cli("customer", "list", "--json", "--filter", "tier=key_account").json
    assert flagged


def test_a_rules_file_is_remembered_wherever_the_next_run_starts(
    tiering_app: Any,
    cli_world: dict[str, int],
    kehu_cli: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The daily job (cron) and the next run need not start in the directory the file was named in."""
    given, elsewhere = tmp_path / "rules", tmp_path / "elsewhere"
    given.mkdir()
    elsewhere.mkdir()
    (given / "rules.toml").write_text(
        "[[rule]]\nname = 'big'\nflag = 'big'\nwhen = 'measure >= 32400'\n", encoding="utf-8"
    )
    monkeypatch.chdir(given)
    assert kehu_cli("tier", "run", "--as-of", "2026-06-15", "--rules", "rules.toml").exit_code == 0
    monkeypatch.chdir(elsewhere)
    rerun = kehu_cli("tier", "run", "--as-of", "2026-06-16", "--json")
    assert rerun.exit_code == 0, rerun.output
    assert rerun.json["settings"]["rules_files"] == [str(given / "rules.toml")]
    outcomes = run_due(tiering_app, names=["tiering.retier"], force=True)
    assert outcomes[0].status == "ok", outcomes[0].message
