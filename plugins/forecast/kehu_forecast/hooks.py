"""The plugin's hook bodies (profile section, scheduled job, export), kept out of ``__init__``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any


def profile_sections(session: Any, customer: Any) -> list[Any]:
    """Expected purchases over the next quarter (three months or 13 weeks) from the newest run."""
    from sqlalchemy import select

    from kehu_core import ProfileSection
    from kehu_core.types import to_money
    from kehu_forecast.periods import local_today, period_start
    from kehu_forecast.plan import latest_run
    from kehu_forecast.tables import runs, values

    run_id = latest_run(session, kinds=("reconciled", "bottomup"))
    if run_id is None:
        return [
            ProfileSection(
                title="销售预测 Forecast",
                rows=[("next quarter", "no forecast yet: kehu forecast run")],
                data={"run_id": None},
                key="forecast",
                order=600,
            )
        ]
    run = session.execute(select(runs).where(runs.c.id == run_id)).mappings().one()
    today = period_start(local_today(), run["freq"])
    span = 3 if run["freq"] == "month" else 13
    rows = session.execute(
        select(values.c.period, values.c.value, values.c.low, values.c.high, values.c.method)
        .where(
            values.c.run_id == run_id,
            values.c.customer_id == customer.id,
            values.c.level == "customer",
            values.c.period >= today,
        )
        .order_by(values.c.period)
        .limit(span)
    ).all()
    total = sum((to_money(r.value) for r in rows), to_money(0))
    low = sum((to_money(r.low) for r in rows if r.low is not None), to_money(0))
    high = sum((to_money(r.high) for r in rows if r.high is not None), to_money(0))
    model = rows[0].method if rows else None
    data = {
        "run_id": run_id,
        "kind": run["kind"],
        "expected_next_quarter": total,
        "low": low,
        "high": high,
        "model": model,
        "periods": [{"period": r.period, "value": to_money(r.value)} for r in rows],
    }
    shown = [
        ("expected next quarter", f"¥{total:,}"),
        ("pessimistic - optimistic", f"¥{low:,} - ¥{high:,}"),
        ("model", model or "-"),
        ("run", f"{run_id} ({run['kind']})"),
    ]
    return [ProfileSection(title="销售预测 Forecast", rows=shown, data=data, key="forecast", order=600)]


def refresh(session: Any, now: datetime) -> str:
    """Make a bottom-up run when no run covers the newest complete period yet (idempotent)."""
    from sqlalchemy import select

    from kehu_forecast.bottomup import Options, bottom_up
    from kehu_forecast.periods import local_today, period_start, shift
    from kehu_forecast.plan import store
    from kehu_forecast.tables import runs

    today = local_today(now)
    wanted_end = shift(period_start(today, "month"), -1, "month")
    done = session.scalar(
        select(runs.c.id)
        .where(runs.c.kind == "bottomup", runs.c.freq == "month", runs.c.history_end >= wanted_end)
        .limit(1)
    )
    if done is not None:
        return f"forecast run {done} already covers history up to {wanted_end}"
    plan = bottom_up(session, Options(as_of=today))
    run_id = store(session, plan, source="job")
    return f"forecast run {run_id}: history up to {plan.history_end}, {plan.hierarchy.n_bottom} customers"


def jobs() -> list[Any]:
    """The refresh job."""
    from kehu_core import Job

    return [
        Job(
            name="forecast.refresh",
            interval=timedelta(days=1),
            run=refresh,
            plugin="forecast",
            description="Refresh the bottom-up sales forecast when a new month of history is complete",
        )
    ]


def export_customer(session: Any, customer: Any) -> dict[str, Any] | None:
    """The customer's opportunities, for ``kehu customer export``."""
    from kehu_forecast.pipeline import list_opportunities

    opps = list_opportunities(session, customer=customer.code)
    if not opps:
        return None
    return {
        "opportunities": [
            {
                "ref": o.ref,
                "amount": o.amount,
                "stage": o.stage,
                "probability": o.probability,
                "close_date": o.close_date,
                "status": o.status,
                "salesperson": o.salesperson,
            }
            for o in opps
        ]
    }


def erase_customers(session: Any, customer_ids: Any) -> None:
    """Drop the notes (free text that may name people) of the customers' opportunities."""
    from kehu_forecast.tables import opportunities as T

    ids = list(customer_ids)
    for begin in range(0, len(ids), 500):
        session.execute(T.update().where(T.c.customer_id.in_(ids[begin : begin + 500])).values(note=None))
