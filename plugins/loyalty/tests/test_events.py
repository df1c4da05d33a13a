"""Loyalty's domain events: points earned, redeemed, expired, levels changed; fired inside the
transaction (a failing listener rolls the change back), built only when a plugin listens."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from kehu_core import InteractionBatch, RecordedRows, hookimpl
from kehu_core.errors import KehuError
from kehu_core.importing import import_interactions
from kehu_core.interactions import write_interactions
from kehu_core.models import Interaction
from kehu_loyalty import earning, events, hooks, records
from kehu_loyalty.api import (
    LevelChange,
    PointsEntry,
    Redemption,
    add_reward,
    earn_points,
    expire,
    redeem,
    review_levels,
)
from kehu_loyalty.earning import earn_batch
from kehu_loyalty.ledger import member
from kehu_loyalty.rewards import get_reward


class Listener:
    """A company plugin that keeps what it is told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    @hookimpl
    def kehu_points_earned(self, session, entries):
        assert session.in_transaction()
        self.calls.append(("earned", list(entries)))

    @hookimpl
    def kehu_points_redeemed(self, redemption):
        self.calls.append(("redeemed", redemption))

    @hookimpl
    def kehu_points_expired(self, entries):
        self.calls.append(("expired", list(entries)))

    @hookimpl
    def kehu_level_changed(self, changes):
        self.calls.append(("levels", list(changes)))


class Refuses:
    """A listener that fails: the change it hears of must be undone."""

    @hookimpl
    def kehu_points_redeemed(self, redemption):
        raise RuntimeError("the points system of record is down")

    @hookimpl
    def kehu_points_earned(self, entries):
        raise KehuError("earning is frozen during the audit")


