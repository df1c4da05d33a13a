"""Interaction services: write a batch (firing the hook), log one, plan visits, list and find due ones."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from attrs import define, frozen
from sqlalchemy import Numeric, Table, any_, func, literal, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from kehu_core import calendar
from kehu_core.access import customer_condition, require
from kehu_core.app import Kehu
from kehu_core.customers import get_customer
from kehu_core.errors import Problem, ValidationError
from kehu_core.fields import REFUSED, check_interaction_rules, interaction_fields, parse_record, require_valid
from kehu_core.hooktypes import InteractionBatch, RecordedRows
from kehu_core.i18n import N_, messages
from kehu_core.models import Customer, Interaction
from kehu_core.types import Money, UTCDateTime, utcnow
from kehu_core.validation import FieldError
from kehu_core.vocab import CENT, INTERACTION_STATUS
from kehu_core.vocab import KNOWN_INTERACTION_KINDS as KNOWN_KINDS

_ = messages("kehu_core").gettext

INTERACTIONS: Table = Interaction.__table__  # type: ignore[assignment]
#: Columns written by :func:`write_interactions`, in table order.
WRITE_COLUMNS = tuple(c.name for c in INTERACTIONS.columns if c.name != "id")


@frozen
class InteractionRecord:
    """An interaction as the API returns it."""

    id: int
    customer_code: str
    kind: str
    status: str
    occurred_at: datetime
    channel: str | None
    amount: Decimal | None
    cost: Decimal | None
    quantity: Decimal | None
    product: str | None
    category: str | None
    salesperson: str | None
    satisfaction: int | None
    note: str | None
    external_ref: str | None
    due_at: datetime | None
    paid_at: datetime | None

    @classmethod
    def of(cls, row: Interaction, customer_code: str) -> InteractionRecord:
        """Build from the ORM row and its customer's code."""
        return cls(
            id=row.id,
            customer_code=customer_code,
            kind=row.kind,
            status=row.status,
            occurred_at=row.occurred_at,
            channel=row.channel,
            amount=row.amount,
            cost=row.cost,
            quantity=row.quantity,
            product=row.product,
            category=row.category,
            salesperson=row.salesperson,
            satisfaction=row.satisfaction,
            note=row.note,
            external_ref=row.external_ref,
            due_at=row.due_at,
            paid_at=row.paid_at,
        )


#: Keys of the rows handed to ``kehu_interactions_recorded``: the new id, then WRITE_COLUMNS.
RECORDED_KEYS = ("id", *WRITE_COLUMNS)
_REF = WRITE_COLUMNS.index("external_ref")
_STATUS = WRITE_COLUMNS.index("status")
_CREATED = WRITE_COLUMNS.index("created_at")


def write_interactions(
    app: Kehu, session: Session, rows: Sequence[Mapping[str, Any]], source: str
) -> list[dict[str, Any]]:
    """Insert clean interaction rows and fire ``kehu_interactions_recorded`` with those written.

    ``rows`` are mappings of :data:`WRITE_COLUMNS` (``customer_id`` resolved, values parsed).
    Rows whose ``external_ref`` already exists are skipped, which makes imports idempotent;
    a row without one gets a fresh ``kehu:<uuid>`` reference. Returns the rows written, each
    with its new ``id``.
    """
    values = []
    for row in rows:
        full = [row.get(c) for c in WRITE_COLUMNS]
        full[_REF] = full[_REF] or f"kehu:{uuid.uuid4().hex}"
        values.append(full)
    return [
        dict(zip(RECORDED_KEYS, (iid, *row)))
        for iid, row in write_interaction_values(app, session, values, source)
    ]


