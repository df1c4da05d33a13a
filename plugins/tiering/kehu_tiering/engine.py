"""``kehu tier run``: statistics, methods and rules in SQL, then only the changes written.

Steps, all in the caller's transaction:

1. fill the temporary ``tiering_base`` (statistics, only the columns the run reads) and the
   three rank tables (per distinct measure, recency and order count, with the classes that
   follow from them); the ``tiering_stats`` view joins them;
2. evaluate the slow-path Python predicates, if any rule has one;
3. decide every customer's assignment per method and flag in ONE pass over the view, into
   the wide temporary table ``tiering_new`` (one row per customer; per method the class the
   method gives and the number of the rule that overrides it, so each rule condition is
   evaluated once per customer);
4. write (:mod:`kehu_tiering.writing`): a method without current rows is written whole;
   the others are diffed against the current rows, the changed ones closed (``valid_to``)
   and their successors inserted. Unchanged customers are not touched, so re-running with
   unchanged data writes no history;
5. fire ``kehu_tier_changed`` once with every customer whose tier or segment moved.

The counts per tier (one scan of ``tiering_new``) are taken before writing: they also say
how many rows each method gives.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from attrs import frozen
from sqlalchemy import case, delete, func, insert, literal, null, select, update
from sqlalchemy.orm import Session

from kehu_core.app import Kehu
from kehu_core.errors import KehuError
from kehu_core.i18n import messages
from kehu_core.models import Customer, CustomerTag
from kehu_core.types import utcnow
from kehu_tiering.method_rules import Target, targets_of
from kehu_tiering.models import SNAPSHOT_COLUMNS, assignments, runs
from kehu_tiering.rules import TierRule, check, collect
from kehu_tiering.settings import TierSettings, rule_context
from kehu_tiering.stats import STATS, StatColumn, plugin_columns
from kehu_tiering.worktables import WorkTables
from kehu_tiering.writing import counts_per_tier, fire, rule_columns, write_changes, writes_every_snapshot

_ = messages("kehu_tiering").gettext

STEPS = 5


@frozen
class RunResult:
    """What a run did: how many customers, assignments written, tier moves, per-tier counts."""

    run_id: int
    as_of: date
    customers: int
    written: int
    moved: int
    counts: dict[str, dict[str, int]]
    seconds: float
    settings: dict[str, Any]


#: Statistics columns every run reads: the methods' inputs and the snapshots' numbers.
METHOD_COLUMNS = frozenset(
    (
        "measure",
        "measure_cents",
        "revenue_window",
        "recency_days",
        "orders_window",
        "orders_total",
        "tenure_days",
    )
)


def needed_columns(rules: Sequence[TierRule]) -> frozenset[str] | None:
    """The statistics columns a run must compute: the methods' and every rule's (None: all of them).

    Plugins' columns (``kehu_tier_statistics``) are computed only when a rule reads them too.

    A Python predicate sees the whole row, so with one every column is computed.
    """
    if any(rule.predicate is not None for rule in rules):
        return None
    return METHOD_COLUMNS | {name for rule in rules for name in rule_columns(rule)}


def _predicate_rows(session: Session, stats: Any, extra: Sequence[StatColumn]) -> list[dict[str, Any]]:
    rows = [
        dict(r)
        for r in session.execute(
            select(stats, *(s.column for s in extra), Customer.code, Customer.attributes).join(
                Customer, Customer.id == stats.c.customer_id
            )
        ).mappings()
    ]
    tags: dict[int, list[str]] = {}
    for cid, tag in session.execute(
        select(CustomerTag.customer_id, CustomerTag.tag).join(
            stats, stats.c.customer_id == CustomerTag.customer_id
        )
    ):
        tags.setdefault(cid, []).append(tag)
    for row in rows:
        row["tags"] = tuple(sorted(tags.get(row["customer_id"], ())))
    return rows


def _conditions(
    session: Session, temp: WorkTables, rules: Sequence[TierRule], extra: Sequence[StatColumn]
) -> dict[str, Any]:
    """Each rule's SQL condition; slow-path predicates are evaluated here and become IN (...)."""
    slow = [r for r in rules if r.predicate is not None]
    if slow:
        rows = _predicate_rows(session, STATS, extra)
        for rule in slow:
            matched = []
            for row in rows:
                try:
                    if rule.predicate(row):  # type: ignore[misc]
                        matched.append({"rule": rule.name, "customer_id": row["customer_id"]})
                except Exception as exc:
                    raise KehuError(
                        _("rule {rule} ({source}) failed on customer {code}: {error}").format(
                            rule=rule.name,
                            source=rule.source,
                            code=row.get("code"),
                            error=f"{type(exc).__name__}: {exc}",
                        )
                    ) from exc
            if matched:
                session.execute(insert(temp.matches), matched)
    conditions = {}
    for rule in rules:
        if rule.predicate is not None:
            m = temp.matches.c
            conditions[rule.name] = STATS.c.customer_id.in_(select(m.customer_id).where(m.rule == rule.name))
        else:
            conditions[rule.name] = rule.when
    return conditions


