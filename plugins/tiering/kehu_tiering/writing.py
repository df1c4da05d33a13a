"""Writing a run's outcome: new history rows, closed ones, snapshots, the tier-changed hook, counts.

A method with no current rows (a first run) is written whole from ``tiering_new`` in
(customer, method) order; the others are compared with the current rows through
``tiering_moved`` and only what changed is written.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import visitors
from sqlalchemy.sql.dml import Insert, Update

from kehu_core import sql
from kehu_core.app import Kehu
from kehu_core.hooktypes import TierChange
from kehu_tiering.method_rules import Target
from kehu_tiering.models import SNAPSHOT_COLUMNS, assignments, snapshots
from kehu_tiering.rules import TierRule
from kehu_tiering.settings import TIER_METHODS, TierSettings
from kehu_tiering.stats import COLUMN_NAMES, STATS, TABLE_NAME, stat
from kehu_tiering.worktables import WorkTables

#: The columns of a new history row, as both ways of writing them select them.
NEW_ROW_COLUMNS = ["customer_id", "method", "tier", "decided_by", "metrics", "valid_from", "run_id"]
#: What a Python predicate's decision keeps as its snapshot.
PREDICATE_METRICS = ("revenue_window", "orders_window", "recency_days", "pyramid")


_Write = TypeVar("_Write", Insert, Update)


def _in_run(stmt: _Write) -> _Write:
    """A write to the history that is kept or undone only with the whole run (SQLite: ``OR FAIL``).

    A statement that may stop half-way (on a constraint, or in a JSON function) makes SQLite
    journal every existing page it changes, to undo it alone; ``OR FAIL``, the history's keys
    checked at commit (:data:`~kehu_tiering.models.DEFERRED`) and no JSON function in the
    statement spare that. An error still ends the run, and its caller rolls the transaction
    back (:func:`kehu_tiering.engine.run`).
    """
    return stmt.prefix_with("OR FAIL", dialect="sqlite")


def _json_metrics(names: Sequence[str], dialect: str) -> Any:
    return sql.json_object([(n, stat(n)) for n in names], dialect)


def rule_columns(rule: TierRule) -> list[str]:
    """The statistics columns a rule's condition reads (its snapshot), in column order."""
    if rule.when is None:
        return list(PREDICATE_METRICS)
    elements: list[Any] = list(visitors.iterate(rule.when))
    used = {
        el.name
        for el in elements
        if getattr(el, "table", None) is not None and getattr(el.table, "name", None) == TABLE_NAME
    }
    # Plugins' columns (kehu_tier_statistics) after the built-in ones, by name.
    return [n for n in COLUMN_NAMES if n in used] + sorted(used - set(COLUMN_NAMES)) or ["measure"]


def _managed_methods(settings: TierSettings) -> tuple[list[str], bool]:
    """Methods whose current rows this run replaces, and whether every ``flag:*`` is replaced."""
    return [m for m in TIER_METHODS if m in settings.methods], "flags" in settings.methods


def _diff(
    session: Session, temp: WorkTables, settings: TierSettings, targets: Sequence[Target], given: int
) -> int:
    """Fill ``tiering_moved`` with every (customer, method) whose assignment is new, changed or gone.

    ``targets`` are those with current assignments to compare with (``given``: how many tiers
    they give in all); current assignments of managed methods that no target gives any more
    are found as well.
    """
    a, w, mv = assignments.c, temp.new.c, temp.moved.c
    current = a.valid_to.is_(None)
    cols = ["customer_id", "method", "old_id", "old_tier", "new_tier", "new_by", "rule_no"]
    by_method = sorted((t for t in targets if not t.is_flag), key=lambda t: t.method)
    if by_method:
        _diff_methods(session, temp, by_method, cols)
    for t in (t for t in targets if t.is_flag):
        tier, by, rule_no = temp.tier(t), temp.decided_by(t), w[f"r{t.key}"]
        same = and_(a.customer_id == w.customer_id, a.method == t.method, current)
        stmt = (
            select(w.customer_id, literal(t.method), a.id, a.tier, tier, by, rule_no)
            .select_from(temp.new.outerjoin(assignments, same))
            .where(tier.is_not(None), or_(a.id.is_(None), a.tier != tier, a.decided_by != by))
        )
        session.execute(insert(temp.moved).from_select(cols, stmt))
    # Current assignments the run no longer gives: a customer gone from the run, a flag no rule
    # raises any more. Counted first so that the usual case (none) costs no join.
    methods, all_flags = _managed_methods(settings)
    managed: Any = a.method.in_(methods)
    if all_flags:
        managed = managed | a.method.like("flag:%")
    new_rows = session.scalar(select(func.count()).select_from(temp.moved).where(mv.old_tier.is_(None))) or 0
    current_rows = session.scalar(select(func.count()).select_from(assignments).where(current, managed)) or 0
    if current_rows != given - new_rows:
        new_tier = (
            case(*((a.method == t.method, temp.tier(t)) for t in targets), else_=null())
            if targets
            else null()
        )
        vanished = (
            select(a.customer_id, a.method, a.id, a.tier, null(), null(), null())
            .select_from(assignments.outerjoin(temp.new, w.customer_id == a.customer_id))
            .where(current, managed, new_tier.is_(None))
        )
        session.execute(insert(temp.moved).from_select(cols, vanished))
    temp.analyze(temp.moved)
    return session.scalar(select(func.count()).select_from(temp.moved)) or 0


