"""Earning compiled to SQL: one ``INSERT ... SELECT`` per batch does what the Python path does row by row.

The amount rules of the programme become one statement per tier group (customers of one
tier multiplier): it reads the batch's interactions joined to the accounts (which carry the
members' birthday months), works out which amount rules match each row as a bit mask, and writes
``floor(amount × Σ rates × multiplier)`` points computed in integers (cents × numerator
// denominator, never floats), the reason text and the matched rule names, keyed
``earn:i<id>`` with ``ON CONFLICT (idempotency_key) DO NOTHING``. Every bonus rule is one more
statement picking the earliest qualifying interaction (``occurred_at``, then id) per scope
of ``once_per`` with a window function. The Python path (:mod:`kehu_loyalty.earning`) writes
exactly the same ledger; :func:`compilable` (through :func:`kehu_loyalty.earning.plan`) says
when a batch cannot be compiled, and the Python path earns it instead.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from itertools import product
from typing import Any

from attrs import frozen
from sqlalchemy.orm import Session

from kehu_loyalty.ledger import driver_rows, sqlite_stamp
from kehu_loyalty.models import ACCOUNTS, LEDGER, MAX_POINTS, REASON_WIDTH, REFERRALS
from kehu_loyalty.rates import Rate
from kehu_loyalty.rules import EarnRule

#: Amount rules beyond this many conditional ones are evaluated in Python (the statement
#: enumerates every combination of matching rules: 2**n branches).
MAX_CONDITIONAL = 8
#: A once-per-customer bonus reaches the interactions of at most one buyer in this many of the
#: batch's rows through the customer index, instead of reading the whole batch (see earn_bonus).
FEW_BUYERS = 10
#: SQLite integers are 64-bit; cents × numerator must stay below this.
_SQLITE_MAX = 2**63 - 1
_COLUMNS = (
    "customer_id, kind, points, occurred_at, expires_at, reason, rule, interaction_id, reward_id, "
    "idempotency_key, shortfall, created_at"
)


@frozen
class Combination:
    """One set of amount rules matching together, and its bit mask (bit n: the n-th amount rule)."""

    mask: int
    rules: tuple[EarnRule, ...]


def combinations(amount_rules: Sequence[EarnRule], always: Sequence[bool]) -> list[Combination]:
    """Every non-empty set of amount rules that can match one row (rules always matching are in all)."""
    optional = [i for i, fixed in enumerate(always) if not fixed]
    base = sum(1 << i for i, fixed in enumerate(always) if fixed)
    found = []
    for picks in product((0, 1), repeat=len(optional)):
        mask = base + sum(1 << optional[n] for n, bit in enumerate(picks) if bit)
        if mask:
            found.append(Combination(mask, tuple(r for i, r in enumerate(amount_rules) if mask >> i & 1)))
    return found


def fixed_offset_minutes(zone: tzinfo, first: datetime, last: datetime) -> int | None:
    """The zone's UTC offset in minutes when it is the same over the whole years of
    ``first``..``last``, else None."""
    offsets = {_year_offset(zone, year) for year in range(first.year - 1, last.year + 2)}
    if len(offsets) != 1 or None in offsets:
        return None
    return offsets.pop()


@lru_cache(maxsize=256)
def _year_offset(zone: tzinfo, year: int) -> int | None:
    """The offset of ``zone`` in ``year`` in minutes, or None when it changes during the year
    (sampled hourly)."""
    moment = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    seen = set()
    while moment < end:
        offset = moment.astimezone(zone).utcoffset()
        seen.add(offset)
        if len(seen) > 1:
            return None
        moment += timedelta(hours=1)
    [only] = seen
    return None if only is None or only % timedelta(minutes=1) else int(only / timedelta(minutes=1))


class _Params:
    """Bound parameters of one statement, named in order."""

    def __init__(self, dialect: str):
        self.values: dict[str, Any] = {}
        self.dialect = dialect

    def add(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        # Driver-level SQL (no SQLAlchemy text(), which would read ':c' in a string literal as a parameter).
        return f"%({name})s" if self.dialect == "postgresql" else f":{name}"

    def text(self, value: str) -> str:
        """A text parameter (typed on PostgreSQL, where an untyped one cannot meet ``||``)."""
        mark = self.add(value)
        return f"CAST({mark} AS TEXT)" if self.dialect == "postgresql" else mark

    def time(self, value: datetime) -> str:
        """A time compared with stored ``UTCDateTime`` values."""
        if self.dialect == "sqlite":
            return self.add(sqlite_stamp(value))
        return f"CAST({self.add(value.astimezone(UTC))} AS TIMESTAMP WITH TIME ZONE)"

    def one_of(self, values: Sequence[Any]) -> str:
        return "(" + ", ".join(self.add(v) for v in values) + ")"


class SqlDialect:
    """The few expressions that differ between SQLite and PostgreSQL."""

    def __init__(self, name: str, zone_name: str, offset_minutes: int | None):
        self.name = name
        self.zone_name = zone_name
        self.offset = offset_minutes

    @property
    def sqlite(self) -> bool:
        return self.name == "sqlite"

    def cents(self) -> str:
        """The interaction's amount in whole cents (SQLite keeps money as REAL: rounded back)."""
        return "CAST(round(i.amount * 100) AS INTEGER)" if self.sqlite else "CAST(i.amount * 100 AS BIGINT)"

    def points(self, cents: str, numerator: int, denominator: int) -> str:
        """``cents × numerator // denominator`` exactly (PostgreSQL: in numeric, no overflow)."""
        if self.sqlite:
            return f"({cents} * {numerator} / {denominator})"
        return f"CAST(div(CAST({cents} AS NUMERIC) * {numerator}, {denominator}) AS BIGINT)"

    def amount_text(self, cents: str) -> str:
        """The amount with two decimals, from whole cents (positive)."""
        if self.sqlite:
            return f"printf('%d.%02d', {cents} / 100, {cents} % 100)"
        return f"(CAST({cents} / 100 AS TEXT) || '.' || lpad(CAST(mod({cents}, 100) AS TEXT), 2, '0'))"

    def amount_reason(self, cents: str, suffix: str, longest_suffix: int) -> str:
        """``¥<amount> × <suffix>`` cut to ``REASON_WIDTH`` characters, as
        :func:`kehu_loyalty.rates.amount_reason` writes it. The cut is left out when no amount
        (at most 17 digits) and suffix can reach it: this runs for every entry of an import,
        and one ``printf`` is the cheapest form on SQLite."""
        text = (
            f"printf('¥%d.%02d × %s', {cents} / 100, {cents} % 100, {suffix})"
            if self.sqlite
            else f"'¥' || {self.amount_text(cents)} || ' × ' || {suffix}"
        )
        return text if longest_suffix + 24 <= REASON_WIDTH else f"substr({text}, 1, {REASON_WIDTH})"

    def as_text(self, expr: str) -> str:
        return expr if self.sqlite else f"CAST({expr} AS TEXT)"

    def local(self, what: str, params: _Params) -> str:
        """Part of ``i.occurred_at`` in local time: ``month`` or ``month-day`` (integers:
        ``1111`` for 11-11, as :func:`kehu_loyalty.rules.month_day`), ``year`` or
        ``year-month`` (text)."""
        if self.sqlite:
            # Whole seconds: SQLite's date functions round to the millisecond, which would carry
            # 23:59:59.9999 into the next day (and month, and year).
            shifted = f"substr(i.occurred_at, 1, 19), '{self.offset:+d} minutes'"
            if what in ("month", "month-day"):
                pattern = "%m" if what == "month" else "%m%d"
                return f"CAST(strftime('{pattern}', {shifted}) AS INTEGER)"
            return f"strftime('{'%Y' if what == 'year' else '%Y-%m'}', {shifted})"
        local = f"(i.occurred_at AT TIME ZONE {params.text(self.zone_name)})"
        if what == "month":
            return f"CAST(EXTRACT(MONTH FROM {local}) AS INTEGER)"
        if what == "month-day":
            return f"CAST(to_char({local}, 'MMDD') AS INTEGER)"
        return f"to_char({local}, '{'YYYY' if what == 'year' else 'YYYY-MM'}')"

    def expiry(self, months: int) -> str:
        """``occurred_at`` plus whole months, the day clamped to the month's end (as
        ``ledger.add_months``)."""
        if not self.sqlite:
            return (
                f"((occurred_at AT TIME ZONE 'UTC') + make_interval(months => {int(months)})) "
                "AT TIME ZONE 'UTC'"
            )
        total = f"(CAST(substr(occurred_at, 6, 2) AS INTEGER) - 1 + {int(months)})"
        year = f"(CAST(substr(occurred_at, 1, 4) AS INTEGER) + {total} / 12)"
        month = f"({total} % 12 + 1)"
        last_day = (
            f"CAST(strftime('%d', printf('%04d-%02d-01', {year}, {month}), '+1 month', '-1 day') AS INTEGER)"
        )
        clamped = (
            f"printf('%04d-%02d-%02d', {year}, {month}, "
            f"min(CAST(substr(occurred_at, 9, 2) AS INTEGER), {last_day})) "
            f"|| substr(occurred_at, 11)"
        )
        # The cheap cases first (this runs for every entry of an import): whole years keep the
        # month and day, except Feb 29; days up to 28 exist in every month, and SQLite's own
        # month arithmetic is exact for them (it overflows into the next month only past the end).
        if months % 12 == 0:
            return (
                f"CASE WHEN substr(occurred_at, 6, 5) <> '02-29' AND occurred_at >= '1000' "
                f"THEN (CAST(substr(occurred_at, 1, 4) AS INTEGER) + {months // 12}) || "
                f"substr(occurred_at, 5) ELSE {clamped} END"
            )
        return (
            f"CASE WHEN substr(occurred_at, 9, 2) <= '28' THEN date(occurred_at, '+{int(months)} months') "
            "|| substr(occurred_at, 11) "
            f"ELSE {clamped} END"
        )

    def in_list(self, column: str, values: Sequence[int], params: _Params) -> str:
        """``column`` is one of ``values`` (one bound parameter)."""
        if self.sqlite:
            return f"{column} IN (SELECT value FROM json_each({params.add(json.dumps(list(values)))}))"
        return f"{column} = ANY(CAST({params.add(list(values))} AS BIGINT[]))"

    def unindexed(self, column: str) -> str:
        """``column`` where SQLite must not pick its index: the batch's id range is the way in
        (an index on ``kind`` would read every purchase ever recorded, growing with the database)."""
        return f"+{column}" if self.sqlite else column

    def done(self) -> str:
        return f"{self.unindexed('i.status')} = 'done'"

    def batch(self, ids: Sequence[int], params: _Params, *, way_in: bool = True) -> str:
        """The batch's interactions: an id range when the ids are contiguous (SQLite imports), else the list.

        ``way_in=False``: SQLite must reach the rows another way (an index on another column)
        and only test their ids."""
        ordered = sorted(set(ids))
        column = "i.id" if way_in else self.unindexed("i.id")
        if ordered[-1] - ordered[0] + 1 == len(ordered):
            return f"{column} BETWEEN {params.add(ordered[0])} AND {params.add(ordered[-1])}"
        return self.in_list(column, ordered, params)


