"""``kehu tier run``: statistics, methods and rules in SQL, then only the changes written.

Steps, all in the caller's transaction:

1. fill the temporary ``tiering_stats`` table (statistics + every method's class) in one
   INSERT ... SELECT;
2. evaluate the slow-path Python predicates, if any rule has one;
3. build every customer's new assignment per method and flag (rules as CASE expressions)
   in a temporary ``tiering_new`` table;
4. diff against the current assignments: close the rows that changed (``valid_to``) and
   insert the new ones. Unchanged customers are not touched, so re-running with unchanged
   data writes no history;
5. fire ``kehu_tier_changed`` once with every customer whose tier moved.
"""
from __future__ import annotations

import time as _time
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from attrs import frozen
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    MetaData,
    String,
    Table,
    and_,
    case,
    or_,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import visitors

from kehu_core.errors import KehuError
from kehu_core.hooktypes import TierChange
from kehu_core.types import utcnow
from kehu_tiering import sqlutil
from kehu_tiering.methods import RANK_COLUMNS, rank_columns, stats_view_select
from kehu_tiering.models import assignments, runs
from kehu_tiering.rules import TierRule
from kehu_tiering.settings import TIER_METHODS, TierSettings
from kehu_tiering.stats import BASE_COLUMNS, COLUMN_NAMES, STATS, TABLE_NAME, base_select, base_table

if TYPE_CHECKING:
    from kehu_core.app import Kehu

#: The numbers kept as the snapshot of each method's decision.
METHOD_METRICS = {
    "abc": ("measure", "revenue_window", "cum_share_before", "rank", "customers"),
    "pyramid": ("measure", "revenue_window", "rank", "rank_pct", "customers"),
    "rfm": ("recency_days", "orders_window", "measure", "r_score", "f_score", "m_score"),
}
PREDICATE_METRICS = ("revenue_window", "orders_window", "recency_days", "pyramid")
STEPS = 5
#: SQLite page cache during a run, in KiB (per connection; released when it closes).
SQLITE_CACHE_KB = 200_000


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


