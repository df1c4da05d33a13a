"""The public API of the forecast plugin: what other plugins, scripts and the CLI call.

Functions take ``app, session`` when they save something (saving fires the plugin's events,
see :mod:`kehu_forecast.hookspecs`), a session when they only read. They return values and
never print. Everything runs in the caller's transaction:

>>> from kehu_forecast import api
>>> with app.session() as session:
...     plan = api.run_forecast(app, session, api.Options(horizon=6))
...     report = api.gap(session)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from kehu_core.access import require
from kehu_core.app import Kehu
from kehu_forecast import backtest as backtesting
from kehu_forecast import history as histories
from kehu_forecast import reconcile as reconciling
from kehu_forecast import targets as targeting
from kehu_forecast import topdown as topdowns
from kehu_forecast.backtest import Score
from kehu_forecast.bottomup import Options, bottom_up, plausibility_lines
from kehu_forecast.gap import DEFAULT_THRESHOLD, LEVELS, GapReport, gap_report
from kehu_forecast.history import SalesHistory, history_rows
from kehu_forecast.pipeline import (
    Opportunity,
    add_opportunity,
    import_opportunities,
    list_opportunities,
    move_opportunity,
)
from kehu_forecast.plan import Plan, SavedRun, store, visible_plan
from kehu_forecast.planning import (
    Flag,
    PlanView,
    add_action,
    add_assumption,
    add_budget,
    add_target,
    check_all,
    check_plan,
    create_plan,
    list_plans,
    show_plan,
    unplanned_targets,
)
from kehu_forecast.report import newest_run, run_rows, summary
from kehu_forecast.runs import list_runs
from kehu_forecast.security import RUN
from kehu_forecast.targets import Progress, Target, TargetStatusChange
from kehu_forecast.visibility import require_company, sees_company

__all__ = [
    "Flag",
    "GapReport",
    "LEVELS",
    "Opportunity",
    "Options",
    "Plan",
    "PlanView",
    "Progress",
    "SavedRun",
    "Score",
    "Target",
    "TargetStatusChange",
    "add_action",
    "add_assumption",
    "add_budget",
    "add_opportunity",
    "add_target",
    "backtest",
    "check_all",
    "check_plan",
    "company_history",
    "create_plan",
    "gap",
    "history_rows",
    "import_market_inputs",
    "import_opportunities",
    "list_market_inputs",
    "list_opportunities",
    "list_plans",
    "list_runs",
    "list_targets",
    "load_history",
    "move_opportunity",
    "newest_run",
    "plausibility",
    "reconcile",
    "run_forecast",
    "run_rows",
    "set_market_inputs",
    "set_targets",
    "show_plan",
    "summary",
    "top_down",
    "track",
    "unplanned_targets",
    "update_target_statuses",
]


def run_forecast(
    app: Kehu,
    session: Session,
    options: Options | None = None,
    *,
    source: str = "cli",
    progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """Forecast bottom-up (由下而上) from every customer's history and weighted pipeline, and save it.

    Parameters:
        options: frequency, horizon, models, ``as_of``, scenarios (:class:`Options`; defaults
            suit monthly B2B sales).
        source: who asked (``cli``, ``job``, ``demo``, your script's name), kept with the run.
        progress: called with ``(customers forecast, customers in all)`` as the models run
            (``kehu_core.cli.output.Progress`` draws it as a bar).

    ``plan.params["plausibility"]`` flags the plans above ``options.plausible_multiple`` times
    their trailing year; :func:`plausibility` puts it in words.

    Returns: the saved, coherent plan; ``plan.run_id`` is its id. Needs permission
    ``forecast.run``; the run covers every customer (it is the company's plan).
    """
    require(session, RUN, "make forecast runs")
    plan = bottom_up(session, options or Options(), progress)
    store(app, session, plan, source=source)
    return plan


def plausibility(session: Session, plan: Plan) -> tuple[dict[str, Any] | None, list[str]]:
    """The plan's plausibility warning (``plan.params["plausibility"]``) as the acting user may
    see it, and in words, one line per flagged node
    (:func:`kehu_forecast.bottomup.plausibility_lines`): the company only with permission
    ``forecast.company``, only the customers the user sees."""
    check = plan.params.get("plausibility")
    if not check:
        return None, []
    visible = visible_plan(session, plan)
    if visible is plan:
        listed = list(check.get("customers") or [])
        flagged = int(check.get("customers_flagged") or 0)
    else:  # only the listed customers the user sees; the others flagged are not theirs to count
        seen = set(visible.hierarchy.keys)
        listed = [c for c in check.get("customers") or [] if c["node"] in seen]
        flagged = len(listed)
    shown = {
        **check,
        "company": check.get("company") if sees_company(session) else None,
        "customers": listed,
        "customers_flagged": flagged,
    }
    return shown, plausibility_lines(shown, plan.freq)


def company_history(
    session: Session, freq: str = "month", *, as_of: date | None = None, length: int | None = None
) -> SalesHistory:
    """The sales history of every customer, for drawing the company's history beside a run
    (``--plot``). Needs permission ``forecast.company``."""
    require_company(session, "see the company's sales history")
    return histories.load_history(session, freq, as_of=as_of, length=length)


def load_history(
    session: Session,
    freq: str = "month",
    *,
    as_of: date | None = None,
    length: int | None = None,
    first: date | None = None,
) -> SalesHistory:
    """The sales history matrix (customers × periods of net purchases) up to the last complete
    period before ``as_of``: only the customers the acting user sees
    (:func:`kehu_forecast.history.load_history`)."""
    return histories.load_history(session, freq, as_of=as_of, length=length, first=first, visible=True)


def top_down(
    app: Kehu,
    session: Session,
    *,
    dimension: str | None = None,
    allocation: str = "average_proportions",
    horizon: int | None = None,
    as_of: date | None = None,
    window: int = 12,
    source: str = "cli",
) -> Plan:
    """Forecast top-down (由上而下): market potential × share (or growth) per group, split to
    customers to the cent, and save it.

    Parameters:
        dimension: ``company``, ``region`` or ``industry`` (default: the only one with inputs).
        allocation: ``average_proportions``, ``proportion_averages`` or ``bottomup``.
        window: months of history for the proportions.

    Needs permission ``forecast.run``.
    """
    return topdowns.save_top_down(
        app,
        session,
        dimension=dimension,
        allocation=allocation,
        horizon=horizon,
        as_of=as_of,
        window=window,
        source=source,
    )


def gap(
    session: Session,
    *,
    bu_run: int | None = None,
    td_run: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    levels: Sequence[str] = LEVELS,
) -> GapReport:
    """Top-down against bottom-up at every node of ``levels``, over the months both runs cover.

    The runs default to the newest of each kind. Raises :class:`~kehu_core.errors.KehuError`
    naming both runs' months when they share none. Only the customers the acting user sees
    count; ``company`` and ``region`` need permission ``forecast.company``.
    """
    return gap_report(session, bu_run=bu_run, td_run=td_run, threshold=threshold, levels=tuple(levels))


def reconcile(
    app: Kehu,
    session: Session,
    method: str = "mint-wls",
    *,
    proportions: str = "average_proportions",
    middle_level: str = "region",
    bu_run: int | None = None,
    td_run: int | None = None,
    source: str = "cli",
) -> Plan:
    """One plan from the bottom-up run (and the top-down run, if any) that adds up at every
    level, saved as a ``reconciled`` run.

    Parameters:
        method: ``bottom-up``, ``top-down``, ``middle-out``, ``mint-ols`` or ``mint-wls``.
        proportions: for top-down and middle-out: ``average_proportions``,
            ``proportion_averages`` or ``forecast_proportions``.
        middle_level: for middle-out: ``region`` or ``salesperson``.

    Needs permission ``forecast.run``.
    """
    require(session, RUN, "make forecast runs")
    plan = reconciling.reconcile(
        session, method, proportions=proportions, middle_level=middle_level, bu_run=bu_run, td_run=td_run
    )
    store(app, session, plan, source=source)
    return plan


def set_targets(
    app: Kehu, session: Session, *, run_id: int | None = None, grouping: str = "quarter"
) -> list[Target]:
    """Save SMART targets per salesperson and ``month`` or ``quarter`` from a plan (default: the
    newest reconciled run); a target for the same salesperson and start replaces the old one.
    Needs permission ``forecast.plan``; each target is written to the audit trail."""
    return targeting.save_targets(app, session, run_id=run_id, grouping=grouping)


def list_targets(session: Session, salesperson: str | None = None) -> list[dict[str, Any]]:
    """The saved targets with their customer count, by start and salesperson: only those all of
    whose customers the acting user sees."""
    return targeting.list_targets(session, salesperson)


def track(session: Session, *, as_of: date | None = None, salesperson: str | None = None) -> list[Progress]:
    """Each target that has started against its customers' actual purchases up to ``as_of``
    (default today): achieved, expected by now, and ``on track``/``behind``/``met``/``missed``.
    Only the targets all of whose customers the acting user sees."""
    return targeting.track(session, as_of=as_of, salesperson=salesperson)


def update_target_statuses(
    app: Kehu, session: Session, now: datetime | None = None
) -> list[TargetStatusChange]:
    """Record each started target's status as of the local day of ``now`` (default: the present)
    and return the targets whose status changed; fires ``kehu_forecast_target_status_changed``
    with them. Idempotent: the same day twice changes nothing the second time. Needs
    permission ``forecast.run`` (the daily job runs as kehu itself)."""
    return targeting.update_statuses(app, session, now)


#: Rolling-origin backtest on the sales history: see :func:`kehu_forecast.backtest.backtest_history`.
backtest = backtesting.backtest_history


def set_market_inputs(session: Session, period: str, values: Mapping[str, Any], *, months: int = 1) -> int:
    """Set one market input (``dimension``, ``key``, ``potential`` and ``share``, or ``growth``)
    for ``months`` months from ``period`` (``YYYY-MM``); returns how many were written.
    Needs permission ``forecast.plan``; each input is written to the audit trail."""
    return topdowns.set_market_months(session, period, values, months=months)


def import_market_inputs(
    session: Session, source: str | Path | IO[bytes], encoding: str = "utf-8-sig"
) -> int:
    """Import market inputs from CSV (period, dimension, key, potential, share, growth); all or
    nothing. Needs permission ``forecast.plan``; each input is written to the audit trail."""
    return topdowns.import_market_inputs(session, source, encoding)


def list_market_inputs(session: Session) -> list[dict[str, Any]]:
    """Every market input with the top-down figure it gives (potential × share) where it can.
    Needs permission ``forecast.company``."""
    return topdowns.list_market_inputs(session)
