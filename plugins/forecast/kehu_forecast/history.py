"""Sales history: net purchases per customer and period, aggregated set-based in SQL.

Purchases are interactions of kind ``purchase`` with status ``done``; negative amounts are
refunds and reduce their period, and a period where refunds exceed purchases keeps its
negative net (history is never clipped; a forecast may be). Each customer belongs to its
account owner (``owner``, the salesperson) and its region, which gives the hierarchy
customer → salesperson → region → company.

Archived and forgotten customers are not forecast, but their past sales stay in the history
of every level above them (archiving or forgetting a customer does not rewrite the past):
:attr:`SalesHistory.departed` holds them, and :meth:`SalesHistory.node_values` adds them in.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from attrs import field, frozen
from sqlalchemy import Float, cast, func, or_, select
from sqlalchemy.orm import Session

from kehu_core import calendar, sql
from kehu_core.access import customer_condition, visible_customers
from kehu_core.models import Customer, Interaction
from kehu_forecast import hierarchy as H
from kehu_forecast import periods as P
from kehu_forecast.names import pick
from kehu_forecast.visibility import require_levels

NO_REGION = "(无地区)"
NO_SALESPERSON = "(未分配)"
NO_CATEGORY = "(无类别)"
#: The columns of :func:`customer_frame`.
CUSTOMER_COLUMNS = ["id", "code", "name", "salesperson", "region", "industry"]


def _no_customers() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in [*CUSTOMER_COLUMNS, "forgotten"]})


@frozen
class SalesHistory:
    """Customers (rows) by periods (columns) of net purchases, in yuan as floats.

    ``customers`` has columns id, code, name, salesperson, region, industry, in the row order
    of ``values``: the active customers, the ones forecast. ``departed`` (same columns and
    ``forgotten``, a bool) and ``departed_values`` are the archived and forgotten customers
    with purchases in the window: not forecast, but part of every upper level's past.
    ``periods`` are the period starts; ``history_end`` is the last one.
    """

    freq: P.Freq
    periods: list[date]
    customers: pd.DataFrame
    values: np.ndarray
    departed: pd.DataFrame = field(factory=_no_customers)
    departed_values: np.ndarray = field(factory=lambda: np.zeros((0, 0)))

    @property
    def history_end(self) -> date:
        """The start of the last complete period of history."""
        return self.periods[-1]

    @property
    def next_period(self) -> date:
        """The first period to forecast."""
        return calendar.shift(self.periods[-1], 1, self.freq)

    def total(self) -> np.ndarray:
        """The company's net sales per period, archived and forgotten customers included."""
        total = self.values.sum(axis=0)
        return np.asarray(total + self.departed_values.sum(axis=0) if len(self.departed_values) else total)

    def node_values(self, hierarchy: H.Hierarchy) -> np.ndarray:
        """Net sales per node of ``hierarchy`` and period (nodes × periods).

        A customer that is a node of ``hierarchy`` counts in its own row and every row above;
        any other customer of the history (archived, forgotten, or one left out of the
        hierarchy) counts in its salesperson's row and above, or its region's when the
        hierarchy has no such salesperson, or the company's only when neither is there.
        """
        t = len(self.periods)
        bottom = np.zeros((hierarchy.n_bottom, t))
        extra = np.zeros((len(hierarchy.keys), t))
        row_of = {int(c): i for i, c in enumerate(hierarchy.customer_ids)}
        index = hierarchy.index()
        for frame, matrix in ((self.customers, self.values), (self.departed, self.departed_values)):
            ids = [int(c) for c in frame["id"]]
            rows = np.array([row_of.get(c, -1) for c in ids], dtype=np.int64)
            inside = rows >= 0
            if inside.any():
                np.add.at(bottom, rows[inside], matrix[inside])
            for k in np.flatnonzero(~inside):
                region, salesperson = frame["region"].iloc[k], frame["salesperson"].iloc[k]
                node = index.get(("salesperson", f"{region}{H.SEP}{salesperson}"))
                if node is None:
                    node = index.get(("region", region), 0)
                while node >= 0:
                    extra[node] += matrix[k]
                    node = int(hierarchy.parent[node])
        return np.asarray(hierarchy.aggregate(bottom)) + extra


