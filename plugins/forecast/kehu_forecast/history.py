"""Sales history: net purchases per customer and period, aggregated set-based in SQL.

Purchases are interactions of kind ``purchase`` with status ``done``; negative amounts are
refunds and reduce their period. Each customer belongs to its account owner (``owner``,
the salesperson) and its region, which gives the hierarchy customer → salesperson →
region → company. Archived customers are left out (nobody forecasts them).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from attrs import frozen
from sqlalchemy import Float, cast, func, select
from sqlalchemy.orm import Session

from kehu_core import calendar, sql
from kehu_core.access import customer_condition, visible_customers
from kehu_core.errors import Problem, ValidationError
from kehu_core.models import Customer, Interaction
from kehu_forecast import hierarchy as H
from kehu_forecast import periods as P
from kehu_forecast.visibility import require_levels

NO_REGION = "(无地区)"
NO_SALESPERSON = "(未分配)"
NO_CATEGORY = "(无类别)"


@frozen
class SalesHistory:
    """Customers (rows) by periods (columns) of net purchases, in yuan as floats.

    ``customers`` has columns id, code, name, salesperson, region, industry, in the row order
    of ``values``; ``periods`` are the period starts; ``history_end`` is the last one.
    """

    freq: P.Freq
    periods: list[date]
    customers: pd.DataFrame
    values: np.ndarray

    @property
    def history_end(self) -> date:
        """The start of the last complete period of history."""
        return self.periods[-1]

    @property
    def next_period(self) -> date:
        """The first period to forecast."""
        return calendar.shift(self.periods[-1], 1, self.freq)


def customer_frame(session: Session, *, visible: bool = False) -> pd.DataFrame:
    """Active customers with their place in the hierarchy (blank owner/region get a label);
    with ``visible``, only those the acting user's record rules let them see."""
    stmt = select(
        Customer.id, Customer.code, Customer.name, Customer.owner, Customer.region, Customer.industry
    ).where(Customer.active.is_(True), Customer.forgotten_at.is_(None))
    rule = customer_condition(session) if visible else None
    if rule is not None:
        stmt = stmt.where(rule)
    rows = session.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=["id", "code", "name", "salesperson", "region", "industry"])
    frame["salesperson"] = frame["salesperson"].fillna(NO_SALESPERSON).replace("", NO_SALESPERSON)
    frame["region"] = frame["region"].fillna(NO_REGION).replace("", NO_REGION)
    frame["industry"] = frame["industry"].fillna("").astype(str)
    return frame.sort_values(["region", "salesperson", "code"], kind="stable").reset_index(drop=True)


def purchase_totals(
    session: Session,
    freq: P.Freq,
    start: date | None,
    end: date,
    by_category: bool = False,
    *,
    visible: bool = False,
) -> pd.DataFrame:
    """Net purchases per customer (and category) per period, as one GROUP BY in SQL.

    ``start``/``end`` are local period starts; ``end`` is exclusive. With ``visible``, only
    the customers the acting user sees.
    """
    bucket = calendar.sql_period_start(Interaction.occurred_at, freq, sql.dialect_of(session)).label("period")
    cols: list[Any] = [Interaction.customer_id, bucket]
    if by_category:
        cols.append(func.coalesce(Interaction.category, NO_CATEGORY).label("category"))
    stmt = (
        # Floats from here on: the models work in floats; money is exact again at the edges.
        select(*cols, cast(func.sum(Interaction.amount), Float).label("amount"))
        .where(Interaction.kind == "purchase", Interaction.status == "done", Interaction.amount.is_not(None))
        .where(Interaction.occurred_at < calendar.day_start(end))
    )
    if start is not None:
        stmt = stmt.where(Interaction.occurred_at >= calendar.day_start(start))
    if visible and customer_condition(session) is not None:
        stmt = stmt.where(visible_customers(session, Interaction.__table__.c.customer_id))
    stmt = stmt.group_by(*[c for c in cols])
    names = ["customer_id", "period"] + (["category"] if by_category else []) + ["amount"]
    frame = pd.DataFrame(session.execute(stmt).all(), columns=names)
    frame["amount"] = frame["amount"].astype(float)
    # Few distinct periods: parse each once.
    frame["period"] = frame["period"].map(
        {p: date.fromisoformat(str(p)[:10]) for p in frame["period"].unique()}
    )
    return frame


