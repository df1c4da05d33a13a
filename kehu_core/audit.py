"""The audit trail: every change to a customer, a complaint, a points balance, a setting, a
user or a role, who made it and when (``kehu audit``).

The table is append-only: the database refuses UPDATE and DELETE on it (triggers made by the
migration). Personal data is kept out of it: for those fields only the name of the field
that changed is written, so erasing a customer leaves nothing here to erase.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from attrs import frozen
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kehu_core import validation
from kehu_core.access import acting, customer_condition, require, visible_customers
from kehu_core.errors import NotFound
from kehu_core.i18n import N_, messages
from kehu_core.models import AuditEntry, Customer
from kehu_core.types import utcnow
from kehu_core.vocab import MAX_CODE

_ = messages("kehu_core").gettext

#: Customer fields whose values are personal data: the trail says they changed, not to what.
PERSONAL_FIELDS = frozenset(
    {"name", "phone", "email", "birthday", "special_dates", "attributes", "note", "description"}
)


@frozen
class AuditRecord:
    """One entry of the audit trail."""

    id: int
    at: datetime
    actor: str
    entity: str
    key: str
    action: str
    changes: dict[str, Any]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def changes_of(
    before: Mapping[str, Any], after: Mapping[str, Any], personal: Iterable[str] = PERSONAL_FIELDS
) -> dict[str, Any]:
    """``{field: [old, new]}`` for each field that differs; a personal field maps to ``"changed"``."""
    hidden = set(personal)
    found: dict[str, Any] = {}
    for key in after:
        old, new = before.get(key), after[key]
        if old != new:
            found[key] = "changed" if key in hidden else [_plain(old), _plain(new)]
    return found


def record(
    session: Session,
    entity: str,
    key: str,
    action: str,
    changes: Mapping[str, Any] | None = None,
    *,
    customer_id: int | None = None,
    at: datetime | None = None,
) -> None:
    """Append one entry: the acting user did ``action`` to ``entity`` ``key`` (``changes``:
    plain JSON values; see :func:`changes_of`). ``customer_id`` files it under that customer."""
    session.add(
        AuditEntry(
            at=at or utcnow(),
            actor=acting(session).login,
            entity=entity,
            key=str(key),
            action=action,
            customer_id=customer_id,
            changes=_plain(dict(changes or {})),
        )
    )


def trail(
    session: Session,
    *,
    customer_id: int | None = None,
    entity: str | None = None,
    key: str | None = None,
    limit: int | None = None,
) -> list[AuditRecord]:
    """The entries about one customer, or one entity (``setting``, ``user`` ...), oldest first.

    Needs permission ``audit.read``; entries about a customer the acting user may not see are
    left out."""
    require(session, "audit.read", N_("read the audit trail"))
    stmt = select(AuditEntry)
    customer_column = AuditEntry.__table__.c.customer_id
    if customer_id is not None:
        stmt = stmt.where(AuditEntry.customer_id == customer_id, visible_customers(session, customer_column))
    elif customer_condition(session) is not None:
        # Entries filed under a customer follow the record rules in every listing (``--entity
        # customer`` too); settings, users and roles are filed under none.
        stmt = stmt.where(or_(customer_column.is_(None), visible_customers(session, customer_column)))
    if entity is not None:
        stmt = stmt.where(AuditEntry.entity == entity)
    if key is not None:
        stmt = stmt.where(AuditEntry.key == key)
    stmt = stmt.order_by(AuditEntry.at, AuditEntry.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [
        AuditRecord(e.id, e.at, e.actor, e.entity, e.key, e.action, dict(e.changes or {}))
        for e in session.scalars(stmt)
    ]


def customer_trail(
    session: Session,
    code: str,
    *,
    entity: str | None = None,
    key: str | None = None,
    limit: int | None = None,
) -> list[AuditRecord]:
    """The trail of customer ``code`` (see :func:`trail`): needs ``audit.read`` only, so an
    auditor who may not open customers' cards still reads what was done to them. A customer
    outside the acting user's record rules is :class:`NotFound`, like everywhere else."""
    require(session, "audit.read", N_("read the audit trail"))
    try:
        wanted = validation.code(code, MAX_CODE)
    except validation.FieldError:
        wanted = code  # not a storable code, so no customer has it
    stmt = select(Customer.id).where(Customer.code == wanted)
    rule = customer_condition(session)
    if rule is not None:
        stmt = stmt.where(rule)
    customer_id = session.scalar(stmt)
    if customer_id is None:
        raise NotFound(_("no customer with code {code!r}").format(code=code))
    return trail(session, customer_id=customer_id, entity=entity, key=key, limit=limit)