def when(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_points_earned_once_per_earning_group_with_the_whole_batch(shop, kehu_app, kehu_register_plugin):
    listener = Listener()
    kehu_register_plugin(listener, "acme")
    first, second = shop.customer(), shop.customer()
    csv = (
        "external_ref,customer_code,kind,occurred_at,amount\n"
        f"E1,{first},purchase,2024-03-10T10:00:00+08:00,100.50\n"
        f"E2,{second},purchase,2024-03-10T11:00:00+08:00,20\n"
        f"E3,{first},purchase,2024-03-11T11:00:00+08:00,0.99\n"  # 0 points: no entry
    ).encode()
    with kehu_app.session() as s:
        import_interactions(kehu_app, s, io.BytesIO(csv))
    [(name, entries)] = listener.calls
    assert name == "earned"
    assert all(isinstance(e, PointsEntry) for e in entries)
    shown = [(e.customer, e.kind, e.points, e.rule) for e in entries]
    assert shown == [
        (first, "earn", 100, "base"),
        (first, "bonus", 100, "first_purchase"),
        (second, "earn", 20, "base"),
        (second, "bonus", 100, "first_purchase"),
    ]
    ledger = {e["id"]: e for e in shop.ledger(first) + shop.ledger(second)}
    for entry in entries:  # each is the ledger's entry, with its interaction
        assert ledger[entry.entry_id]["idempotency_key"] == entry.key
        assert ledger[entry.entry_id]["interaction_id"] == entry.interaction_id is not None
    assert entries[0].occurred_at == when("2024-03-10T10:00:00+08:00")
    assert entries[0].reason == "¥100.50 × 1 pt/¥ (base)"


@pytest.mark.parametrize("path", ["sql", "python"])
def test_both_earning_paths_hand_over_the_same_entries(
    shop, kehu_app, kehu_register_plugin, monkeypatch, path
):
    listener = Listener()
    kehu_register_plugin(listener, "acme")
    code = shop.customer()
    customer_id = shop_id(shop, code)
    values = [
        {
            "customer_id": customer_id,
            "kind": "purchase",
            "status": "done",
            "occurred_at": when(at),
            "amount": Decimal(a),
        }
        for at, a in (("2024-05-01T12:00:00+08:00", "50"), ("2024-05-02T12:00:00+08:00", "30"))
    ]
    with monkeypatch.context() as patch:  # recorded without earning: earned below, on the path
        patch.setattr(hooks, "earn_batch", lambda *a, **k: earning.EMPTY)
        with kehu_app.session() as s:
            rows = write_interactions(kehu_app, s, values, "test")
    keys = list(rows[0])
    batch = InteractionBatch(
        rows=RecordedRows(keys, [r["id"] for r in rows], [[r[k] for k in keys[1:]] for r in rows]),
        source="test",
    )
    with kehu_app.session() as s:
        earn_batch(kehu_app, s, batch, path=path)
    [(_, entries)] = listener.calls
    assert [(e.kind, e.points, e.rule, e.interaction_id) for e in entries] == [
        ("earn", 50, "base", rows[0]["id"]),
        ("earn", 30, "base", rows[1]["id"]),
        ("bonus", 100, "first_purchase", rows[0]["id"]),
    ]


def test_nothing_is_built_when_no_plugin_listens(shop, kehu_app, monkeypatch):
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("records built for nobody")

    monkeypatch.setattr(events, "entries_by_id", refuse)
    monkeypatch.setattr(records, "entries_by_id", refuse)
    code = shop.customer()
    shop.log(code, amount="100")
    shop.run_app(earn_points, code, 10, "goodwill")
    assert shop.balance(code) == 210


def test_points_redeemed_and_expired(shop, kehu_app, kehu_register_plugin):
    listener = Listener()
    kehu_register_plugin(listener, "acme")
    code = shop.customer()
    shop.run(add_reward, "MUG", "杯子", 300, 5)
    shop.run_app(earn_points, code, 200, "old", now=when("2022-01-01T12:00:00+08:00"))  # expires 2023-01-01
    shop.run_app(earn_points, code, 500, "new", now=when("2024-03-01T12:00:00+08:00"))
    listener.calls.clear()
    redemption = shop.run_app(redeem, code, "MUG", now=when("2024-03-02T12:00:00+08:00"))
    (expired_name, expired), (redeemed_name, heard) = listener.calls
    assert (expired_name, redeemed_name) == ("expired", "redeemed")
    assert [(e.customer, e.kind, e.points, e.occurred_at) for e in expired] == [
        (code, "expire", -200, when("2023-01-01T12:00:00+08:00"))
    ]
    assert isinstance(heard, Redemption) and heard == redemption
    assert (heard.customer, heard.reward, heard.quantity, heard.points, heard.balance) == (
        code,
        "MUG",
        1,
        300,
        200,
    )
    listener.calls.clear()
    assert shop.run_app(expire, when("2030-01-01T00:00:00+08:00"), dry_run=True).points == 200
    assert listener.calls == []  # a dry run writes nothing and tells nobody
    shop.run_app(expire, when("2030-01-01T00:00:00+08:00"))
    [(name, entries)] = listener.calls
    assert name == "expired" and [(e.points, e.rule) for e in entries] == [(-200, None)]
    shop.run_app(expire, when("2030-01-01T00:00:00+08:00"))
    assert len(listener.calls) == 1  # nothing more to write off: no event


def test_level_changed_up_and_down(shop, kehu_app, kehu_register_plugin):
    """银卡 needs 5,000 points in 12 months; a level is kept 12 months after it was last reached."""
    listener = Listener()
    kehu_register_plugin(listener, "acme")
    silver, plain = shop.customer(), shop.customer()
    shop.run_app(earn_points, silver, 5000, "event", now=when("2024-01-10T12:00:00+08:00"))
    shop.run_app(earn_points, plain, 4999, "event", now=when("2024-01-10T12:00:00+08:00"))
    listener.calls.clear()
    shop.run_app(review_levels, when("2024-02-01T00:00:00+08:00"))
    [(name, changes)] = listener.calls
    assert name == "levels"
    assert changes == [
        LevelChange(shop_id(shop, silver), silver, None, "银卡", True, when("2024-02-01T00:00:00+08:00"))
    ]
    listener.calls.clear()
    shop.run_app(review_levels, when("2024-06-01T00:00:00+08:00"))  # confirmed: no change
    assert listener.calls == []
    shop.run_app(review_levels, when("2025-06-02T00:00:00+08:00"))  # out of the window and the grace
    [(_, changes)] = listener.calls
    assert [(c.customer, c.old_level, c.new_level, c.upgraded) for c in changes] == [
        (silver, "银卡", None, False)
    ]


def test_a_failing_listener_rolls_the_redemption_back(shop, kehu_cli, kehu_register_plugin):
    code = shop.customer()
    shop.run(add_reward, "MUG", "杯子", 300, 5)
    shop.run_app(earn_points, code, 500, "goodwill")
    kehu_register_plugin(Refuses(), "acme")
    result = kehu_cli("loyalty", "redeem", code, "MUG")
    assert result.exit_code == 1
    assert "plugin 'acme' failed in hook kehu_points_redeemed" in result.output
    assert "the points system of record is down" in result.output
    assert shop.balance(code) == 500  # nothing spent
    assert shop.run(get_reward, "MUG").stock == 5  # nor taken from the stock
    assert [e["kind"] for e in shop.ledger(code)] == ["adjust"]


def test_a_listener_refusing_earned_points_rolls_the_purchase_back(shop, kehu_cli, kehu_register_plugin):
    code = shop.customer()
    kehu_register_plugin(Refuses(), "acme")
    result = kehu_cli("interaction", "log", code, "purchase", "--amount", "100")
    assert result.exit_code == 1 and "earning is frozen during the audit" in result.output
    assert shop.ledger(code) == []
    assert shop.run(lambda s: s.scalar(select(func.count()).select_from(Interaction))) == 0


def shop_id(shop: Any, code: str) -> int:
    with shop.app.session() as s:
        return member(s, code)[0].id
