"""One customer's row of the statistics relation, with ranks and classes (``kehu tier stats``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core.customers import get_customer
from kehu_tiering.methods import classified_select
from kehu_tiering.queries import money
from kehu_tiering.settings import TierSettings


def customer_stats(app: Any, session: Session, settings: TierSettings, code: str) -> dict[str, Any]:
    """Every statistics column of customer ``code`` (ranked among all active customers)."""
    customer = get_customer(session, code)
    classified = classified_select(app.dialect, settings).subquery("s")
    row = (
        session.execute(select(classified).where(classified.c.customer_id == customer.id)).mappings().first()
    )
    if row is None:
        from kehu_core.errors import KehuError

        raise KehuError(f"customer {code} is archived: archived customers are not tiered")
    return money(dict(row))
