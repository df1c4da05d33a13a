"""``kehu forecast run``: the plausibility warning in the summary and its JSON, and the profile
card when the newest run no longer covers the current month."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kehu_core import calendar
from kehu_core.customers import add_customer
from kehu_core.interactions import write_interactions
from kehu_core.models import Customer
from kehu_forecast.bottomup import plausibility_lines
from kehu_forecast.profile import forecast_section


def test_plausibility_lines_by_hand():
    check = {
        "multiple": 2.0,
        "company": {"node": "company", "plan_year": 2412.0, "trailing_year": 1200.0, "multiple": 2.01},
        "customers_flagged": 3,
        "customers": [
            {"node": "C0042", "plan_year": 12000.0, "trailing_year": 1000.0, "multiple": 12.0},
            {"node": "C7", "plan_year": 2500.0, "trailing_year": 1000.0, "multiple": 2.5},
        ],
    }
    assert plausibility_lines(check) == [
        "plan is 2.0x the trailing 12 months for the company",
        "plan is 12.0x the trailing 12 months for customer C0042",
        "plan is 2.5x the trailing 12 months for customer C7",
        "and 1 more customer(s) planned above 2x the trailing 12 months",
    ]
    # exactly as many flagged as listed: no "more" line; weekly runs say 52 weeks
    weekly = plausibility_lines({**check, "company": None, "customers_flagged": 2}, "week")
    assert weekly == [
        "plan is 12.0x the trailing 52 weeks for customer C0042",
        "plan is 2.5x the trailing 52 weeks for customer C7",
    ]
    assert plausibility_lines(None) == [] and plausibility_lines({"multiple": 2.0, "company": None}) == []


@pytest.fixture
def growing(kehu_app, kehu_install, fc):
    """One customer whose purchases grow from 10 to 120 over 2025 (780 in the year) and one
    steady at 100 a month over 2024-2025: theta carries the first one's trend on."""
    kehu_install("forecast")
    with kehu_app.session() as session:
        up = add_customer(
            kehu_app, session, {"code": "UP", "name": "增长", "region": "华东", "owner": "张伟"}
        ).id
        flat = add_customer(
            kehu_app, session, {"code": "FLAT", "name": "平稳", "region": "华东", "owner": "张伟"}
        ).id
        rows = fc.month_rows(up, "UP", [10.0 * (k + 1) for k in range(12)], start=(2025, 1))
        rows += fc.month_rows(flat, "FLAT", [100.0] * 24, start=(2024, 1))
        write_interactions(kehu_app, session, rows, source="test")
    return kehu_app


def test_run_summary_shows_the_plausibility_warning_and_json_carries_it(growing, kehu_cli):
    args = ("forecast", "run", "--as-of", "2026-01-15", "--method", "theta", "--no-pipeline")
    data = kehu_cli(*args, "--json").json
    check = data["plausibility"]
    flagged = {c["node"]: c for c in check["customers"]}
    assert set(flagged) == {"UP"} and check["customers_flagged"] == 1
    up = flagged["UP"]
    assert up["trailing_year"] == 780.0  # 10 + 20 + ... + 120
    assert up["multiple"] == pytest.approx(up["plan_year"] / 780.0, abs=0.005) and up["multiple"] > 2
    assert data["warnings"][-1] == f"plan is {up['multiple']:.1f}x the trailing 12 months for customer UP"
    text = kehu_cli(*args)
    assert text.exit_code == 0, text.output
    assert f"warning: plan is {up['multiple']:.1f}x the trailing 12 months for customer UP" in text.output


def test_no_warning_when_nothing_is_flagged(company, fc, kehu_cli):
    data = kehu_cli("forecast", "run", "--as-of", fc.AS_OF, "--horizon", "3", "--json").json
    assert data["warnings"] == [] and data["plausibility"]["customers_flagged"] == 0
    assert "warning:" not in kehu_cli("forecast", "run", "--as-of", fc.AS_OF, "--horizon", "3").output


@pytest.mark.parametrize(
    ("today", "current"),
    [
        (date(2026, 3, 31), True),  # the run's last month, on its last day
        (date(2026, 4, 1), False),  # one day later: the run covers up to 2026-03
        (date(2026, 1, 1), True),  # its first month
    ],
)
def test_card_says_no_current_forecast_when_the_run_has_ended(
    company, fc, kehu_cli, monkeypatch, today, current
):
    run = kehu_cli("forecast", "run", "--as-of", fc.AS_OF, "--horizon", "3", "--json").json["run_id"]
    monkeypatch.setattr(calendar, "today", lambda *a, **k: today)
    with company.session() as session:
        section = forecast_section(session, session.get(Customer, company.ids["C1"]))
    assert section.data["current"] is current and section.data["run_id"] == run
    shown = dict(section.rows)
    if current:
        assert Decimal(section.data["expected_next_quarter"]) > 0 and "expected next quarter" in shown
    else:
        assert section.rows == [
            (
                "next quarter",
                f"no current forecast; last run {run} (bottomup) covers up to 2026-03: kehu forecast run",
            )
        ]
        assert "¥0.00" not in str(section.rows)