def condition(rule: EarnRule, d: SqlDialect, params: _Params, cents: str, kinds: Sequence[str]) -> str | None:
    """The rule's conditions (``EarnRule.matches``) as SQL over ``i`` (and the account ``a``);
    None when always true.

    ``kinds``: the kinds the statement already restricts the rows to."""
    terms = []
    if set(kinds) - set(rule.kinds):
        terms.append(f"i.kind IN {params.one_of(rule.kinds)}")
    for column, allowed in (
        ("category", rule.categories),
        ("channel", rule.channels),
        ("product", rule.products),
    ):
        if allowed:
            terms.append(f"i.{column} IN {params.one_of(allowed)}")
    if rule.min_amount is not None:
        minimum = Fraction(rule.min_amount) * 100  # amounts here are >= 0: abs() is the amount
        terms.append(f"{cents} * {minimum.denominator} >= {minimum.numerator}")
    if rule.birthday_month:  # members without a birthday first: no local time worked out for them
        terms.append(f"a.birthday_month IS NOT NULL AND {d.local('month', params)} = a.birthday_month")
    if rule.span is not None:  # the company-local day of the year, both ends included
        first, last = rule.span
        day = d.local("month-day", params)
        test = "BETWEEN {0} AND {1}" if first <= last else "NOT BETWEEN {1} + 1 AND {0} - 1"
        terms.append(f"{day} {test.format(first, last)}")
    if rule.valid_from is not None:
        terms.append(f"i.occurred_at >= {params.time(rule.valid_from)}")
    if rule.valid_until is not None:
        terms.append(f"i.occurred_at < {params.time(rule.valid_until)}")
    return " AND ".join(terms) or None


