"""A customer's rights over their personal data: erasure (forget) and access (export).

Apart from :mod:`kehu_core.customers` because the export includes interactions, and
:mod:`kehu_core.interactions` looks customers up: here both are imported, and neither imports
the other's module back.
"""

from __future__ import annotations

from typing import Any

from attrs import asdict
from sqlalchemy import Engine, event, inspect, select, update
from sqlalchemy.orm import Session

from kehu_core import audit
from kehu_core import db as kehu_db
from kehu_core.access import record_access, require
from kehu_core.app import Kehu
from kehu_core.customers import CustomerRecord, Forgotten, get_customer, require_not_forgotten
from kehu_core.fields import PERSONAL_FIELDS
from kehu_core.hooktypes import CustomerChange
from kehu_core.i18n import N_, messages
from kehu_core.interactions import InteractionRecord
from kehu_core.models import AccessEntry, Interaction
from kehu_core.types import utcnow

_ = messages("kehu_core").gettext

__all__ = [
    "FORGOTTEN_NAME",
    "Forgotten",
    "export_customer",
    "forget_customer",
    "require_not_forgotten",
    "vacuum",
]

#: The name a forgotten customer keeps.
FORGOTTEN_NAME = "(forgotten)"


def forget_customer(app: Kehu, session: Session, code: str) -> CustomerRecord:
    """Erase a customer's personal data (PIPL art. 47, GDPR art. 17), keeping anonymous aggregates.

    Name, phone, e-mail, birthday, special dates, free attributes and tags are erased, and so
    are the notes of every interaction. Amounts, dates, kinds and products stay, so revenue
    and statistics still add up. Plugins erase their own data through ``kehu_erase_customer``.

    On SQLite, when the session commits, the write-ahead log is checkpointed and truncated
    (with ``secure_delete`` on every connection, the old values are then gone from the file
    and the log); if another connection still reads an older snapshot, the log keeps them
    until ``kehu db vacuum``. On PostgreSQL old row versions stay until ``kehu db vacuum``.
    """
    require(session, "privacy.manage", N_("forget customers"))
    customer = get_customer(session, code)
    audit.record(session, "customer", customer.code, "forgotten", customer_id=customer.id)
    customer.name = FORGOTTEN_NAME
    customer.phone = customer.email = None
    customer.birthday = None
    customer.special_dates = {}
    customer.attributes = {}
    customer.tags = []
    customer.marketing_consent = False
    customer.active = False
    customer.forgotten_at = customer.updated_at = utcnow()
    session.execute(update(Interaction).where(Interaction.customer_id == customer.id).values(note=None))
    session.flush()
    app.hook.kehu_erase_customer(session=session, customer_ids=[customer.id])
    app.hook.kehu_customers_changed(
        session=session, changes=[CustomerChange(customer.id, customer.code, "forgotten", PERSONAL_FIELDS)]
    )
    if app.dialect == "sqlite" and not event.contains(session, "after_commit", _checkpoint):
        event.listen(session, "after_commit", _checkpoint, once=True)
    return CustomerRecord.of(customer)


def _checkpoint(session: Session) -> None:
    """After a forget commits (SQLite): empty the write-ahead log, where the erased values'
    old page images would otherwise stay."""
    bind = session.get_bind()
    kehu_db.checkpoint(bind if isinstance(bind, Engine) else bind.engine)


def vacuum(app: Kehu, *, full: bool = False) -> list[str]:
    """Rewrite storage so that erased values are gone from the database files; returns the
    tables vacuumed (on SQLite: the whole file, reported as ``["*"]``).

    Run it after ``forget`` on PostgreSQL, where updated and deleted rows stay as dead row
    versions until VACUUM; every table of the core and of the installed plugins is vacuumed
    (forget touches plugins' tables too). Must not run inside a session's transaction.
    """
    if app.dialect == "sqlite":
        kehu_db.vacuum(app.engine)
        return ["*"]
    installed = app.installed()
    names = sorted(
        {t.name for s in app.schemas(installed) for t in s.metadata.sorted_tables}
        & set(inspect(app.engine).get_table_names())
    )
    kehu_db.vacuum(app.engine, names, full=full)
    return names


def export_customer(app: Kehu, session: Session, code: str) -> dict[str, Any]:
    """Everything kept about one customer: the record, every interaction, plugins' data, and
    who opened the customer's data (``accessed_by``: user, time, what). Needs ``privacy.manage``."""
    require(session, "privacy.manage", N_("export a customer's personal data"))
    customer = get_customer(session, code)
    record_access(session, customer.id, "export")
    interactions = session.scalars(
        select(Interaction)
        .where(Interaction.customer_id == customer.id)
        .order_by(Interaction.occurred_at, Interaction.id)
    )
    result: dict[str, Any] = {
        "customer": asdict(CustomerRecord.of(customer)),
        "interactions": [asdict(InteractionRecord.of(i, customer.code)) for i in interactions],
    }
    for section in app.hook.kehu_export_customer(session=session, customer=customer):
        if section:
            result.update(section)
    result["accessed_by"] = [
        {"user": actor, "at": at.isoformat(), "what": what}
        for actor, at, what in session.execute(
            select(AccessEntry.actor, AccessEntry.at, AccessEntry.what)
            .where(AccessEntry.customer_id == customer.id)
            .order_by(AccessEntry.at, AccessEntry.id)
        )
    ]
    return result
