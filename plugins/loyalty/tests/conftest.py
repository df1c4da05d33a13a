"""Helpers for the loyalty tests: customers, members and interactions in one call."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from kehu_core.customers import add_customer
from kehu_core.hooktypes import InteractionBatch
from kehu_core.importing import import_interactions
from kehu_core.interactions import log_interaction
from kehu_core.models import Interaction
from kehu_core.validation import timestamp as parse
from kehu_loyalty import earning
from kehu_loyalty.accounts import ROW_COLUMNS, enroll
from kehu_loyalty.ledger import balance, member, statement
from kehu_loyalty.models import LEDGER

_codes = itertools.count(1)


class Shop:
    """A loyalty-installed test database with shortcuts."""

    def __init__(self, app: Any):
        self.app = app

    def customer(
        self, code: str | None = None, *, member: bool = True, since: str = "2020-01-01", **fields: Any
    ) -> str:
        code = code or f"T{next(_codes):05d}"
        with self.app.session() as s:
            add_customer(self.app, s, {"code": code, "name": fields.pop("name", f"客户{code}"), **fields})
            if member:
                enroll(self.app, s, [code], since=parse(since), now=parse(since))
        return code

    def log(
        self, code: str, kind: str = "purchase", at: str = "2024-03-10T12:00:00+08:00", **fields: Any
    ) -> int:
        """Log an interaction; ``at`` may be ``-N`` for N days ago."""

        if at.startswith("-"):
            at = (datetime.now(UTC) - timedelta(days=int(at[1:]))).isoformat()
        values = {
            "customer_code": code,
            "kind": kind,
            "occurred_at": at,
            **{k: str(v) for k, v in fields.items()},
        }
        with self.app.session() as s:
            return log_interaction(self.app, s, values).id

    def balance(self, code: str) -> int:
        with self.app.session() as s:
            customer, _ = member(s, code)
            return balance(s, customer.id)

    def ledger(self, code: str) -> list[dict[str, Any]]:
        with self.app.session() as s:
            customer, _ = member(s, code)
            return statement(s, customer.id)

    def bring_in(self, *rows: tuple[str, str, str, str, str, str]) -> None:
        """Import ``(ref, code, kind, status, occurred_at, amount)`` rows in one file (one batch,
        earned as an import earns it); a feedback row is given a satisfaction of 5."""

        lines = ["external_ref,customer_code,kind,status,occurred_at,amount,satisfaction"]
        lines += [
            f"{ref},{code},{kind},{status},{when},{amount},{'5' if kind == 'feedback' else ''}"
            for ref, code, kind, status, when, amount in rows
        ]
        with self.app.session() as s:
            import_interactions(self.app, s, io.BytesIO(("\n".join(lines) + "\n").encode()))

    @staticmethod
    def batch_rows(session: Any) -> list[dict[str, Any]]:
        """Every interaction as earning's batches carry it, by id."""

        table = Interaction.__table__
        stmt = select(*(table.c[c] for c in ROW_COLUMNS)).order_by(table.c.id)
        return [dict(r) for r in session.execute(stmt).mappings()]

    def earn_as_given(self, code: str, stored: str, given: str, path: str) -> None:
        """Import a purchase of ``stored`` yuan by ``code`` (2024-04-01 noon, Shanghai), empty the
        ledger, and earn the purchase again on ``path`` handed over with the amount ``given`` (as
        a plugin writing interactions may hand it, past the cent)."""

        self.bring_in(("P1", code, "purchase", "", "2024-04-01T12:00:00+08:00", stored))
        with self.app.session() as s:
            s.execute(LEDGER.delete())
            [row] = self.batch_rows(s)
            earning.earn_batch(self.app, s, InteractionBatch([{**row, "amount": Decimal(given)}]), path=path)

    def entries(self, code: str) -> list[tuple[str, str | None, int]]:
        """The member's ledger as ``(kind, rule, points)``, sorted."""
        return sorted((e["kind"], e["rule"], e["points"]) for e in self.ledger(code))

    def run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self.app.session() as s:
            return func(s, *args, **kwargs)

    def run_app(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``func(app, session, ...)`` in a transaction of its own."""
        with self.app.session() as s:
            return func(self.app, s, *args, **kwargs)


@pytest.fixture
def shop(kehu_app: Any, kehu_install: Any) -> Shop:
    """A database with the loyalty plugin installed."""
    kehu_install("loyalty")
    return Shop(kehu_app)


def utc(text: str) -> datetime:
    """An aware datetime from ISO text (UTC when no offset is given)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


D = Decimal


@pytest.fixture(params=["sql", "python"])
def path(request: Any, monkeypatch: Any, company_zone: Any) -> str:
    """Earning's two paths ("sql" and "python"): a test using it runs on both, with the company
    in Asia/Shanghai; for "python", :func:`kehu_loyalty.earning.plan` is forced to choose it."""
    company_zone("Asia/Shanghai")
    if request.param == "python":
        monkeypatch.setattr(earning, "plan", lambda *a, **k: earning.Plan("python", "forced by the test"))
    return str(request.param)
