"""Rules of kehu_core.interactions that mutation testing found unpinned, on the core alone: a
customer is found by its exact code (an unknown code sorting before or between known ones is
refused, not given to a neighbour), a kind no installed part knows is filtered as given, and
times reach PostgreSQL as instants, whatever the session's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from kehu_core import customers, interactions
from kehu_core.errors import ValidationError
from kehu_core.interactions import InteractionQuery
from kehu_core.models import Interaction

SH = ZoneInfo("Asia/Shanghai")


pytestmark = pytest.mark.core_alone


@pytest.fixture
def app(kehu_app):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "张伟", "kind": "person"})
        customers.add_customer(kehu_app, s, {"code": "C2", "name": "王芳", "kind": "person"})
    return kehu_app


def customer_id(app, code: str) -> int:
    with app.session() as s:
        return customers.get_customer(s, code).id


@pytest.mark.parametrize("code", ["C0", "C15", "C3"])
def test_a_code_before_between_or_after_the_known_ones_is_refused(app, code):
    # C0 sorts before C1, C15 between C1 and C2, C3 after C2: none is a customer.
    with app.session() as s, pytest.raises(ValidationError, match="no customer with this code"):
        interactions.log_interaction(
            app, s, {"customer_code": code, "kind": "visit", "occurred_at": datetime(2026, 3, 10, tzinfo=UTC)}
        )
    with app.session() as s:
        assert s.scalar(select(Interaction.id)) is None


def test_a_kind_the_core_does_not_know_is_filtered_as_given(app):
    cid = customer_id(app, "C1")
    row = {"customer_id": cid, "occurred_at": datetime(2026, 3, 10, tzinfo=UTC), "status": "done"}
    with app.session() as s:
        written = interactions.write_interactions(
            app,
            s,
            [
                row | {"kind": "grievance", "external_ref": "G1"},
                row | {"kind": "complaint", "external_ref": "K1"},
            ],
            "t",
        )
    ids = {r["external_ref"]: r["id"] for r in written}
    with app.session() as s:

        def listed(kind: str) -> list[int]:
            return [r.id for r in interactions.list_interactions(s, InteractionQuery(kind=kind))]

        assert listed("grievance") == [ids["G1"]]  # a plugin's kind, not installed: as given
        assert listed("投诉") == [ids["K1"]]  # a core kind by its Chinese name
        assert listed("refund") == []


def test_times_reach_the_database_as_instants_whatever_its_session_zone(app):
    # A PostgreSQL server of a company in China often runs in Asia/Shanghai; a time sent
    # without its offset would then be read 8 hours off.
    cid = customer_id(app, "C1")
    when = datetime(2026, 3, 10, 0, 0, 0, 1, tzinfo=UTC)
    with app.session() as s:
        if app.dialect == "postgresql":
            s.execute(text("SET LOCAL TIME ZONE 'Asia/Shanghai'"))
        interactions.write_interactions(
            app,
            s,
            [
                {
                    "customer_id": cid,
                    "kind": "purchase",
                    "occurred_at": when,
                    "due_at": datetime(2026, 3, 31, 23, 59, 59, tzinfo=SH),
                    "amount": Decimal("9999999999999.99"),
                    "quantity": Decimal("999999999999.999"),
                    "external_ref": "T1",
                }
            ],
            "t",
        )
    with app.session() as s:
        stored = s.execute(
            select(Interaction.occurred_at, Interaction.due_at, Interaction.amount, Interaction.quantity)
        ).one()
    assert stored[0] == when
    assert stored[1] == datetime(2026, 3, 31, 15, 59, 59, tzinfo=UTC)
    assert stored[2:] == (Decimal("9999999999999.99"), Decimal("999999999999.999"))