def _decide(
    session: Session, temp: WorkTables, targets: Sequence[Target], conditions: dict[str, Any]
) -> None:
    """Fill ``tiering_new``: per customer and target, the method's class and the deciding rule."""
    cols: list[Any] = [STATS.c.customer_id]
    names = ["customer_id"]
    for t in targets:
        first_rule = (
            case(
                *((conditions[r.name], literal(n)) for n, r in enumerate(t.rules, 1)),
                else_=null() if t.is_flag else literal(0),
            )
            if t.rules
            else literal(0)
        )
        cols += [null() if t.is_flag else STATS.c[t.method], first_rule]
        names += [f"t{t.key}", f"r{t.key}"]
    if temp.with_snapshots:  # the snapshots' numbers, in the same pass (see WorkTables)
        cols += [STATS.c[name] for name in SNAPSHOT_COLUMNS]
        names += list(SNAPSHOT_COLUMNS)
    session.execute(insert(temp.new).from_select(names, select(*cols)))
    temp.analyze(temp.new)


def check_as_of(session: Session, as_of: date) -> None:
    """Refuse a run dated before the last run that wrote history (history would go backwards)."""
    latest = session.scalar(select(func.max(runs.c.as_of)).where(runs.c.changed > 0))
    if latest is not None and as_of < latest:
        raise KehuError(
            _(
                "--as-of {as_of} is before the current assignments (valid from {latest}); "
                "history only moves forward. Use `kehu tier stats --as-of` to look at an earlier date."
            ).format(as_of=as_of, latest=latest)
        )


def run(
    app: Kehu,
    session: Session,
    settings: TierSettings,
    *,
    rules: Sequence[TierRule] | None = None,
    source: str = "cli",
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Classify every active customer as of ``settings.as_of``; write changes; fire the events.

    ``kehu_tier_changed`` gets every move, then ``kehu_tier_run_finished`` the run's summary
    and the same moves (an empty list when nothing moved), both inside the caller's transaction.
    The run is kept whole or not at all only with that transaction: when it raises, roll the
    transaction back (:meth:`kehu_core.app.Kehu.session` does), for what it wrote before the
    error, on SQLite part of the failing statement too, is still in it.

    Parameters:
        rules: the rules to apply (default: built-ins, plugins' (given the run's
            :class:`~kehu_tiering.rules.RuleContext`) and ``settings.rules_files``).
        source: recorded with the run (``cli``, ``job``, ``demo`` ...).
        progress: called as ``progress(step, STEPS)``.
    """
    started = _time.perf_counter()
    step = progress or (lambda done, total: None)
    dialect = app.dialect
    check_as_of(session, settings.as_of)
    context = rule_context(settings)
    if rules is None:
        rules = collect(app, context, settings.rules_files)
    extra = plugin_columns(app, context)
    check(session, rules, extra)
    targets = targets_of(settings, rules)
    run_id = session.execute(
        insert(runs)
        .values(
            started_at=utcnow(),
            as_of=settings.as_of,
            source=source,
            settings=settings.to_json(),
            customers=0,
            changed=0,
        )
        .returning(runs.c.id)
    ).scalar_one()
    every_snapshot = writes_every_snapshot(session, targets)
    with WorkTables(
        session, dialect, targets, needed_columns(rules), extra, with_snapshots=every_snapshot
    ) as temp:
        customers = temp.fill(settings)
        step(1, STEPS)
        conditions = _conditions(session, temp, rules, extra)
        _decide(session, temp, targets, conditions)
        step(2, STEPS)
        counts = counts_per_tier(session, temp, targets)
        written, fresh_methods, fresh_rows = write_changes(session, temp, settings, targets, run_id, counts)
        step(3, STEPS)
        listening = bool(app.hook_caller("kehu_tier_run_finished").get_hookimpls())
        moved, changes = (
            fire(app, session, temp, run_id, fresh_methods, fresh_rows, settings.tier_method, listening)
            if written
            else (0, [])
        )
        step(4, STEPS)
    session.execute(
        update(runs)
        .where(runs.c.id == run_id)
        .values(finished_at=utcnow(), customers=customers, changed=written)
    )
    result = RunResult(
        run_id=run_id,
        as_of=settings.as_of,
        customers=customers,
        written=written,
        moved=moved,
        counts=counts,
        seconds=round(_time.perf_counter() - started, 3),
        settings=settings.to_json(),
    )
    if listening:
        app.hook.kehu_tier_run_finished(session=session, run=result, changes=changes)
    step(5, STEPS)
    return result


def delete_history(session: Session) -> None:
    """Forget every assignment and run (used by tests and ``kehu tier reset``)."""
    session.execute(delete(assignments))
    session.execute(delete(runs))
