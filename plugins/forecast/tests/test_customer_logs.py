"""Acceptance on generated customer logs shaped like real ones: the default plan against the truth.

The logs are simulated from fixed random states and small: most customers buy once (about 70%), purchase sizes
have a long tail, some purchases are refunded weeks later (often in another month), customers
keep arriving, and times are local (Asia/Shanghai) hours stored in UTC, so early-morning
purchases on the 1st fall in the previous UTC month. Occasional customers follow a Pareto/NBD
process (Poisson purchases, exponential lifetimes), a different process from the BG/NBD the
plugin fits, so the test is not the model checking itself. A few regular customers buy almost
every month with a season.

The truth is the simulated net sales of the six months after the cutoff: the realised ones,
and their expectation given each customer's simulated state at the cutoff.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from kehu_core import calendar
from kehu_core.customers import add_customer
from kehu_core.interactions import write_interactions
from kehu_core.models import Customer
from kehu_forecast.models import values as V
from kehu_forecast.profile import forecast_section

CUTOFF = date(2026, 1, 1)  # the first forecast month; history is the 36 months before
AS_OF = "2026-01-15"
FUTURE_END = date(2026, 7, 1)
START = date(2023, 1, 1)
LOCAL = timedelta(hours=8)  # Asia/Shanghai, no daylight saving
REFUND_SHARE = 0.06
DAYS_PER_MONTH = 365.25 / 12
#: Average acceptance bound: the default 6-month company plan against the simulated truth.
TOLERANCE = 0.35
DRAWS = (1, 2, 3)


def _months(day: date) -> float:
    return (day - START).days / DAYS_PER_MONTH


def _day(months: float) -> date:
    return START + timedelta(days=int(months * DAYS_PER_MONTH))


def customer_log(draw: int, n: int = 1000) -> dict[str, Any]:
    """Customers and their purchases and refunds (local days and times), with the truth."""
    rng = np.random.default_rng(draw)
    horizon = _months(FUTURE_END)
    cutoff = _months(CUTOFF)
    customers: list[dict[str, Any]] = []
    events: list[tuple[int, datetime, float]] = []  # customer index, local time, amount
    expected = 0.0
    for i in range(n):
        regular = rng.random() < 0.08
        birth = rng.uniform(0, 12 if regular else cutoff)
        mean_value = float(rng.lognormal(math.log(1500), 1.0))
        times: list[float] = [birth]
        if regular:
            churn = 0.01  # per month
            month = math.floor(birth) + 1
            death = birth + rng.exponential(1 / churn)
            while month < horizon and month < death:
                if rng.random() < 0.9:
                    times.append(month + rng.uniform(0, 0.95))
                month += 1
            alive = death > cutoff
            left = 6.0
            if alive:
                # expected purchases over the next six months, surviving month by month
                expected += sum(0.9 * (1 - churn) ** (k + 1) for k in range(int(left))) * mean_value
        else:
            lam = rng.gamma(0.4, 1 / 5.0)  # purchases per month (mean 0.08)
            mu = rng.gamma(1.0, 1 / 6.0)  # death rate per month (mean lifetime ~6 months)
            death = birth + rng.exponential(1 / mu)
            t = birth
            while True:
                t += rng.exponential(1 / lam)
                if t >= min(death, horizon):
                    break
                times.append(t)
            if death > cutoff:
                expected += lam * (1 - math.exp(-mu * 6)) / mu * mean_value
        customers.append({"code": f"K{i:04d}", "regular": regular})
        for t in times:
            if t >= horizon:
                continue
            day = _day(t)
            local = datetime(day.year, day.month, day.day, int(rng.integers(0, 24)), int(rng.integers(0, 60)))
            amount = round(float(rng.gamma(4.0, mean_value / 4.0)), 2)
            events.append((i, local, amount))
            if rng.random() < REFUND_SHARE:
                back = local + timedelta(days=int(rng.integers(1, 45)))
                events.append((i, back, -round(amount * float(rng.uniform(0.2, 1.0)), 2)))
    history = [e for e in events if e[1].date() < CUTOFF]
    realised = sum(a for _, t, a in events if CUTOFF <= t.date() < FUTURE_END)
    return {
        "customers": customers,
        "history": history,
        "realised": realised,
        # refunds take back REFUND_SHARE × 0.6 of the expected gross on average
        "expected": expected * (1 - REFUND_SHARE * 0.6),
    }


def test_generated_log_looks_like_a_real_one():
    log = customer_log(DRAWS[0])
    counts: dict[int, int] = {}
    for i, _, amount in log["history"]:
        if amount > 0:
            counts[i] = counts.get(i, 0) + 1
    one_time = sum(1 for c in counts.values() if c == 1) / len(counts)
    amounts = np.array([a for _, _, a in log["history"] if a > 0])
    assert 0.6 <= one_time <= 0.8, one_time
    assert np.quantile(amounts, 0.99) > 8 * np.median(amounts)  # a long tail
    assert any(a < 0 for _, _, a in log["history"])  # refunds


def _load(app: Any, log: dict[str, Any]) -> None:
    with app.session() as session:
        ids = [
            add_customer(
                app, session, {"code": c["code"], "name": c["code"], "region": "华东", "owner": "张伟"}
            ).id
            for c in log["customers"]
        ]
        rows = [
            {
                "customer_id": ids[i],
                "kind": "purchase",
                "status": "done",
                "occurred_at": (local - LOCAL).replace(tzinfo=UTC),
                "amount": Decimal(f"{amount:.2f}"),
                "external_ref": f"log:{k}",
            }
            for k, (i, local, amount) in enumerate(log["history"])
        ]
        write_interactions(app, session, rows, source="test")


@pytest.mark.parametrize("draw", DRAWS)
def test_default_six_month_plan_is_near_the_simulated_truth(
    draw, kehu_app, kehu_install, kehu_cli, monkeypatch
):
    kehu_install("forecast")
    log = customer_log(draw)
    _load(kehu_app, log)
    result = kehu_cli("forecast", "run", "--as-of", AS_OF, "--horizon", "6", "--no-pipeline", "--json")
    assert result.exit_code == 0, result
    plan = float(Decimal(result.json["total"]))
    ratio_realised = plan / log["realised"]
    ratio_expected = plan / log["expected"]
    RATIOS[(kehu_app.engine.dialect.name, draw)] = (ratio_realised, ratio_expected)
    print(f"draw {draw}: plan {plan:,.0f} realised {log['realised']:,.0f} expected {log['expected']:,.0f}")
    print(f"draw {draw}: plan/realised {ratio_realised:.3f} plan/expected {ratio_expected:.3f}")
    # each draw within a wider bound; the average is checked below
    assert 0.5 <= ratio_realised <= 1.5
    if draw == DRAWS[0]:
        _check_card(kehu_app, result.json["run_id"], monkeypatch)


def _check_card(app: Any, run_id: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The profile card of customer-base customers: expected purchases and P(alive)."""
    monkeypatch.setattr(calendar, "today", lambda *a, **k: date(2026, 1, 15))
    with app.session() as session:
        rows = session.execute(
            select(V.c.customer_id).where(V.c.run_id == run_id, V.c.method == "bgnbd").distinct().limit(5)
        ).all()
        assert rows
        for (cid,) in rows:
            data = forecast_section(session, session.get(Customer, cid)).data
            assert 0.0 <= data["p_alive"] <= 1.0
            assert 0.0 <= data["purchases_6m"] <= data["purchases_12m"]


#: plan/realised and plan/expected per database and draw, filled by the runs above
RATIOS: dict[tuple[str, int], tuple[float, float]] = {}


def test_average_over_draws_within_tolerance():
    if len(RATIOS) < len(DRAWS):  # run alone (-k): nothing to average
        pytest.skip("needs the per-draw runs of this module on the same database")
    mean_realised = float(np.mean([r for r, _ in RATIOS.values()]))
    mean_expected = float(np.mean([e for _, e in RATIOS.values()]))
    print(f"mean plan/realised {mean_realised:.3f} plan/expected {mean_expected:.3f}")
    assert abs(mean_realised - 1) <= TOLERANCE
    assert abs(mean_expected - 1) <= TOLERANCE
