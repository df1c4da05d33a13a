"""The statistics relation: one row per customer, as of a date, over a window of months.

This is the documented surface that methods and rules read. A rule's ``when`` is a
SQLAlchemy expression over ``STATS.c.<column>``; during a run ``STATS`` is a temporary
table holding every active customer's row, so a rule runs set-based in the database.

Money columns are in yuan; ``measure_cents`` is the chosen measure in integer cents (what
the rank-based methods sort and sum, exactly). See ``COLUMNS`` for every column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from attrs import frozen
from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Integer,
    MetaData,
    Numeric,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    column,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.expression import ColumnClause
from sqlalchemy.types import NullType

from kehu_core import calendar
from kehu_core.app import Kehu
from kehu_core.i18n import N_
from kehu_core.models import BigId, Customer, CustomerTag, Interaction
from kehu_core.types import UTCDateTime
from kehu_tiering.aggregates import PURCHASE_KINDS, bucket_select
from kehu_tiering.hookcalls import call_each
from kehu_tiering.models import monthly
from kehu_tiering.settings import RuleContext, TierSettings

#: Money in the statistics: yuan with two decimals, converted from integer cents. Wide enough
#: for every sum of cents a BIGINT holds (19 digits), so the conversion never overflows.
YUAN = Numeric(21, 2)

#: The customer's own fields keep the customers table's types (a region as long as the card takes).
_CUSTOMER = Customer.__table__.c

#: Every column of the statistics relation: (name, type, meaning). The reference for rules.
COLUMNS: tuple[tuple[str, Any, str], ...] = (
    ("customer_id", BigInteger(), "the customer's id"),
    ("kind", _CUSTOMER.kind.type, "the customer's kind: company or person (the customer's own field)"),
    ("region", _CUSTOMER.region.type, "the customer's region, as recorded on the card (NULL: none)"),
    ("industry", _CUSTOMER.industry.type, "the customer's industry (NULL: none)"),
    ("owner", _CUSTOMER.owner.type, "the salesperson who owns the customer (NULL: none)"),
    ("revenue_window", YUAN, "revenue (done purchases, refunds netted) in the window, yuan"),
    ("revenue_total", YUAN, "revenue up to the as-of date, all history, yuan"),
    ("revenue_prev_window", YUAN, "revenue in the window just before the window (same length), yuan"),
    (
        "margin_window",
        YUAN,
        "amount minus cost of the window's purchases that carry a cost (a refund's cost counts back), yuan",
    ),
    ("margin_total", YUAN, "the same over all history, yuan"),
    ("orders_window", Integer(), "purchases with a positive amount in the window"),
    ("orders_total", Integer(), "the same over all history"),
    ("avg_order_value", YUAN, "revenue_window / orders_window (NULL without orders)"),
    ("first_purchase_at", UTCDateTime(), "first purchase up to the as-of date"),
    ("last_purchase_at", UTCDateTime(), "last purchase up to the as-of date"),
    ("recency_days", Integer(), "days from the last purchase to the as-of date (NULL: never bought)"),
    ("tenure_months", Integer(), "calendar months from the first purchase's month to the as-of month"),
    ("tenure_days", Integer(), "days from the first purchase to the as-of date (NULL: never bought)"),
    ("months_active", Integer(), "calendar months of the window with at least one purchase"),
    (
        "quarters_active",
        Integer(),
        "of the four 3-month periods ending with the as-of month (the last 12 calendar months), "
        "how many have a purchase (4: no 3-month period without buying)",
    ),
    (
        "overdue_payments",
        Integer(),
        "payments and purchases on credit (with a due date) recorded in the window, paid after their "
        "due day, or unpaid and past due at the as-of date",
    ),
    (
        "max_days_late",
        Integer(),
        "the most days late of those overdue payments (unpaid: counted to the as-of date; NULL: none late)",
    ),
    ("avg_days_late", Float(), "average days late of those overdue payments (NULL: none late)"),
    (
        "avg_satisfaction",
        Float(),
        "average satisfaction score (1-5) of feedback and complaints in the window",
    ),
    ("complaints_window", Integer(), "complaints (interactions of kind complaint) in the window"),
    ("measure", YUAN, "the run's measure (revenue_window or margin_window), yuan"),
    ("measure_cents", BigInteger(), "the measure in integer cents: what ABC and the pyramid sort and sum"),
    ("customers", Integer(), "how many customers the run ranks (N)"),
    ("rank", Integer(), "customers with a strictly larger measure (ties share the best rank)"),
    ("rank_pct", Float(), "rank / N: the customer's position from the top, 0 = best"),
    (
        "cum_share_before",
        Float(),
        "share of the total measure held by customers with a strictly larger measure",
    ),
    ("abc", String(8), "ABC class: A, B or C"),
    ("pyramid", String(16), "pyramid tier: VIP, 主要客户, 普通客户, 小客户"),
    (
        "r_score",
        Integer(),
        "RFM recency score 1-5 among the customers who bought in the window (5 = most recent; NULL: none)",
    ),
    ("f_score", Integer(), "RFM frequency score 1-5 (orders_window) among the buyers (NULL: no order)"),
    ("m_score", Integer(), "RFM monetary score 1-5 (measure) among the buyers (NULL: no order)"),
    ("rfm", String(32), "RFM segment (prospect, lost, new, champions, ...: see RFM_SEGMENTS)"),
)
COLUMN_NAMES = tuple(name for name, _, _ in COLUMNS)
MONEY_COLUMNS = frozenset(name for name, typ, _ in COLUMNS if typ is YUAN)
TABLE_NAME = "tiering_stats"

#: The statistics relation as rules see it: ``STATS.c.revenue_window >= 1_000_000``.
STATS = table(TABLE_NAME, *(column(name, typ) for name, typ, _ in COLUMNS))

#: The RFM segments and their meaning, one line each, in the order they are decided (first match).
#: R, F and M are scores 1-5 over the customers who bought in the window (see
#: :mod:`kehu_tiering.methods`); "new" reads the ``new_days`` setting (default 90).
RFM_SEGMENTS = {
    "prospect": N_("未购买: never bought"),
    "lost": N_("已流失客户: bought before, but not in the window (no R/F/M scores)"),
    "new": N_("新客户: first purchase in the last new_days days (default 90)"),
    "champions": N_("冠军客户: recent, frequent and high value among the buyers (R, F and M 4-5)"),
    "loyal": N_("忠诚客户: frequent among the buyers and not long ago (F 4-5, R 3-5)"),
    "potential_loyalist": N_("潜力客户: bought recently, not yet frequent or high value (R 4-5)"),
    "need_attention": N_("需关注客户: middling recency and frequency (R 3, F 3)"),
    "about_to_sleep": N_("将休眠客户: middling recency, few purchases (R 3, F 1-2)"),
    "cannot_lose": N_("不能失去的客户: frequent and high value, but not lately (R 1-2, F and M 4-5)"),
    "at_risk": N_("流失风险客户: bought fairly often, but not lately (R 1-2, F 3-5)"),
    "hibernating": N_("休眠客户: bought in the window, long ago and rarely (R 1-2, F 1-2)"),
}


#: The columns computed per customer before ranking (what ``base_select`` returns).
BASE_COLUMNS = COLUMN_NAMES[: COLUMN_NAMES.index("measure_cents") + 1]
#: The per-customer aggregates of purchases (monthly buckets) and of other interactions.
PURCHASE_AGGREGATES = (
    "revenue_w",
    "revenue_t",
    "revenue_p",
    "margin_w",
    "margin_t",
    "orders_w",
    "orders_t",
    "months_active",
    "month_mask",
    "first_at",
    "last_at",
    "first_month",
)
OTHER_AGGREGATES = ("overdue", "max_late", "days_late", "satisfaction", "complaints")
#: The customer's own fields, read from ``customers`` as they are.
CUSTOMER_FIELDS = ("kind", "region", "industry", "owner")
#: Interactions with a due date whose lateness counts: payments and purchases on credit.
DUE_KINDS = ("payment", "purchase")
#: What each statistics column is computed from (``measure``: the run's measure).
COLUMN_SOURCES = {
    "revenue_window": ("revenue_w",),
    "revenue_total": ("revenue_t",),
    "revenue_prev_window": ("revenue_p",),
    "margin_window": ("margin_w",),
    "margin_total": ("margin_t",),
    "orders_window": ("orders_w",),
    "orders_total": ("orders_t",),
    "avg_order_value": ("revenue_w", "orders_w"),
    "first_purchase_at": ("first_at",),
    "last_purchase_at": ("last_at",),
    "recency_days": ("last_at",),
    "tenure_months": ("first_month",),
    "tenure_days": ("first_at",),
    "months_active": ("months_active",),
    "quarters_active": ("month_mask",),
    "overdue_payments": ("overdue",),
    "max_days_late": ("max_late",),
    "avg_days_late": ("days_late",),
    "avg_satisfaction": ("satisfaction",),
    "complaints_window": ("complaints",),
}


def base_table(metadata: MetaData, dialect: str, extra: Sequence[StatColumn] = ()) -> Table:
    """The run's temporary table of per-customer statistics before ranking (plugins' columns last)."""
    kwargs: dict[str, Any] = {"postgresql_on_commit": "DROP"} if dialect == "postgresql" else {}
    # BigId: a rowid alias on SQLite (no separate key index to fill).
    cols = [
        Column(name, BigId, primary_key=True) if name == "customer_id" else Column(name, typ)
        for name, typ, _ in COLUMNS
        if name in BASE_COLUMNS
    ]
    cols += [Column(stat.name, stat.sql_type) for stat in extra]
    return Table("tiering_base", metadata, *cols, prefixes=["TEMPORARY"], **kwargs)


_COLUMN_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@frozen
class StatColumn:
    """A statistics column a plugin adds to the relation rules read (``kehu_tier_statistics``).

    Attributes:
        name: the column's name, lower case (``a-z``, digits, ``_``), different from every
            column of :data:`COLUMNS` and from other plugins' columns.
        expression: given the ``customers.id`` column, returns the SQL value of one customer,
            typically a correlated scalar subquery (as a ``ListColumn`` does).
        description: what it means, for ``kehu tier stats`` readers and your documentation.
        type: the SQL type of the value (default: the expression's own type).

    A rule reads it as :attr:`column` (``STATS.c`` holds only the built-in columns).
    """

    name: str
    expression: Callable[[ColumnElement[int]], ColumnElement[Any]]
    description: str = ""
    type: Any = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not _COLUMN_NAME.match(self.name):
            raise ValueError(f"statistics column {self.name!r}: lower case letters, digits and _, 63 at most")
        if self.name in COLUMN_NAMES:
            raise ValueError(f"statistics column {self.name!r} is already a column of the relation")
        if not callable(self.expression):
            raise ValueError(f"statistics column {self.name}: expression must be a function of customers.id")

    @property
    def sql_type(self) -> Any:
        """The column's SQL type in the run's tables."""
        if self.type is not None:
            return self.type
        found = getattr(self.expression(Customer.__table__.c.id), "type", None)
        if found is None or isinstance(found, NullType):
            raise ValueError(f"statistics column {self.name}: give type= (the expression's type is unknown)")
        return found

    @property
    def column(self) -> ColumnClause[Any]:
        """The column as a rule reads it: ``stat.column >= 3``."""
        return stat(self.name, self.sql_type)


def stat(name: str, type_: Any = None) -> ColumnClause[Any]:
    """A column of the statistics relation by name: a built-in one or a plugin's (:class:`StatColumn`)."""
    if name in COLUMN_NAMES:
        return STATS.c[name]
    return column(name, type_, _selectable=STATS)


def plugin_columns(app: Kehu, context: RuleContext) -> list[StatColumn]:
    """Columns from the ``kehu_tier_statistics`` hook of every installed plugin, checked.

    Each implementation gets ``app`` and the run's ``context`` when it takes them.

    Raises :class:`~kehu_core.errors.HookError` naming the plugin that returned something
    other than :class:`StatColumn` values, or a name already taken.
    """
    owners: dict[str, str] = {}

    def check(plugin: str, stat_column: StatColumn) -> None:
        if stat_column.name in owners:
            raise ValueError(
                f"statistics column {stat_column.name!r} is already added by {owners[stat_column.name]}"
            )
        stat_column.sql_type  # noqa: B018 -- refuse an unknown type here, naming the plugin
        owners[stat_column.name] = plugin

    return [
        stat_column
        for _, columns in call_each(app, "kehu_tier_statistics", context, StatColumn, check)
        for stat_column in columns
    ]


def stats_table(extra: Sequence[StatColumn] = ()) -> Table:
    """An empty temporary table shaped like the relation (every column, plugins' too), for checks."""
    return Table(
        TABLE_NAME,
        MetaData(),
        *(Column(name, typ) for name, typ, _ in COLUMNS),
        *(Column(stat.name, stat.sql_type) for stat in extra),
        prefixes=["TEMPORARY"],
    )


def has_tag(tag: str) -> ColumnElement[bool]:
    """True for customers carrying ``tag`` (a rule condition)."""
    return exists().where(CustomerTag.customer_id == STATS.c.customer_id, CustomerTag.tag == tag)


def attribute(key: str) -> ColumnElement[str]:
    """The customer's ``attributes[key]`` as text (JSON text for lists), for rule conditions."""
    return (
        select(Customer.attributes[key].as_string())
        .where(Customer.id == STATS.c.customer_id)
        .scalar_subquery()
    )


def has_attribute(key: str) -> ColumnElement[bool]:
    """True when ``attributes[key]`` is set to something other than empty, ``[]`` or ``false``.

    The customers that have it are selected once (one scan of ``customers``), and each row of
    the statistics is looked up in that set, instead of reading its customer's row in a
    subquery per statistics row (which costs twice as much over a million customers).
    """
    value = Customer.attributes[key].as_string()
    having = select(Customer.id).where(value.is_not(None), value.not_in(["", "[]", "false", "0", "null"]))
    return STATS.c.customer_id.in_(having)


def attribute_contains(key: str, word: str) -> ColumnElement[bool]:
    """True when ``attributes[key]`` (a list or text) contains ``word``."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return attribute(key).like(f"%{escaped}%", escape="\\")


#: julianday() of 1970-01-01 12:00: the integer part of a julianday() counted from noon.
_EPOCH_NOON_JD = 2440588


def day_number(column: Any, dialect: str) -> ColumnElement[int]:
    """:func:`kehu_core.calendar.sql_day_number`, in one date function on SQLite with a fixed-offset zone.

    ``calendar.sql_day_number`` formats the local time, then the date, then parses it again:
    three conversions per value, run for a few million values per run. Shifted by the zone's
    offset plus half a day, SQLite's julianday() (computed from whole milliseconds, so exact
    at every local midnight) has as integer part the Julian day number of the local day.
    Anywhere else (PostgreSQL, a zone with daylight saving time) the calendar's own expression.
    """
    minutes = calendar.fixed_offset_minutes() if dialect == "sqlite" else None
    if minutes is None:
        return calendar.sql_day_number(column, dialect)
    shifted = func.julianday(column, f"{minutes + 12 * 60:+d} minutes")
    return cast(shifted, Integer) - literal(_EPOCH_NOON_JD)


def _month_start(month: int) -> date:
    """The first day of month :func:`~kehu_core.calendar.month_index` ``month``."""
    return date(month // 12, month % 12 + 1, 1)


def _bounds(settings: TierSettings) -> dict[str, Any]:
    """The run's boundaries in the company calendar, as UTC instants and month indexes.

    ``end`` is the end of local day ``as_of`` (the next local midnight, exclusive); the
    window's months are local months ending with the as-of month.
    """
    as_of = settings.as_of
    asof_month = calendar.month_index(as_of)
    start_month = asof_month - settings.window + 1 if settings.window else None
    return {
        "asof_month": asof_month,
        "asof_day": calendar.day_number(as_of),
        "end": calendar.day_end(as_of),
        "month_start": calendar.day_start(_month_start(asof_month)),
        "next_month": calendar.day_start(_month_start(asof_month + 1)),
        "start_month": start_month,
        "start": None if start_month is None else calendar.day_start(_month_start(start_month)),
    }


def _purchases(
    dialect: str,
    settings: TierSettings,
    b: dict[str, Any],
    whole_month: bool,
    wanted: frozenset[str] = frozenset(PURCHASE_AGGREGATES),
) -> Any:
    """Per customer: revenue, margin, orders, first/last purchase.

    Finished months come from the monthly buckets, grouped in primary-key order (no sort).
    When no purchase is dated after the as-of date within its month (``whole_month``: the
    usual case, a run as of today) the as-of month's bucket is exactly that month up to the
    as-of date, and the buckets are the whole answer. Otherwise the as-of month up to the
    as-of date comes straight from the interactions and the two parts are added up.
    """
    m = monthly.c
    if whole_month:
        return _per_customer(monthly, settings, b, m.month <= b["asof_month"], wanted)
    this_month = bucket_select(
        dialect,
        Interaction.occurred_at >= b["month_start"],
        Interaction.occurred_at < b["end"],
        month=literal(b["asof_month"], Integer),
    ).subquery("this_month")
    parts = [
        _per_customer(monthly, settings, b, m.month < b["asof_month"], wanted),
        _per_customer(this_month, settings, b, None, wanted),
    ]
    u = union_all(*parts).subquery("parts")
    combine: dict[str, Any] = {
        "first_at": func.min,
        "last_at": func.max,
        "first_month": func.min,
    }
    return select(
        u.c.customer_id,
        *(
            combine.get(name, func.sum)(u.c[name]).label(name)
            for name in PURCHASE_AGGREGATES
            if name in wanted
        ),
    ).group_by(u.c.customer_id)


def _per_customer(
    buckets: Any,
    settings: TierSettings,
    b: dict[str, Any],
    where: Any,
    wanted: frozenset[str] = frozenset(PURCHASE_AGGREGATES),
) -> Select[Any]:
    """Monthly buckets (customer_id, month, revenue, ...) summed per customer for the window.

    Only the sums named in ``wanted`` are computed.
    """
    c = buckets.c
    if b["start_month"] is None:
        in_window: Any = literal(True)
        in_prev: Any = literal(False)
    else:
        in_window = c.month >= b["start_month"]
        in_prev = and_(c.month >= b["start_month"] - settings.window, c.month < b["start_month"])
    margin = c.costed_revenue - c.cost

    def window_sum(value: Any, cond: Any) -> Any:
        return func.coalesce(func.sum(case((cond, value), else_=0)), 0)

    sums = {
        "revenue_w": window_sum(c.revenue, in_window),
        "revenue_t": func.sum(c.revenue),
        "revenue_p": window_sum(c.revenue, in_prev),
        "margin_w": window_sum(margin, in_window),
        "margin_t": func.sum(margin),
        "orders_w": window_sum(c.orders, in_window),
        "orders_t": func.sum(c.orders),
        "months_active": func.count(case((and_(in_window, c.orders > 0), 1))),
        # Bit k set: a purchase k months before the as-of month (k < 12). Each month is one
        # bucket per customer, so the sum is a bitwise OR: one aggregate for all four periods.
        "month_mask": cast(
            func.sum(
                case(
                    (
                        and_(c.orders > 0, c.month > b["asof_month"] - 12),
                        literal(1, BigInteger).op("<<")(literal(b["asof_month"]) - c.month),
                    ),
                    else_=0,
                )
            ),
            BigInteger,
        ),
        "first_at": func.min(c.first_at),
        "last_at": func.max(c.last_at),
        "first_month": func.min(c.month),
    }
    stmt = select(c.customer_id, *(sums[name].label(name) for name in PURCHASE_AGGREGATES if name in wanted))
    if where is not None:
        stmt = stmt.where(where)
    return stmt.group_by(c.customer_id)


def _others(
    dialect: str,
    settings: TierSettings,
    b: dict[str, Any],
    wanted: frozenset[str] = frozenset(OTHER_AGGREGATES),
) -> Any:
    """Per customer: overdue payments, days late, satisfaction and complaints in the window."""
    i = Interaction
    end = b["end"]
    due = day_number(i.due_at, dialect)
    paid = day_number(i.paid_at, dialect)
    paid_by_then = and_(i.paid_at.is_not(None), i.paid_at < end)
    is_payment = and_(i.kind.in_(DUE_KINDS), i.due_at.is_not(None))
    # Local days from the due day to the paid day (unpaid by then: to the as-of day); overdue
    # when positive. Comparing day numbers is comparing local days: paid after its due day, or
    # unpaid while the due day is before the as-of day.
    days_late = case((paid_by_then, paid - due), else_=literal(b["asof_day"]) - due)
    # Only the kinds the wanted aggregates read: feedback is read for satisfaction alone.
    late = ("overdue", "max_late", "days_late")
    kinds = [
        k
        for k, needs in (
            ("payment", late),
            ("purchase", late),
            ("complaint", OTHER_AGGREGATES),
            ("feedback", ("satisfaction",)),
        )
        if wanted & set(needs)
    ]
    where = [i.kind.in_(kinds), i.status == "done", i.occurred_at < end]
    if "purchase" in kinds:  # only purchases on credit: the others have nothing to be late with
        where.append(or_(i.kind != "purchase", i.due_at.is_not(None)))
    if b["start"] is not None:
        where.append(i.occurred_at >= b["start"])
    # Each interaction's days late computed once, in a subquery kept apart (OFFSET 0: not
    # merged into the aggregates, which would each compute it again).
    rows = (
        select(
            i.customer_id.label("customer_id"),
            i.kind.label("kind"),
            i.satisfaction.label("satisfaction"),
            case((is_payment, days_late), else_=null()).label("late"),
        )
        .where(*where)
        .offset(0)
        .subquery("late_rows")
    )
    r = rows.c
    overdue = r.late > 0
    aggregates = {
        "overdue": func.count(case((overdue, 1))),
        "max_late": func.max(case((overdue, r.late))),
        "days_late": cast(func.avg(case((overdue, r.late))), Float),
        "satisfaction": cast(func.avg(case((r.kind.in_(("feedback", "complaint")), r.satisfaction))), Float),
        "complaints": func.count(case((r.kind == "complaint", 1))),
    }
    return select(
        r.customer_id, *(aggregates[name].label(name) for name in OTHER_AGGREGATES if name in wanted)
    ).group_by(r.customer_id)


def as_of_month_is_whole(session: Session, settings: TierSettings) -> bool:
    """True when no purchase is dated after the as-of date within the as-of month (one index probe)."""
    b = _bounds(settings)
    i = Interaction
    later = exists().where(
        i.kind.in_(PURCHASE_KINDS), i.occurred_at >= b["end"], i.occurred_at < b["next_month"]
    )
    return not session.scalar(select(later))


def base_parts(
    dialect: str,
    settings: TierSettings,
    session: Session | None = None,
    columns: frozenset[str] | None = None,
) -> dict[str, Select[Any]]:
    """The per-customer aggregates the statistics join: ``purchases`` and ``others``.

    With ``session``, the as-of month's buckets are used as they are when they hold nothing
    after the as-of date (see :func:`as_of_month_is_whole`). With ``columns``, only the
    aggregates those statistics columns need (a part nothing needs is left out).
    """
    b = _bounds(settings)
    wanted = aggregates_for(columns, settings)
    whole = session is not None and as_of_month_is_whole(session, settings)
    parts = {"purchases": _purchases(dialect, settings, b, whole, wanted)}
    if wanted & set(OTHER_AGGREGATES):
        parts["others"] = _others(dialect, settings, b, wanted)
    return parts


def aggregates_for(columns: frozenset[str] | None, settings: TierSettings) -> frozenset[str]:
    """The aggregates behind these statistics columns (all of them for ``None``)."""
    if columns is None:
        return frozenset(PURCHASE_AGGREGATES + OTHER_AGGREGATES)
    wanted = {"revenue_w" if settings.measure == "revenue" else "margin_w"}  # the measure: always
    for name in columns:
        wanted.update(COLUMN_SOURCES.get(name, ()))
    return frozenset(wanted)


def base_select(
    dialect: str,
    settings: TierSettings,
    session: Session | None = None,
    parts: dict[str, Any] | None = None,
    columns: frozenset[str] | None = None,
    extra: Sequence[StatColumn] = (),
) -> Select[Any]:
    """Every active customer's statistics (the columns up to ``measure_cents``, then ``extra``), one query.

    ``parts`` replaces :func:`base_parts` with relations of the same columns (the run
    materialises them first on SQLite, keyed by customer, so joining them needs no sort).
    With ``columns``, the other columns are NULL and not computed (a run computes what its
    methods, rules and snapshots read; ``kehu tier stats`` computes everything).
    """
    b = _bounds(settings)
    if parts is None:
        parts = {
            name: stmt.subquery(name)
            for name, stmt in base_parts(dialect, settings, session, columns).items()
        }
    p: Any = parts["purchases"]
    o: Any = parts.get("others")
    measure_cents = func.coalesce(p.c.revenue_w if settings.measure == "revenue" else p.c.margin_w, 0)

    def yuan(cents: Any) -> Any:
        return cast(cents, YUAN) / 100

    def per_order(cents: Any, orders: Any) -> Any:
        # To the whole cent, half away from zero, in integers: exact on every database (SQLite
        # would divide in floating point). Integer division truncates towards zero on both, so
        # twice the remainder over the orders is 1, -1 or 0: the half cent away from zero.
        # (PostgreSQL's sum of BIGINT is NUMERIC, whose division keeps the fraction: cast back.)
        whole, count = cast(cents, BigInteger), cast(orders, BigInteger)
        return whole // count + 2 * (whole % count) // count

    expressions: dict[str, Callable[[], Any]] = {
        "revenue_window": lambda: yuan(func.coalesce(p.c.revenue_w, 0)),
        "revenue_total": lambda: yuan(func.coalesce(p.c.revenue_t, 0)),
        "revenue_prev_window": lambda: yuan(func.coalesce(p.c.revenue_p, 0)),
        "margin_window": lambda: yuan(func.coalesce(p.c.margin_w, 0)),
        "margin_total": lambda: yuan(func.coalesce(p.c.margin_t, 0)),
        "orders_window": lambda: func.coalesce(p.c.orders_w, 0),
        "orders_total": lambda: func.coalesce(p.c.orders_t, 0),
        "avg_order_value": lambda: case(
            (p.c.orders_w > 0, yuan(per_order(p.c.revenue_w, p.c.orders_w))), else_=null()
        ),
        "first_purchase_at": lambda: p.c.first_at,
        "last_purchase_at": lambda: p.c.last_at,
        "recency_days": lambda: literal(b["asof_day"]) - day_number(p.c.last_at, dialect),
        "tenure_months": lambda: literal(b["asof_month"]) - p.c.first_month,
        "tenure_days": lambda: literal(b["asof_day"]) - day_number(p.c.first_at, dialect),
        "months_active": lambda: func.coalesce(p.c.months_active, 0),
        "quarters_active": lambda: sum(
            (
                case(
                    (cast(func.coalesce(p.c.month_mask, 0), BigInteger).op("&")(7 << (3 * q)) > 0, 1), else_=0
                )
                for q in range(1, 4)
            ),
            case((cast(func.coalesce(p.c.month_mask, 0), BigInteger).op("&")(7) > 0, 1), else_=0),
        ),
        "overdue_payments": lambda: func.coalesce(o.c.overdue, 0),
        "max_days_late": lambda: o.c.max_late,
        "avg_days_late": lambda: o.c.days_late,
        "avg_satisfaction": lambda: o.c.satisfaction,
        "complaints_window": lambda: func.coalesce(o.c.complaints, 0),
        "measure": lambda: yuan(measure_cents),
        "measure_cents": lambda: measure_cents,
    }
    customers = Customer.__table__.c
    for name in CUSTOMER_FIELDS:
        expressions[name] = partial(customers.__getitem__, name)
    for extra_column in extra:  # plugins' columns: expressions over customers.id, correlated with it
        expressions[extra_column.name] = partial(extra_column.expression, customers.id)
    stmt = (
        select(
            Customer.id.label("customer_id"),
            *(
                (expressions[name]() if columns is None or name in columns else null()).label(name)
                for name in (*BASE_COLUMNS[1:], *(stat.name for stat in extra))
            ),
        )
        .select_from(Customer)
        .outerjoin(p, p.c.customer_id == Customer.id)
    )
    if o is not None:
        stmt = stmt.outerjoin(o, o.c.customer_id == Customer.id)
    return stmt.where(Customer.active.is_(True))


def money(metrics: dict[str, Any] | None) -> dict[str, Any]:
    """A metrics snapshot with money as Decimal yuan (two decimals; half a fen away from zero),
    other numbers as they are."""
    out: dict[str, Any] = {}
    for key, value in (metrics or {}).items():
        if key in MONEY_COLUMNS and value is not None:
            # Half a fen rounds away from zero, as PostgreSQL's NUMERIC stores it.
            value = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        elif isinstance(value, (float, Decimal)):
            value = round(float(value), 4)
        out[key] = value
    return out
