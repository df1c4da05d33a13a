"""Shared helpers for the tiering tests: generated data, runs, current assignments."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Integer

from kehu_core.interactions import write_interactions
from kehu_core.models import Customer
from kehu_tiering.engine import run as run_engine
from kehu_tiering.models import assignments as a
from kehu_tiering.settings import make_settings

AS_OF = date(2026, 6, 15)  # mid-month: the as-of month is read from raw interactions
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*parts: int) -> datetime:
    """A company-local wall time (Shanghai, UTC+8); the tests using it take the ``shanghai`` fixture."""
    return datetime(*parts, tzinfo=SHANGHAI)


def add_customers(app: Any, codes: list[str], **fields: Any) -> dict[str, int]:
    """Create customers with these codes; returns {code: id}."""

    now = datetime.now(UTC)
    with app.session() as session:
        rows = [
            Customer(
                code=c,
                name=f"客户{c}",
                kind="company",
                special_dates={},
                attributes=dict(fields.get("attributes", {})),
                marketing_consent=False,
                active=True,
                created_at=now,
                updated_at=now,
            )
            for c in codes
        ]
        session.add_all(rows)
        session.flush()
        return {r.code: r.id for r in rows}


def record(app: Any, rows: list[dict[str, Any]]) -> None:
    """Write interactions through the core (so ``kehu_interactions_recorded`` fires)."""

    with app.session() as session:
        write_interactions(app, session, rows, source="test")


def purchase(customer_id: int, when: datetime, amount: Any, cost: Any = None, **extra: Any) -> dict[str, Any]:
    """A done purchase row."""
    return dict(
        customer_id=customer_id,
        kind="purchase",
        status="done",
        occurred_at=when,
        amount=Decimal(str(amount)),
        cost=None if cost is None else Decimal(str(cost)),
        **extra,
    )


def payment(
    customer_id: int,
    due: datetime,
    paid: datetime | None,
    kind: str = "payment",
    amount: Any = "100.00",
    at: datetime | None = None,
) -> dict[str, Any]:
    """A done payment (or purchase on credit) recorded at ``at``, by default on its due day."""
    return dict(
        customer_id=customer_id,
        kind=kind,
        status="done",
        occurred_at=due if at is None else at,
        amount=Decimal(str(amount)),
        due_at=due,
        paid_at=paid,
    )


def generated(app: Any, customers: int, seed: int) -> dict[str, int]:
    """Customers with purchases drawn from a small set of amounts (many ties), some with none.

    Dates span 30 months before AS_OF and a few days after it (which must not count).
    """
    rng = random.Random(seed)
    ids = add_customers(app, [f"G{seed}-{i:04d}" for i in range(customers)])
    amounts = ("100.00", "250.50", "999.99", "1000.00", "0.01", "-50.00", "5000.00")
    end = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 23, 59, tzinfo=UTC)
    rows = []
    for cid in ids.values():
        if rng.random() < 0.1:
            continue
        for _ in range(rng.choice((1, 1, 2, 3, 5, 8))):
            when = end - timedelta(days=rng.randint(-10, 900), seconds=rng.randint(0, 86000))
            cost = None if rng.random() < 0.3 else "60.00"
            rows.append(purchase(cid, when, rng.choice(amounts), cost))
    record(app, rows)
    return ids


def run(app: Any, **settings: Any) -> Any:
    """Run tiering with settings (as_of defaults to AS_OF)."""

    settings.setdefault("as_of", AS_OF)
    with app.session() as session:
        return run_engine(app, session, make_settings(**settings))


def current(app: Any, method: str) -> dict[int, str]:
    """{customer_id: tier} of the current assignments of ``method``."""

    with app.session() as session:
        return dict(
            session.execute(
                select(a.c.customer_id, a.c.tier).where(a.c.valid_to.is_(None), a.c.method == method)
            ).all()
        )


class only_oracle(FunctionElement[int]):  # noqa: N801 -- named like the SQL function it is
    """A construct with SQL for Oracle only: neither the generic compiler, SQLite nor PostgreSQL
    can write it (a rule using it is refused by the database check)."""

    type = Integer()
    inherit_cache = True
    name = "only_oracle"


@compiles(only_oracle, "oracle")
def _oracle(element: Any, compiler: Any, **kw: Any) -> str:
    return "1"
