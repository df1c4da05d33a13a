"""Rules: the built-in key-account and flag rules, rules from plugins, and rules from TOML files.

A :class:`TierRule` either sets a flag (``key_account``, ``poor_quality``, ``upgrade_potential``
or any name of your own) or overrides the tier one method gives. Its condition ``when`` is a
SQLAlchemy expression over :data:`kehu_tiering.stats.STATS`, evaluated set-based during a
run. ``predicate`` is the slow path: a Python callable given one customer's statistics
(a mapping of every STATS column plus ``code``, ``tags`` and ``attributes``), called once per
customer in Python; use it only for what SQL cannot say.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from attrs import evolve, field, frozen
from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, String, TypeDecorator, literal, select, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import CompileError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement, operators
from sqlalchemy.sql.elements import (
    BinaryExpression,
    BindParameter,
    ClauseList,
    ColumnClause,
    ExpressionClauseList,
    Grouping,
    Label,
)

from kehu_core.app import Kehu
from kehu_core.errors import KehuError, Problem, ValidationError
from kehu_core.i18n import N_, messages
from kehu_tiering.expr import ExpressionError, parse_condition
from kehu_tiering.functions import RULE_FUNCTIONS
from kehu_tiering.hookcalls import call_each
from kehu_tiering.settings import ABC_TIERS, PYRAMID_TIERS, RuleContext
from kehu_tiering.stats import RFM_SEGMENTS, STATS, TABLE_NAME, StatColumn, has_attribute, stats_table
from kehu_tiering.vocab import BY_METHOD, FLAG, TIER_METHOD, known

_ = messages("kehu_tiering").gettext

BUILTIN = N_("builtin")
FLAGS = ("key_account", "poor_quality", "upgrade_potential")
FLAG_LABELS = {
    "key_account": "大客户 key account",
    "poor_quality": "劣质客户 poor quality",
    "upgrade_potential": "upgrade potential (可升级小客户)",
}
#: What ``attributes["key_account_flags"]`` may list (the course material's judgement criteria for 大客户).
KEY_ACCOUNT_FLAGS = {
    "strategic": "有大订单且具有战略性意义的项目客户 (a strategic project)",
    "influence": "对企业的生意或公司形象有重要影响 (important influence on business or image)",
    "technology": "有较强的技术吸收和创新能力 (strong technical absorption and innovation)",
    "market": "有较强的市场发展实力 (strong market development)",
}
#: The default key-account rule: a continuous relationship of at least this many calendar months ...
KEY_ACCOUNT_TENURE_MONTHS = 12
#: ... and large orders: an average order in the window of at least this many yuan.
KEY_ACCOUNT_MIN_ORDER = 1000
#: Flags that contradict each other: a customer with both is reported (``tier report``, the card).
CONFLICTING_FLAGS = ("key_account", "poor_quality")
_NAME = re.compile(r"^[\w.\-:]{1,100}$")


def _tiers_of(method: str) -> tuple[str, ...]:
    return {"abc": ABC_TIERS, "pyramid": PYRAMID_TIERS, "rfm": tuple(RFM_SEGMENTS)}.get(method, ())


@frozen
class TierRule:
    """One rule: ``name``, a ``flag`` to set or a ``tier`` of ``method`` to impose, when ``when`` holds.

    Attributes:
        name: unique, e.g. ``acme.strategic``; recorded as the reason (``decided_by``).
        when: a SQLAlchemy boolean expression over ``STATS`` columns (set-based; preferred).
        flag: the flag this rule sets (exclusive with ``tier``).
        tier: the tier this rule imposes on ``method`` (``VIP``, ``A``, ``champions`` ...).
        method: which classification ``tier`` overrides: ``abc``, ``pyramid`` or ``rfm``.
        priority: lower first; for a tier the first matching rule wins.
        description: one line for ``kehu tier rules``.
        predicate: the slow path, ``f(stats_row) -> bool`` per customer (exclusive with ``when``).
        source: where the rule comes from (filled in: ``builtin``, the plugin, or the TOML file).
    """

    name: str
    when: Any = None
    flag: str | None = None
    tier: str | None = None
    method: str = "pyramid"
    priority: int = 100
    description: str = ""
    predicate: Callable[[Mapping[str, Any]], bool] | None = field(default=None, eq=False)
    source: str = BUILTIN

    def __attrs_post_init__(self) -> None:
        # Chinese names and labels are taken as the codes (flag="大客户", tier="主要客户", method="金字塔").
        if isinstance(self.flag, str) and known(FLAG, self.flag):
            object.__setattr__(self, "flag", FLAG.parse(self.flag))
        if isinstance(self.method, str) and known(TIER_METHOD, self.method):
            object.__setattr__(self, "method", TIER_METHOD.parse(self.method))
        vocab = BY_METHOD.get(self.method)
        if vocab is not None and isinstance(self.tier, str) and known(vocab, self.tier):
            object.__setattr__(self, "tier", vocab.parse(self.tier))
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(f"rule name {self.name!r}: 1-100 letters, digits, '.', '-', '_' or ':'")
        if (self.flag is None) == (self.tier is None):
            raise ValueError(f"rule {self.name}: give exactly one of flag= or tier=")
        if (self.when is None) == (self.predicate is None):
            raise ValueError(f"rule {self.name}: give exactly one of when= (SQL) or predicate= (Python)")
        if self.flag is not None and not (isinstance(self.flag, str) and _NAME.match(self.flag)):
            raise ValueError(f"rule {self.name}: bad flag name {self.flag!r}")
        if self.tier is not None:
            tiers = _tiers_of(self.method)
            if not tiers:
                raise ValueError(f"rule {self.name}: method must be abc, pyramid or rfm, not {self.method!r}")
            if self.tier not in tiers:
                raise ValueError(
                    f"rule {self.name}: {self.tier!r} is not one of the {self.method} tiers "
                    f"({', '.join(tiers)})"
                )
        if not isinstance(self.priority, int) or isinstance(self.priority, bool):
            raise ValueError(f"rule {self.name}: priority must be an integer")

    @property
    def target(self) -> str:
        """The assignment method this rule decides: ``flag:<name>`` or the overridden method."""
        return f"flag:{self.flag}" if self.flag else self.method

    @property
    def sets(self) -> str:
        """What it sets, for people: ``flag key_account`` or ``pyramid = VIP``."""
        return f"flag {self.flag}" if self.flag else f"{self.method} = {self.tier}"

    @property
    def condition_text(self) -> str:
        """The condition as generic SQL text (``when``) or the predicate's name (slow path); never raises."""
        if self.predicate is not None:
            return f"python: {getattr(self.predicate, '__qualname__', repr(self.predicate))} (slow path)"
        for literal_binds in (True, False):
            try:
                return _one_line(self.when.compile(compile_kwargs={"literal_binds": literal_binds}))
            except Exception:  # a construct only the real database's compiler knows
                continue
        return "(a condition that only the database's own SQL can show)"

    def condition_sql(self, dialect: Dialect) -> str:
        """The condition as ``dialect``'s SQL, values inlined where they can be.

        Raises :class:`~kehu_core.errors.KehuError` naming the rule when the condition cannot
        be written in that database's SQL (a construct that dialect has no compiler for).
        """
        if self.predicate is not None:
            return self.condition_text
        try:
            return _one_line(self.when.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        except CompileError:
            pass
        except Exception as exc:
            raise self.broken(dialect.name, exc) from None
        try:
            return _one_line(self.when.compile(dialect=dialect))
        except Exception as exc:
            raise self.broken(dialect.name, exc) from None

    def mismatch(self) -> KehuError | None:
        """The one-line error for a comparison of two incompatible kinds in the condition, if any.

        A number compared with text (or text with a number, a date with either, true/false
        with anything else), in a comparison, an ``in`` list or ``between``, or combined with
        it in arithmetic: SQLite would compare them anyway (every number sorts before every
        text) and match nothing, PostgreSQL refuses them when the run executes.
        """
        if not isinstance(self.when, ClauseElement):
            return None
        for element in _post_order(self.when):
            if not isinstance(element, BinaryExpression):
                continue
            if element.operator in _COMPARISONS:
                template = _("rule {rule} ({source}): {side} is {kind} and cannot be compared with {other}")
            elif element.operator in _ARITHMETIC:
                template = _(
                    "rule {rule} ({source}): {side} is {kind} and cannot be used in arithmetic with {other}"
                )
            else:
                continue
            for left in _sides(element.left):
                for right in _sides(element.right, element.operator in _LISTS):
                    if left.kind is None or right.kind is None or left.kind == right.kind:
                        continue
                    side, other = (right, left) if left.is_value and not right.is_value else (left, right)
                    return KehuError(
                        template.format(
                            rule=self.name,
                            source=self.source,
                            side=side.shown,
                            kind=side.kind_text,
                            other=other.as_other(),
                        )
                    )
        return None

    def broken(self, dialect: str, exc: BaseException) -> KehuError:
        """The one-line error for a condition ``dialect`` refuses (see :mod:`kehu_tiering.functions`)."""
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        reason = reason.split(" [SQL:")[0].split(" (Background on this error")[0]
        return KehuError(
            _(
                "rule {rule} ({source}): its condition does not work on {database}: {reason}"
                " (rules may use {functions} from kehu_tiering.api)"
            ).format(
                rule=self.name,
                source=self.source,
                database=dialect,
                reason=reason[:300],
                functions=", ".join(RULE_FUNCTIONS),
            )
        )


def _one_line(compiled: Any) -> str:
    return " ".join(str(compiled).split())


#: The kinds of value a comparison may not mix (what a rule's error calls them).
NUMBER, TEXT, DATE, TRUTH = N_("a number"), N_("text"), N_("a date"), N_("true or false")
_COMPARISONS = frozenset(
    {
        operators.eq,
        operators.ne,
        operators.lt,
        operators.le,
        operators.gt,
        operators.ge,
        operators.in_op,
        operators.not_in_op,
        operators.between_op,
        operators.not_between_op,
        operators.is_distinct_from,
        operators.is_not_distinct_from,
    }
)
#: The comparisons whose right side is a list of values.
_LISTS = frozenset({operators.in_op, operators.not_in_op, operators.between_op, operators.not_between_op})
_ARITHMETIC = frozenset(
    {operators.add, operators.sub, operators.mul, operators.truediv, operators.floordiv, operators.mod}
)


@frozen
class _Side:
    """One side of a comparison: its kind (None: not known), its text or the expression it is, and
    whether it is a value (a literal or a bound parameter)."""

    kind: str | None
    text: str = ""
    is_value: bool = False
    expression: Any = None

    @property
    def shown(self) -> str:
        """How the error names it: ``pyramid``, ``'abc'``, ``revenue_window * 2``."""
        if self.expression is None:
            return self.text
        for kwargs in ({"compile_kwargs": {"literal_binds": True}}, {}):
            try:
                return _one_line(self.expression.compile(**kwargs)).replace(f"{TABLE_NAME}.", "")
            except Exception:  # a construct only the real database's compiler knows
                continue
        return type(self.expression).__name__

    @property
    def kind_text(self) -> str:
        """The kind, for people: ``a number``."""
        return _(self.kind) if self.kind else "?"

    def as_other(self) -> str:
        """How the error names it when compared with: ``the text 'abc'``, ``pyramid, which is text``."""
        if not self.is_value:
            return _("{name}, which is {kind}").format(name=self.shown, kind=self.kind_text)
        if self.kind == TEXT:
            return _("the text {value}").format(value=self.text)
        if self.kind == NUMBER:
            return _("the number {value}").format(value=self.text)
        if self.kind == DATE:
            return _("the date {value}").format(value=self.text)
        return self.text


def _type_kind(type_: Any) -> str | None:
    """The kind of a SQL type: a number, text, a date (or a timestamp), true/false, or None."""
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    if isinstance(type_, Boolean):
        return TRUTH
    if isinstance(type_, (Integer, Numeric)):
        return NUMBER
    if isinstance(type_, String):
        return TEXT
    if isinstance(type_, (Date, DateTime)):
        return DATE
    return None


def _value_side(value: Any) -> _Side:
    """A Python value's side: its own kind (a bound value's SQL type may be the other side's)."""
    if isinstance(value, bool):
        return _Side(TRUTH, str(value), is_value=True)
    if isinstance(value, (int, float, Decimal)):
        return _Side(NUMBER, str(value), is_value=True)
    if isinstance(value, str):
        return _Side(TEXT, repr(value), is_value=True)
    if isinstance(value, date):
        return _Side(DATE, str(value), is_value=True)
    return _Side(None, repr(value), is_value=True)


def _sides(element: Any, listed: bool = False) -> list[_Side]:
    """The sides ``element`` compares: one, or each value of an ``in`` list or ``between`` (``listed``)."""
    while isinstance(element, (Grouping, Label)):
        element = element.element
    if isinstance(element, BindParameter):
        if element.callable is not None or element.value is None:
            return [_Side(None, "?", is_value=True)]
        if element.expanding:
            return [_value_side(v) for v in element.value]
        return [_value_side(element.value)]
    if listed and isinstance(element, (ClauseList, ExpressionClauseList)):
        return [side for clause in element.clauses for side in _sides(clause)]
    kind = _type_kind(getattr(element, "type", None))
    if isinstance(element, ColumnClause):
        table = getattr(element.table, "name", TABLE_NAME)
        return [_Side(kind, element.name if table == TABLE_NAME else f"{table}.{element.name}")]
    return [_Side(kind, expression=element)]


def _post_order(element: ClauseElement) -> Iterator[ClauseElement]:
    """Every element of an expression (subqueries' too), the innermost first."""
    for child in element.get_children():
        yield from _post_order(child)
    yield element


def builtin_rules() -> list[TierRule]:
    """The default rule set, from the course material (see docs/tiering.md for the sources)."""
    c = STATS.c
    return [
        TierRule(
            name="key_account.large_continuous",
            flag="key_account",
            priority=100,
            when=(c.abc == "A")
            & (c.tenure_months >= KEY_ACCOUNT_TENURE_MONTHS)
            & (c.quarters_active == 4)
            # The average order, compared exactly (avg_order_value is rounded to the fen)
            & (c.orders_window > 0)
            & (c.revenue_window >= c.orders_window * KEY_ACCOUNT_MIN_ORDER),
            description=_(
                "大客户: large orders and a continuous relationship of a year or more: ABC class A, "
                "first purchase {months}+ calendar months ago, a purchase in each of the "
                "four 3-month periods of the last 12 months, "
                "average order in the window ¥{amount}+"
            ).format(months=KEY_ACCOUNT_TENURE_MONTHS, amount=KEY_ACCOUNT_MIN_ORDER),
        ),
        TierRule(
            name="key_account.salesperson_flag",
            flag="key_account",
            priority=110,
            when=has_attribute("key_account_flags"),
            description=_(
                "大客户: a salesperson recorded attributes.key_account_flags "
                "(strategic, influence, technology, market)"
            ),
        ),
        TierRule(
            name="poor_quality.default",
            flag="poor_quality",
            priority=100,
            when=(c.pyramid == "小客户")
            & ((c.overdue_payments >= 2) | (c.avg_days_late >= 30) | (c.complaints_window >= 3)),
            description=_(
                "劣质客户: a small customer with 2+ overdue payments, 30+ days late on average, "
                "or 3+ complaints in the window"
            ),
        ),
        TierRule(
            name="upgrade_potential.default",
            flag="upgrade_potential",
            priority=100,
            when=(c.pyramid == "小客户")
            & (c.orders_window >= 2)
            & (c.revenue_prev_window > 0)
            & (c.revenue_window > c.revenue_prev_window * 1.2)
            & (c.overdue_payments == 0)
            & (c.complaints_window < 3),
            description=_(
                "small customer whose revenue grew more than 20% over the previous window "
                "(which must have revenue: with window 'all' there is none, so nobody), 2+ orders, "
                "paying on time and not complaining heavily"
            ),
        ),
    ]


def plugin_rules(app: Kehu, context: RuleContext) -> list[TierRule]:
    """Rules from the ``kehu_tier_rules`` hook of every installed plugin, tagged with their source.

    Each implementation is called on its own (not through the hook) so that its rules carry
    the name of the plugin they come from; it gets ``app`` and ``context`` when it takes them.
    """
    return [
        evolve(rule, source=name)
        for name, rules in call_each(app, "kehu_tier_rules", context, TierRule)
        for rule in rules
    ]


def load_toml(path: str | Path) -> tuple[list[TierRule], list[str]]:
    """Parse a rules file: ``[[rule]]`` tables and an optional ``disable = [names]``.

    Conditions are parsed by :mod:`kehu_tiering.expr` and never evaluated as code. Raises
    :class:`ValidationError` listing every problem, with the rule's position and field.
    """
    path = Path(path)
    label = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise KehuError(_("rules file {path} does not exist").format(path=label)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(
            [Problem(label, _("not valid TOML: {error}").format(error=exc))],
            headline=_("bad rules file; nothing was changed:"),
        ) from None
    problems: list[Problem] = []
    unknown_top = set(data) - {"rule", "disable"}
    if unknown_top:
        problems.append(
            Problem(
                label,
                _("unknown key(s) {keys}; expected [[rule]] and disable").format(
                    keys=", ".join(sorted(unknown_top))
                ),
            )
        )
    disable = data.get("disable", [])
    if not isinstance(disable, list) or not all(isinstance(d, str) for d in disable):
        problems.append(Problem("disable", _("a list of rule names"), value=str(disable)))
        disable = []
    entries = data.get("rule", [])
    if not isinstance(entries, list):
        problems.append(Problem("rule", _("use [[rule]] tables")))
        entries = []
    allowed = {"name", "when", "flag", "tier", "method", "priority", "description"}
    rules = []
    for n, entry in enumerate(entries, start=1):
        extra = set(entry) - allowed
        if extra:
            problems.append(
                Problem("rule", _("unknown key(s) {keys}").format(keys=", ".join(sorted(extra))), row=n)
            )
            continue
        try:
            condition = parse_condition(entry.get("when", ""))
        except ExpressionError as exc:
            problems.append(Problem("when", str(exc), row=n, value=str(entry.get("when", ""))[:60]))
            continue
        try:
            rules.append(
                TierRule(
                    name=entry.get("name", ""),
                    when=condition,
                    flag=entry.get("flag"),
                    tier=entry.get("tier"),
                    method=entry.get("method", "pyramid"),
                    priority=entry.get("priority", 100),
                    description=entry.get("description", entry.get("when", "")),
                    source=label,
                )
            )
        except (ValueError, TypeError) as exc:
            problems.append(Problem("rule", str(exc), row=n))
    if problems:
        raise ValidationError(
            problems,
            headline=_("bad rules file {path}; nothing was changed (row = the n-th [[rule]]):").format(
                path=label
            ),
        )
    return rules, list(disable)


def collect(app: Kehu | None, context: RuleContext, files: Iterable[str] = ()) -> list[TierRule]:
    """Built-ins, plugins' rules, then the files' rules, minus disabled ones, in application order.

    ``context`` (the run's date and window) is passed to the plugins' ``kehu_tier_rules``.
    """
    rules = builtin_rules()
    if app is not None:
        rules += plugin_rules(app, context)
    disabled: list[str] = []
    for path in files:
        more, off = load_toml(path)
        rules += more
        disabled += off
    names = [r.name for r in rules]
    unknown = [d for d in disabled if d not in names]
    if unknown:
        raise KehuError(_("cannot disable unknown rule(s): {names}").format(names=", ".join(unknown)))
    rules = [r for r in rules if r.name not in disabled]
    seen: dict[str, str] = {}
    for rule in rules:
        if rule.name in seen:
            raise KehuError(
                _("rule name {name!r} is used twice ({first} and {second})").format(
                    name=rule.name, first=seen[rule.name], second=rule.source
                )
            )
        seen[rule.name] = rule.source
    return order(rules)


def order(rules: Sequence[TierRule]) -> list[TierRule]:
    """Application order: priority (lower first), then name."""
    return sorted(rules, key=lambda r: (r.priority, r.name))


def check(session: Session, rules: Sequence[TierRule], extra: Sequence[StatColumn] = ()) -> None:
    """Refuse, with one line naming it, a rule whose condition the database cannot run.

    First a comparison of two incompatible kinds is refused on every database alike (see
    :meth:`TierRule.mismatch`: a number with text, say, which SQLite would run and match
    nothing with). Then each condition is compiled for the session's database and prepared
    against an empty statistics table (no row is read), inside a savepoint that is rolled
    back: a function the database lacks, a type it cannot compare, or a construct without
    SQL for it is found here, before the run writes anything. Raises
    :class:`~kehu_core.errors.KehuError`.
    """
    dialect = session.get_bind().dialect
    for rule in rules:
        mismatch = rule.mismatch()
        if mismatch is not None:
            raise mismatch
        rule.condition_sql(dialect)
    sql_rules = [rule for rule in rules if rule.when is not None]
    if not sql_rules:
        return
    outer = session.begin_nested()
    try:
        # A view of that name left by a failed run in this connection goes with the savepoint too.
        session.execute(text(f"DROP VIEW IF EXISTS {TABLE_NAME}"))
        stats_table(extra).create(session.connection())  # empty: the rules read STATS, its name
        for rule in sql_rules:
            probe = session.begin_nested()
            try:
                session.execute(select(literal(1)).select_from(STATS).where(rule.when).limit(0))
            except StatementError as exc:
                probe.rollback()
                raise rule.broken(dialect.name, exc) from None
            probe.commit()
    finally:
        outer.rollback()