def _diff_methods(session: Session, temp: WorkTables, methods: Sequence[Target], cols: list[str]) -> None:
    """The methods' part of :func:`_diff`, in one pass over ``tiering_new``: each customer's
    methods in method order, so ``tiering_moved`` (and the new history rows written from it)
    follow the assignments' index order, as a first run's rows do."""
    a, w = assignments.c, temp.new.c
    with _method_order(session, temp, methods) as order:
        o = order.c
        tier, by = (
            _pick(o.n, [temp.tier(t) for t in methods]),
            _pick(o.n, [temp.decided_by(t) for t in methods]),
        )
        same = and_(a.customer_id == w.customer_id, a.method == o.method, a.valid_to.is_(None))
        stmt = (
            select(
                w.customer_id, o.method, a.id, a.tier, tier, by, _pick(o.n, [w[f"r{t.key}"] for t in methods])
            )
            .select_from(temp.new.join(order, literal(True)).outerjoin(assignments, same))
            .where(tier.is_not(None), or_(a.id.is_(None), a.tier != tier, a.decided_by != by))
        )
        if temp.dialect == "sqlite":
            stmt = stmt.order_by(w.customer_id, o.n)  # the scan's own order: no sort
        session.execute(insert(temp.moved).from_select(cols, stmt))


def _insert_all_new(
    session: Session, temp: WorkTables, settings: TierSettings, targets: Sequence[Target], run_id: int
) -> None:
    """Write every customer's assignment of targets that have no current rows (a first run).

    Nothing to compare with, so no diff. The methods' rows (every customer has one per
    method) come from one pass over ``tiering_new``, each customer's methods in method order
    -- the order of the assignments' indexes, so SQLite appends. A flag's rows (the few
    customers a rule flags) come from one scan each, reading only the flag's own columns.
    """
    methods = sorted((t for t in targets if not t.is_flag), key=lambda t: t.method)
    flags = [t for t in targets if t.is_flag]
    valid_from = literal(settings.as_of, assignments.c.valid_from.type)
    run = literal(run_id, BigInteger)
    if methods:
        _insert_methods(session, temp, methods, valid_from, run)
    w = temp.new.c
    for t in flags:
        rule_no = w[f"r{t.key}"]
        stmt = select(
            w.customer_id,
            literal(t.method),
            literal(t.method[5:]),
            temp.decided_by(t),
            _snapshot([t], None, rule_no, temp.dialect, of=w.customer_id),
            valid_from,
            run,
        ).where(rule_no.is_not(None))
        session.execute(_in_run(insert(assignments).from_select(NEW_ROW_COLUMNS, stmt)))
    if methods:
        _write_snapshots(session, run_id, temp=temp)  # every customer has an ABC/pyramid/RFM row now


def _insert_methods(
    session: Session, temp: WorkTables, methods: Sequence[Target], valid_from: Any, run: Any
) -> None:
    """Every customer's row of each method (``methods`` in method order), from ``tiering_new``."""
    with _method_order(session, temp, methods) as order:
        o, w = order.c, temp.new.c
        pick = partial(_pick, o.n)
        # A method always gives a class (the assignments' NOT NULL tier refuses anything else):
        # no filter. Without rules the method decided, and its name is the row's own method.
        ruled = any(t.rules for t in methods)
        decided_by = pick([temp.decided_by(t) for t in methods]) if ruled else o.method
        rule_no = pick([w[f"r{t.key}"] for t in methods])
        # Driven by tiering_new alone: the statistics are read only for rule decisions' snapshots.
        stmt = select(
            w.customer_id,
            o.method,
            pick([temp.tier(t) for t in methods]),
            decided_by,
            _snapshot(methods, o.method, rule_no, temp.dialect, of=w.customer_id) if ruled else null(),
            valid_from,
            run,
        ).select_from(temp.new.join(order, literal(True)))
        if temp.dialect == "sqlite":
            stmt = stmt.order_by(w.customer_id, o.n)  # the scan's own order: no sort
        session.execute(_in_run(insert(assignments).from_select(NEW_ROW_COLUMNS, stmt)))