def load_history(
    session: Session,
    freq: str = "month",
    *,
    as_of: date | None = None,
    length: int | None = None,
    first: date | None = None,
    visible: bool = False,
) -> SalesHistory:
    """The sales history matrix up to the last complete period before ``as_of`` (default today).

    ``length`` caps the number of periods kept (default 36 months or 156 weeks); the history
    starts at the first period with a purchase, or ``first`` if given. With ``visible``, only
    the customers the acting user's record rules let them see (reports); without, every
    customer (the forecast runs, which are the company's).
    """
    unit = P.check_freq(freq)
    current = calendar.period_start(as_of or calendar.today(), unit)
    length = length or P.DEFAULT_HISTORY[unit]
    earliest = calendar.shift(current, -length, unit)
    start = max(first, earliest) if first else earliest
    customers = customer_frame(session, visible=visible)
    totals = purchase_totals(session, unit, start, current, visible=visible)
    if first is None and len(totals):
        start = max(start, min(totals["period"]))
    # No purchase at all: no history (rather than 36 months of zeros).
    count = max(0, P.periods_between(start, current, unit)) if len(totals) or first else 0
    period_list = P.periods(start, count, unit)
    matrix = np.zeros((len(customers), count))
    if len(totals) and count:
        row_of = {cid: i for i, cid in enumerate(customers["id"])}
        col_of = {p: j for j, p in enumerate(period_list)}
        rows = totals["customer_id"].map(row_of)
        cols = totals["period"].map(col_of)
        keep = rows.notna() & cols.notna()
        np.add.at(
            matrix,
            (rows[keep].astype(int).to_numpy(), cols[keep].astype(int).to_numpy()),
            totals["amount"][keep].to_numpy(),
        )
    return SalesHistory(freq=unit, periods=period_list, customers=customers, values=matrix)


def history_rows(
    session: Session,
    *,
    freq: str = "month",
    level: str = "region",
    by_category: bool = False,
    as_of: date | None = None,
    length: int | None = None,
) -> tuple[list[date], list[dict[str, Any]]]:
    """Net purchases per node of ``level`` (and product category) per period, for reports.

    Returns the periods and one row per node (and category) with ``node``, ``category``,
    one key per period (ISO date) and ``total``, in yuan as Decimal. Only the customers the
    acting user sees count; regions and the company need permission ``forecast.company``.
    """
    if level not in H.LEVELS:
        raise ValidationError([Problem("level", f"must be one of {', '.join(H.LEVELS)}", value=level)])
    require_levels(session, [level])
    history = load_history(session, freq, as_of=as_of, length=length, visible=True)
    h = H.build(history.customers)
    if not history.periods:
        return [], []
    nodes = h.levels[level]
    if by_category:
        end = calendar.shift(history.periods[-1], 1, history.freq)
        totals = purchase_totals(
            session, history.freq, history.periods[0], end, by_category=True, visible=True
        )
        categories = sorted(set(totals["category"]))
        row_of = {int(c): i for i, c in enumerate(h.customer_ids)}
        col_of = {p: j for j, p in enumerate(history.periods)}
        blocks = []
        for cat in categories:
            part = totals[(totals["category"] == cat) & totals["customer_id"].isin(row_of.keys())]
            y = np.zeros((h.n_bottom, len(history.periods)))
            np.add.at(
                y,
                (
                    part["customer_id"].map(row_of).to_numpy(dtype=int),
                    part["period"].map(col_of).to_numpy(dtype=int),
                ),
                part["amount"].to_numpy(),
            )
            blocks.append((cat, np.asarray(h.S @ y)))
    else:
        order = {int(c): i for i, c in enumerate(history.customers["id"])}
        blocks = [(None, h.aggregate(history.values[[order[int(c)] for c in h.customer_ids]]))]
    rows = []
    for i in nodes:
        for cat, matrix in blocks:
            cents = np.rint(matrix[i] * 100).astype(np.int64)
            if cat is not None and not cents.any():
                continue
            row: dict[str, Any] = {"node": h.keys[i], "category": cat}
            for p, c in zip(history.periods, cents):
                row[p.isoformat()] = Decimal(int(c)).scaleb(-2)
            row["total"] = Decimal(int(cents.sum())).scaleb(-2)
            rows.append(row)
    return history.periods, rows