class _Temp:
    """The run's temporary tables, dropped at the end (and on commit on PostgreSQL)."""

    def __init__(self, session: Session, dialect: str):
        self.session, self.dialect = session, dialect
        self.metadata = MetaData()
        kwargs = {"postgresql_on_commit": "DROP"} if dialect == "postgresql" else {}
        self.base = base_table(self.metadata, dialect)
        self.ranks = Table("tiering_ranks", self.metadata, Column("customer_id", BigInteger, primary_key=True),
                           *(Column(name, BigInteger) for name in RANK_COLUMNS), prefixes=["TEMPORARY"], **kwargs)
        self.new = Table("tiering_new", self.metadata, Column("customer_id", BigInteger), Column("method", String(64)),
                         Column("tier", String(64)), Column("decided_by", String(200)),
                         prefixes=["TEMPORARY"], **kwargs)
        self.moved = Table("tiering_moved", self.metadata, Column("customer_id", BigInteger),
                           Column("method", String(64)), Column("old_tier", String(64)), Column("new_tier", String(64)),
                           prefixes=["TEMPORARY"], **kwargs)
        self.matches = Table("tiering_matches", self.metadata, Column("rule", String(200)),
                             Column("customer_id", BigInteger), prefixes=["TEMPORARY"], **kwargs)
        # Without these the diff's correlated lookups are quadratic.
        Index("tiering_new_key", self.new.c.customer_id, self.new.c.method)
        Index("tiering_moved_key", self.moved.c.customer_id, self.moved.c.method)
        Index("tiering_matches_key", self.matches.c.rule, self.matches.c.customer_id)

    def __enter__(self) -> _Temp:
        self.drop()
        if self.dialect == "sqlite":
            # A bigger page cache for this connection: sorts and index inserts stay in memory.
            self.session.execute(text(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}"))
            self.session.execute(text(f"PRAGMA temp.cache_size = -{SQLITE_CACHE_KB}"))
            self.session.execute(text("PRAGMA threads = 2"))  # helper threads for large sorts
        conn = self.session.connection()
        for table in self.metadata.sorted_tables:
            table.create(conn)
        return self

    def fill(self, settings: TierSettings) -> int:
        """Materialise the statistics, rank them, and define the ``tiering_stats`` view over both."""
        session, dialect = self.session, self.dialect
        session.execute(insert(self.base).from_select(list(BASE_COLUMNS), base_select(dialect, settings)))
        narrow = select(self.base.c.customer_id, *rank_columns(self.base))
        session.execute(insert(self.ranks).from_select(["customer_id", *RANK_COLUMNS], narrow))
        self.analyze(self.base, self.ranks)
        view = stats_view_select(self.base, self.ranks, settings)
        sql = view.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
        session.execute(text(f"CREATE TEMPORARY VIEW {TABLE_NAME} AS {sql}"))
        return session.scalar(select(func.count()).select_from(self.base)) or 0

    def analyze(self, *tables: Table) -> None:
        """PostgreSQL never auto-analyzes temporary tables: without statistics it plans nested loops."""
        if self.dialect == "postgresql":
            self.session.execute(text("ANALYZE " + ", ".join(t.name for t in tables)))

    def drop(self) -> None:
        self.session.execute(text(f"DROP VIEW IF EXISTS {TABLE_NAME}"))
        for table in reversed(self.metadata.sorted_tables):
            self.session.execute(text(f"DROP TABLE IF EXISTS {table.name}"))

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is None:
            self.drop()


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


def _assignment_selects(settings: TierSettings, rules: Sequence[TierRule], conditions: dict[str, Any], dialect: str,
                        only: Table | None = None) -> list[Any]:
    """One SELECT per method and per flag, producing (customer_id, method, tier, decided_by[, metrics]).

    Without ``only`` the metrics column is left out (the diff needs no snapshot); with
    ``only`` (the moved table) it is included, for the moved customers alone.
    """
    with_metrics = only is not None

    def restrict(stmt: Any, method: str) -> Any:
        if only is None:
            return stmt
        o = only.c
        return stmt.where(exists().where(o.customer_id == STATS.c.customer_id, o.method == method, o.new_tier.is_not(None)))

    selects = []
    for method in TIER_METHODS:
        if method not in settings.methods:
            continue
        overrides = [r for r in rules if r.tier is not None and r.method == method]
        own = _json_metrics(METHOD_METRICS[method], dialect)
        if overrides:
            tier = case(*((conditions[r.name], literal(r.tier)) for r in overrides), else_=STATS.c[method])
            by = case(*((conditions[r.name], literal(r.name)) for r in overrides), else_=literal(method))
            metrics = case(*((conditions[r.name], _json_metrics(rule_columns(r), dialect)) for r in overrides), else_=own)
        else:
            tier, by, metrics = STATS.c[method], literal(method), own
        cols = [STATS.c.customer_id, literal(method).label("method"), tier.label("tier"), by.label("decided_by")]
        selects.append(restrict(select(*cols, *([metrics.label("metrics")] if with_metrics else [])), method))
    if "flags" in settings.methods:
        flags: dict[str, list[TierRule]] = {}
        for rule in rules:
            if rule.flag is not None:
                flags.setdefault(rule.flag, []).append(rule)
        for flag, members in flags.items():
            cond = or_(*(conditions[r.name] for r in members))
            by = case(*((conditions[r.name], literal(r.name)) for r in members), else_=literal(members[0].name))
            metrics = case(*((conditions[r.name], _json_metrics(rule_columns(r), dialect)) for r in members))
            cols = [STATS.c.customer_id, literal(f"flag:{flag}").label("method"), literal(flag).label("tier"),
                    by.label("decided_by")]
            stmt = select(*cols, *([metrics.label("metrics")] if with_metrics else [])).where(cond)
            selects.append(restrict(stmt, f"flag:{flag}"))
    return selects


def _managed_methods(settings: TierSettings) -> tuple[list[str], bool]:
    """Methods whose current rows this run replaces, and whether every ``flag:*`` is replaced."""
    return [m for m in TIER_METHODS if m in settings.methods], "flags" in settings.methods


def check_as_of(session: Session, as_of: date) -> None:
    """Refuse a run dated before the current assignments (history would go backwards)."""
    latest = session.scalar(select(func.max(assignments.c.valid_from)).where(assignments.c.valid_to.is_(None)))
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
    check_as_of(session, settings.as_of)
    if rules is None:
        rules = rules_mod.collect(app, settings.rules_files)
    run_id = session.execute(insert(runs).values(
        started_at=utcnow(), as_of=settings.as_of, source=source, settings=settings.to_json(), customers=0, changed=0,
    ).returning(runs.c.id)).scalar_one()
    with _Temp(session, dialect) as temp:
        customers = temp.fill(settings)
        step(1, STEPS)
        conditions = _conditions(session, temp, rules)
        selects = _assignment_selects(settings, rules, conditions, dialect)
        if selects:
            session.execute(insert(temp.new).from_select(["customer_id", "method", "tier", "decided_by"], _union(selects)))
            temp.analyze(temp.new)
        step(2, STEPS)
        written, moved = _write_changes(session, temp, settings, rules, run_id,
                                        lambda: _union(_assignment_selects(settings, rules, conditions, dialect, temp.moved)))
        step(3, STEPS)
        changes = _fire(app, session, temp)
        step(4, STEPS)
        counts = _counts(session, temp)
    session.execute(update(runs).where(runs.c.id == run_id).values(
        finished_at=utcnow(), customers=customers, changed=written))
    step(5, STEPS)
    return RunResult(run_id=run_id, as_of=settings.as_of, customers=customers, written=written, moved=changes,
                     counts=counts, seconds=round(_time.perf_counter() - started, 3), settings=settings.to_json())


def _union(selects: Sequence[Any]) -> Any:
    return union_all(*selects) if len(selects) > 1 else selects[0]


def _write_changes(session: Session, temp: _Temp, settings: TierSettings, rules: Sequence[TierRule], run_id: int,
                   fresh_rows: Callable[[], Any]) -> tuple[int, int]:
    a, n, mv = assignments.c, temp.new.c, temp.moved.c
    methods, all_flags = _managed_methods(settings)
    current = and_(a.valid_to.is_(None))
    same_key = and_(a.customer_id == n.customer_id, a.method == n.method)
    # New or different (tier or reason) assignments ...
    changed = (
        select(n.customer_id, n.method, a.tier, n.tier)
        .select_from(temp.new.outerjoin(assignments, and_(same_key, current)))
        .where((a.id.is_(None)) | (a.tier != n.tier) | (a.decided_by != n.decided_by))
    )
    # ... and current assignments of the managed methods that the run no longer gives.
    managed = a.method.in_(methods)
    if all_flags:
        managed = managed | a.method.like("flag:%")
    vanished = (
        select(a.customer_id, a.method, a.tier, literal(None, String(64)))
        .where(current, managed, ~exists().where(same_key))
    )
    session.execute(insert(temp.moved).from_select(["customer_id", "method", "old_tier", "new_tier"],
                                                   union_all(changed, vanished)))
    temp.analyze(temp.moved)
    moved = session.scalar(select(func.count()).select_from(temp.moved)) or 0
    if not moved:
        return 0, 0
    session.execute(
        update(assignments)
        .where(current, exists().where(mv.customer_id == a.customer_id, mv.method == a.method))
        .values(valid_to=settings.as_of, ended_run_id=run_id)
    )
    fresh = fresh_rows().subquery("fresh")
    session.execute(insert(assignments).from_select(
        ["customer_id", "method", "tier", "decided_by", "metrics", "valid_from", "run_id"],
        select(fresh, literal(settings.as_of, assignments.c.valid_from.type), literal(run_id, BigInteger))))
    return moved, moved


def _fire(app: Kehu, session: Session, temp: _Temp) -> int:
    """Fire ``kehu_tier_changed`` once with every (customer, method) whose tier moved."""
    mv = temp.moved.c
    moved_tier = select(mv.customer_id, mv.method, mv.old_tier, mv.new_tier).where(
        mv.old_tier.is_distinct_from(mv.new_tier)).order_by(mv.customer_id, mv.method)
    count = session.scalar(select(func.count()).select_from(moved_tier.subquery())) or 0
    if count and app.hook_caller("kehu_tier_changed").get_hookimpls():
        changes = [TierChange(cid, method, old, new) for cid, method, old, new in session.execute(moved_tier)]
        app.hook.kehu_tier_changed(session=session, changes=changes)
    return count


def _counts(session: Session, temp: _Temp) -> dict[str, dict[str, int]]:
    n = temp.new.c
    counts: dict[str, dict[str, int]] = {}
    for method, tier, count in session.execute(select(n.method, n.tier, func.count()).group_by(n.method, n.tier)):
        counts.setdefault(method, {})[tier] = count
    return counts


def delete_history(session: Session) -> None:
    """Forget every assignment and run (used by tests and ``kehu tier reset``)."""
    session.execute(delete(assignments))
    session.execute(delete(runs))