def write_interaction_values(
    app: Kehu, session: Session, rows: Sequence[list[Any]], source: str, *, more: bool = False
) -> list[tuple[int, list[Any]]]:
    """The bulk path of :func:`write_interactions`: rows are lists in :data:`WRITE_COLUMNS` order.

    Every row must carry an ``external_ref``; ``status`` defaults to ``done`` and
    ``created_at`` to now (the lists are completed in place). A reference already stored, or
    repeated in ``rows``, is written once. The hook receives the written rows with their ids
    as :class:`~kehu_core.hooktypes.RecordedRows` (a mapping is built only for a row a
    plugin reads), and only when an installed plugin implements the hook.
    Returns ``(id, row)`` for each row written.

    ``more=True``: more batches of the same write follow, so ``kehu_interactions_done`` is
    not fired yet. Write in several batches through :func:`interaction_writer`, which fires it
    once at the end; otherwise it fires after the batch.

    On SQLite the transaction already holds the write lock (``BEGIN IMMEDIATE``), so the
    references present can be read first and the new rows inserted with explicit ids by a
    plain ``executemany``; on PostgreSQL ``INSERT ... ON CONFLICT (external_ref) DO NOTHING
    RETURNING`` lets concurrent imports of overlapping files agree.
    """
    if not rows:
        if not more:
            _finish_interactions(app, session, source)
        return []
    now = utcnow()
    fresh: dict[str, list[Any]] = {}
    for row in rows:
        ref = row[_REF]
        if not ref:
            raise ValueError("write_interaction_values: every row needs an external_ref")
        if ref not in fresh:  # the first of a reference repeated in the batch wins
            row[_STATUS] = row[_STATUS] or "done"
            row[_CREATED] = row[_CREATED] or now
            fresh[ref] = row
    if app.dialect == "sqlite":
        written = _write_sqlite(session, fresh)
    elif app.dialect == "postgresql":
        written = _write_postgresql(session, list(fresh.values()))
    else:
        raise NotImplementedError(f"kehu supports SQLite and PostgreSQL, not {app.dialect}")
    if written and app.hook_caller("kehu_interactions_recorded").get_hookimpls():
        ids, values = zip(*written)
        recorded = RecordedRows(RECORDED_KEYS, ids, values)
        app.hook.kehu_interactions_recorded(
            session=session, batch=InteractionBatch(rows=recorded, source=source)
        )
    if not more:
        _finish_interactions(app, session, source)
    return written


class InteractionWriter:
    """One write of interactions in several batches; made by :func:`interaction_writer`."""

    def __init__(self, app: Kehu, session: Session, source: str):
        self.app = app
        self.session = session
        self.source = source

    def write(self, rows: Sequence[list[Any]]) -> list[tuple[int, list[Any]]]:
        """Write one batch, as :func:`write_interaction_values` does; returns ``(id, row)`` for
        each row written. ``kehu_interactions_recorded`` fires for the batch."""
        return write_interaction_values(self.app, self.session, rows, self.source, more=True)


@contextmanager
def interaction_writer(app: Kehu, session: Session, source: str) -> Iterator[InteractionWriter]:
    """Write interactions in several batches (an import's chunks)::

        with interaction_writer(app, session, "import") as writer:
            for batch in batches:
                writer.write(batch)

    When the block ends, ``kehu_interactions_done`` fires once, so plugins that gather the
    batches finish their work. When the block raises it does not fire: the transaction is
    being rolled back.
    """
    yield InteractionWriter(app, session, source)
    _finish_interactions(app, session, source)


def _finish_interactions(app: Kehu, session: Session, source: str) -> None:
    """Fire ``kehu_interactions_done``, if an installed plugin implements it."""
    if app.hook_caller("kehu_interactions_done").get_hookimpls():
        app.hook.kehu_interactions_done(session=session, source=source)


def existing_refs(session: Session, refs: Sequence[str]) -> set[str]:
    """The external references among ``refs`` already stored."""
    if not refs:
        return set()
    column = INTERACTIONS.c.external_ref
    dialect = session.get_bind().dialect.name
    return set(session.execute(select(column).where(in_values(column, refs, dialect))).scalars().all())


def in_values(column: ColumnElement[Any], values: Sequence[Any], dialect: str) -> ColumnElement[bool]:
    """``column IN values`` with the values as one bound parameter (a JSON array on SQLite,
    an array on PostgreSQL): thousands of values cost one short statement, not thousands of
    parameters to render and bind."""
    if dialect == "sqlite":
        each = func.json_each(json.dumps(list(values), ensure_ascii=False)).table_valued("value")
        return column.in_(select(each.c.value))
    if dialect == "postgresql":
        return column == any_(literal(list(values), postgresql.ARRAY(column.type)))
    return column.in_(list(values))


