"""ACME's own security: its role, its permissions and its record rule, through the CLI and the API.

li and wang are salespeople with one customer each (L1, W1); KEY (wang's) is judged a key
account; zhao is a manager; kam is only ACME's key-account manager (the role implies sales);
chen is a salesperson who is also the key-account manager (owns C1); fu is a service clerk.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from kehu_acme_rules import api
from kehu_acme_rules.models import customer_flags
from kehu_core import customers, users
from kehu_core.access import Forbidden
from kehu_core.audit import trail
from kehu_core.errors import NotFound
from kehu_core.interactions import write_interactions
from kehu_core.types import utcnow


@pytest.fixture
def world(kehu_app: Any, kehu_install: Any) -> Any:
    kehu_install("acme_rules")
    with kehu_app.session() as s:
        users.add_user(kehu_app, s, "boss", roles=["admin"])
        users.add_user(kehu_app, s, "li", roles=["sales"], team="east")
        users.add_user(kehu_app, s, "wang", roles=["sales"], team="west")
        users.add_user(kehu_app, s, "chen", roles=["sales", "key_account_manager"])
        users.add_user(kehu_app, s, "zhao", roles=["manager"])
        users.add_user(kehu_app, s, "kam", roles=["key_account_manager"])
        users.add_user(kehu_app, s, "fu", roles=["service"])
        for code, owner in (("L1", "li"), ("W1", "wang"), ("KEY", "wang"), ("C1", "chen")):
            customers.add_customer(kehu_app, s, {"code": code, "name": f"客户{code}", "owner": owner})
    with kehu_app.session(as_user="wang") as s:
        api.set_judgement(kehu_app, s, "KEY", {"influence": True})
    return kehu_app


def _refused(result: Any, words: str) -> None:
    assert result.exit_code == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "nothing was done" in lines[0], result


def _judged(app: Any) -> set[int]:
    with app.session() as s:
        return set(s.scalars(select(customer_flags.c.customer_id)))


def test_roles_lists_what_acme_declares(world: Any, kehu_cli: Any) -> None:
    table = kehu_cli("--as", "boss", "roles", "--json").json
    role = {r["name"]: r for r in table["roles"]}["key_account_manager"]
    assert role["plugin"] == "acme_rules"
    permissions = {p["name"]: p for p in table["permissions"]}
    assert permissions["acme_rules.judge"]["plugin"] == "acme_rules"
    assert set(permissions["acme_rules.judge"]["roles"]) == {
        "admin",
        "manager",
        "sales",
        "key_account_manager",
    }
    assert set(permissions["acme_rules.review"]["roles"]) == {"admin", "manager", "key_account_manager"}


# -- acme_rules.judge: kehu acme set ----------------------------------------------------------


def test_the_judge_is_the_acting_user(world: Any, kehu_cli: Any) -> None:
    result = kehu_cli("--as", "li", "acme", "set", "L1", "--market-strength", "--note", "新厂", "--json")
    assert result.exit_code == 0, result
    assert result.json["judged_by"] == "li" and result.json["key_account"] is True
    assert "--by" not in kehu_cli("acme", "set", "--help").output
    with world.session() as s:
        entries = trail(s, entity="customer", key="L1")
    assert [(e.actor, e.action) for e in entries][-1] == ("li", "acme_judgement")
    assert entries[-1].changes == {"market_strength": [False, True], "note": "changed"}  # not the text


def test_a_role_without_judge_is_refused(world: Any, kehu_cli: Any) -> None:
    before = _judged(world)
    refused = kehu_cli("--as", "fu", "acme", "set", "W1", "--influence")
    _refused(
        refused, "fu (service) may not record key-account judgements: it needs permission acme_rules.judge"
    )
    with (
        pytest.raises(Forbidden, match="needs permission acme_rules.judge"),
        world.session(as_user="fu") as s,
    ):
        api.set_judgement(world, s, "W1", {"influence": True})
    assert _judged(world) == before


def test_another_owners_customer_is_not_found(world: Any, kehu_cli: Any) -> None:
    before = _judged(world)
    for command in (("set", "W1", "--influence"), ("show", "W1")):
        result = kehu_cli("--as", "li", "acme", *command)
        assert result.exit_code == 1 and "no customer with code 'W1'" in result.stderr, result
    with pytest.raises(NotFound), world.session(as_user="li") as s:
        api.set_judgement(world, s, "W1", {"influence": True})
    assert _judged(world) == before
    assert kehu_cli("--as", "wang", "acme", "show", "W1").exit_code == 0


# -- acme_rules.review: kehu acme reviews -----------------------------------------------------


def test_reviews_need_review(world: Any, kehu_cli: Any) -> None:
    _refused(kehu_cli("--as", "li", "acme", "reviews"), "li (sales) may not read ACME's weekly reviews")
    with pytest.raises(Forbidden, match="acme_rules.review"), world.session(as_user="fu") as s:
        api.list_reviews(s)
    assert kehu_cli("--as", "zhao", "acme", "reviews", "--json").json == []
    assert kehu_cli("--as", "kam", "acme", "reviews", "--json").exit_code == 0


def test_a_review_counted_by_a_salesperson_counts_their_customers(world: Any) -> None:
    with world.session(as_user="li") as s:
        assert api.count_review(world, s, date(2026, 6, 15), utcnow()).key_accounts == 0
    with world.session(as_user="wang") as s:
        assert api.count_review(world, s, date(2026, 6, 15), utcnow()).key_accounts == 1


# -- the setting: kehu acme manager NAME ------------------------------------------------------


def test_the_manager_setting_needs_settings_manage_and_is_audited(world: Any, kehu_cli: Any) -> None:
    _refused(kehu_cli("--as", "zhao", "acme", "manager", "赵敏"), "needs permission settings.manage")
    assert kehu_cli("--as", "zhao", "acme", "manager", "--json").json == {"key_account_manager": None}
    assert kehu_cli("--as", "boss", "acme", "manager", "赵敏").exit_code == 0
    assert kehu_cli("--as", "boss", "acme", "manager", "--clear").exit_code == 0
    with world.session() as s:
        entries = trail(s, entity="setting", key="acme_rules.key_account_manager")
    assert [(e.actor, e.changes) for e in entries] == [
        ("boss", {"key_account_manager": [None, "赵敏"]}),
        ("boss", {"key_account_manager": ["赵敏", None]}),
    ]


# -- the record rule: key_account_manager sees the key accounts -------------------------------


def _listed(kehu_cli: Any, login: str) -> list[str]:
    result = kehu_cli("--as", login, "customer", "list", "--json")
    assert result.exit_code == 0, result
    return sorted(r["code"] for r in result.json)


def test_the_key_account_manager_sees_the_key_accounts(world: Any, kehu_cli: Any) -> None:
    assert _listed(kehu_cli, "kam") == ["KEY"]
    assert _listed(kehu_cli, "chen") == ["C1", "KEY"]  # own customers, and the key accounts
    assert _listed(kehu_cli, "li") == ["L1"]
    assert _listed(kehu_cli, "zhao") == ["C1", "KEY", "L1", "W1"]
    assert kehu_cli("--as", "kam", "customer", "show", "KEY").exit_code == 0
    hidden = kehu_cli("--as", "kam", "customer", "show", "W1")
    assert hidden.exit_code == 1 and "no customer with code 'W1'" in hidden.stderr, hidden
    # li judges L1 a key account: kam sees it at once, before any tier run.
    assert kehu_cli("--as", "li", "acme", "set", "L1", "--influence").exit_code == 0
    assert _listed(kehu_cli, "kam") == ["KEY", "L1"]
    # Judged no longer: gone again.
    assert kehu_cli("--as", "kam", "acme", "set", "L1", "--no-influence").exit_code == 0
    assert _listed(kehu_cli, "kam") == ["KEY"]


def test_tiering_key_accounts_count_too(world: Any, kehu_cli: Any) -> None:
    """After a tier run, THE tier VIP (the top customer) is a key account for kam."""
    with world.session() as s:
        l1 = customers.get_customer(s, "L1").id
        row = dict(customer_id=l1, kind="purchase", status="done", amount=Decimal("5000.00"))
        write_interactions(
            world, s, [{**row, "occurred_at": datetime(2026, 4, 1, tzinfo=UTC)}], source="test"
        )
    assert kehu_cli("--as", "zhao", "tier", "run", "--as-of", "2026-06-15").exit_code == 0
    assert _listed(kehu_cli, "kam") == ["KEY", "L1"]


def test_without_users_acme_behaves_as_before(kehu_app: Any, kehu_install: Any, kehu_cli: Any) -> None:
    kehu_install("acme_rules")
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "A1", "name": "甲"})
    assert kehu_cli("acme", "set", "A1", "--influence").exit_code == 0
    assert kehu_cli("acme", "manager", "赵敏").exit_code == 0
    assert kehu_cli("acme", "reviews", "--json").json == []
