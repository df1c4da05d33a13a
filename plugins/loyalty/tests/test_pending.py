"""Batches of one write are earned together (up to EARN_GROUP_ROWS at a time), and nothing
recorded is left unearned: not when the import returns, not when a write's end is never
announced."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kehu_core.importing import ImportRefused, import_interactions
from kehu_core.interactions import WRITE_COLUMNS, write_interaction_values
from kehu_core.models import Interaction
from kehu_loyalty import earn_sql, earning, hooks, pending
from kehu_loyalty.earning import awarded
from kehu_loyalty.ledger import member
from kehu_loyalty.models import LEDGER


def import_csv(
    app,
    session,
    count: int,
    code: str,
    chunk_rows: int,
    prefix: str = "P",
    late: tuple[str, int] | None = None,
):
    """``count`` purchases by ``code``; ``late=(other, n)``: the ``n``-th is by ``other`` instead."""

    buyer = [late[0] if late and n == late[1] else code for n in range(count)]
    lines = [
        f"{prefix}{n},{buyer[n]},purchase,2024-03-{n % 28 + 1:02d}T10:00:00+08:00,{n + 10}.00"
        for n in range(count)
    ]
    csv = ("external_ref,customer_code,kind,occurred_at,amount\n" + "\n".join(lines) + "\n").encode()
    return import_interactions(app, session, io.BytesIO(csv), chunk_rows=chunk_rows)


def earn_entries(session) -> int:
    return session.scalar(select(func.count()).select_from(LEDGER).where(LEDGER.c.kind == "earn"))


def test_an_import_is_earned_in_groups_and_whole_when_it_returns(shop, kehu_app, monkeypatch):
    groups: list[int] = []
    real = earning.earn_batch

    def counting(app, session, batch, *args, **kwargs):
        groups.append(len(batch))
        return real(app, session, batch, *args, **kwargs)

    monkeypatch.setattr(hooks, "earn_batch", counting)
    monkeypatch.setattr(pending, "EARN_GROUP_ROWS", 5)
    code, late = shop.customer(), shop.customer()
    with kehu_app.session() as s:
        report = import_csv(kehu_app, s, 14, code, chunk_rows=3, late=(late, 13))
        assert report.written == 14
        assert earn_entries(s) == 14  # in the importing transaction, before it commits
        assert pending._KEY not in s.info and earning._AWARDED not in s.info  # nothing carried past the write
    assert groups == [6, 6, 2]  # chunks of 3 gathered past 5 rows; the rest when the import ends
    for who, count in (
        (code, 13),
        (late, 1),
    ):  # the one remembered from the first group, the one first seen last
        first = [e for e in shop.ledger(who) if e["rule"] == "first_purchase"]
        assert len(first) == 1 and first[0]["points"] == 100
        assert len([e for e in shop.ledger(who) if e["kind"] == "earn"]) == count


def test_what_a_write_learnt_is_forgotten_on_rollback(shop, kehu_app):
    with kehu_app.session() as s:
        s.execute(select(1))  # a transaction under way, as during any write
        awarded(s, "first_purchase").add(42)
        s.rollback()
        assert awarded(s, "first_purchase") == set()


def test_a_write_whose_end_is_never_announced_is_earned_at_commit(shop, kehu_app):
    """``write_interaction_values(more=True)`` without ``finish_interactions``: the commit earns it."""

    code = shop.customer()
    when = datetime(2024, 3, 1, 2, tzinfo=UTC)
    with kehu_app.session() as s:
        customer, _ = member(s, code)
        values = {
            "customer_id": customer.id,
            "kind": "purchase",
            "occurred_at": when,
            "amount": Decimal("88.00"),
            "external_ref": "M1",
        }
        write_interaction_values(kehu_app, s, [[values.get(c) for c in WRITE_COLUMNS]], "api", more=True)
        assert earn_entries(s) == 0  # gathered, not earned yet
    assert [(e["kind"], e["points"]) for e in shop.ledger(code) if e["kind"] == "earn"] == [("earn", 88)]


def test_a_rolled_back_write_leaves_nothing_pending(shop, kehu_app):
    """A refused import rolls back; the next transaction starts clean."""

    code = shop.customer()
    csv = (
        f"external_ref,customer_code,kind,occurred_at,amount\nQ1,{code},purchase,2024-03-01,10\n"
        "Q2,nobody,purchase,2024-03-01,10\n"
    ).encode()
    with pytest.raises(ImportRefused), kehu_app.session() as s:
        import_interactions(kehu_app, s, io.BytesIO(csv))
    with kehu_app.session() as s:
        import_csv(kehu_app, s, 3, code, chunk_rows=2, prefix="Z")
        assert earn_entries(s) == 3


def test_rows_gathered_in_a_rolled_back_transaction_are_dropped(shop, kehu_app):
    """Written with ``more=True`` and rolled back: a later write in the same session earns only
    its own rows."""

    code = shop.customer()
    when = datetime(2024, 3, 1, 2, tzinfo=UTC)
    with kehu_app.session() as s:
        customer, _ = member(s, code)

        def row(ref: str, amount: str) -> list:
            values = {
                "customer_id": customer.id,
                "kind": "purchase",
                "occurred_at": when,
                "amount": Decimal(amount),
                "external_ref": ref,
            }
            return [values.get(c) for c in WRITE_COLUMNS]

        write_interaction_values(kehu_app, s, [row("RB1", "-50.00")], "api", more=True)
        assert pending._KEY in s.info
        s.rollback()
        assert pending._KEY not in s.info
        write_interaction_values(kehu_app, s, [row("RB2", "70.00")], "api")
    entries = [(e["kind"], e["points"]) for e in shop.ledger(code)]
    assert ("earn", 70) in entries and not any(kind == "refund" for kind, _ in entries)


@pytest.mark.parametrize("few_buyers", [1, 10**9], ids=["through-the-customer-index", "reading-the-batch"])
def test_a_first_purchase_bonus_finds_the_few_new_buyers_either_way(shop, kehu_app, monkeypatch, few_buyers):
    """Late in an import, the buyers not yet holding the bonus are found through the customer
    index (FEW_BUYERS); the ledger is the same as when the whole batch is read."""

    monkeypatch.setattr(pending, "EARN_GROUP_ROWS", 10)
    monkeypatch.setattr(earn_sql, "FEW_BUYERS", few_buyers)
    code, late = shop.customer(), shop.customer()
    with kehu_app.session() as s:
        assert import_csv(kehu_app, s, 20, code, chunk_rows=10, late=(late, 15)).written == 20
    for who, purchase in ((code, "P0"), (late, "P15")):
        first = [e for e in shop.ledger(who) if e["rule"] == "first_purchase"]
        assert len(first) == 1 and first[0]["points"] == 100
        assert first[0]["interaction_id"] == interaction_id(kehu_app, purchase)


def interaction_id(app, ref: str) -> int:
    with app.session() as s:
        return s.scalar(select(Interaction.id).where(Interaction.external_ref == ref))
