"""The public API of tiering: what other plugins, scripts, the CLI and the hooks call.

Another plugin imports tiering only from here (and :mod:`kehu_tiering.hookspecs`): the
runs and reads below, and what a rule is written with: :class:`TierRule`, the run's
:class:`RuleContext` (its as-of date and window), the statistics relation :data:`STATS`
(its columns documented in :data:`COLUMNS`), :class:`StatColumn` and :func:`stat` for
plugins' own columns, the condition helpers :func:`has_tag`, :func:`has_attribute`,
:func:`attribute`, :func:`attribute_contains`, and the functions that mean the same on
SQLite and PostgreSQL: :func:`days_between`, :func:`coalesce`, :func:`least`,
:func:`greatest`. :class:`RunResult` and ``TierChange`` are what ``kehu_tier_run_finished``
receives.

Functions take ``app, session`` (or a session) and return values; they never print. Dates
are company-local days (:mod:`kehu_core.calendar`): a run as of day D sees everything up to
the end of local day D.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.access import require
from kehu_core.app import Kehu
from kehu_core.i18n import N_, messages
from kehu_tiering import aggregates, engine, report, security, tiers
from kehu_tiering.engine import RunResult
from kehu_tiering.functions import coalesce, days_between, greatest, least
from kehu_tiering.report import Report
from kehu_tiering.rules import TierRule, check, collect
from kehu_tiering.settings import RuleContext, TierSettings, make_settings, rule_context
from kehu_tiering.stats import (
    COLUMNS,
    STATS,
    StatColumn,
    attribute,
    attribute_contains,
    has_attribute,
    has_tag,
    plugin_columns,
    stat,
)
from kehu_tiering.tiers import Assignment, CustomerTiers, Explanation, has_tier

_ = messages("kehu_tiering").gettext

__all__ = [
    "COLUMNS",
    "STATS",
    "Assignment",
    "CustomerTiers",
    "Explanation",
    "Report",
    "RuleContext",
    "RunResult",
    "StatColumn",
    "TierRule",
    "TierSettings",
    "attribute",
    "attribute_contains",
    "check_rules",
    "coalesce",
    "current_tiers",
    "customer_stats",
    "customer_tiers",
    "days_between",
    "explain_customer",
    "flag_conflicts",
    "greatest",
    "has_attribute",
    "has_tag",
    "has_tier",
    "least",
    "pareto_curve",
    "rebuild_aggregates",
    "rederive_without",
    "retier",
    "rule_context",
    "run_tiers",
    "stat",
    "tier_history",
    "tier_method",
    "tier_report",
    "tier_rules",
    "tier_settings",
]


def tier_settings(
    session: Session, as_of: date | None = None, *, defaults: bool = False, **options: Any
) -> TierSettings:
    """The settings of a run: the newest run's (or the defaults), with ``options`` replacing some.

    Parameters:
        as_of: the local day to classify as of (default: today in the company's calendar).
        defaults: start from the defaults instead of the newest run's settings.
        options: ``window``, ``measure``, ``abc_cuts``, ``pyramid_cuts``, ``tier_method``,
            ``methods``, ``rules_files``, ``new_days``, as strings or values; ``None`` and ``()`` are ignored.

    Raises :class:`~kehu_core.errors.ValidationError` listing every bad value.
    """
    base = None if defaults else tiers.last_settings(session)
    values: dict[str, Any] = base.to_json() if base else {}
    values.pop("as_of", None)
    values.update({k: v for k, v in options.items() if v not in (None, ())})
    return make_settings(as_of=as_of or calendar.today(), **values)


def run_tiers(
    app: Kehu,
    session: Session,
    as_of: date | None = None,
    *,
    settings: TierSettings | None = None,
    rules: Sequence[TierRule] | None = None,
    source: str = "api",
    progress: Callable[[int, int], None] | None = None,
    **options: Any,
) -> RunResult:
    """Classify every active customer as of local day ``as_of`` and record what changed.

    ``settings`` (else :func:`tier_settings` of ``as_of`` and ``options``) decides the run;
    ``rules`` replaces the built-in, plugins' and files' rules. Fires ``kehu_tier_changed``
    once with every move. Refuses a date before the newest run that wrote history.

    Needs permission ``tiering.run``, and ``tiering.manage`` when the settings differ from
    the remembered ones (each change audited as setting ``tiering.<key>``) or ``rules`` is
    given; a user who does not see every customer is refused (:mod:`kehu_tiering.security`).
    """
    settings = settings or tier_settings(session, as_of, **options)
    previous = tiers.last_settings(session) or make_settings(as_of=settings.as_of)
    security.authorize_run(session, settings, previous, own_rules=rules is not None)
    return engine.run(app, session, settings, rules=rules, source=source, progress=progress)


def retier(app: Kehu, session: Session, now: datetime) -> str:
    """The daily job: run again with the newest run's settings as of today (local); a line for the log."""
    result = run_tiers(app, session, calendar.local_day(now), source="job")
    return _("tiered {customers} customers as of {as_of}: {written} changed, {moved} tier moves").format(
        customers=result.customers, as_of=result.as_of, written=result.written, moved=result.moved
    )


def rederive_without(app: Kehu, session: Session, plugin: str) -> RunResult | None:
    """Run again as of the newest run's day, with its settings, after ``plugin`` was uninstalled.

    Its tier rules and statistics are no longer called, so the flags and classes they set are
    derived anew from the remaining rules; a customer they flagged loses the flag, recorded in
    the history like any move. Nothing runs before the first run. Returns the run, or ``None``.
    """
    settings = tiers.last_settings(session)
    if settings is None:
        return None
    return engine.run(app, session, settings, source="uninstall")


def tier_method(session: Session) -> str:
    """The method whose class is *the* customer's tier (the others are segments); default the pyramid."""
    return tiers.tier_method(session)


def current_tiers(
    app: Kehu, session: Session, customer_ids: Sequence[int], method: str | None = None
) -> dict[int, str]:
    """``{customer_id: code}`` of these customers: their tier (``method=None``), or their
    segment by ``method`` (``"abc"``, ``"rfm"``, ``"flag:key_account"`` ...). Customers
    without one are left out."""
    return tiers.current_tiers(session, customer_ids, method)


def customer_tiers(session: Session, code: str) -> CustomerTiers:
    """Customer ``code``'s current tier, its class by every method, and its flags."""
    return tiers.show(session, code)


def explain_customer(app: Kehu, session: Session, code: str) -> tuple[CustomerTiers, list[Explanation]]:
    """Why customer ``code`` has each current tier: the deciding rule or method, its numbers, its cuts."""
    return tiers.explain(app, session, code)


def flag_conflicts(session: Session, customer_id: int | None = None) -> list[str]:
    """Codes of the customers the acting user sees (or only ``customer_id``) who are key
    accounts (大客户) and poor-quality customers (劣质客户) at once. Neither flag wins: both
    are kept, and ``tier report`` and the profile card show the conflict for a person to decide."""
    return report.conflicts(session, customer_id)


def tier_history(session: Session, code: str) -> list[Assignment]:
    """Every assignment customer ``code`` ever had, by method and validity date."""
    return tiers.history(session, code)


def tier_rules(app: Kehu, settings: TierSettings, files: Iterable[str] | None = None) -> list[TierRule]:
    """The rules a run with ``settings`` applies, in application order: built-ins, plugins', then files'.

    Plugins' ``kehu_tier_rules`` get that run's :class:`RuleContext`; ``files`` replaces
    ``settings.rules_files``.
    """
    return collect(app, rule_context(settings), settings.rules_files if files is None else files)


def check_rules(app: Kehu, session: Session, settings: TierSettings, rules: Sequence[TierRule]) -> None:
    """Refuse, with one line naming it, a rule whose condition this database cannot run.

    Each condition is compiled for the database and prepared against an empty statistics
    relation with the plugins' columns of a run with ``settings`` (nothing is read or kept).
    Raises :class:`~kehu_core.errors.KehuError`.
    """
    check(session, rules, plugin_columns(app, rule_context(settings)))


def tier_report(app: Kehu, session: Session) -> Report:
    """The newest run's report: customers and revenue share per tier, the 80/20 check, the moves."""
    return report.build_report(session, app.dialect)


def pareto_curve(app: Kehu, session: Session, of: Report) -> list[int]:
    """Every customer's revenue in the window of report ``of``'s run, in cents, largest first."""
    return report.pareto_curve(session, app.dialect, TierSettings.from_json(of.settings))


def customer_stats(app: Kehu, session: Session, code: str, settings: TierSettings) -> dict[str, Any]:
    """Customer ``code``'s row of the statistics relation (what rules see) under ``settings``.

    Computed as a run computes it (every active customer ranked), for this customer alone."""
    return tiers.customer_stats(app, session, settings, code)


def rebuild_aggregates(session: Session) -> int:
    """Recompute the monthly purchase aggregates from the interactions; returns the buckets.

    Needs permission ``tiering.run`` and a user who sees every customer."""
    require(session, security.RUN, _("rebuild the tiering aggregates"))
    security.require_every_customer(session, N_("rebuild the tiering aggregates"))
    return aggregates.rebuild(session)