@contextmanager
def _method_order(session: Session, temp: WorkTables, methods: Sequence[Target]) -> Iterator[Table]:
    """A temporary table of the methods' numbers ``n`` (in ``methods`` order) and names, for the block."""
    kwargs: dict[str, Any] = {"postgresql_on_commit": "DROP"} if temp.dialect == "postgresql" else {}
    order = Table(
        "tiering_order",
        MetaData(),
        Column("n", Integer, primary_key=True),
        Column("method", String(64)),
        prefixes=["TEMPORARY"],
        **kwargs,
    )
    order.create(session.connection())
    try:
        session.execute(insert(order), [{"n": n, "method": t.method} for n, t in enumerate(methods)])
        yield order
    finally:
        order.drop(session.connection())


def _pick(n: Any, values: Sequence[Any]) -> Any:
    """The value of the method numbered ``n`` (a :func:`_method_order` column): ``values[n]``."""
    return case(*((n == i, v) for i, v in enumerate(values)), else_=null())


def _snapshot(targets: Sequence[Target], method: Any, rule_no: Any, dialect: str, of: Any = None) -> Any:
    """The JSON snapshot of a new assignment a rule decided: the columns its condition reads.

    NULL when the method itself decided: its numbers go to ``tiering_snapshots`` (typed, one
    row per customer and run, see :func:`_write_snapshots`). With ``of`` (a customer id
    column), the statistics are looked up for rule decisions only, not joined for every row.
    ``method`` None: every row is of the one target given.
    """

    def metrics(rule: TierRule) -> Any:
        built = _json_metrics(rule_columns(rule), dialect)
        return built if of is None else select(built).where(STATS.c.customer_id == of).scalar_subquery()

    whens = [
        (rule_no == n if method is None else and_(method == t.method, rule_no == n), metrics(rule))
        for t in targets
        for n, rule in enumerate(t.rules, 1)
    ]
    return case(*whens, else_=null()) if whens else null()


def _write_snapshots(session: Session, run_id: int, only: Any = None, temp: WorkTables | None = None) -> None:
    """The methods' numbers of this run for every customer (or those ``only`` selects), in customer order.

    Copied from ``tiering_new`` when it holds them (``temp.with_snapshots``): the numbers were
    taken there in the pass that decided the tiers, so the view is not joined a second time.
    """
    s = temp.new.c if temp is not None and temp.with_snapshots else STATS.c
    stmt = select(literal(run_id, BigInteger), s.customer_id, *(s[name] for name in SNAPSHOT_COLUMNS))
    if only is not None:
        stmt = stmt.where(s.customer_id.in_(only))
    session.execute(insert(snapshots).from_select(["run_id", "customer_id", *SNAPSHOT_COLUMNS], stmt))


def fresh_targets(session: Session, targets: Sequence[Target]) -> list[Target]:
    """The targets without any current assignment: a run writes every row of theirs, with no diff."""
    a = assignments.c
    return [
        t
        for t in targets
        if not session.scalar(select(exists().where(a.method == t.method, a.valid_to.is_(None))))
    ]


def writes_every_snapshot(session: Session, targets: Sequence[Target]) -> bool:
    """True when a method (not a flag) has no current rows: the run writes every customer's snapshot.

    Asked before the run writes anything (:func:`write_changes` asks the same question then).
    """
    return any(not t.is_flag for t in fresh_targets(session, targets))


