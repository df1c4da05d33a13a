"""A customer's rights over their personal data: erasure (forget) and access (export).

Apart from :mod:`kehu_core.customers` because the export includes interactions, and
:mod:`kehu_core.interactions` looks customers up: here both are imported, and neither imports
the other's module back.
"""

from __future__ import annotations

from typing import Any

from attrs import asdict
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kehu_core.app import Kehu
from kehu_core.customers import CustomerRecord, get_customer
from kehu_core.fields import PERSONAL_FIELDS
from kehu_core.hooktypes import CustomerChange
from kehu_core.interactions import InteractionRecord
from kehu_core.models import Interaction
from kehu_core.types import utcnow

__all__ = ["FORGOTTEN_NAME", "export_customer", "forget_customer"]

#: The name a forgotten customer keeps.
FORGOTTEN_NAME = "(forgotten)"


def forget_customer(app: Kehu, session: Session, code: str) -> CustomerRecord:
    """Erase a customer's personal data (PIPL art. 47, GDPR art. 17), keeping anonymous aggregates.

    Name, phone, e-mail, birthday, special dates, free attributes and tags are erased, and so
    are the notes of every interaction. Amounts, dates, kinds and products stay, so revenue
    and statistics still add up. Plugins erase their own data through ``kehu_erase_customer``.
    """
    customer = get_customer(session, code)
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
    return CustomerRecord.of(customer)


def export_customer(app: Kehu, session: Session, code: str) -> dict[str, Any]:
    """Everything kept about one customer: the record, every interaction, and plugins' data."""
    customer = get_customer(session, code)
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
    return result
