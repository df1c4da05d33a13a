"""The forecast section of the customer profile card (客户资料卡, ``kehu customer show``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Float, cast, func, select
from sqlalchemy.orm import Session

from kehu_core import calendar, sql
from kehu_core.hooktypes import ProfileSection
from kehu_core.i18n import N_, messages
from kehu_core.models import Customer, Interaction
from kehu_core.types import to_money
from kehu_forecast import customerbase as CB
from kehu_forecast import periods as P
from kehu_forecast.methods import model_label
from kehu_forecast.models import runs, values
from kehu_forecast.runs import RUN_KIND_NAMES, current_coverage

_ = messages("kehu_forecast").gettext

#: The section's title: the course material's name, with the English one in English.
TITLE = N_("销售预测 Forecast")


def forecast_section(session: Session, customer: Customer) -> ProfileSection:
    """Expected purchases over the next quarter (three months or 13 weeks) from the newest
    reconciled or bottom-up run, with its pessimistic-optimistic range and the model used.

    When the newest run ends before the current month (or week), no amount is shown but
    ``no current forecast; last run N (kind) covers up to YYYY-MM: kehu forecast run``."""
    coverage = current_coverage(session, ("reconciled", "bottomup"))
    run_id = coverage.run_id
    if run_id is None or not coverage.current:
        return ProfileSection(
            title=_(TITLE),
            rows=[(_("next quarter"), coverage.message)],
            data={
                "run_id": run_id,
                "kind": coverage.kind,
                "current": False,
                "last_period": coverage.last_period,
            },
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
        "current": True,
        "expected_next_quarter": total,
        "low": low,
        "high": high,
        "model": model,
        "periods": [{"period": r.period, "value": to_money(r.value)} for r in rows],
    }
    shown = [
        (_("expected next quarter"), f"¥{total:,}"),
        (_("pessimistic - optimistic"), f"¥{low:,} - ¥{high:,}"),
        (_("model"), model_label(model)),
    ]
    params = dict(run["params"] or {})
    if model == "bgnbd" and params.get("customer_base"):
        outlook = customer_outlook(session, customer.id, run["freq"], run["history_end"], params)
        data.update(outlook)
        shown += [
            (
                _("expected purchases, 6 / 12 months"),
                f"{outlook['purchases_6m']:.2f} / {outlook['purchases_12m']:.2f}",
            ),
            (_("probability still buying (P(alive))"), f"{outlook['p_alive']:.0%}"),
        ]
    shown.append((_("run"), _("{id} ({kind})").format(id=run_id, kind=RUN_KIND_NAMES.label(run["kind"]))))
    return ProfileSection(title=_(TITLE), rows=shown, data=data, key="forecast", order=600)


def customer_outlook(
    session: Session, customer_id: int, freq: P.Freq, history_end: date, params: dict[str, Any]
) -> dict[str, float]:
    """Expected purchases (transactions: periods with a purchase) in the next 6 and 12 months
    and the probability of still buying, from the run's customer-base model and the customer's
    purchases over the run's history."""
    model = CB.CustomerBase.from_params(params["customer_base"])
    start = date.fromisoformat(params["history_start"]) if params.get("history_start") else None
    end = calendar.shift(history_end, 1, freq)
    bucket = calendar.sql_period_start(Interaction.occurred_at, freq, sql.dialect_of(session)).label("period")
    stmt = (
        select(bucket, cast(func.sum(Interaction.amount), Float))
        .where(
            Interaction.customer_id == customer_id,
            Interaction.kind == "purchase",
            Interaction.status == "done",
            Interaction.amount.is_not(None),
            Interaction.occurred_at < calendar.day_start(end),
        )
        .group_by(bucket)
    )
    if start is not None:
        stmt = stmt.where(Interaction.occurred_at >= calendar.day_start(start))
    first = start or end
    totals = {date.fromisoformat(str(p)[:10]): float(a) for p, a in session.execute(stmt).all()}
    if totals and start is None:
        first = min(totals)
    count = max(P.periods_between(first, end, freq), 1)
    row = np.zeros((1, count))
    for j, p in enumerate(P.periods(first, count, freq)):
        row[0, j] = totals.get(p, 0.0)
    s = CB.summarize(row)
    per_month = 1 if freq == "month" else 52 / 12
    six = CB.expected_purchases(model.bgnbd, s.x, s.t_x, s.T, 6 * per_month)[0]
    twelve = CB.expected_purchases(model.bgnbd, s.x, s.t_x, s.T, 12 * per_month)[0]
    alive = CB.p_alive(model.bgnbd, s.x, s.t_x, s.T)[0] if s.n[0] > 0 else 0.0
    return {"purchases_6m": float(six), "purchases_12m": float(twelve), "p_alive": float(alive)}