def write_changes(
    session: Session,
    temp: WorkTables,
    settings: TierSettings,
    targets: Sequence[Target],
    run_id: int,
    counts: dict[str, dict[str, int]],
) -> tuple[int, list[str], int]:
    """Close the current rows that moved and insert the new ones.

    ``counts`` are the run's :func:`counts_per_tier`. Returns how many (customer, method) rows
    were written or closed, the methods that were written whole (no current rows before:
    every row of theirs is new) and how many rows those got.
    """
    a, mv = assignments.c, temp.moved.c
    fresh = fresh_targets(session, targets)
    compared = [t for t in targets if t not in fresh]
    # How many tiers each target gives, from the counts of tiering_new, not the driver's
    # rowcount of INSERT ... SELECT (not portable).
    given = {t.method: sum(counts.get(t.method, {}).values()) for t in targets}
    moved = _diff(
        session, temp, settings, compared, sum(given[t.method] for t in compared)
    )  # before fresh rows exist
    written = sum(given[t.method] for t in fresh)
    if fresh:
        _insert_all_new(session, temp, settings, fresh, run_id)
    fresh_methods = [t.method for t in fresh]
    if not moved:
        return written, fresh_methods, written
    if not any(not t.is_flag for t in fresh):  # else every customer's snapshot is written already
        decided_by_method = and_(mv.new_tier.is_not(None), mv.rule_no == 0, ~mv.method.like("flag:%"))
        _write_snapshots(session, run_id, select(mv.customer_id).where(decided_by_method).distinct())
    # Closed by primary key: each moved row names the current row it replaces, so the
    # database looks each one up by id (a semi-join on the ids) instead of testing every
    # current assignment against every move.
    session.execute(
        _in_run(
            update(assignments)
            .where(a.id.in_(select(mv.old_id).where(mv.old_id.is_not(None))))
            .values(valid_to=settings.as_of, ended_run_id=run_id)
        )
    )
    # Two statements: the rows a method decided (most of them) carry no JSON, and SQLite
    # journals any statement that calls a JSON function (it may fail at run time). The
    # statistics are looked up only for the rows a rule decided (their JSON snapshot).
    by_rule = mv.rule_no != 0
    for rows, metrics in (
        (~by_rule | mv.rule_no.is_(None), null()),
        (by_rule, _snapshot(targets, mv.method, mv.rule_no, temp.dialect, of=mv.customer_id)),
    ):
        fresh_rows = select(
            mv.customer_id,
            mv.method,
            mv.new_tier,
            mv.new_by,
            metrics,
            literal(settings.as_of, assignments.c.valid_from.type),
            literal(run_id, BigInteger),
        ).where(mv.new_tier.is_not(None), rows)
        session.execute(_in_run(insert(assignments).from_select(NEW_ROW_COLUMNS, fresh_rows)))
    return written + moved, fresh_methods, written


def fire(
    app: Kehu,
    session: Session,
    temp: WorkTables,
    run_id: int,
    fresh_methods: Sequence[str],
    fresh_rows: int,
    tier_method: str,
    wanted: bool = False,
) -> tuple[int, list[TierChange]]:
    """Fire ``kehu_tier_changed`` once with every (customer, method) whose tier moved.

    ``fresh_methods`` were written whole by this run (``fresh_rows`` rows, each a move from nothing).
    A change of ``tier_method`` (the method that is the customer's tier) has ``is_tier`` set.
    Returns how many moved and the :class:`TierChange` list, built only when a plugin listens
    to ``kehu_tier_changed`` or ``wanted`` says another event needs it (else empty).
    """
    a, mv = assignments.c, temp.moved.c
    moved_tier = select(mv.customer_id, mv.method, mv.old_tier, mv.new_tier).where(
        mv.old_tier.is_distinct_from(mv.new_tier)
    )
    first_tier = select(a.customer_id, a.method, null(), a.tier).where(
        a.run_id == run_id, a.method.in_(fresh_methods)
    )
    count = (session.scalar(select(func.count()).select_from(moved_tier.subquery())) or 0) + fresh_rows
    changes: list[TierChange] = []
    listening = bool(app.hook_caller("kehu_tier_changed").get_hookimpls())
    if count and (listening or wanted):
        rows = session.execute(union_all(moved_tier, first_tier) if fresh_methods else moved_tier).all()
        changes = sorted(
            (
                TierChange(cid, method, old, new, is_tier=method == tier_method)
                for cid, method, old, new in rows
            ),
            key=lambda c: (c.customer_id, c.method),
        )
        if listening:
            app.hook.kehu_tier_changed(session=session, changes=changes)
    return count, changes


def counts_per_tier(
    session: Session, temp: WorkTables, targets: Sequence[Target]
) -> dict[str, dict[str, int]]:
    """Customers per method and tier, in one pass over ``tiering_new`` (the tiers are known in advance)."""
    cells = [(t, tier) for t in targets for tier in t.possible_tiers()]
    if not cells:
        return {}

    def given(t: Target) -> Any:
        # A flag's one tier is given exactly when a rule raised it: its rule column is set.
        return func.count(temp.new.c[f"r{t.key}"]) if t.is_flag else func.count(temp.tier(t))

    totals = session.execute(
        select(
            *(given(t) if t.is_flag else func.count(case((temp.tier(t) == tier, 1))) for t, tier in cells),
            *(given(t) for t in targets),
        )
    ).one()
    counts: dict[str, dict[str, int]] = {}
    for (t, tier), n in zip(cells, totals):
        if n:
            counts.setdefault(t.method, {})[tier] = n
    for t, given in zip(targets, totals[len(cells) :]):
        if given != sum(counts.get(t.method, {}).values()):  # a tier outside the known set: count it plainly
            tier = temp.tier(t)
            counts[t.method] = {
                k: v
                for k, v in session.execute(
                    select(tier, func.count()).where(tier.is_not(None)).group_by(tier)
                )
            }
    return counts
