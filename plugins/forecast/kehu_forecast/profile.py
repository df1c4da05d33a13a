"""The forecast section of the customer profile card (客户资料卡, ``kehu customer show``)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.hooktypes import ProfileSection
from kehu_core.models import Customer
from kehu_core.types import to_money
from kehu_forecast.models import runs, values
from kehu_forecast.runs import latest_run

TITLE = "销售预测 Forecast"


def forecast_section(session: Session, customer: Customer) -> ProfileSection:
    """Expected purchases over the next quarter (three months or 13 weeks) from the newest
    reconciled or bottom-up run, with its pessimistic-optimistic range and the model used."""
    run_id = latest_run(session, kinds=("reconciled", "bottomup"))
    if run_id is None:
        return ProfileSection(
            title=TITLE,
            rows=[("next quarter", "no forecast yet: kehu forecast run")],
            data={"run_id": None},
            key="forecast",
            order=600,
        )
    run = session.execute(select(runs).where(runs.c.id == run_id)).mappings().one()
    current = calendar.period_start(calendar.today(), run["freq"])
    span = 3 if run["freq"] == "month" else 13
    rows = session.execute(
        select(values.c.period, values.c.value, values.c.low, values.c.high, values.c.method)
        .where(
            values.c.run_id == run_id,
            values.c.customer_id == customer.id,
            values.c.level == "customer",
            values.c.period >= current,
        )
        .order_by(values.c.period)
        .limit(span)
    ).all()
    zero = to_money(0)
    total: Decimal = sum((to_money(r.value) for r in rows), zero)
    low: Decimal = sum((to_money(r.low) for r in rows if r.low is not None), zero)
    high: Decimal = sum((to_money(r.high) for r in rows if r.high is not None), zero)
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
    return ProfileSection(title=TITLE, rows=shown, data=data, key="forecast", order=600)
