"""Saved forecast runs, read with plain SQL: the newest run of a kind, the list of runs, the
history window a run was made from, and whether the newest run still covers today."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from attrs import frozen
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.access import customer_condition, visible_customers
from kehu_core.choices import Choice, Vocabulary
from kehu_core.i18n import N_, messages
from kehu_core.types import to_money
from kehu_forecast import periods as P
from kehu_forecast.models import runs, values

_ = messages("kehu_forecast").gettext

KINDS = ("bottomup", "topdown", "reconciled")
#: The kinds of run as people name them (由下而上, 由上而下, 调和).
RUN_KIND_NAMES = Vocabulary(
    "kehu_forecast",
    N_("run kind"),
    [
        Choice("bottomup", N_("bottom-up"), aliases=("由下而上",)),
        Choice("topdown", N_("top-down"), aliases=("由上而下",)),
        Choice("reconciled", N_("reconciled"), aliases=("调和", "已调和")),
    ],
)
#: The run parameter holding how many periods of history the run was made from.
HISTORY_PARAM = "history_periods"


def history_of(params: Mapping[str, Any] | None) -> int | None:
    """How many periods of history a run was made from (its params' ``history_periods``), or
    ``None`` (all history) for a run that did not record it.

    ``load_history(session, run.freq, as_of=run.first_period, length=history_of(run.params))``
    loads exactly the window the run used: ``reconcile`` forecasts the upper levels from it.
    """
    value = (params or {}).get(HISTORY_PARAM)
    return int(value) if value else None


@frozen
class Coverage:
    """Whether the newest run of some kinds covers the current period.

    ``current`` is false when there is no run, or when the newest one ends before the current
    period; ``message`` then says so in one line (empty when it covers today).
    """

    run_id: int | None
    kind: str | None
    freq: P.Freq | None
    first_period: date | None
    last_period: date | None
    current: bool
    message: str


def current_coverage(
    session: Session, kinds: tuple[str, ...] = ("reconciled", "bottomup"), *, today: date | None = None
) -> Coverage:
    """Whether the newest run of ``kinds`` covers the current month (or week) of ``today``.

    For the profile card: when it does not, show ``message`` (``no current forecast; last run
    12 (bottomup) covers up to 2025-12``) instead of summing no rows to ¥0.00.
    """
    run_id = latest_run(session, kinds=kinds)
    if run_id is None:
        return Coverage(None, None, None, None, None, False, _("no forecast yet: kehu forecast run"))
    run = session.execute(select(runs).where(runs.c.id == run_id)).mappings().one()
    freq = P.check_freq(str(run["freq"]))
    first = run["first_period"]
    last = calendar.shift(first, int(run["horizon"]) - 1, freq)
    now = calendar.period_start(today or calendar.today(), freq)
    if now <= last:
        return Coverage(run_id, run["kind"], freq, first, last, True, "")
    # {kind} is the code as the message has always said it; a translation may say {kind_name}.
    named = {"id": run_id, "kind": run["kind"], "kind_name": RUN_KIND_NAMES.label(run["kind"])}
    if freq == "month":
        message = _("no current forecast; last run {id} ({kind}) covers up to {month}: kehu forecast run")
        message = message.format(month=f"{last:%Y-%m}", **named)
    else:
        message = _(
            "no current forecast; last run {id} ({kind}) covers up to the week of {day}: kehu forecast run"
        ).format(day=last.isoformat(), **named)
    return Coverage(run_id, run["kind"], freq, first, last, False, message)


def latest_run(session: Session, kind: str | None = None, *, kinds: tuple[str, ...] = ()) -> int | None:
    """The id of the newest run of ``kind`` (or of any of ``kinds``; of any kind when neither is given)."""
    stmt = select(runs.c.id)
    if kind:
        stmt = stmt.where(runs.c.kind == kind)
    if kinds:
        stmt = stmt.where(runs.c.kind.in_(kinds))
    return session.scalar(stmt.order_by(runs.c.id.desc()).limit(1))


def list_runs(session: Session, limit: int = 20) -> list[dict[str, Any]]:
    """The newest runs with their total over the horizon and who made them (``by``).

    The total is the company's for a user who sees every customer; for one whose record rules
    restrict them, it is the total of the customers they see (not the company's).
    """
    if customer_condition(session) is None:
        where = values.c.level == "company"
    else:
        where = and_(values.c.level == "customer", visible_customers(session, values.c.customer_id))
    total = select(func.sum(values.c.value)).where(values.c.run_id == runs.c.id, where).scalar_subquery()
    stmt = (
        select(
            runs.c.id,
            runs.c.kind,
            runs.c.method,
            runs.c.freq,
            runs.c.first_period,
            runs.c.horizon,
            runs.c.source,
            runs.c.created_at,
            runs.c.params,
            total.label("total"),
        )
        .order_by(runs.c.id.desc())
        .limit(limit)
    )
    result = []
    for r in session.execute(stmt).mappings():
        row = {k: v for k, v in r.items() if k != "params"}
        result.append({**row, "total": to_money(r["total"]), "by": (r["params"] or {}).get("by")})
    return result
