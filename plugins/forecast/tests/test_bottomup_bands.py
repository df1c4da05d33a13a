"""A bottom-up run's own 80% band: each node's own model interval and the pipeline's variance,
the pipeline placed by close date, and what the run records for ``reconcile``."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest
from sqlalchemy import update

from kehu_forecast import engine as E
from kehu_forecast import intervals
from kehu_forecast.models import opportunities
from kehu_forecast.plan import load
from kehu_forecast.reconcile import run_history

#: The run's periods from the as-of day 2026-01-15 with --horizon 3: 2026-01, 2026-02, 2026-03.
PERIODS = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]


def _add(
    company, kehu_cli, close: str, amount: str = "1000", recorded: str = "2026-01-10T02:00:00+00:00"
) -> None:
    """An opportunity for C1 at 50%, recorded at ``recorded`` (before the as-of day by default)."""
    added = kehu_cli(
        "forecast", "opportunity", "add", "C1", amount, "--probability", "50%", "--close", close, "--json"
    )
    assert added.exit_code == 0, added.output
    with company.session() as session:
        session.execute(
            update(opportunities)
            .where(opportunities.c.ref == added.json["ref"])
            .values(created_at=datetime.fromisoformat(recorded))
        )


def _run(fc, kehu_cli, *extra: str):
    run = kehu_cli(
        "forecast", "run", "--as-of", fc.AS_OF, "--horizon", "3", "--history", "12", "--json", *extra
    )
    assert run.exit_code == 0, run.output
    return run


@pytest.mark.parametrize(
    ("close", "period"),
    [
        ("2025-12-31", 0),  # still open after its close date: late, in the first period
        ("2026-01-01", 0),  # the first day of the first period
        ("2026-03-31", 2),  # the last day of the last period
        ("2026-04-01", None),  # the day after the horizon: left out
    ],
)
def test_the_run_places_the_pipeline_and_its_variance_by_close_date(fc, company, kehu_cli, close, period):
    _add(company, kehu_cli, close)
    run = _run(fc, kehu_cli)
    quiet_run = _run(fc, kehu_cli, "--no-pipeline")
    with company.session() as session:
        plan = load(session, run.json["run_id"])
        quiet = load(session, quiet_run.json["run_id"])
    row = plan.hierarchy.index()[("customer", "C1")]
    expected = [0, 0, 0]
    if period is not None:
        expected[period] = 500_00  # 1,000 at 50%
    assert plan.pipeline[row].tolist() == expected
    assert plan.pipeline[0].tolist() == expected  # the company above it
    # The company's band: its own model's σ² plus p(1 − p)·amount² = 0.25 × 1,000² where the
    # opportunity lands, nothing added elsewhere.
    sigma = quiet.high[0] - quiet.value[0]
    widened = plan.high[0] - plan.value[0]
    for j in range(3):
        if j == period:
            own = sigma[j] / 100 / E.Z80
            assert widened[j] == pytest.approx(E.Z80 * np.sqrt(own**2 + 250_000.0) * 100, abs=1)
        else:
            assert widened[j] == sigma[j]


def test_the_company_band_is_its_own_model_interval_not_the_sum_of_customers(fc, company, kehu_cli):
    run = _run(fc, kehu_cli, "--no-pipeline")
    with company.session() as session:
        plan = load(session, run.json["run_id"])
        nodes = run_history(session, plan)
    own = E.forecast(nodes[:1], "month", 3, PERIODS[0])  # the company series' own model, alone
    assert (plan.high[0] - plan.value[0]).tolist() == [round(E.Z80 * s * 100) for s in own.sigma[0]]
    assert plan.params[intervals.PIPELINE_VARIANCE] is True
    assert plan.params["as_of"] == "2026-01-15"
    assert (plan.low <= plan.value).all() and (plan.value <= plan.high).all() and plan.low.min() >= 0


@pytest.mark.parametrize(
    ("recorded", "known"),
    [
        ("2026-01-15T15:59:59+00:00", True),  # 23:59:59 on the as-of day in Shanghai
        ("2026-01-15T16:00:00+00:00", False),  # midnight after: the next day
    ],
)
def test_the_run_as_of_a_day_and_its_reconciliation_see_the_same_pipeline(
    fc, company, kehu_cli, recorded, known
):
    _add(company, kehu_cli, "2026-02-20", amount="100000", recorded=recorded)
    run = _run(fc, kehu_cli)
    result = kehu_cli("forecast", "reconcile", "--method", "bottom-up", "--json")
    assert result.exit_code == 0, result.output
    with company.session() as session:
        bu = load(session, run.json["run_id"])
        plan = load(session, result.json["run_id"])
    row = bu.hierarchy.index()[("customer", "C1")]
    assert bu.pipeline[row, 1] == (50_000_00 if known else 0)
    # The pipeline's variance is in the run's band once, and reconcile does not add it again.
    assert np.abs(plan.high - bu.high).max() <= 2
    assert np.abs(plan.low - bu.low).max() <= 2
