"""What people read: scenario ranges, refusals, the pipeline as of a past day, and local dates."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import update

from kehu_forecast.models import opportunities, runs


def test_a_plan_without_scenarios_prints_a_dash(fc, company, kehu_cli):
    fc.set_market(kehu_cli)
    result = kehu_cli("forecast", "topdown", "--as-of", fc.AS_OF, "--horizon", "3")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "forecast run 1: top-down by region (average_proportions)\n"
        "  periods                   2026-01-01 .. 2026-03-01 (month)\n"
        "  history up to             2025-12-01\n"
        "  company total             36000.00\n"
        "  pessimistic / optimistic  -\n"
        "region  total\n"
        "------  --------\n"
        "华东    30000.00\n"
        "华北    6000.00\n"
    )


def test_gap_between_runs_without_a_common_month_is_refused(fc, company, kehu_cli):
    fc.set_market(kehu_cli, months="2")
    assert kehu_cli("forecast", "topdown", "--as-of", fc.AS_OF, "--horizon", "2").exit_code == 0
    assert kehu_cli("forecast", "run", "--as-of", "2026-04-15", "--horizon", "2").exit_code == 0
    result = kehu_cli("forecast", "gap")
    assert result.exit_code == 1
    assert result.output == (
        "Error: bottom-up run 2 (2026-04 .. 2026-05) and top-down run 1 (2026-01 .. 2026-02) have no "
        "period in common: nothing to compare. Choose runs over the same months with --bottomup ID "
        "and --topdown ID (see `kehu forecast runs`).\n"
    )


def test_run_as_of_a_past_day_leaves_out_opportunities_recorded_later(fc, company, kehu_cli):
    # Both close in February. Recorded at 23:30 on the as-of day (local) and 00:30 the day after.
    for amount, recorded in (
        ("100000", datetime(2026, 1, 15, 15, 30, tzinfo=UTC)),
        ("50000", datetime(2026, 1, 15, 16, 30, tzinfo=UTC)),
    ):
        added = kehu_cli(
            "forecast",
            "opportunity",
            "add",
            "C1",
            amount,
            "--probability",
            "60%",
            "--close",
            "2026-02-20",
            "--json",
        )
        assert added.exit_code == 0, added.output
        with company.session() as session:
            session.execute(
                update(opportunities)
                .where(opportunities.c.ref == added.json["ref"])
                .values(created_at=recorded)
            )
    args = ("forecast", "run", "--as-of", fc.AS_OF, "--horizon", "2", "--json")
    with_pipe = kehu_cli(*args).json
    without = kehu_cli(*args, "--no-pipeline").json
    added = [
        Decimal(a["value"]) - Decimal(b["value"]) for a, b in zip(with_pipe["periods"], without["periods"])
    ]
    assert added == [Decimal("0.00"), Decimal("60000.00")]  # 100,000 × 60%; the later one is not known yet
    later = kehu_cli("forecast", "run", "--as-of", "2026-01-16", "--horizon", "2", "--json").json
    assert Decimal(later["periods"][1]["value"]) - Decimal(without["periods"][1]["value"]) == Decimal(
        "90000.00"
    )


def test_runs_print_the_local_day_they_were_made(fc, company, kehu_cli):
    assert kehu_cli("forecast", "run", "--as-of", fc.AS_OF, "--horizon", "1", "--no-pipeline").exit_code == 0
    with company.session() as session:
        # 17:30 UTC on the 14th is 01:30 on the 15th in Shanghai.
        session.execute(update(runs).values(created_at=datetime(2026, 1, 14, 17, 30, tzinfo=UTC)))
    table = kehu_cli("forecast", "runs").output.splitlines()
    assert table[0].split() == [
        "id",
        "kind",
        "method",
        "freq",
        "from",
        "periods",
        "total",
        "source",
        "by",
        "created",
    ]
    assert table[2].split()[-1] == "2026-01-15"
    csv = kehu_cli("forecast", "runs", "--csv").output.splitlines()
    assert csv[0] == "id,kind,method,freq,first_period,horizon,total,source,by,created"
    assert ",cli," in csv[1] and csv[1].endswith(",2026-01-15")
    assert kehu_cli("forecast", "runs", "--json").json[0]["created"] == "2026-01-15"
