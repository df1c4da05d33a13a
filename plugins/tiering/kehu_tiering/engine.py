"""``kehu tier run``: statistics, methods and rules in SQL, then only the changes written.

Steps, all in the caller's transaction:

1. fill the temporary ``tiering_base`` (statistics) and ``tiering_ranks`` (window columns)
   tables; the ``tiering_stats`` view joins them and adds every method's class;
2. evaluate the slow-path Python predicates, if any rule has one;
3. decide every customer's assignment per method and flag in ONE pass over the view, into
   the wide temporary table ``tiering_new`` (one row per customer; per method the class the
   method gives and the number of the rule that overrides it, so each rule condition is
   evaluated once per customer);
4. diff against the current assignments into ``tiering_moved``: close the rows that changed
   (``valid_to``) and insert the new ones with their snapshot. Unchanged customers are not
   touched, so re-running with unchanged data writes no history;
5. fire ``kehu_tier_changed`` once with every customer whose tier moved.
"""
from __future__ import annotations

import time as _time
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from attrs import frozen
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import visitors

from kehu_core.errors import KehuError
from kehu_core.hooktypes import TierChange
from kehu_core.models import BigId
from kehu_core.types import utcnow
from kehu_tiering import sqlutil
from kehu_tiering.methods import rank_selects, rank_totals, stats_view_select
from kehu_tiering.models import SNAPSHOT_COLUMNS, assignments, runs, snapshots
from kehu_tiering.rules import TierRule
from kehu_tiering.settings import ABC_TIERS, PYRAMID_TIERS, TIER_METHODS, TierSettings
from kehu_tiering.stats import (
    BASE_COLUMNS,
    COLUMN_NAMES,
    RFM_SEGMENTS,
    STATS,
    TABLE_NAME,
    base_parts,
    base_select,
    base_table,
)

if TYPE_CHECKING:
    from kehu_core.app import Kehu

#: Every class a method itself can give (rule overrides only pick among these too).
METHOD_TIERS = {"abc": ABC_TIERS, "pyramid": PYRAMID_TIERS, "rfm": tuple(RFM_SEGMENTS)}
PREDICATE_METRICS = ("revenue_window", "orders_window", "recency_days", "pyramid")
STEPS = 5
#: SQLite page cache during a run, in KiB (per connection; released when it closes). Sized so
#: that a first run over a million customers writes its history without spilling pages,
#: while the process stays well under 1 GB.
SQLITE_CACHE_KB = 350_000
TEMP_CACHE_KB = 200_000


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


def _json_metrics(names: Sequence[str], dialect: str) -> Any:
    return sqlutil.json_object([(n, STATS.c[n]) for n in names], dialect)


def rule_columns(rule: TierRule) -> list[str]:
    """The statistics columns a rule's condition reads (its snapshot), in column order."""
    if rule.when is None:
        return list(PREDICATE_METRICS)
    used = {el.name for el in visitors.iterate(rule.when)
            if getattr(el, "table", None) is not None and getattr(el.table, "name", None) == TABLE_NAME}
    return [n for n in COLUMN_NAMES if n in used] or ["measure"]


@frozen
class _Target:
    """One assignment method of the run (``abc`` ... or ``flag:<name>``) and its deciding rules.

    In ``tiering_new`` it has two columns: ``t<k>``, the class the method itself gives (NULL
    for a flag), and ``r<k>``, the number (1-based, in application order) of the first rule
    whose condition holds, 0 when none does (NULL for a flag no rule raises).
    """

    key: int
    method: str
    rules: tuple[TierRule, ...]

    @property
    def is_flag(self) -> bool:
        return self.method.startswith("flag:")

    def tier(self, t: Any, r: Any) -> Any:
        """The assignment's tier from the ``t``/``r`` columns (NULL: no assignment)."""
        if self.is_flag:
            return case((r.is_not(None), literal(self.method[5:])), else_=null())
        if not self.rules:
            return t
        return case(*((r == n, literal(rule.tier)) for n, rule in enumerate(self.rules, 1)), else_=t)

    def decided_by(self, r: Any) -> Any:
        """The name of the rule (or method) that decided it."""
        whens = [(r == n, literal(rule.name)) for n, rule in enumerate(self.rules, 1)]
        if self.is_flag:
            return case(*whens, else_=null())
        return case(*whens, else_=literal(self.method)) if whens else literal(self.method)

    def possible_tiers(self) -> tuple[str, ...]:
        return (self.method[5:],) if self.is_flag else METHOD_TIERS[self.method]