def customer_frame(session: Session, *, visible: bool = False, departed: bool = False) -> pd.DataFrame:
    """Active customers with their place in the hierarchy (blank owner/region get a label);
    with ``departed``, the archived and forgotten ones instead (with a ``forgotten`` column).
    With ``visible``, only those the acting user's record rules let them see."""
    stmt = select(
        Customer.id,
        Customer.code,
        Customer.name,
        Customer.owner,
        Customer.region,
        Customer.industry,
        Customer.forgotten_at.is_not(None).label("forgotten"),
    )
    if departed:
        stmt = stmt.where(or_(Customer.active.is_(False), Customer.forgotten_at.is_not(None)))
    else:
        stmt = stmt.where(Customer.active.is_(True), Customer.forgotten_at.is_(None))
    rule = customer_condition(session) if visible else None
    if rule is not None:
        stmt = stmt.where(rule)
    rows = session.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=[*CUSTOMER_COLUMNS, "forgotten"])
    frame["forgotten"] = frame["forgotten"].astype(bool)
    if not departed:
        frame = frame.drop(columns="forgotten")
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
    # Plain values (ids, text, floats): the driver's rows as they come, without a Row each.
    session.flush()
    rows = session.connection().execute(stmt).cursor.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=names)
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

    The history starts at the first period with a purchase (of any customer, archived and
    forgotten ones included), or ``first`` if given; ``length`` keeps at most that many of the
    newest periods (default: all of them). Net refunds stay negative. With ``visible``, only
    the customers the acting user's record rules let them see (reports); without, every
    customer (the forecast runs, which are the company's).
    """
    unit = P.check_freq(freq)
    current = calendar.period_start(as_of or calendar.today(), unit)
    start: date | None = first
    if length is not None:
        earliest = calendar.shift(current, -length, unit)
        start = max(first, earliest) if first else earliest
    customers = customer_frame(session, visible=visible)
    totals = purchase_totals(session, unit, start, current, visible=visible)
    if first is None and len(totals):
        start = min(totals["period"]) if start is None else max(start, min(totals["period"]))
    # No purchase at all: no history (rather than periods of zeros).
    period_list: list[date] = []
    if start is not None and (len(totals) or first):
        period_list = P.periods(start, max(0, P.periods_between(start, current, unit)), unit)
    col_of = {p: j for j, p in enumerate(period_list)}
    matrix = _fill(customers, totals, col_of)
    departed = customer_frame(session, visible=visible, departed=True)
    departed = departed[departed["id"].isin(set(totals["customer_id"]))].reset_index(drop=True)
    return SalesHistory(
        freq=unit,
        periods=period_list,
        customers=customers,
        values=matrix,
        departed=departed,
        departed_values=_fill(departed, totals, col_of),
    )


def _fill(customers: pd.DataFrame, totals: pd.DataFrame, col_of: dict[date, int]) -> np.ndarray:
    """The customers × periods matrix of ``totals`` (rows in the order of ``customers``)."""
    matrix = np.zeros((len(customers), len(col_of)))
    if len(totals) and col_of:
        row_of = {cid: i for i, cid in enumerate(customers["id"])}
        rows = totals["customer_id"].map(row_of)
        cols = totals["period"].map(col_of)
        keep = rows.notna() & cols.notna()
        np.add.at(
            matrix,
            (rows[keep].astype(int).to_numpy(), cols[keep].astype(int).to_numpy()),
            totals["amount"][keep].to_numpy(),
        )
    return matrix


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

    ``length`` is the number of newest periods shown (default 36 months or 156 weeks).
    Returns the periods and one row per node (and category) with ``node``, ``category``,
    one key per period (ISO date) and ``total``, in yuan as Decimal. Archived customers keep
    their rows and count above them; forgotten customers count only in their salesperson,
    region and company, as anonymous amounts. Only the customers the acting user sees count;
    regions and the company need permission ``forecast.company``.
    """
    level = pick("level", level, H.LEVEL_NAMES)
    require_levels(session, [level])
    unit = P.check_freq(freq)
    history = load_history(session, unit, as_of=as_of, length=length or P.DEFAULT_HISTORY[unit], visible=True)
    if not history.periods:
        return [], []
    # Archived customers are rows of their own; forgotten ones count only in the levels above.
    archived = history.departed[~history.departed["forgotten"].astype(bool)]
    h = H.build(pd.concat([history.customers, archived[CUSTOMER_COLUMNS]], ignore_index=True))
    nodes = h.levels[level]
    blocks: list[tuple[str | None, np.ndarray]]
    if by_category:
        end = calendar.shift(history.periods[-1], 1, history.freq)
        totals = purchase_totals(
            session, history.freq, history.periods[0], end, by_category=True, visible=True
        )
        col_of = {p: j for j, p in enumerate(history.periods)}
        blocks = []
        for cat in sorted(set(totals["category"])):
            part = totals[totals["category"] == cat]
            split = SalesHistory(
                freq=history.freq,
                periods=history.periods,
                customers=history.customers,
                values=_fill(history.customers, part, col_of),
                departed=history.departed,
                departed_values=_fill(history.departed, part, col_of),
            )
            blocks.append((cat, split.node_values(h)))
    else:
        blocks = [(None, history.node_values(h))]
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