def _storers(dialect: str) -> list[tuple[int, Callable[[Any], Any]]]:
    """``(column index, convert)`` for the typed columns: what SQLAlchemy's types would do to
    a value on the way in, done column by column without the per-row machinery.

    SQLite stores UTC times as ``YYYY-MM-DD HH:MM:SS.ffffff`` text and numbers as floats
    (money quantized to the cent first); PostgreSQL gets UTC times and quantized money.
    Naive times are refused, as :class:`~kehu_core.types.UTCDateTime` refuses them.
    """

    def utc(value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: kehu stores timezone-aware times only")
        return value.astimezone(UTC) if value.utcoffset() else value

    def stamp(value: datetime) -> str:
        return utc(value).isoformat(" ", "microseconds")[:26]  # "YYYY-MM-DD HH:MM:SS.ffffff", no offset

    def cents(value: Any) -> Decimal:
        return Decimal(value).quantize(CENT)

    storers: list[tuple[int, Callable[[Any], Any]]] = []
    for index, name in enumerate(WRITE_COLUMNS):
        column_type = INTERACTIONS.c[name].type
        if isinstance(column_type, UTCDateTime):
            storers.append((index, stamp if dialect == "sqlite" else utc))
        elif isinstance(column_type, Money):
            storers.append((index, (lambda v: float(cents(v))) if dialect == "sqlite" else cents))
        elif isinstance(column_type, Numeric) and dialect == "sqlite":
            storers.append((index, float))
    return storers


def _stored_columns(
    rows: Sequence[Sequence[Any]], storers: list[tuple[int, Callable[[Any], Any]]]
) -> list[Sequence[Any]]:
    """The rows as columns, the typed ones converted to their stored form."""
    columns: list[Sequence[Any]] = list(zip(*rows))
    for index, store in storers:
        columns[index] = [None if value is None else store(value) for value in columns[index]]
    return columns


_SQLITE_STORERS = _storers("sqlite")
_POSTGRESQL_STORERS = _storers("postgresql")
_SQLITE_INSERT = (
    f"INSERT INTO {INTERACTIONS.name} (id, {', '.join(WRITE_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(WRITE_COLUMNS) + 1))})"
)


def _write_sqlite(session: Session, fresh: dict[str, list[Any]]) -> list[tuple[int, list[Any]]]:
    present = existing_refs(session, list(fresh))
    todo = [row for ref, row in fresh.items() if ref not in present]
    if not todo:
        return []
    connection = session.connection()
    next_id = (connection.exec_driver_sql(f"SELECT max(id) FROM {INTERACTIONS.name}").scalar() or 0) + 1
    ids = range(next_id, next_id + len(todo))
    columns = _stored_columns(todo, _SQLITE_STORERS)
    connection.exec_driver_sql(_SQLITE_INSERT, list(zip(ids, *columns)))
    return list(zip(ids, todo))


def _postgresql_insert() -> str:
    """One statement per batch: the columns as typed arrays, unnested into rows. Short SQL
    with 17 parameters, where a multi-row VALUES list would be megabytes to build and parse."""
    dialect = postgresql.dialect()
    arrays = ", ".join(
        f"%(c{i})s::{INTERACTIONS.c[name].type.compile(dialect=dialect)}[]"
        for i, name in enumerate(WRITE_COLUMNS)
    )
    return (
        f"INSERT INTO {INTERACTIONS.name} ({', '.join(WRITE_COLUMNS)}) SELECT * FROM unnest({arrays}) "
        "ON CONFLICT (external_ref) DO NOTHING RETURNING id, external_ref"
    )


_POSTGRESQL_INSERT = _postgresql_insert()


def _write_postgresql(session: Session, rows: list[list[Any]]) -> list[tuple[int, list[Any]]]:
    """Insert, letting ``ON CONFLICT`` skip references stored meanwhile by a concurrent writer."""
    columns = _stored_columns(rows, _POSTGRESQL_STORERS)
    params = {f"c{i}": list(column) for i, column in enumerate(columns)}
    ids = dict((ref, iid) for iid, ref in session.connection().exec_driver_sql(_POSTGRESQL_INSERT, params))
    return [(ids[row[_REF]], row) for row in rows if row[_REF] in ids]


def validate_interaction(
    app: Kehu, values: Mapping[str, Any], row: int | None = None
) -> tuple[dict[str, Any], list[Problem]]:
    """Parse one interaction's fields; returns clean values (still with ``customer_code``) and problems."""
    clean, problems = parse_record(interaction_fields(app.interaction_kinds()), values, row=row)
    if not problems:
        problems = check_interaction_rules(clean, row)
    return clean, problems


def log_interaction(
    app: Kehu, session: Session, values: Mapping[str, Any], source: str = "log"
) -> InteractionRecord:
    """Record one interaction for an existing customer (``kehu interaction log``).

    Needs permission ``interaction.write`` and a customer the acting user sees."""
    require(session, "interaction.write", N_("log interactions"))
    clean, problems = validate_interaction(app, values)
    require_valid(problems, "interaction")
    stmt = select(Customer).where(Customer.code == clean["customer_code"])
    rule = customer_condition(session)
    if rule is not None:
        stmt = stmt.where(rule)
    customer = session.scalar(stmt)
    if customer is None:
        raise ValidationError(
            [Problem("customer_code", _("no customer with this code"), value=clean["customer_code"])],
            headline=_(REFUSED["interaction"]),
        )
    if customer.forgotten_at is not None:
        raise ValidationError(
            [Problem("customer_code", _("this customer was forgotten"), value=customer.code)],
            headline=_(REFUSED["interaction"]),
        )
    clean["customer_id"] = customer.id
    written = write_interactions(app, session, [clean], source)
    if not written:
        raise ValidationError(
            [Problem("external_ref", _("already recorded"), value=clean.get("external_ref"))],
            headline=_(REFUSED["interaction"]),
        )
    stored = session.get(Interaction, written[0]["id"])
    assert stored is not None
    return InteractionRecord.of(stored, customer.code)


PLANNABLE_KINDS = ("visit", "call", "meeting", "demo", "email", "letter")


def plan_interaction(app: Kehu, session: Session, values: Mapping[str, Any]) -> InteractionRecord:
    """Schedule a planned contact (the visit plan 访问计划): status ``planned``, kind visit by default."""
    planned = dict(values)
    planned.setdefault("kind", "visit")
    planned["status"] = "planned"
    try:
        kind = app.interaction_kind_vocabulary().parse(planned["kind"])
    except FieldError:
        kind = str(planned["kind"]).strip()
    planned["kind"] = kind
    if kind not in PLANNABLE_KINDS:
        raise ValidationError(
            [
                Problem(
                    "kind", _("a plan is one of {kinds}").format(kinds=", ".join(PLANNABLE_KINDS)), value=kind
                )
            ],
            headline=_(REFUSED["plan"]),
        )
    return log_interaction(app, session, planned, source="plan")


@define
class InteractionQuery:
    """Filters for :func:`list_interactions`.

    ``since`` (included) and ``until`` (excluded) are instants, or dates meaning whole local
    days: ``until=date(2026, 3, 31)`` includes all of 31 March in the company's calendar.
    """

    customer_code: str | None = None
    kind: str | None = None
    status: str | None = None
    salesperson: str | None = None
    since: date | datetime | None = None
    until: date | datetime | None = None
    limit: int | None = 100
    newest_first: bool = True


def _kind_code(kind: str) -> str:
    """The code of a kind the core knows, by any of its names (``拜访`` → ``visit``); another
    (a plugin's kind) is compared as given."""
    try:
        return KNOWN_KINDS.parse(kind)
    except FieldError:
        return kind


def iter_interactions(
    session: Session, query: InteractionQuery, batch: int = 1000
) -> Iterator[InteractionRecord]:
    """Interactions matching ``query``, newest first by default, fetched ``batch`` rows at a time.

    For a long list (``limit=None``): the rows are read as they are consumed, so memory stays
    that of one batch however many there are.
    """
    require(session, "customer.read", N_("see interactions"))
    stmt = select(Interaction, Customer.code).join(Customer, Customer.id == Interaction.customer_id)
    rule = customer_condition(session)
    if rule is not None:
        stmt = stmt.where(rule)
    if query.customer_code:
        stmt = stmt.where(Interaction.customer_id == get_customer(session, query.customer_code).id)
    if query.kind:
        stmt = stmt.where(Interaction.kind == _kind_code(query.kind))
    if query.status:
        stmt = stmt.where(Interaction.status == INTERACTION_STATUS.parse(query.status))
    if query.salesperson:
        stmt = stmt.where(Interaction.salesperson == query.salesperson)
    if query.since:
        stmt = stmt.where(Interaction.occurred_at >= calendar.lower_bound(query.since))
    if query.until:
        stmt = stmt.where(Interaction.occurred_at < calendar.upper_bound(query.until))
    order = Interaction.occurred_at.desc() if query.newest_first else Interaction.occurred_at.asc()
    stmt = stmt.order_by(order, Interaction.id.desc() if query.newest_first else Interaction.id)
    if query.limit:
        stmt = stmt.limit(query.limit)
    for row, code in session.execute(stmt, execution_options={"yield_per": batch}):
        yield InteractionRecord.of(row, code)


def list_interactions(session: Session, query: InteractionQuery) -> list[InteractionRecord]:
    """Interactions matching ``query``, newest first by default."""
    return list(iter_interactions(session, query))


def due_interactions(
    session: Session, as_of: date | datetime, owner: str | None = None
) -> list[InteractionRecord]:
    """Planned interactions due by ``as_of`` (overdue ones included), oldest first.

    ``as_of`` is an instant (plans at it are due), or a date: every plan of that local day
    and before is due.

    ``owner`` matches the interaction's salesperson, or the customer's owner when the plan
    names no salesperson.
    """
    due = (
        Interaction.occurred_at <= as_of
        if isinstance(as_of, datetime)
        else Interaction.occurred_at < calendar.day_end(as_of)
    )
    require(session, "customer.read", N_("see the visit plan"))
    stmt = (
        select(Interaction, Customer.code)
        .join(Customer, Customer.id == Interaction.customer_id)
        .where(Interaction.status == "planned", due, Customer.active.is_(True))
        .order_by(Interaction.occurred_at, Interaction.id)
    )
    rule = customer_condition(session)
    if rule is not None:
        stmt = stmt.where(rule)
    if owner:
        stmt = stmt.where(
            (Interaction.salesperson == owner)
            | (Interaction.salesperson.is_(None) & (Customer.owner == owner))
        )
    return [InteractionRecord.of(row, code) for row, code in session.execute(stmt)]