@frozen
class TierGroup:
    """Customers earning under one tier multiplier (``tier`` None: no multiplier, or everyone else)."""

    factor: Decimal
    tier: str | None
    customer_ids: tuple[int, ...] | None  # None: every member of the batch not in another group
    others: tuple[int, ...] = ()  # for the catch-all group: customers of the other groups


def needs_local_time(rules: Sequence[EarnRule]) -> bool:
    """Whether any rule looks at local time (a birthday month, a day of every year, a
    once-per-year or -month scope)."""
    return any(r.birthday_month or r.every_year or r.once_per in ("year", "month") for r in rules)


def numerator_bound(
    amount_rules: Sequence[EarnRule], factors: Sequence[Decimal], boost: Decimal = Decimal(1)
) -> int:
    """An upper bound of the numerator of any combination's rate (over a common denominator), any
    tier factor, under the multiplier rule ``boost``."""
    best = 0
    for factor in factors:
        rates = [
            Fraction(r.points_per_yuan) * (Fraction(factor) if r.tier_multiplier else 1) * Fraction(boost)
            for r in amount_rules
        ]
        common = math.lcm(*(f.denominator for f in rates)) if rates else 1
        best = max(best, sum(f.numerator * (common // f.denominator) for f in rates))
    return best


def compilable(
    rules: Sequence[EarnRule], dialect: str, offset: int | None, max_cents: int, bound: int
) -> str | None:
    """Why these rules cannot run as SQL on this batch (None: they can)."""
    if dialect not in ("sqlite", "postgresql"):
        return f"no SQL earning for {dialect}"
    if dialect == "sqlite" and sqlite3.sqlite_version_info < (3, 35, 0):
        return "SQLite before 3.35 has no MATERIALIZED common table expressions"
    amount_rules = [r for r in rules if r.per_yuan]
    kinds = {k for r in amount_rules for k in r.kinds}
    # A rule is conditional (a bit that varies) when it tests more than the statement's kinds.
    if sum(1 for r in amount_rules if not r.is_plain or not kinds <= set(r.kinds)) > MAX_CONDITIONAL:
        return f"more than {MAX_CONDITIONAL} conditional amount rules"
    if dialect == "sqlite" and offset is None and needs_local_time(rules):
        return "the local zone's UTC offset is not fixed over the batch's years (SQLite has no time zones)"
    if any(r.beneficiary == "referrer" and r.birthday_month for r in rules):
        return "a referrer bonus in the buyer's birthday month"
    if dialect == "sqlite" and max_cents * bound > _SQLITE_MAX:
        return "amounts too large for 64-bit integer points on SQLite"
    if max_cents * bound // 100 > MAX_POINTS:  # the Python path refuses the entry in one line
        return "points that could pass 64 bits"
    return None


def earn_amounts(
    session: Session,
    d: SqlDialect,
    ids: Sequence[int],
    amount_rules: Sequence[EarnRule],
    groups: Sequence[TierGroup],
    rate_of: Callable[[Sequence[EarnRule], tuple[Decimal, str] | None], Rate],
    months: int,
    stored_now: Any,
    entry_ids: list[int] | None = None,
) -> list[int]:
    """One ``INSERT ... SELECT`` per tier group for the amount rules; returns the points of each
    entry written (PostgreSQL adds their ids to ``entry_ids`` when given).

    ``rate_of(matched rules, (factor, tier) or None)`` gives the rate of each combination of
    matched rules, as the Python path computes it (:func:`kehu_loyalty.rates.rate_of`).
    """
    kinds = sorted({k for r in amount_rules for k in r.kinds})
    written: list[int] = []
    for group in groups:
        params = _Params(d.name)
        cents = d.cents()
        conditions = [condition(r, d, params, cents, kinds) for r in amount_rules]
        combos = combinations(amount_rules, [c is None for c in conditions])
        mask = " + ".join(
            f"CASE WHEN {c} THEN {1 << n} ELSE 0 END" if c else str(1 << n) for n, c in enumerate(conditions)
        )
        where = [
            d.batch(ids, params),
            d.done(),
            f"{d.unindexed('i.kind')} IN {params.one_of(kinds)}",
            "i.amount > 0",
            "i.occurred_at >= a.earn_from",
        ]
        if group.customer_ids is not None:
            where.append(d.in_list(d.unindexed("i.customer_id"), group.customer_ids, params))
        elif group.others:
            where.append("NOT " + d.in_list(d.unindexed("i.customer_id"), group.others, params))
        points, suffix, names, suffix_texts = [], [], [], []
        for combo in combos:
            rate = rate_of(combo.rules, (group.factor, group.tier) if group.tier is not None else None)
            suffix_texts.append(rate.suffix)
            points.append(f"WHEN {combo.mask} THEN {d.points('cents', rate.numerator, rate.denominator)}")
            suffix.append(f"WHEN {combo.mask} THEN {params.text(rate.suffix)}")
            names.append(f"WHEN {combo.mask} THEN {params.text(rate.rule)}")
        inner = (
            "SELECT i.id AS id, i.customer_id AS customer_id, i.occurred_at AS occurred_at, "
            f"{cents} AS cents, "
            f"{mask} AS mask FROM interactions i JOIN {ACCOUNTS.name} a ON a.customer_id = i.customer_id "
            "WHERE " + " AND ".join(where) + (" ORDER BY i.customer_id" if d.sqlite else "")
        )
        # SQLite would inline m into every reference of mask and cents (the birthday test would
        # run five times a row): MATERIALIZED computes them once. PostgreSQL reads m once anyway.
        # Entries are written in customer order, so that the ledger's customer index is filled
        # in order. SQLite sorts m's five narrow columns as it materializes them and writes in
        # that order: sorting the finished rows would move their reasons and times as well.
        middle = (
            f"SELECT id, customer_id, occurred_at, cents, mask, CASE mask {' '.join(points)} END AS points "
            f"FROM m WHERE mask <> 0"
        )
        reason = d.amount_reason(
            "cents", f"CASE mask {' '.join(suffix)} END", max(len(t) for t in suffix_texts)
        )
        sql = (
            f"WITH m AS {'MATERIALIZED ' if d.sqlite else ''}({inner}) "
            f"INSERT INTO {LEDGER.name} ({_COLUMNS}) "
            f"SELECT customer_id, 'earn', points, occurred_at, {d.expiry(months)}, {reason}, "
            f"CASE mask {' '.join(names)} END, "
            f"id, NULL, 'earn:i' || {d.as_text('id')}, 0, {params.add(stored_now)} "
            f"FROM ({middle}) e WHERE points > 0 "
            f"{'' if d.sqlite else 'ORDER BY customer_id '}ON CONFLICT (idempotency_key) DO NOTHING"
        )
        written += _run(session, sql, params, entry_ids)
    return written


def earn_bonus(
    session: Session,
    d: SqlDialect,
    ids: Sequence[int],
    rule: EarnRule,
    months: int,
    stored_now: Any,
    only: Sequence[int] | None = None,
    entry_ids: list[int] | None = None,
) -> list[int]:
    """One ``INSERT ... SELECT`` awarding a fixed bonus rule: the earliest qualifying interaction
    (``occurred_at``, then id) of each ``once_per`` scope; returns the points of each entry written.

    ``only``: the buyers whose interactions are considered (the others are known to hold the bonus).
    ``entry_ids``: PostgreSQL adds the new entries' ids to it (see :func:`_run`)."""
    params = _Params(d.name)
    cents = d.cents()
    referrer = rule.beneficiary == "referrer"
    joins = (
        f"JOIN {REFERRALS.name} rf ON rf.referred_id = i.customer_id "
        f"JOIN {ACCOUNTS.name} a ON a.customer_id = rf.referrer_id "
        if referrer
        else f"JOIN {ACCOUNTS.name} a ON a.customer_id = i.customer_id "
    )
    # Late in an import most buyers hold a first-purchase bonus already and ``only`` is a few
    # hundred customers: their rows are found through the (customer_id, occurred_at) index
    # instead of reading every row of the batch.
    few = only is not None and len(only) * FEW_BUYERS <= len(ids)
    where = [
        d.batch(ids, params, way_in=not few),
        d.done(),
        f"{d.unindexed('i.kind')} IN {params.one_of(rule.kinds)}",
        "(i.amount IS NULL OR i.amount >= 0)",
        "i.occurred_at >= a.earn_from",
    ]
    if only is not None:
        where.insert(1, d.in_list("i.customer_id" if few else d.unindexed("i.customer_id"), only, params))
    extra = condition(rule, d, params, cents, rule.kinds)
    if extra:
        where.append(extra)
    key = f"'bonus:' || {params.text(rule.name)} || ':"
    # The buyer's id. For a referrer bonus it is read from the referral so that the key probe
    # below runs only for referred buyers. For the buyer's own bonus the probe runs before the
    # accounts join: most buyers were awarded before, and the join is skipped for them.
    buyer = d.as_text("rf.referred_id" if referrer else "i.customer_id")
    if rule.once_per is None:
        scope, key = "NULL", f"{key}i' || {d.as_text('i.id')}"
    elif rule.once_per == "customer":
        scope, key = "NULL", f"{key}c' || {buyer}"
    else:
        scope = d.local("year" if rule.once_per == "year" else "year-month", params)
        key = f"{key}c' || {buyer} || ':' || {scope}"
    if rule.once_per is not None:
        # Scopes awarded in an earlier batch (a first purchase bonus, mostly) are left out before
        # ranking: one key probe per row instead of sorting the whole batch for nothing.
        where.append(f"NOT EXISTS (SELECT 1 FROM {LEDGER.name} l WHERE l.idempotency_key = {key})")
    # Once per scope: the earliest qualifying interaction of the scope (occurred_at, then id).
    partition = "i.customer_id" if rule.once_per == "customer" else f"i.customer_id, {scope}"
    window = (
        "1"
        if rule.once_per is None
        else f"ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY i.occurred_at, i.id)"
    )
    why = params.text(rule.description or rule.name)
    if referrer:
        why = f"{why} || ' (customer #' || {d.as_text('customer_id')} || ')'"
    target = "rf.referrer_id" if referrer else "i.customer_id"
    inner = (
        f"SELECT i.id AS id, i.customer_id AS customer_id, {target} AS target, i.occurred_at AS occurred_at, "
        f"{key} AS key, {window} AS rn FROM interactions i {joins}WHERE " + " AND ".join(where)
    )
    sql = (
        f"INSERT INTO {LEDGER.name} ({_COLUMNS}) "
        f"SELECT target, 'bonus', {int(rule.fixed_points)}, occurred_at, {d.expiry(months)}, "
        f"substr({why}, 1, {REASON_WIDTH}), "
        f"{params.text(rule.name)}, id, NULL, key, 0, {params.add(stored_now)} FROM ({inner}) b WHERE rn = 1 "
        "ORDER BY target ON CONFLICT (idempotency_key) DO NOTHING"
    )
    return _run(session, sql, params, entry_ids)


def any_referral(session: Session) -> bool:
    """Whether anybody was referred at all (else a referrer bonus has no one to go to)."""
    return session.connection().exec_driver_sql(f"SELECT 1 FROM {REFERRALS.name} LIMIT 1").first() is not None


def holding_bonus(session: Session, d: SqlDialect, rule: EarnRule, buyers: Sequence[int]) -> set[int]:
    """Which of ``buyers`` already hold the once-per-customer bonus ``rule`` (its key is in the ledger)."""
    params = _Params(d.name)
    key = f"'bonus:' || {params.text(rule.name)} || ':c' || {d.as_text('b.value')}"
    source = (
        f"json_each({params.add(json.dumps(list(buyers)))}) b"
        if d.sqlite
        else f"unnest(CAST({params.add(list(buyers))} AS BIGINT[])) AS b(value)"
    )
    sql = (
        f"SELECT b.value FROM {source} WHERE EXISTS "
        f"(SELECT 1 FROM {LEDGER.name} l WHERE l.idempotency_key = {key})"
    )
    return {int(row[0]) for row in driver_rows(session, sql, params.values)}


def _run(session: Session, sql: str, params: _Params, ids: list[int] | None = None) -> list[int]:
    """Run one generated ``INSERT`` on the session's DBAPI connection (same transaction): thousands
    of rows a batch, no SQLAlchemy row objects.

    PostgreSQL: returns the points of the entries written (``RETURNING``; ids from the sequence
    need not be increasing across concurrent transactions), and adds their ids to ``ids`` when
    given (a plugin listens to ``kehu_points_earned``). SQLite returns nothing: the caller
    sums the entries past the ledger's highest id instead (:func:`written_since`), cheaper than
    ``RETURNING`` and exact, since the transaction holds the database's write lock.
    """
    if params.dialect == "postgresql" and ids is not None:
        rows = driver_rows(session, sql + " RETURNING points, id", params.values)
        ids.extend(row[1] for row in rows)
        return [row[0] for row in rows]
    if params.dialect == "postgresql":
        return [row[0] for row in driver_rows(session, sql + " RETURNING points", params.values)]
    driver_rows(session, sql, params.values)
    return []


def last_entry_id(session: Session) -> int:
    """The ledger's highest id (0 when empty)."""
    return int(
        session.connection().exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {LEDGER.name}").scalar() or 0
    )


def earned_since(session: Session, last_id: int) -> list[int]:
    """SQLite: the ids of the ``earn`` and ``bonus`` entries written after ``last_id`` (this
    transaction's, under the write lock)."""
    return [
        int(row[0])
        for row in driver_rows(
            session, f"SELECT id FROM {LEDGER.name} WHERE id > ? AND kind IN ('earn', 'bonus')", (last_id,)
        )
    ]


def written_since(session: Session, last_id: int) -> tuple[int, int]:
    """SQLite: how many entries were written after ``last_id``, and their points (this
    transaction's, under the write lock)."""
    count, points = (
        session.connection()
        .exec_driver_sql(
            f"SELECT count(*), coalesce(sum(points), 0) FROM {LEDGER.name} WHERE id > ?", (last_id,)
        )
        .one()
    )
    return int(count), int(points)