def _targets(settings: TierSettings, rules: Sequence[TierRule]) -> list[_Target]:
    """The run's methods, then one target per flag, each with its rules in application order."""
    targets = []
    for method in TIER_METHODS:
        if method in settings.methods:
            targets.append(_Target(len(targets), method, tuple(r for r in rules if r.tier is not None and r.method == method)))
    if "flags" in settings.methods:
        flags: dict[str, list[TierRule]] = {}
        for rule in rules:
            if rule.flag is not None:
                flags.setdefault(rule.flag, []).append(rule)
        for flag, members in flags.items():
            targets.append(_Target(len(targets), f"flag:{flag}", tuple(members)))
    return targets


class _Temp:
    """The run's temporary tables, dropped at the end (and on commit on PostgreSQL)."""

    def __init__(self, session: Session, dialect: str, targets: Sequence[_Target],
                 columns: frozenset[str] | None = None):
        self.session, self.dialect, self.columns = session, dialect, columns
        self.metadata = MetaData()
        self.parts: list[str] = []
        kwargs = {"postgresql_on_commit": "DROP"} if dialect == "postgresql" else {}
        self.base = base_table(self.metadata, dialect)
        # Ranks per distinct value, keyed by it (a rowid lookup per customer on SQLite).
        self.ranks = {
            "by_measure": Table("tiering_rank_measure", self.metadata, Column("m", BigId, primary_key=True),
                                Column("rank_desc", BigInteger), Column("cum_before", BigInteger),
                                Column("m_worse", BigInteger), Column("abc", String(8)), Column("pyramid", String(16)),
                                Column("m_score", Integer), prefixes=["TEMPORARY"], **kwargs),
            **{name: Table(f"tiering_rank_{name[3:]}", self.metadata, Column("k", BigId, primary_key=True),
                           Column("worse", BigInteger), Column("score", Integer), prefixes=["TEMPORARY"], **kwargs)
               for name in ("by_recency", "by_orders")},
        }
        self.new = Table("tiering_new", self.metadata, Column("customer_id", BigId, primary_key=True),
                         *(col for t in targets for col in (Column(f"t{t.key}", String(64)), Column(f"r{t.key}", Integer))),
                         prefixes=["TEMPORARY"], **kwargs)
        self.moved = Table("tiering_moved", self.metadata, Column("customer_id", BigInteger),
                           Column("method", String(64)), Column("old_tier", String(64)), Column("new_tier", String(64)),
                           Column("new_by", String(200)), Column("rule_no", Integer), prefixes=["TEMPORARY"], **kwargs)
        self.matches = Table("tiering_matches", self.metadata, Column("rule", String(200)),
                             Column("customer_id", BigInteger), prefixes=["TEMPORARY"], **kwargs)
        # Without this the slow-path IN (...) lookups are quadratic.
        Index("tiering_matches_key", self.matches.c.rule, self.matches.c.customer_id)

    def __enter__(self) -> _Temp:
        self.drop()
        if self.dialect == "sqlite":
            # A bigger page cache for this connection: sorts and index inserts stay in memory.
            self.session.execute(text(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}"))
            self.session.execute(text(f"PRAGMA temp.cache_size = -{TEMP_CACHE_KB}"))
            self.session.execute(text("PRAGMA threads = 2"))  # helper threads for large sorts
        conn = self.session.connection()
        for table in self.metadata.sorted_tables:
            table.create(conn)
        return self

    def fill(self, settings: TierSettings) -> int:
        """Materialise the statistics, rank them, and define the ``tiering_stats`` view over both."""
        session, dialect = self.session, self.dialect
        session.execute(insert(self.base).from_select(list(BASE_COLUMNS), base_select(
            dialect, settings, session, self._parts(settings) if dialect == "sqlite" else None, self.columns)))
        # Typed: products like ``total * 8000`` must be BIGINT on PostgreSQL, as columns would be.
        customers, total_cents = session.execute(rank_totals(self.base)).one()
        n, total = cast(literal(customers), BigInteger), cast(literal(total_cents), BigInteger)
        for name, stmt in rank_selects(self.base, n, total, settings).items():
            session.execute(insert(self.ranks[name]).from_select(list(stmt.selected_columns.keys()), stmt))
        self.analyze(self.base, *self.ranks.values())
        view = stats_view_select(self.base, self.ranks, n, total)
        sql = view.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
        session.execute(text(f"CREATE TEMPORARY VIEW {TABLE_NAME} AS {sql}"))
        return int(customers)

    def _parts(self, settings: TierSettings) -> dict[str, Table]:
        """SQLite: the statistics' two aggregates in temporary tables keyed by customer.

        Joined as subqueries, SQLite would materialise each and sort it into an automatic
        index; filled in customer order into a rowid table, each costs only appends.
        """
        parts = {}
        for name, stmt in base_parts(self.dialect, settings, self.session, self.columns).items():
            names = list(stmt.selected_columns.keys())
            table_name = f"tiering_part_{name}"
            self.session.execute(text(f"DROP TABLE IF EXISTS {table_name}"))
            # Untyped columns: values are copied as they are, by SQL alone.
            self.session.execute(text(f"CREATE TEMPORARY TABLE {table_name} (customer_id INTEGER PRIMARY KEY, "
                                      + ", ".join(n for n in names if n != "customer_id") + ")"))
            table = Table(table_name, MetaData(), *(Column(n, c.type) for n, c in stmt.selected_columns.items()))
            self.session.execute(insert(table).from_select(names, stmt))
            self.parts.append(table_name)
            parts[name] = table
        return parts

    def analyze(self, *tables: Table) -> None:
        """PostgreSQL never auto-analyzes temporary tables: without statistics it plans nested loops."""
        if self.dialect == "postgresql":
            self.session.execute(text("ANALYZE " + ", ".join(t.name for t in tables)))

    def drop(self) -> None:
        self.session.execute(text(f"DROP VIEW IF EXISTS {TABLE_NAME}"))
        for name in self.parts:
            self.session.execute(text(f"DROP TABLE IF EXISTS {name}"))
        for table in reversed(self.metadata.sorted_tables):
            self.session.execute(text(f"DROP TABLE IF EXISTS {table.name}"))

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is None:
            self.drop()

    def tier(self, target: _Target) -> Any:
        """The target's new tier, from ``tiering_new``."""
        return target.tier(self.new.c[f"t{target.key}"], self.new.c[f"r{target.key}"])

    def decided_by(self, target: _Target) -> Any:
        """The name of what decided the target's new tier, from ``tiering_new``."""
        return target.decided_by(self.new.c[f"r{target.key}"])


#: Statistics columns every run reads: the methods' inputs and the snapshots' numbers.
METHOD_COLUMNS = frozenset(("measure", "measure_cents", "revenue_window", "recency_days", "orders_window", "orders_total"))


def needed_columns(rules: Sequence[TierRule]) -> frozenset[str] | None:
    """The statistics columns a run must compute: the methods' and every rule's (None: all of them).

    A Python predicate sees the whole row, so with one every column is computed.
    """
    if any(rule.predicate is not None for rule in rules):
        return None
    return METHOD_COLUMNS | {name for rule in rules for name in rule_columns(rule)}


def _predicate_rows(session: Session, stats: Any) -> list[dict[str, Any]]:
    from kehu_core.models import Customer, CustomerTag

    rows = [dict(r) for r in session.execute(
        select(stats, Customer.code, Customer.attributes).join(Customer, Customer.id == stats.c.customer_id)).mappings()]
    tags: dict[int, list[str]] = {}
    for cid, tag in session.execute(select(CustomerTag.customer_id, CustomerTag.tag).join(
            stats, stats.c.customer_id == CustomerTag.customer_id)):
        tags.setdefault(cid, []).append(tag)
    for row in rows:
        row["tags"] = tuple(sorted(tags.get(row["customer_id"], ())))
    return rows


def _conditions(session: Session, temp: _Temp, rules: Sequence[TierRule]) -> dict[str, Any]:
    """Each rule's SQL condition; slow-path predicates are evaluated here and become IN (...)."""
    slow = [r for r in rules if r.predicate is not None]
    if slow:
        rows = _predicate_rows(session, STATS)
        for rule in slow:
            matched = []
            for row in rows:
                try:
                    if rule.predicate(row):  # type: ignore[misc]
                        matched.append({"rule": rule.name, "customer_id": row["customer_id"]})
                except Exception as exc:
                    raise KehuError(f"rule {rule.name} ({rule.source}) failed on customer {row.get('code')}: "
                                    f"{type(exc).__name__}: {exc}") from exc
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


def _decide(session: Session, temp: _Temp, targets: Sequence[_Target], conditions: dict[str, Any]) -> None:
    """Fill ``tiering_new``: per customer and target, the method's class and the deciding rule."""
    cols: list[Any] = [STATS.c.customer_id]
    names = ["customer_id"]
    for t in targets:
        first_rule = case(*((conditions[r.name], literal(n)) for n, r in enumerate(t.rules, 1)),
                          else_=null() if t.is_flag else literal(0)) if t.rules else literal(0)
        cols += [null() if t.is_flag else STATS.c[t.method], first_rule]
        names += [f"t{t.key}", f"r{t.key}"]
    session.execute(insert(temp.new).from_select(names, select(*cols)))
    temp.analyze(temp.new)


def _managed_methods(settings: TierSettings) -> tuple[list[str], bool]:
    """Methods whose current rows this run replaces, and whether every ``flag:*`` is replaced."""
    return [m for m in TIER_METHODS if m in settings.methods], "flags" in settings.methods


def check_as_of(session: Session, as_of: date) -> None:
    """Refuse a run dated before the last run that wrote history (history would go backwards)."""
    latest = session.scalar(select(func.max(runs.c.as_of)).where(runs.c.changed > 0))
    if latest is not None and as_of < latest:
        raise KehuError(f"--as-of {as_of} is before the current assignments (valid from {latest}); "
                        "history only moves forward. Use `kehu tier stats --as-of` to look at an earlier date.")


def run(app: Kehu, session: Session, settings: TierSettings, *, rules: Sequence[TierRule] | None = None,
        source: str = "cli", progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Classify every active customer as of ``settings.as_of``; write changes; fire ``kehu_tier_changed``.

    Parameters:
        rules: the rules to apply (default: built-ins, plugins' and ``settings.rules_files``).
        source: recorded with the run (``cli``, ``job``, ``demo`` ...).
        progress: called as ``progress(step, STEPS)``.
    """
    from kehu_tiering import rules as rules_mod

    started = _time.perf_counter()
    step = progress or (lambda done, total: None)
    dialect = app.dialect
    if dialect == "postgresql":
        # The run's statements are large but made of index lookups and sorts; JIT compiling
        # them cost ~0.8 s each (measured at 100k customers) and bought nothing back.
        session.execute(text("SET LOCAL jit = off"))
    check_as_of(session, settings.as_of)
    if rules is None:
        rules = rules_mod.collect(app, settings.rules_files)
    targets = _targets(settings, rules)
    run_id = session.execute(insert(runs).values(
        started_at=utcnow(), as_of=settings.as_of, source=source, settings=settings.to_json(), customers=0, changed=0,
    ).returning(runs.c.id)).scalar_one()
    with _Temp(session, dialect, targets, needed_columns(rules)) as temp:
        customers = temp.fill(settings)
        step(1, STEPS)
        conditions = _conditions(session, temp, rules)
        _decide(session, temp, targets, conditions)
        step(2, STEPS)
        written, fresh_methods, fresh_rows = _write_changes(session, temp, settings, targets, run_id)
        step(3, STEPS)
        changes = _fire(app, session, temp, run_id, fresh_methods, fresh_rows) if written else 0
        step(4, STEPS)
        counts = _counts(session, temp, targets)
    session.execute(update(runs).where(runs.c.id == run_id).values(
        finished_at=utcnow(), customers=customers, changed=written))
    step(5, STEPS)
    return RunResult(run_id=run_id, as_of=settings.as_of, customers=customers, written=written, moved=changes,
                     counts=counts, seconds=round(_time.perf_counter() - started, 3), settings=settings.to_json())


def _diff(session: Session, temp: _Temp, settings: TierSettings, targets: Sequence[_Target]) -> int:
    """Fill ``tiering_moved`` with every (customer, method) whose assignment is new, changed or gone.

    ``targets`` are those with current assignments to compare with; current assignments of
    managed methods that no target gives any more are found as well.
    """
    a, w, mv = assignments.c, temp.new.c, temp.moved.c
    current = a.valid_to.is_(None)
    cols = ["customer_id", "method", "old_tier", "new_tier", "new_by", "rule_no"]
    for t in targets:
        tier, by, rule_no = temp.tier(t), temp.decided_by(t), w[f"r{t.key}"]
        same = and_(a.customer_id == w.customer_id, a.method == t.method, current)
        stmt = (select(w.customer_id, literal(t.method), a.tier, tier, by, rule_no)
                .select_from(temp.new.outerjoin(assignments, same))
                .where(tier.is_not(None), or_(a.id.is_(None), a.tier != tier, a.decided_by != by)))
        session.execute(insert(temp.moved).from_select(cols, stmt))
    # Current assignments the run no longer gives: a customer gone from the run, a flag no rule
    # raises any more. Counted first so that the usual case (none) costs no join.
    methods, all_flags = _managed_methods(settings)
    managed = a.method.in_(methods)
    if all_flags:
        managed = managed | a.method.like("flag:%")
    unchanged_or_moved = [func.count(temp.tier(t)) for t in targets]
    given = sum(session.execute(select(*unchanged_or_moved)).one()) if targets else 0
    new_rows = session.scalar(select(func.count()).select_from(temp.moved).where(mv.old_tier.is_(None))) or 0
    current_rows = session.scalar(select(func.count()).select_from(assignments).where(current, managed)) or 0
    if current_rows != given - new_rows:
        new_tier = case(*((a.method == t.method, temp.tier(t)) for t in targets), else_=null()) if targets else null()
        vanished = (select(a.customer_id, a.method, a.tier, null(), null(), null())
                    .select_from(assignments.outerjoin(temp.new, w.customer_id == a.customer_id))
                    .where(current, managed, new_tier.is_(None)))
        session.execute(insert(temp.moved).from_select(cols, vanished))
    temp.analyze(temp.moved)
    return session.scalar(select(func.count()).select_from(temp.moved)) or 0


def _insert_all_new(session: Session, temp: _Temp, settings: TierSettings, targets: Sequence[_Target],
                    run_id: int) -> int:
    """Write every customer's assignment of targets that have no current rows (a first run).

    Nothing to compare with, so no diff: one pass over the statistics, each customer's
    targets in method order -- the order of the assignments' indexes, so SQLite appends.
    """
    targets = sorted(targets, key=lambda t: t.method)
    kwargs = {"postgresql_on_commit": "DROP"} if temp.dialect == "postgresql" else {}
    order = Table("tiering_order", MetaData(), Column("n", Integer, primary_key=True), Column("method", String(64)),
                  prefixes=["TEMPORARY"], **kwargs)
    order.create(session.connection())
    try:
        session.execute(insert(order), [{"n": n, "method": t.method} for n, t in enumerate(targets)])
        o, w, s = order.c, temp.new.c, STATS.c

        def pick(values: Sequence[Any]) -> Any:
            return case(*((o.n == n, v) for n, v in enumerate(values)), else_=null())

        tier, rule_no = pick([temp.tier(t) for t in targets]), pick([w[f"r{t.key}"] for t in targets])
        # Driven by tiering_new alone: the statistics are read only for rule decisions' snapshots.
        stmt = (select(w.customer_id, o.method, tier, pick([temp.decided_by(t) for t in targets]),
                       _snapshot(targets, o.method, rule_no, temp.dialect, of=w.customer_id),
                       literal(settings.as_of, assignments.c.valid_from.type), literal(run_id, BigInteger))
                .select_from(temp.new.join(order, literal(True)))
                .where(tier.is_not(None)))
        if temp.dialect == "sqlite":
            stmt = stmt.order_by(w.customer_id, o.n)  # the scan's own order: no sort
        session.execute(insert(assignments).from_select(
            ["customer_id", "method", "tier", "decided_by", "metrics", "valid_from", "run_id"], stmt))
    finally:
        order.drop(session.connection())
    if any(not t.is_flag for t in targets):
        _write_snapshots(session, run_id)  # every customer has an ABC/pyramid/RFM row now
    # Counted from tiering_new (the driver's rowcount of INSERT ... SELECT is not portable).
    return sum(session.execute(select(*(func.count(temp.tier(t)) for t in targets))).one())


def _snapshot(targets: Sequence[_Target], method: Any, rule_no: Any, dialect: str, of: Any = None) -> Any:
    """The JSON snapshot of a new assignment a rule decided: the columns its condition reads.

    NULL when the method itself decided: its numbers go to ``tiering_snapshots`` (typed, one
    row per customer and run, see :func:`_write_snapshots`). With ``of`` (a customer id
    column), the statistics are looked up for rule decisions only, not joined for every row.
    """
    def metrics(rule: TierRule) -> Any:
        built = _json_metrics(rule_columns(rule), dialect)
        return built if of is None else select(built).where(STATS.c.customer_id == of).scalar_subquery()

    whens = [(and_(method == t.method, rule_no == n), metrics(rule)) for t in targets for n, rule in enumerate(t.rules, 1)]
    return case(*whens, else_=null()) if whens else null()


def _write_snapshots(session: Session, run_id: int, only: Any = None) -> None:
    """The methods' numbers of this run for every customer (or those ``only`` selects), in customer order."""
    s = STATS.c
    stmt = select(literal(run_id, BigInteger), s.customer_id, *(s[name] for name in SNAPSHOT_COLUMNS))
    if only is not None:
        stmt = stmt.where(s.customer_id.in_(only))
    session.execute(insert(snapshots).from_select(["run_id", "customer_id", *SNAPSHOT_COLUMNS], stmt))


def _write_changes(session: Session, temp: _Temp, settings: TierSettings, targets: Sequence[_Target],
                   run_id: int) -> tuple[int, list[str], int]:
    """Close the current rows that moved and insert the new ones.

    Returns how many (customer, method) rows were written or closed, the methods that were
    written whole (no current rows before: every row of theirs is new) and how many rows those got.
    """
    a, mv = assignments.c, temp.moved.c
    fresh = [t for t in targets if not session.scalar(select(exists().where(a.method == t.method, a.valid_to.is_(None))))]
    moved = _diff(session, temp, settings, [t for t in targets if t not in fresh])  # before the fresh rows exist
    written = _insert_all_new(session, temp, settings, fresh, run_id) if fresh else 0
    fresh_methods = [t.method for t in fresh]
    if not moved:
        return written, fresh_methods, written
    if not any(not t.is_flag for t in fresh):  # else every customer's snapshot is written already
        decided_by_method = and_(mv.new_tier.is_not(None), mv.rule_no == 0, ~mv.method.like("flag:%"))
        _write_snapshots(session, run_id, select(mv.customer_id).where(decided_by_method).distinct())
    changed = mv.old_tier.is_not(None)
    session.execute(
        update(assignments)
        .where(a.valid_to.is_(None), exists().where(changed, mv.customer_id == a.customer_id, mv.method == a.method))
        .values(valid_to=settings.as_of, ended_run_id=run_id)
    )
    s = STATS.c
    fresh_rows = (
        select(mv.customer_id, mv.method, mv.new_tier, mv.new_by, _snapshot(targets, mv.method, mv.rule_no, temp.dialect),
               literal(settings.as_of, assignments.c.valid_from.type), literal(run_id, BigInteger))
        .select_from(temp.moved.join(STATS, s.customer_id == mv.customer_id))
        .where(mv.new_tier.is_not(None))
    )
    session.execute(insert(assignments).from_select(
        ["customer_id", "method", "tier", "decided_by", "metrics", "valid_from", "run_id"], fresh_rows))
    return written + moved, fresh_methods, written


def _fire(app: Kehu, session: Session, temp: _Temp, run_id: int, fresh_methods: Sequence[str], fresh_rows: int) -> int:
    """Fire ``kehu_tier_changed`` once with every (customer, method) whose tier moved; returns how many.

    ``fresh_methods`` were written whole by this run (``fresh_rows`` rows, each a move from nothing).
    """
    a, mv = assignments.c, temp.moved.c
    moved_tier = select(mv.customer_id, mv.method, mv.old_tier, mv.new_tier).where(
        mv.old_tier.is_distinct_from(mv.new_tier))
    first_tier = select(a.customer_id, a.method, null(), a.tier).where(a.run_id == run_id, a.method.in_(fresh_methods))
    count = (session.scalar(select(func.count()).select_from(moved_tier.subquery())) or 0) + fresh_rows
    if count and app.hook_caller("kehu_tier_changed").get_hookimpls():
        rows = session.execute(union_all(moved_tier, first_tier) if fresh_methods else moved_tier).all()
        changes = sorted((TierChange(cid, method, old, new) for cid, method, old, new in rows),
                         key=lambda c: (c.customer_id, c.method))
        app.hook.kehu_tier_changed(session=session, changes=changes)
    return count


def _counts(session: Session, temp: _Temp, targets: Sequence[_Target]) -> dict[str, dict[str, int]]:
    """Customers per method and tier, in one pass over ``tiering_new`` (the tiers are known in advance)."""
    cells = [(t, tier) for t in targets for tier in t.possible_tiers()]
    if not cells:
        return {}
    totals = session.execute(select(*(func.count(case((temp.tier(t) == tier, 1))) for t, tier in cells),
                                    *(func.count(temp.tier(t)) for t in targets))).one()
    counts: dict[str, dict[str, int]] = {}
    for (t, tier), n in zip(cells, totals):
        if n:
            counts.setdefault(t.method, {})[tier] = n
    for t, given in zip(targets, totals[len(cells):]):
        if given != sum(counts.get(t.method, {}).values()):  # a tier outside the known set: count it plainly
            tier = temp.tier(t)
            counts[t.method] = {k: v for k, v in session.execute(
                select(tier, func.count()).where(tier.is_not(None)).group_by(tier))}
    return counts


def delete_history(session: Session) -> None:
    """Forget every assignment and run (used by tests and ``kehu tier reset``)."""
    session.execute(delete(assignments))
    session.execute(delete(runs))
