"""Targets over whole periods whatever month the plan starts in, lines that add up to the
target, and actuals that count every customer of the salesperson."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import func, select

from kehu_core import calendar
from kehu_core.customers import add_customer
from kehu_core.interactions import write_interactions
from kehu_forecast import api
from kehu_forecast import hierarchy as H
from kehu_forecast.history import customer_frame
from kehu_forecast.models import target_lines, targets
from kehu_forecast.plan import Plan, store
from kehu_forecast.targets import windows

#: The plan's monthly amount per customer (yuan): 张伟 has C1 and C2 (2,000 + 1,000 a month).
PLANNED = {"C1": 2000, "C2": 1000, "C3": 400, "C4": 1500, "C5": 300}


def _store_plan(app, session, first: date, horizon: int = 6) -> int:
    customers = customer_frame(session)
    h = H.build(customers)
    bottom = np.array([[PLANNED[c] * 100] * horizon for c in h.customers["code"]], dtype=np.int64)
    periods = [calendar.shift(first, k, "month") for k in range(horizon)]
    plan = Plan.from_bottom(
        h,
        bottom,
        kind="reconciled",
        method="by hand",
        freq="month",
        periods=periods,
        history_end=calendar.shift(first, -1, "month"),
    )
    return store(app, session, plan)


def _recorded(fc, code: str, year: int, month: int) -> Decimal:
    """The test company's purchases of ``code`` in a month (its series starts 2024-01)."""
    return Decimal(str(fc.series()[code][(year - 2024) * 12 + month - 1])).quantize(Decimal("0.01"))


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        (
            date(2025, 1, 1),
            [
                (date(2025, 1, 1), date(2025, 3, 31), [0, 1, 2], []),
                (date(2025, 4, 1), date(2025, 6, 30), [3, 4, 5], []),
            ],
        ),
        # One month into the quarter: January is recorded, the plan ends inside Q3 (no target).
        (
            date(2025, 2, 1),
            [
                (date(2025, 1, 1), date(2025, 3, 31), [0, 1], [date(2025, 1, 1)]),
                (date(2025, 4, 1), date(2025, 6, 30), [2, 3, 4], []),
            ],
        ),
        (
            date(2025, 3, 1),
            [
                (date(2025, 1, 1), date(2025, 3, 31), [0], [date(2025, 1, 1), date(2025, 2, 1)]),
                (date(2025, 4, 1), date(2025, 6, 30), [1, 2, 3], []),
            ],
        ),
    ],
)
def test_quarter_windows_are_whole_quarters_by_hand(first, expected):
    periods = [calendar.shift(first, k, "month") for k in range(6)]
    assert windows(periods, "quarter") == expected


@pytest.mark.parametrize("month", range(1, 13))
def test_a_quarter_target_is_consistent_whatever_month_the_plan_starts(fc, company, month):
    first = date(2025, month, 1)
    quarter = calendar.period_start(first, "quarter")
    end = calendar.period_end(calendar.shift(quarter, 2, "month"), "month")
    with company.session() as session:
        run_id = _store_plan(company, session, first)
        saved = api.set_targets(company, session, run_id=run_id, grouping="quarter")
    target = next(t for t in saved if t.salesperson == "张伟" and t.period_start == quarter)
    assert target.period_end == end  # the whole quarter, whatever the start month
    # Months of the quarter before the plan at their recorded sales, the rest as planned.
    before = [m for m in range(quarter.month, month)]
    planned = 3 - len(before)
    recorded = sum((_recorded(fc, c, 2025, m) for c in ("C1", "C2") for m in before), Decimal("0.00"))
    assert target.amount == recorded + planned * Decimal("3000.00")
    assert sum(line["amount"] for line in target.customers) == target.amount  # lines add up
    with company.session() as session:
        stored = session.scalar(
            select(func.sum(target_lines.c.amount)).where(target_lines.c.target_id == target.id)
        )
        assert Decimal(stored) == target.amount
        assert session.scalar(select(targets.c.amount).where(targets.c.id == target.id)) == target.amount
        # Tracked at the quarter's last day: the quarter's actual sales of all of 张伟's customers.
        progress = next(
            p for p in api.track(session, as_of=end, salesperson="张伟") if p.period_start == quarter
        )
    actual = sum(
        (_recorded(fc, c, 2025, m) for c in ("C1", "C2") for m in range(quarter.month, quarter.month + 3)),
        Decimal("0.00"),
    )
    assert progress.actual == actual and progress.elapsed_pct == 100.0
    assert progress.status == ("met" if actual >= target.amount else "missed")
    # The baseline is the same quarter a year earlier.
    baseline = sum(
        (_recorded(fc, c, 2024, m) for c in ("C1", "C2") for m in range(quarter.month, quarter.month + 3)),
        Decimal("0.00"),
    )
    assert target.baseline == baseline
    # A plan that ends inside a quarter sets no target for it.
    last = calendar.shift(first, 5, "month")
    if calendar.period_end(last, "month") != calendar.period_end(
        calendar.shift(calendar.period_start(last, "quarter"), 2, "month"), "month"
    ):
        assert all(t.period_start != calendar.period_start(last, "quarter") for t in saved)


def test_a_new_customer_of_the_salesperson_counts_in_the_actuals(fc, company):
    with company.session() as session:
        run_id = _store_plan(company, session, date(2026, 1, 1), horizon=3)
        api.set_targets(company, session, run_id=run_id, grouping="quarter")
        new = add_customer(
            company, session, {"code": "C6", "name": "新客户", "region": "华东", "owner": "张伟"}
        )
        write_interactions(
            company, session, fc.month_rows(new.id, "C6", [500000.0], start=(2026, 2)), source="test"
        )
    with company.session() as session:
        row = next(p for p in api.track(session, as_of=date(2026, 3, 31), salesperson="张伟"))
    assert row.amount == Decimal("9000.00")  # 3 months × (2,000 + 1,000)
    assert row.actual == Decimal("500000.00") and row.status == "met"


@pytest.mark.parametrize(("extra", "status"), [("-0.01", "missed"), ("0.00", "met"), ("0.01", "met")])
def test_met_exactly_at_the_amount(fc, company, extra, status):
    with company.session() as session:
        run_id = _store_plan(company, session, date(2026, 1, 1), horizon=1)
        api.set_targets(company, session, run_id=run_id, grouping="month")
        write_interactions(
            company,
            session,
            fc.month_rows(
                company.ids["C1"], "C1", [float(Decimal("3000.00") + Decimal(extra))], start=(2026, 1)
            ),
            source="test",
        )
    with company.session() as session:
        row = next(p for p in api.track(session, as_of=date(2026, 1, 31), salesperson="张伟"))
    assert (row.amount, row.status) == (Decimal("3000.00"), status)


def test_a_replaced_target_keeps_only_its_new_lines(fc, company):
    with company.session() as session:
        first = _store_plan(company, session, date(2026, 1, 1), horizon=3)
        api.set_targets(company, session, run_id=first, grouping="quarter")
        second = _store_plan(company, session, date(2026, 1, 1), horizon=3)
        saved = api.set_targets(company, session, run_id=second, grouping="quarter")
        for target in saved:
            total = session.scalar(
                select(func.sum(target_lines.c.amount)).where(target_lines.c.target_id == target.id)
            )
            assert Decimal(total) == target.amount
        assert session.scalar(select(func.count()).select_from(targets)) == len(saved)
