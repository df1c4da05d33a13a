"""Reading tiers back: the current tier of customers, one customer's tiers, why, and their history;
the tier column and filter of ``kehu customer list``; the newest run and its settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from attrs import frozen
from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from kehu_core import calendar
from kehu_core.access import visible_customers
from kehu_core.app import Kehu
from kehu_core.customers import get_customer
from kehu_core.errors import KehuError
from kehu_core.i18n import N_, messages
from kehu_core.models import Customer
from kehu_core.validation import FieldError
from kehu_tiering.models import METHOD_METRICS, SNAPSHOT_COLUMNS, assignments, runs, snapshots
from kehu_tiering.rules import BUILTIN, collect
from kehu_tiering.settings import (
    DEFAULT_NEW_DAYS,
    DEFAULT_TIER_METHOD,
    TierSettings,
    make_settings,
    rule_context,
)
from kehu_tiering.stats import money, plugin_columns
from kehu_tiering.vocab import parse_method, parse_tier
from kehu_tiering.worktables import WorkTables

_ = messages("kehu_tiering").gettext

_CHUNK = 5000


def latest_run(session: Session) -> dict[str, Any] | None:
    """The newest run (id, as_of, settings, customers, changed ...), or None."""
    row = session.execute(select(runs).order_by(runs.c.id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def last_settings(session: Session) -> TierSettings | None:
    """The settings of the newest run, or None before the first run."""
    run = latest_run(session)
    return TierSettings.from_json(run["settings"]) if run else None


def tier_method(session: Session) -> str:
    """The method whose class is *the* tier (the newest run's setting; default the pyramid)."""
    settings = last_settings(session)
    return settings.tier_method if settings else DEFAULT_TIER_METHOD


def current_tiers(session: Session, customer_ids: Sequence[int], method: str | None = None) -> dict[int, str]:
    """``{customer_id: tier}`` by ``method`` (``None``: the tier method), for customers that have
    one and the acting user sees. ``method`` may be any name of it (``金字塔``, ``flag:大客户``)."""
    method = parse_method(method) if method else tier_method(session)
    a = assignments.c
    visible = visible_customers(session, a.customer_id)
    result: dict[int, str] = {}
    ids = list(customer_ids)
    for begin in range(0, len(ids), _CHUNK):
        chunk = ids[begin : begin + _CHUNK]
        result.update(
            session.execute(
                select(a.customer_id, a.tier).where(
                    a.valid_to.is_(None), a.method == method, a.customer_id.in_(chunk), visible
                )
            ).all()
        )
    return result


@frozen
class Assignment:
    """One assignment: method, tier, the rule or method that decided it, the numbers, validity."""

    method: str
    tier: str
    decided_by: str
    metrics: dict[str, Any]
    valid_from: date
    valid_to: date | None
    run_id: int


@frozen
class CustomerTiers:
    """A customer's current tier (by ``tier_method``), its class by every method, and its flags."""

    code: str
    name: str
    tier_method: str
    tier: str | None
    tiers: dict[str, Assignment]
    flags: tuple[Assignment, ...]


def _rows(session: Session, customer_id: int, current_only: bool) -> list[Assignment]:
    a, snap = assignments.c, snapshots.c
    stmt = (
        select(assignments, *(snap[name].label(f"snap_{name}") for name in SNAPSHOT_COLUMNS))
        .select_from(
            assignments.outerjoin(snapshots, and_(snap.run_id == a.run_id, snap.customer_id == a.customer_id))
        )
        .where(a.customer_id == customer_id)
    )
    if current_only:
        stmt = stmt.where(a.valid_to.is_(None))
    stmt = stmt.order_by(a.method, a.valid_from, a.id)
    return [
        Assignment(
            method=r.method,
            tier=r.tier,
            decided_by=r.decided_by,
            metrics=money(_metrics(r)),
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            run_id=r.run_id,
        )
        for r in session.execute(stmt)
    ]


def _metrics(row: Any) -> dict[str, Any] | None:
    """A rule's JSON snapshot, or the method's numbers from the run's typed snapshot of the customer."""
    if row.metrics is not None or row.method not in METHOD_METRICS:
        return row.metrics
    return {name: getattr(row, f"snap_{name}") for name in METHOD_METRICS[row.method]}


def show(session: Session, code: str) -> CustomerTiers:
    """The current tiers of customer ``code``."""
    customer = get_customer(session, code)
    rows = _rows(session, customer.id, current_only=True)
    tiers = {r.method: r for r in rows if not r.method.startswith("flag:")}
    method = tier_method(session)
    return CustomerTiers(
        code=customer.code,
        name=customer.name,
        tier_method=method,
        tier=tiers[method].tier if method in tiers else None,
        tiers=tiers,
        flags=tuple(r for r in rows if r.method.startswith("flag:")),
    )


def history(session: Session, code: str) -> list[Assignment]:
    """Every assignment customer ``code`` ever had, by method and date."""
    return _rows(session, get_customer(session, code).id, current_only=False)


@frozen
class Explanation:
    """Why a customer has a tier: the deciding rule or method, its numbers and cut points."""

    method: str
    tier: str
    decided_by: str
    reason: str
    metrics: dict[str, Any]
    cut_points: dict[str, Any]
    valid_from: date
    run_as_of: date | None


def _covers(settings: dict[str, Any], method: str) -> bool:
    """True when a run with these settings decided ``method`` (a method, or ``flag:*`` through "flags")."""
    methods = settings.get("methods") or ("abc", "pyramid", "rfm", "flags")
    return ("flags" if method.startswith("flag:") else method) in methods


def explain(app: Kehu, session: Session, code: str) -> tuple[CustomerTiers, list[Explanation]]:
    """For each current assignment: the rule or method, the numbers and the cut points that decided it.

    The numbers, window and cut points are those of the newest run that decided the method
    (the assignment is what that run confirmed, even when an earlier run first gave it): its
    own snapshot when that run wrote the assignment, else the customer's statistics recomputed
    with that run's settings as of its date (what ``kehu tier stats`` shows).
    """
    tiers = show(session, code)
    all_runs = [dict(r) for r in session.execute(select(runs.c.id, runs.c.as_of, runs.c.settings)).mappings()]
    try:
        latest = last_settings(session) or make_settings(as_of=calendar.today())
        known = {r.name: r for r in collect(app, rule_context(latest), ())}
    except Exception:  # a broken rule plugin must not hide the explanation
        known = {}
    recomputed: dict[int, dict[str, Any] | None] = {}
    out = []
    for a in [*tiers.tiers.values(), *tiers.flags]:
        deciding = [r for r in all_runs if r["id"] >= a.run_id and _covers(r["settings"], a.method)]
        run: dict[str, Any] = (
            max(deciding, key=lambda r: r["id"]) if deciding else {"id": a.run_id, "settings": {}}
        )
        s: dict[str, Any] = run["settings"]
        metrics = a.metrics
        if run["id"] != a.run_id:
            if run["id"] not in recomputed:
                recomputed[run["id"]] = _stats_as_of(app, session, code, s)
            row = recomputed[run["id"]]
            if row is not None:
                keys = METHOD_METRICS.get(a.method, ()) if a.decided_by == a.method else tuple(a.metrics)
                metrics = {k: row.get(k) for k in keys}
        cuts = _cuts_text(a.method, s)
        if a.decided_by in known:
            rule = known[a.decided_by]
            reason = _("rule {rule} ({source}): {condition}").format(
                rule=rule.name,
                source=_(rule.source) if rule.source == BUILTIN else rule.source,
                condition=_(rule.description) if rule.description else rule.condition_text,
            )
        elif a.decided_by == a.method:
            reason = _method_reason(a.method, s)
        else:
            reason = _("rule {rule} (no longer defined)").format(rule=a.decided_by)
        out.append(
            Explanation(
                method=a.method,
                tier=a.tier,
                decided_by=a.decided_by,
                reason=reason,
                metrics=metrics,
                cut_points=cuts,
                valid_from=a.valid_from,
                run_as_of=date.fromisoformat(s["as_of"]) if s.get("as_of") else None,
            )
        )
    return tiers, out


def _stats_as_of(app: Kehu, session: Session, code: str, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The customer's statistics with a run's settings as of its date (None: archived since)."""
    return statistics_of(app, session, get_customer(session, code), TierSettings.from_json(settings))


def statistics_of(
    app: Kehu, session: Session, customer: Customer, settings: TierSettings
) -> dict[str, Any] | None:
    """The customer's row of the statistics relation under ``settings`` (None: archived).

    Computed as a run computes them (the work tables: the monthly aggregates, every active
    customer ranked per distinct value), then read for this customer alone; nothing is written.
    """
    extra = plugin_columns(app, rule_context(settings))
    with WorkTables(session, app.dialect, [], None, extra) as temp:
        temp.fill(settings)
        row = temp.customer_row(customer.id)
    return None if row is None else money(row)


def customer_stats(app: Kehu, session: Session, settings: TierSettings, code: str) -> dict[str, Any]:
    """Every statistics column of customer ``code`` with its ranks and classes among all active
    customers (``kehu tier stats``), computed as a run computes them."""
    row = statistics_of(app, session, get_customer(session, code), settings)
    if row is None:
        raise KehuError(_("customer {code} is archived: archived customers are not tiered").format(code=code))
    return row


#: How RFM scores are computed (``tier explain``'s cut points; translated where shown).
SCORES_TEXT = N_(
    "1 + floor(5 * buyers strictly worse / B buyers in the window); ties: the group's lowest rank"
)


def _cuts_text(method: str, s: dict[str, Any]) -> dict[str, Any]:
    window = s.get("window")
    base = {"measure": s.get("measure"), "window_months": window if window else "all"}
    if method == "abc":
        return {
            **base,
            "A_below_cum_share_pct": s.get("abc_cuts", [None])[0],
            "B_below_cum_share_pct": s.get("abc_cuts", [None, None])[1],
        }
    if method == "pyramid":
        cuts = s.get("pyramid_cuts", [None] * 3)
        return {**base, "VIP_top_pct": cuts[0], "主要客户_top_pct": cuts[1], "普通客户_top_pct": cuts[2]}
    if method == "rfm":
        return {
            **base,
            "scores": SCORES_TEXT,
            "new_days": s.get("new_days", DEFAULT_NEW_DAYS),
        }
    return base


def _method_reason(method: str, s: dict[str, Any]) -> str:
    if method == "abc":
        a, b = s.get("abc_cuts", ["80", "95"])
        return _(
            "ABC: customers ahead hold cum_share_before; A below {a}%, B below {b}%, else C "
            "(measure <= 0 is C)"
        ).format(a=a, b=b)
    if method == "pyramid":
        c1, c2, c3 = s.get("pyramid_cuts", ["1", "5", "50"])
        return _(
            "pyramid by rank: VIP if rank_pct < {c1}%, 主要客户 < {c2}%, 普通客户 < {c3}%, else 小客户 "
            "(rank = customers with a strictly larger measure)"
        ).format(c1=c1, c2=c2, c3=c3)
    if method == "rfm":
        return _(
            "RFM: never bought is prospect, no purchase in the window lost, a first purchase within new_days "
            "new; the others by quintile scores over the buyers (R and F, and M for champions/cannot_lose)"
        )
    return method


def tier_counts(session: Session) -> dict[str, dict[str, int]]:
    """Current customers per method and tier, among those the acting user sees."""
    a = assignments.c
    counts: dict[str, dict[str, int]] = {}
    for method, tier, n in session.execute(
        select(a.method, a.tier, func.count())
        .where(a.valid_to.is_(None), visible_customers(session, a.customer_id))
        .group_by(a.method, a.tier)
    ):
        counts.setdefault(method, {})[tier] = n
    return counts


def tier_column(customer_id: ColumnElement[int]) -> ColumnElement[Any]:
    """The customer's tier (by the newest run's tier method) as SQL over ``customers.id``."""
    setting = runs.c.settings
    newest = select(func.coalesce(setting["tier_method"].as_string(), setting["primary"].as_string()))
    method = func.coalesce(newest.order_by(runs.c.id.desc()).limit(1).scalar_subquery(), DEFAULT_TIER_METHOD)
    a = assignments.c
    return (
        select(a.tier)
        .where(a.customer_id == customer_id, a.valid_to.is_(None), a.method == method)
        .limit(1)
        .scalar_subquery()
    )


def has_tier(customer_id: ColumnElement[int], tier: str, method: str | None = None) -> ColumnElement[bool]:
    """SQL condition over a customer id: their current tier (``method=None``: by the tier
    method) or their class by ``method`` (``"abc"``, ``"flag:key_account"`` ...) is ``tier``."""
    method = parse_method(method) if method else None
    tier = parse_tier(f"flag:{tier}") if method and method.startswith("flag:") else parse_tier(tier)
    if method is None:
        return tier_column(customer_id) == tier
    a = assignments.c
    return exists().where(
        a.customer_id == customer_id, a.valid_to.is_(None), a.method == method, a.tier == tier
    )


def only_tier(stmt: Select[Any], value: str) -> Select[Any]:
    """Narrow a select over customers to those whose current tier by any method, or flag, is ``value``.

    ``value`` is a code or any name of it (``大客户``, ``劣质客户``, ``major``, ``冠军客户``), or
    ``flag:NAME`` for a company rule's own flag; an unknown value is refused with the accepted
    ones listed (:class:`~kehu_core.errors.KehuError`).
    """
    try:
        wanted = parse_tier(value)
    except FieldError as exc:
        raise KehuError(
            _("--filter tier: {reason} (or flag:NAME for a company rule's flag)").format(reason=exc)
        ) from None
    a = assignments.c
    condition = [a.valid_to.is_(None), a.tier == wanted]
    if str(value).strip().startswith("flag:"):
        condition.append(a.method == f"flag:{wanted}")
    return stmt.where(Customer.id.in_(select(a.customer_id).where(*condition)))
