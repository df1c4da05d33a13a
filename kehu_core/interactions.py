"""Interaction services: write a batch (firing the hook), log one, plan visits, list and find due ones."""
from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import define, frozen
from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kehu_core.app import Kehu
from kehu_core.customers import get_customer
from kehu_core.errors import Problem, ValidationError
from kehu_core.fields import check_interaction_rules, interaction_fields, parse_record, require_valid
from kehu_core.hooktypes import InteractionBatch
from kehu_core.models import Customer, Interaction
from kehu_core.types import utcnow

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
            id=row.id, customer_code=customer_code, kind=row.kind, status=row.status,
            occurred_at=row.occurred_at, channel=row.channel, amount=row.amount, cost=row.cost,
            quantity=row.quantity, product=row.product, category=row.category,
            salesperson=row.salesperson, satisfaction=row.satisfaction, note=row.note,
            external_ref=row.external_ref, due_at=row.due_at, paid_at=row.paid_at,
        )


def _insert(dialect: str) -> Any:
    module = {"sqlite": sqlite, "postgresql": postgresql}.get(dialect)
    if module is None:
        raise NotImplementedError(f"kehu supports SQLite and PostgreSQL, not {dialect}")
    return module.insert(INTERACTIONS)


def write_interactions(app: Kehu, session: Session, rows: Sequence[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    """Insert clean interaction rows and fire ``kehu_interactions_recorded`` with those written.

    Rows whose ``external_ref`` already exists are skipped, which makes imports idempotent;
    a row without one gets a fresh ``kehu:<uuid>`` reference. Returns the rows written, each
    with its new ``id``.
    """
    if not rows:
        return []
    now = utcnow()
    prepared = []
    for row in rows:
        full = {c: row.get(c) for c in WRITE_COLUMNS}
        full["status"] = full["status"] or "done"
        full["created_at"] = full["created_at"] or now
        full["external_ref"] = full["external_ref"] or f"kehu:{uuid.uuid4().hex}"
        prepared.append(full)
    stmt = _insert(app.dialect).on_conflict_do_nothing(index_elements=["external_ref"]).returning(
        INTERACTIONS.c.id, INTERACTIONS.c.external_ref
    )
    ids = dict((ref, iid) for iid, ref in session.execute(stmt, prepared))
    written = []
    for full in prepared:
        iid = ids.pop(full["external_ref"], None)  # pop: a ref repeated in one batch is written once
        if iid is not None:
            full["id"] = iid
            written.append(full)
    if written:
        app.hook.kehu_interactions_recorded(session=session, batch=InteractionBatch(rows=written, source=source))
    return written


def validate_interaction(app: Kehu, values: Mapping[str, Any], row: int | None = None) -> tuple[dict[str, Any], list[Problem]]:
    """Parse one interaction's fields; returns clean values (still with ``customer_code``) and problems."""
    clean, problems = parse_record(interaction_fields(app.interaction_kinds()), values, row=row)
    if not problems:
        problems = check_interaction_rules(clean, row)
    return clean, problems


def log_interaction(app: Kehu, session: Session, values: Mapping[str, Any], source: str = "log") -> InteractionRecord:
    """Record one interaction for an existing customer (``kehu interaction log``)."""
    clean, problems = validate_interaction(app, values)
    require_valid(problems, "interaction")
    customer = session.scalar(select(Customer).where(Customer.code == clean["customer_code"]))
    if customer is None:
        raise ValidationError([Problem("customer_code", "no customer with this code", value=clean["customer_code"])],
                              headline="interaction refused; nothing was changed:")
    if customer.forgotten_at is not None:
        raise ValidationError([Problem("customer_code", "this customer was forgotten", value=customer.code)],
                              headline="interaction refused; nothing was changed:")
    clean["customer_id"] = customer.id
    written = write_interactions(app, session, [clean], source)
    if not written:
        raise ValidationError([Problem("external_ref", "already recorded", value=clean.get("external_ref"))],
                              headline="interaction refused; nothing was changed:")
    stored = session.get(Interaction, written[0]["id"])
    assert stored is not None
    return InteractionRecord.of(stored, customer.code)


PLANNABLE_KINDS = ("visit", "call", "meeting", "demo", "email", "letter")


def plan_interaction(app: Kehu, session: Session, values: Mapping[str, Any]) -> InteractionRecord:
    """Schedule a planned contact (the visit plan 访问计划): status ``planned``, kind visit by default."""
    planned = dict(values)
    planned.setdefault("kind", "visit")
    planned["status"] = "planned"
    kind = str(planned["kind"]).strip().lower()
    if kind not in PLANNABLE_KINDS:
        raise ValidationError([Problem("kind", f"a plan is one of {', '.join(PLANNABLE_KINDS)}", value=kind)],
                              headline="plan refused; nothing was changed:")
    return log_interaction(app, session, planned, source="plan")


@define
class InteractionQuery:
    """Filters for :func:`list_interactions`."""

    customer_code: str | None = None
    kind: str | None = None
    status: str | None = None
    salesperson: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = 100
    newest_first: bool = True


def list_interactions(session: Session, query: InteractionQuery) -> list[InteractionRecord]:
    """Interactions matching ``query``, newest first by default."""
    stmt = select(Interaction, Customer.code).join(Customer, Customer.id == Interaction.customer_id)
    if query.customer_code:
        stmt = stmt.where(Interaction.customer_id == get_customer(session, query.customer_code).id)
    for name in ("kind", "status", "salesperson"):
        wanted = getattr(query, name)
        if wanted:
            stmt = stmt.where(getattr(Interaction, name) == wanted)
    if query.since:
        stmt = stmt.where(Interaction.occurred_at >= query.since)
    if query.until:
        stmt = stmt.where(Interaction.occurred_at < query.until)
    order = Interaction.occurred_at.desc() if query.newest_first else Interaction.occurred_at.asc()
    stmt = stmt.order_by(order, Interaction.id.desc() if query.newest_first else Interaction.id)
    if query.limit:
        stmt = stmt.limit(query.limit)
    return [InteractionRecord.of(row, code) for row, code in session.execute(stmt)]


def due_interactions(session: Session, as_of: datetime, owner: str | None = None) -> list[InteractionRecord]:
    """Planned interactions due by ``as_of`` (overdue ones included), oldest first.

    ``owner`` matches the interaction's salesperson, or the customer's owner when the plan
    names no salesperson.
    """
    stmt = (
        select(Interaction, Customer.code)
        .join(Customer, Customer.id == Interaction.customer_id)
        .where(Interaction.status == "planned", Interaction.occurred_at <= as_of, Customer.active.is_(True))
        .order_by(Interaction.occurred_at, Interaction.id)
    )
    if owner:
        stmt = stmt.where(
            (Interaction.salesperson == owner) | (Interaction.salesperson.is_(None) & (Customer.owner == owner))
        )
    return [InteractionRecord.of(row, code) for row, code in session.execute(stmt)]
