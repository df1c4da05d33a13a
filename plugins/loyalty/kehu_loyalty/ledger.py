"""The points ledger: lots, FIFO allocation, debits, balances and statements.

The ledger is append-only. A positive entry is a lot; a negative one (redeem, expire,
refund) carries allocations naming the lots it drew from, so a lot's remaining points are
``points - sum(allocations)`` and the balance is ``sum(points)``; both always agree.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from attrs import frozen
from sqlalchemy import String, func, select, text, type_coerce
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from kehu_core.choices import Choice, Vocabulary
from kehu_core.customers import get_customer
from kehu_core.errors import KehuError
from kehu_core.i18n import N_, messages
from kehu_core.interactions import in_values
from kehu_core.models import Customer
from kehu_core.types import utcnow
from kehu_loyalty.models import ACCOUNTS, ALLOCATIONS, LEDGER, REASON_WIDTH, Points

_ = messages("kehu_loyalty").gettext

#: IN-lists are cut to this many values (SQLite and PostgreSQL both accept far more).
CHUNK = 5000
#: The kinds of ledger entries, as the statement shows them (积分获得, 兑换 ...).
ENTRY_KIND = Vocabulary(
    "kehu_loyalty",
    N_("entry kind"),
    [
        Choice("earn", N_("earned"), aliases=("消费积分", "获得")),
        Choice("bonus", N_("bonus"), aliases=("奖励积分", "奖励")),
        Choice("adjust", N_("adjustment"), aliases=("手工调整", "调整")),
        Choice("redeem", N_("redemption"), aliases=("兑换", "积分兑换")),
        Choice("expire", N_("expiry"), aliases=("过期", "积分过期")),
        Choice("refund", N_("refund"), aliases=("退款扣回", "退款")),
    ],
)
DEBIT_KINDS = ("redeem", "expire", "refund")


@frozen
class Lot:
    """A positive entry with points left."""

    id: int
    customer_id: int
    occurred_at: datetime
    expires_at: datetime | None
    remaining: int


@frozen
class Debit:
    """A negative entry to write (see :func:`write_credits` for its two forms) and the lots it draws from."""

    entry: dict[str, Any] | tuple[Any, ...]
    allocations: tuple[tuple[int, int], ...]


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """``values`` cut into slices of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus whole months, the day clamped to the month's end (Jan 31 + 1 = Feb 28)."""
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    if moment.day <= 28:  # every month has the day: no calendar lookup (this runs once per purchase)
        return moment.replace(year=year, month=month)
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def entry_row(
    customer_id: int,
    kind: str,
    points: int,
    occurred_at: datetime,
    reason: str,
    key: str,
    *,
    expires_at: datetime | None = None,
    rule: str | None = None,
    interaction_id: int | None = None,
    reward_id: int | None = None,
    shortfall: int = 0,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A complete ledger row (every column, so rows can go in one executemany)."""
    return {
        "customer_id": customer_id,
        "kind": kind,
        "points": points,
        "occurred_at": occurred_at,
        "expires_at": expires_at,
        "reason": reason[:REASON_WIDTH],
        "rule": rule,
        "interaction_id": interaction_id,
        "reward_id": reward_id,
        "idempotency_key": key,
        "shortfall": shortfall,
        "created_at": now or utcnow(),
    }


def lock_accounts(session: Session, customer_ids: Iterable[int]) -> set[int]:
    """Lock the accounts of these customers for the rest of the transaction; returns those found.

    PostgreSQL: ``SELECT ... FOR UPDATE`` in id order (no deadlock between two lockers).
    SQLite: every kehu transaction already holds the write lock (``BEGIN IMMEDIATE``).
    """
    found: set[int] = set()
    ids = sorted(set(customer_ids))
    for part in chunks(ids):
        stmt = (
            select(ACCOUNTS.c.customer_id)
            .where(ACCOUNTS.c.customer_id.in_(part))
            .order_by(ACCOUNTS.c.customer_id)
            .with_for_update()
        )
        found.update(session.scalars(stmt))
    return found


def _allocated() -> Any:
    return (
        # BIGINT: PostgreSQL sums BIGINT points as NUMERIC (a Decimal in Python).
        select(sql_cast(func.coalesce(func.sum(ALLOCATIONS.c.points), 0), Points))
        .where(ALLOCATIONS.c.lot_id == LEDGER.c.id)
        .scalar_subquery()
    )


def open_lots(
    session: Session,
    customer_ids: Sequence[int],
    *,
    expired_by: datetime | None = None,
    valid_at: datetime | None = None,
) -> list[Lot]:
    """Lots with points left, oldest expiry first.

    ``expired_by``: only lots expiring at or before it; ``valid_at``: only lots still valid then.
    """
    remaining = (LEDGER.c.points - _allocated()).label("remaining")
    # Times fetched as stored and parsed here with a memo: the expiry job reads thousands of
    # lots, and per-value type processing dominated. (Refunds read theirs with refund_lots.)
    occurred, expires = type_coerce(LEDGER.c.occurred_at, String), type_coerce(LEDGER.c.expires_at, String)
    memo: dict[Any, datetime | None] = {}
    lots: list[Lot] = []
    dialect = session.get_bind().dialect.name
    for part in chunks(list(customer_ids)):
        stmt = select(LEDGER.c.id, LEDGER.c.customer_id, occurred, expires, remaining).where(
            in_values(LEDGER.c.customer_id, part, dialect), LEDGER.c.points > 0
        )
        if expired_by is not None:
            stmt = stmt.where(LEDGER.c.expires_at <= expired_by)
        if valid_at is not None:
            stmt = stmt.where((LEDGER.c.expires_at > valid_at) | LEDGER.c.expires_at.is_(None))
        stmt = stmt.order_by(LEDGER.c.customer_id, LEDGER.c.expires_at, LEDGER.c.id)
        lots += [
            Lot(lot_id, cid, stored_utc(when, memo), stored_utc(until, memo), left)  # type: ignore[arg-type]  # occurred_at is NOT NULL
            for lot_id, cid, when, until, left in session.execute(stmt)
            if left > 0
        ]
    return lots


def stored_utc(value: Any, memo: dict[Any, datetime | None]) -> datetime | None:
    """A stored time as the driver returns it (SQLite text, or a PostgreSQL datetime) as an
    aware UTC datetime; ``memo`` keeps the ones already converted (many rows share a time)."""
    if value is None:
        return None
    found = memo.get(value)
    if found is None:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        found = memo[value] = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return found


def allocate(lots: Sequence[Lot], points: int) -> tuple[list[tuple[int, int]], int]:
    """Take ``points`` from ``lots`` in the order given; returns (allocations, points not covered)."""
    taken: list[tuple[int, int]] = []
    left = points
    for lot in lots:
        if left <= 0:
            break
        take = min(lot.remaining, left)
        taken.append((lot.id, take))
        left -= take
    return taken, left


def write_debits(session: Session, debits: Sequence[Debit], *, stored: bool = False) -> list[int]:
    """Insert negative entries and their allocations (two executemany); returns the new entry ids.

    ``stored``: the entries are tuples with their times already stored (as :func:`write_credits`
    takes them)."""
    if not debits:
        return []
    ids = next_ids(session, len(debits))
    write_credits(session, [d.entry for d in debits], ids, stored=stored)
    links = [(eid, lot, pts) for eid, d in zip(ids, debits) for lot, pts in d.allocations]
    if links:
        connection = session.connection()
        mark = "%s" if connection.dialect.name == "postgresql" else "?"
        connection.exec_driver_sql(
            f"INSERT INTO {ALLOCATIONS.name} (debit_id, lot_id, points) VALUES ({mark}, {mark}, {mark})",
            links,
        )
    return ids


#: Ledger columns in the order :func:`write_credits` sends them to the driver.
CREDIT_COLUMNS = (
    "customer_id",
    "kind",
    "points",
    "occurred_at",
    "expires_at",
    "reason",
    "rule",
    "interaction_id",
    "reward_id",
    "idempotency_key",
    "shortfall",
    "created_at",
)
_STAMPED = tuple(i for i, c in enumerate(CREDIT_COLUMNS) if c in ("occurred_at", "expires_at", "created_at"))


def sqlite_stamp(value: datetime) -> str:
    """A UTC time as SQLAlchemy stores ``UTCDateTime`` on SQLite (``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    elif value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: kehu stores timezone-aware times only")
    return value.isoformat(" ", "microseconds")[:26]


def time_storer(session: Session) -> Callable[[datetime], Any]:
    """How a time goes into this session's ledger as the driver stores it: :func:`sqlite_stamp`
    text on SQLite (which also sorts as time does, so stored times compare directly), the
    aware datetime itself on PostgreSQL."""
    return sqlite_stamp if session.get_bind().dialect.name == "sqlite" else _as_is


def _as_is(value: datetime) -> datetime:
    return value


def write_credits(
    session: Session,
    rows: Sequence[dict[str, Any] | tuple[Any, ...]],
    ids: Sequence[int] | None = None,
    *,
    stored: bool = False,
) -> int:
    """Insert entries in one driver-level executemany; returns how many.

    ``rows`` are mappings (see :func:`entry_row`) or tuples in :data:`CREDIT_COLUMNS` order;
    ``ids``, when given, are their ids (from :func:`next_ids`). Automatic earning writes one
    entry per purchase, so this bypasses SQLAlchemy's per-row parameter processing: values
    are converted here to their stored form (times as UTC text on SQLite, aware datetimes on
    PostgreSQL), exactly as the column types would store them. ``stored=True``: the tuples'
    times are already in that form (:func:`sqlite_stamp` text on SQLite), left as they are.
    """
    if not rows:
        return 0
    connection = session.connection()
    dialect = connection.dialect.name
    tuples = [row if isinstance(row, tuple) else tuple(row[c] for c in CREDIT_COLUMNS) for row in rows]
    names = CREDIT_COLUMNS if ids is None else ("id", *CREDIT_COLUMNS)
    if ids is not None:
        tuples = [(i, *t) for i, t in zip(ids, tuples)]
    if dialect == "sqlite" and stored:
        marks = ", ".join("?" * len(names))
    elif dialect == "sqlite":
        columns: list[Sequence[Any]] = list(zip(*tuples))
        shift = 0 if ids is None else 1
        memo: dict[datetime, str] = {}  # created_at is one value for the whole batch
        for index in _STAMPED:
            converted = []
            for value in columns[index + shift]:
                if value is not None:
                    text = memo.get(value)
                    if text is None:
                        text = memo[value] = sqlite_stamp(value)
                    value = text
                converted.append(value)
            columns[index + shift] = converted
        tuples = list(zip(*columns))
        marks = ", ".join("?" * len(names))
    elif dialect == "postgresql":
        marks = ", ".join(["%s"] * len(names))
    else:
        session.execute(LEDGER.insert(), [dict(zip(names, t)) for t in tuples])
        return len(rows)
    connection.exec_driver_sql(f"INSERT INTO {LEDGER.name} ({', '.join(names)}) VALUES ({marks})", tuples)
    return len(rows)


def driver_rows(session: Session, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
    """Run ``sql`` on the session's DBAPI connection (same transaction); all its rows, if any.

    For the statements earning runs per group, whose results have thousands of rows: the
    driver's own ``fetchall`` instead of SQLAlchemy's per-row fetch, which costs per row.
    ``params`` in the driver's style (``?`` on SQLite,
    ``%s`` or ``%(name)s`` on PostgreSQL)."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql, params)
        return cast(list[tuple[Any, ...]], cursor.fetchall()) if cursor.description else []
    finally:
        cursor.close()


def next_ids(session: Session, count: int) -> list[int]:
    """Reserve ``count`` ledger ids (SQLite: the transaction holds the write lock; PostgreSQL:
    the sequence)."""
    if session.get_bind().dialect.name == "postgresql":
        return list(
            session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence('loyalty_ledger', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": count},
            )
        )
    start = (session.scalar(select(func.max(LEDGER.c.id))) or 0) + 1
    return list(range(start, start + count))


def existing_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of these idempotency keys are already in the ledger."""
    found: set[str] = set()
    dialect = session.get_bind().dialect.name
    for part in chunks(sorted(set(keys))):
        found.update(
            session.scalars(
                select(LEDGER.c.idempotency_key).where(in_values(LEDGER.c.idempotency_key, part, dialect))
            )
        )
    return found


def member(session: Session, code: str) -> tuple[Customer, Any]:
    """The customer ``code`` and its account row; refuses a customer who is not a member.

    A customer outside the acting user's record rules is "no customer with code ..."
    (:func:`kehu_core.customers.get_customer`)."""
    customer = get_customer(session, code)
    account = session.execute(select(ACCOUNTS).where(ACCOUNTS.c.customer_id == customer.id)).first()
    if account is None:
        raise KehuError(
            _("customer {code} is not a member of the points programme: `kehu loyalty enroll {code}`").format(
                code=code
            )
        )
    return customer, account


def balance(session: Session, customer_id: int) -> int:
    """The balance: the sum of the customer's ledger."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(LEDGER.c.points), 0)).where(LEDGER.c.customer_id == customer_id)
        )
        or 0
    )


def expiring_between(session: Session, customer_id: int, start: datetime, end: datetime) -> int:
    """Points still in lots whose expiry falls in ``(start, end]``."""
    return sum(lot.remaining for lot in open_lots(session, [customer_id], expired_by=end, valid_at=start))


def expired_not_written_off(session: Session, customer_id: int, now: datetime) -> int:
    """Points still in lots that expired by ``now`` (expiry at or before it, as
    :func:`expiring_between` counts its end): what a redemption at ``now`` writes off first."""
    return expiring_between(session, customer_id, datetime(1900, 1, 1, tzinfo=now.tzinfo), now)


def available(ledger_sum: int, expired: int) -> int:
    """The points a member can spend now: the ledger's sum ``ledger_sum`` (:func:`balance`)
    minus the points ``expired`` but not yet written off (:func:`expired_not_written_off`),
    never below 0."""
    return max(ledger_sum - expired, 0)


def statement(session: Session, customer_id: int, limit: int | None = None) -> list[dict[str, Any]]:
    """The customer's ledger, oldest first, with the running balance."""
    rows = (
        session.execute(
            select(
                LEDGER.c.id,
                LEDGER.c.occurred_at,
                LEDGER.c.kind,
                LEDGER.c.points,
                LEDGER.c.reason,
                LEDGER.c.rule,
                LEDGER.c.expires_at,
                LEDGER.c.interaction_id,
                LEDGER.c.reward_id,
                LEDGER.c.shortfall,
                LEDGER.c.idempotency_key,
            )
            .where(LEDGER.c.customer_id == customer_id)
            .order_by(LEDGER.c.occurred_at, LEDGER.c.id)
        )
        .mappings()
        .all()
    )
    running = 0
    result = []
    for row in rows:
        running += row["points"]
        result.append({**row, "balance": running})
    return result[-limit:] if limit else result
