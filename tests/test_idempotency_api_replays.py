"""Every verb that takes an idempotency key, replayed through the Python API and with what it
sets off (issue 21): the replay writes no row, fires no hook, earns no point and rewrites no
history; another key is a new request. tests/test_idempotency_replays.py replays the same verbs
through the CLI.

The verbs and their keys: ``log_interaction`` and ``write_interactions`` (``external_ref``),
the interaction import (its ``external_ref`` column), loyalty's ``earn_points`` and ``redeem``
(``key``), and forecast's opportunities (``--ref``, refused when it exists).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kehu_core import hookimpl, interactions
from kehu_core.errors import KehuError, ValidationError
from kehu_core.models import Interaction
from kehu_loyalty import api as loyalty

WHEN = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


class Recorder:
    """Counts the interactions each ``kehu_interactions_recorded`` call reports."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    @hookimpl
    def kehu_interactions_recorded(self, session, batch):
        self.batches.append(len(batch.rows))


@pytest.fixture
def shop(kehu_app, kehu_install, kehu_cli):
    """C1, a loyalty member earning since 2026-01-01 (1 point a yuan, and the programme's bonuses)."""
    kehu_install("loyalty")
    assert kehu_cli("customer", "add", "C1", "王一", "--owner", "李").exit_code == 0
    assert kehu_cli("loyalty", "enroll", "C1", "--since", "2026-01-01").exit_code == 0
    return kehu_app


def count(app) -> int:
    with app.session() as s:
        return s.scalar(select(func.count()).select_from(Interaction)) or 0


def balance(app, cli) -> int:
    return cli("loyalty", "balance", "C1", "--json").json["balance"]


def ledger(cli) -> list[tuple[str, int]]:
    rows = cli("loyalty", "statement", "C1", "--json").json["rows"]
    return sorted((r["kind"], r["points"]) for r in rows)


def test_log_interaction_replayed_writes_nothing_and_fires_no_hook(shop, kehu_cli, kehu_register_plugin):
    recorder = Recorder()
    kehu_register_plugin(recorder, "recorder")
    values = {
        "customer_code": "C1",
        "kind": "purchase",
        "occurred_at": WHEN,
        "amount": "100",
        "external_ref": "ORDER-1",
    }
    with shop.session() as s:
        interactions.log_interaction(shop, s, values)
    points = balance(shop, kehu_cli)
    assert (count(shop), recorder.batches) == (1, [1]) and points >= 100  # 100 earned, maybe a bonus
    with shop.session() as s, pytest.raises(ValidationError, match="already recorded"):
        interactions.log_interaction(shop, s, values | {"amount": "999"})
    assert (count(shop), recorder.batches, balance(shop, kehu_cli)) == (1, [1], points)
    with shop.session() as s:
        interactions.log_interaction(shop, s, values | {"external_ref": "ORDER-2"})
    assert (count(shop), recorder.batches, balance(shop, kehu_cli)) == (2, [1, 1], points + 100)


def test_write_interactions_replayed_writes_nothing_and_a_repeated_ref_once(shop, kehu_register_plugin):
    recorder = Recorder()
    kehu_register_plugin(recorder, "recorder")
    with shop.session() as s:
        customer_id = s.scalar(select(Interaction.customer_id).limit(1)) or 1
    row = {
        "customer_id": customer_id,
        "kind": "purchase",
        "occurred_at": WHEN,
        "amount": Decimal("10.00"),
        "external_ref": "B-1",
    }
    batch = [row, row | {"external_ref": "B-2"}, row | {"amount": Decimal("99.00")}]  # B-1 twice
    with shop.session() as s:
        written = interactions.write_interactions(shop, s, batch, "test")
    assert [w["external_ref"] for w in written] == ["B-1", "B-2"]
    with shop.session() as s:
        amounts = dict(s.execute(select(Interaction.external_ref, Interaction.amount)).all())
    assert amounts == {"B-1": Decimal("10.00"), "B-2": Decimal("10.00")}  # the first of B-1 won
    with shop.session() as s:
        assert interactions.write_interactions(shop, s, batch, "test") == []
    assert recorder.batches == [2]
    assert count(shop) == 2


def test_interaction_import_replayed_earns_no_second_point(shop, kehu_cli, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        "external_ref,customer_code,kind,occurred_at,amount\n"
        "ORDER-1,C1,purchase,2026-03-01,100\n"
        "ORDER-2,C1,purchase,2026-03-02,50\n",
        encoding="utf-8",
    )
    first = kehu_cli("interaction", "import", str(path), "--json")
    assert (first.json["written"], first.json["unchanged"]) == (2, 0)
    before = ledger(kehu_cli)
    assert [e for e in before if e[0] == "earn"] == [("earn", 50), ("earn", 100)]
    again = kehu_cli("interaction", "import", str(path), "--json")
    assert (again.json["written"], again.json["unchanged"]) == (0, 2)
    assert ledger(kehu_cli) == before
    assert count(shop) == 2


def test_earn_points_replayed_is_refused_and_the_ledger_keeps_one_entry(shop, kehu_cli):
    with shop.session() as s:
        loyalty.earn_points(shop, s, "C1", 50, "新品发布会", key="event-1")
    with shop.session() as s, pytest.raises(KehuError, match="key 'event-1' already exists"):
        loyalty.earn_points(shop, s, "C1", 50, "新品发布会", key="event-1")
    assert ledger(kehu_cli) == [("adjust", 50)]
    with shop.session() as s:
        loyalty.earn_points(shop, s, "C1", 50, "新品发布会", key="event-2")
    assert ledger(kehu_cli) == [("adjust", 50), ("adjust", 50)]


def test_redeem_replayed_spends_once(shop, kehu_cli):
    assert kehu_cli("loyalty", "rewards", "add", "MUG", "杯子", "--cost", "40", "--stock", "5").exit_code == 0
    with shop.session() as s:
        loyalty.earn_points(shop, s, "C1", 100, "gift")
    with shop.session() as s:
        loyalty.redeem(shop, s, "C1", "MUG", key="req-1")
    after_first = ledger(kehu_cli)
    try:
        with shop.session() as s:
            loyalty.redeem(shop, s, "C1", "MUG", key="req-1")
    except KehuError:
        pass  # refused or acknowledged: never applied twice
    assert ledger(kehu_cli) == after_first == [("adjust", 100), ("redeem", -40)]
    stock = {r["code"]: r["stock"] for r in kehu_cli("loyalty", "rewards", "list", "--json").json}
    assert stock["MUG"] == 4


def test_an_opportunity_reference_replayed_is_refused_and_changes_nothing(kehu_app, kehu_install, kehu_cli):
    kehu_install("forecast")
    assert kehu_cli("customer", "add", "C1", "王一", "--owner", "李").exit_code == 0
    args = ("forecast", "opportunity", "add", "C1", "5000", "--close", "2030-01-31", "--stage", "线索")
    assert kehu_cli(*args, "--ref", "R1").exit_code == 0
    again = kehu_cli(*args[:4], "6000", *args[5:], "--ref", "R1")
    assert again.exit_code != 0
    listed = kehu_cli("forecast", "opportunity", "list", "--json").json
    assert [(o["ref"], o["amount"]) for o in listed] == [("R1", "5000.00")]
