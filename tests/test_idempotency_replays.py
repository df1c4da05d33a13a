"""Every verb that takes an idempotency key, replayed (issue 21): the replay changes nothing,
and another key (or none) is a new request.

The verbs: ``interaction log --external-ref`` and ``interaction import`` (the ``external_ref``
column) in the core, ``loyalty earn --key`` and ``loyalty redeem --key`` in loyalty.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def shop(kehu_app, kehu_install, kehu_cli):
    kehu_install("loyalty")
    assert kehu_cli("customer", "add", "C1", "王一").exit_code == 0
    assert kehu_cli("loyalty", "enroll", "C1").exit_code == 0
    return kehu_cli


def balance(cli) -> int:
    return cli("loyalty", "balance", "C1", "--json").json["balance"]


def interactions(cli) -> int:
    return len(cli("interaction", "list", "--customer", "C1", "--json").json)


def test_interaction_log_with_a_reference_replayed_changes_nothing(shop):
    cli = shop
    args = ("interaction", "log", "C1", "purchase", "--amount", "100", "--at", "2026-03-01")
    first = cli(*args, "--external-ref", "ORDER-1")
    assert first.exit_code == 0, first.output
    again = cli(*args, "--external-ref", "ORDER-1")
    assert again.exit_code != 0 and "external_ref: already recorded (got 'ORDER-1')" in again.output
    assert interactions(cli) == 1
    other = cli(*args, "--external-ref", "ORDER-2")  # another key: a new purchase
    assert other.exit_code == 0 and interactions(cli) == 2


def test_interaction_import_replayed_changes_nothing(shop, tmp_path):
    cli = shop
    path = tmp_path / "orders.csv"
    path.write_text(
        "external_ref,customer_code,kind,occurred_at,amount\n"
        "ORDER-1,C1,purchase,2026-03-01,100\n"
        "ORDER-2,C1,purchase,2026-03-02,50\n",
        encoding="utf-8",
    )
    first = cli("interaction", "import", str(path))
    assert first.exit_code == 0, first.output
    assert interactions(cli) == 2
    again = cli("interaction", "import", str(path))
    assert again.exit_code == 0, again.output
    assert interactions(cli) == 2


def test_loyalty_earn_with_a_key_replayed_changes_nothing(shop):
    cli = shop
    first = cli("loyalty", "earn", "C1", "50", "--reason", "新品发布会", "--key", "event-1")
    assert first.exit_code == 0, first.output
    assert balance(cli) == 50
    again = cli("loyalty", "earn", "C1", "50", "--reason", "新品发布会", "--key", "event-1")
    assert again.exit_code == 1 and "key 'event-1' already exists; nothing was changed" in again.output
    assert balance(cli) == 50
    assert cli("loyalty", "earn", "C1", "50", "--reason", "新品发布会", "--key", "event-2").exit_code == 0
    assert balance(cli) == 100
    assert cli("loyalty", "earn", "C1", "1", "--reason", "no key").exit_code == 0
    assert cli("loyalty", "earn", "C1", "1", "--reason", "no key").exit_code == 0  # no key: each counts
    assert balance(cli) == 102


def test_loyalty_redeem_with_a_key_replayed_is_not_applied_twice(shop):
    cli = shop
    assert cli("loyalty", "rewards", "add", "MUG", "杯子", "--cost", "40", "--stock", "5").exit_code == 0
    assert cli("loyalty", "earn", "C1", "100", "--reason", "gift").exit_code == 0
    first = cli("loyalty", "redeem", "C1", "MUG", "--key", "req-1")
    assert first.exit_code == 0, first.output
    assert balance(cli) == 60
    again = cli("loyalty", "redeem", "C1", "MUG", "--key", "req-1")
    assert balance(cli) == 60, again.output  # refused or acknowledged: never applied twice
    stock = {r["code"]: r["stock"] for r in cli("loyalty", "rewards", "list", "--json").json}
    assert stock["MUG"] == 4
    assert cli("loyalty", "redeem", "C1", "MUG", "--key", "req-2").exit_code == 0
    assert balance(cli) == 20
