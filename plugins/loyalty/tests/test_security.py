"""Who may do what in loyalty, and what each user sees (issue 15).

Two salespeople (li, east; wang, west) own one member each; a service clerk, a manager, an
administrator and a company role ``clerk`` holding only ``customer.read`` act on them. Each
permission is allowed and refused through the CLI and the Python API, a refusal changes
nothing, every read command shows a salesperson only their own customers, and a customer
outside the rules is "not found".
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from kehu_core import roles, users
from kehu_core.access import Forbidden
from kehu_core.errors import NotFound, ValidationError
from kehu_core.models import AuditEntry
from kehu_core.validation import timestamp
from kehu_loyalty import api
from kehu_loyalty.models import ACCOUNTS, LEDGER, LEVELS, PROGRAMMES, REFERRALS, REWARDS, SETTINGS

LI, WANG = "C-LI", "C-WANG"
LI_NAME, WANG_NAME = "李氏商行", "王氏贸易"
#: Read commands that name no customer; none may show another owner's customer.
PLAIN_READS = (
    ("loyalty", "rewards", "list", "--all", "--json"),
    ("loyalty", "levels", "list", "--json"),
    ("loyalty", "settings", "list", "--json"),
    ("loyalty", "rules", "--json"),
    ("loyalty", "rebate", "programme", "list", "--json"),
    ("loyalty", "ladder", "--since", "2024-06-01", "--json"),
    ("loyalty", "satisfaction", "--json"),
    ("loyalty", "rebate", "accrual", "Q", "--as-of", "2024-03-20", "--json"),
)
#: Read commands about one customer, CODE replaced by the customer's code.
CUSTOMER_READS = (
    ("loyalty", "balance", "CODE", "--json"),
    ("loyalty", "statement", "CODE", "--json"),
    ("loyalty", "rebate", "statement", "CODE", "--as-of", "2024-03-20", "--json"),
)


@pytest.fixture
def team(shop: Any) -> Any:
    """The users, two members with points and feedback, a reward, and a settled 季返 programme."""
    app = shop.app
    with app.session() as s:
        users.add_user(app, s, "boss", roles=["admin"])
        users.add_user(app, s, "mgr", roles=["manager"])
        users.add_user(app, s, "li", roles=["sales"], team="east")
        users.add_user(app, s, "wang", roles=["sales"], team="west")
        users.add_user(app, s, "svc", roles=["service"], team="east")
        roles.add_role(app, s, "clerk", "reads customers, nothing else")
        roles.grant(app, s, "clerk", "customer.read")
        users.add_user(app, s, "clara", roles=["clerk"])
    for code, name, owner, score in ((LI, LI_NAME, "li", 5), (WANG, WANG_NAME, "wang", 4)):
        shop.customer(code, name=name, owner=owner, tags="经销商")
        shop.log(code, amount="5000", at="2024-02-10T10:00:00+08:00")  # the rebate's volume
        shop.log(code, amount="3000", at="-10")  # points not expired yet
        shop.log(code, "feedback", satisfaction=score, at="2024-01-05T10:00:00+08:00")
    shop.customer("C-LI-NEW", owner="li", member=False)
    shop.customer("C-WANG-NEW", owner="wang", member=False)
    with app.session() as s:
        api.add_reward(s, "MUG", "马克杯", 800, stock=10)
        api.add_programme(s, "Q", "季返", "quarter", ["1000:2%"], "经销商", date(2024, 1, 1))
        assert api.settle_rebates(s, "Q", date(2024, 4, 2))[0].written == 2
        api.expire(app, s)  # what 2024 earned is written off: balances are what can be spent
    return shop


def state(shop: Any) -> dict[str, Any]:
    """Everything a loyalty write could change, to compare before and after a refusal."""
    with shop.app.session() as s:
        return {
            "ledger": s.execute(select(LEDGER.c.id, LEDGER.c.points).order_by(LEDGER.c.id)).all(),
            "accounts": s.execute(select(ACCOUNTS).order_by(ACCOUNTS.c.customer_id)).all(),
            "rewards": s.execute(select(REWARDS).order_by(REWARDS.c.id)).all(),
            "levels": s.execute(select(LEVELS).order_by(LEVELS.c.name)).all(),
            "programmes": s.execute(select(PROGRAMMES).order_by(PROGRAMMES.c.id)).all(),
            "settings": s.execute(select(SETTINGS).order_by(SETTINGS.c.key)).all(),
            "referrals": s.execute(select(REFERRALS)).all(),
            "audit": s.scalar(select(func.count()).select_from(AuditEntry)),
        }


def audit_of(shop: Any, entity: str, key: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(actor, action, changes) of the audit entries about ``entity`` ``key``."""
    with shop.app.session() as s:
        rows = s.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.changes)
            .where(AuditEntry.entity == entity, AuditEntry.key == key)
            .order_by(AuditEntry.id)
        ).all()
    return [(actor, action, dict(changes or {})) for actor, action, changes in rows]


def refused(result: Any, who: str, permission: str) -> None:
    """The CLI refused with the one-line Forbidden message and exit code 1."""
    assert result.exit_code == 1, result
    message = result.stderr.strip() or result.output.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith(f"Error: {who} (") and " may not " in message, message
    assert f"permission {permission}" in message and "nothing was done" in message, message


# -- loyalty.redeem -----------------------------------------------------------------------------


def test_redeem_allowed_for_sales_on_their_customer_and_audited(team, kehu_cli):
    before = team.balance(LI)
    done = kehu_cli("--as", "li", "loyalty", "redeem", LI, "MUG", "--json")
    assert done.exit_code == 0, done
    assert team.balance(LI) == before - 800
    [(actor, action, changes)] = audit_of(team, "points", LI)
    assert (actor, action) == ("li", "redeemed")
    assert changes["points"] == -800 and changes["reward"] == "MUG" and changes["balance"] == before - 800
    with team.app.session(as_user="svc") as s:
        assert api.redeem(team.app, s, LI, "MUG").points == 800


def test_redeem_refused_without_the_permission_changes_nothing(team, kehu_cli):
    before = state(team)
    refused(kehu_cli("--as", "clara", "loyalty", "redeem", LI, "MUG"), "clara", "loyalty.redeem")
    with pytest.raises(Forbidden, match="permission loyalty.redeem"), team.app.session(as_user="clara") as s:
        api.redeem(team.app, s, LI, "MUG")
    assert state(team) == before


def test_redeem_for_another_owners_customer_is_not_found(team, kehu_cli):
    before = state(team)
    result = kehu_cli("--as", "li", "loyalty", "redeem", WANG, "MUG")
    assert result.exit_code == 1 and f"no customer with code {WANG!r}" in result.output
    with pytest.raises(NotFound, match="no customer with code"), team.app.session(as_user="li") as s:
        api.redeem(team.app, s, WANG, "MUG")
    assert state(team) == before


# -- loyalty.adjust -----------------------------------------------------------------------------


def test_manual_earn_allowed_for_a_manager_and_audited(team, kehu_cli):
    before = team.balance(WANG)
    done = kehu_cli("--as", "mgr", "loyalty", "earn", WANG, "300", "--reason", "新品发布会", "--json")
    assert done.exit_code == 0, done
    assert team.balance(WANG) == before + 300
    [(actor, action, changes)] = audit_of(team, "points", WANG)
    assert (actor, action) == ("mgr", "earned")
    assert changes == {"points": 300, "rule": "manual", "balance": before + 300}
    assert "新品发布会" not in json.dumps(changes, ensure_ascii=False)  # free text stays in the ledger
    with team.app.session(as_user="mgr") as s:
        assert api.earn_points(team.app, s, LI, 5, "goodwill")["points"] == 5
    assert audit_of(team, "points", LI)[0][:2] == ("mgr", "earned")


def test_manual_earn_refused_for_sales_and_service(team, kehu_cli):
    before = state(team)
    for who, role in (("li", "sales"), ("svc", "service")):
        result = kehu_cli("--as", who, "loyalty", "earn", LI, "300", "--reason", "x")
        refused(result, who, "loyalty.adjust")
        assert f"{who} ({role}) may not give points by hand" in result.stderr
        with pytest.raises(Forbidden, match="permission loyalty.adjust"), team.app.session(as_user=who) as s:
            api.earn_points(team.app, s, LI, 300, "x")
    assert state(team) == before


def test_automatic_earning_is_not_audited(team):
    team.log(LI, amount="1000", at="2024-05-01T10:00:00+08:00")
    assert audit_of(team, "points", LI) == []


# -- loyalty.enroll -----------------------------------------------------------------------------


def test_enroll_and_refer_allowed_for_sales_and_service(team, kehu_cli):
    done = kehu_cli("--as", "li", "loyalty", "enroll", "C-LI-NEW", "--json")
    assert done.exit_code == 0 and done.json["enrolled"] == ["C-LI-NEW"], done
    assert kehu_cli("--as", "li", "loyalty", "refer", LI, "C-LI-NEW").exit_code == 0
    with team.app.session(as_user="svc") as s:
        assert api.enroll(team.app, s, ["C-WANG-NEW"]).enrolled == ("C-WANG-NEW",)
        assert api.refer(s, WANG, "C-WANG-NEW").referrer == WANG


def test_enroll_and_refer_refused_without_the_permission(team, kehu_cli):
    before = state(team)
    refused(kehu_cli("--as", "clara", "loyalty", "enroll", "C-LI-NEW"), "clara", "loyalty.enroll")
    refused(kehu_cli("--as", "clara", "loyalty", "refer", LI, "C-LI-NEW"), "clara", "loyalty.enroll")
    with pytest.raises(Forbidden, match="permission loyalty.enroll"), team.app.session(as_user="clara") as s:
        api.enroll(team.app, s, ["C-LI-NEW"])
    with pytest.raises(Forbidden, match="permission loyalty.enroll"), team.app.session(as_user="clara") as s:
        api.refer(s, LI, "C-LI-NEW")
    assert state(team) == before


def test_enroll_and_refer_another_owners_customer_is_not_found(team, kehu_cli):
    before = state(team)
    result = kehu_cli("--as", "li", "loyalty", "enroll", "C-LI-NEW", "C-WANG-NEW")
    assert result.exit_code == 1 and "C-WANG-NEW" in result.output and "no customer" in result.output
    result = kehu_cli("--as", "li", "loyalty", "refer", LI, "C-WANG-NEW")
    assert result.exit_code == 1 and "no customer" in result.output
    with pytest.raises(ValidationError, match="no customer"), team.app.session(as_user="li") as s:
        api.enroll(team.app, s, ["C-WANG-NEW"])
    assert state(team) == before


# -- loyalty.manage -----------------------------------------------------------------------------

MANAGE_COMMANDS = (
    ("loyalty", "rewards", "add", "PEN", "钢笔", "--cost", "100"),
    ("loyalty", "rewards", "restock", "MUG", "--stock", "50"),
    ("loyalty", "levels", "set", "银卡", "--rank", "1", "--min-points", "10"),
    ("loyalty", "levels", "review"),
    ("loyalty", "rebate", "programme", "add", "Y", "--period", "year", "--tier", "1000:1%"),
    ("loyalty", "rebate", "settle", "Q", "--as-of", "2024-07-02"),
    ("loyalty", "expire", "--as-of", "2030-01-01"),
    ("loyalty", "expire", "--as-of", "2030-01-01", "--dry-run"),
)


def test_programme_commands_allowed_for_a_manager(team, kehu_cli):
    for args in MANAGE_COMMANDS:
        result = kehu_cli("--as", "mgr", *args)
        assert result.exit_code == 0, (args, result)
    with team.app.session(as_user="mgr") as s:
        assert api.restock(s, "PEN", 3).stock == 3
        assert api.expire(team.app, s, dry_run=True).entries == 0


@pytest.mark.parametrize("who", ["li", "svc"])
def test_programme_commands_refused_for_sales_and_service(team, kehu_cli, who):
    before = state(team)
    for args in MANAGE_COMMANDS:
        refused(kehu_cli("--as", who, *args), who, "loyalty.manage")
    app = team.app
    calls = (
        lambda s: api.add_reward(s, "PEN", "钢笔", 100),
        lambda s: api.restock(s, "MUG", 50),
        lambda s: api.set_level(s, "银卡", 1, 10, None),
        lambda s: api.review_levels(app, s),
        lambda s: api.add_programme(s, "Y", "", "year", ["1000:1%"]),
        lambda s: api.settle_rebates(s, "Q", date(2024, 7, 2)),
        lambda s: api.expire(app, s, dry_run=True),
    )
    for call in calls:
        with pytest.raises(Forbidden, match="permission loyalty.manage"), app.session(as_user=who) as s:
            call(s)
    assert state(team) == before


def test_programme_wide_runs_refused_to_a_granted_user_who_sees_only_some_customers(team, kehu_cli):
    with team.app.session() as s:
        roles.grant(team.app, s, "sales", "loyalty.manage")
    before = state(team)
    result = kehu_cli("--as", "li", "loyalty", "levels", "review")
    assert result.exit_code == 1 and "record rules hide some customers" in result.stderr, result
    assert kehu_cli("--as", "li", "loyalty", "rebate", "settle", "Q").exit_code == 1
    assert kehu_cli("--as", "li", "loyalty", "expire", "--dry-run").exit_code == 1
    assert state(team) == before
    assert kehu_cli("--as", "li", "loyalty", "rewards", "restock", "MUG", "--stock", "9").exit_code == 0


# -- settings.manage ----------------------------------------------------------------------------


def test_settings_set_allowed_for_an_administrator_and_audited(team, kehu_cli):
    done = kehu_cli("--as", "boss", "loyalty", "settings", "set", "expiry_months", "24")
    assert done.exit_code == 0, done
    assert audit_of(team, "setting", "loyalty.expiry_months") == [
        ("boss", "set", {"expiry_months": ["12", "24"]})
    ]
    with team.app.session(as_user="boss") as s:
        api.set_setting(s, "tier_multiplier.VIP", "2")
        api.set_setting(s, "expiry_months", "24")  # the same value: no change, no entry
    assert audit_of(team, "setting", "loyalty.tier_multiplier.VIP") == [
        ("boss", "set", {"tier_multiplier.VIP": ["1.5", "2"]})
    ]
    assert len(audit_of(team, "setting", "loyalty.expiry_months")) == 1


@pytest.mark.parametrize("who", ["mgr", "li"])
def test_settings_set_refused_without_settings_manage(team, kehu_cli, who):
    before = state(team)
    refused(
        kehu_cli("--as", who, "loyalty", "settings", "set", "expiry_months", "24"), who, "settings.manage"
    )
    with pytest.raises(Forbidden, match="permission settings.manage"), team.app.session(as_user=who) as s:
        api.set_setting(s, "expiry_months", "24")
    assert state(team) == before


# -- reads --------------------------------------------------------------------------------------


def test_every_read_command_shows_a_salesperson_only_their_customers(team, kehu_cli):
    for args in PLAIN_READS:
        for who, other, other_name in (("li", WANG, WANG_NAME), ("wang", LI, LI_NAME)):
            result = kehu_cli("--as", who, *args)
            assert result.exit_code == 0, (who, args, result)
            assert other not in result.output and other_name not in result.output, (who, args)
    for args in CUSTOMER_READS:
        mine = kehu_cli("--as", "li", *[LI if a == "CODE" else a for a in args])
        assert mine.exit_code == 0, (args, mine)
        assert WANG not in mine.output and WANG_NAME not in mine.output, args
        theirs = kehu_cli("--as", "li", *[WANG if a == "CODE" else a for a in args])
        assert theirs.exit_code == 1, (args, theirs)
        assert f"no customer with code {WANG!r}" in theirs.output, (args, theirs)
        assert WANG_NAME not in theirs.output


def test_accrual_ladder_and_satisfaction_count_only_visible_customers(team, kehu_cli):
    def accrual(who):
        rows = kehu_cli("--as", who, "loyalty", "rebate", "accrual", "Q", "--as-of", "2024-03-20", "--json")
        return sorted(r["customer"] for r in rows.json)

    assert accrual("li") == [LI] and accrual("wang") == [WANG] and accrual("mgr") == [LI, WANG]

    def ladder_total(who):
        report = kehu_cli("--as", who, "loyalty", "ladder", "--since", "2024-06-01", "--json").json
        return sum(stage["end"] for stage in report["stages"])

    assert (ladder_total("li"), ladder_total("wang"), ladder_total("svc"), ladder_total("mgr")) == (
        2,
        2,
        4,
        4,
    )

    def feedbacks(who):
        rows = kehu_cli("--as", who, "loyalty", "satisfaction", "--json").json["rows"]
        return {r["score"]: r["feedbacks"] for r in rows if r["feedbacks"]}

    assert feedbacks("li") == {5: 1} and feedbacks("wang") == {4: 1} and feedbacks("mgr") == {4: 1, 5: 1}


def test_read_api_applies_the_record_rules(team):
    app = team.app
    with app.session(as_user="li") as s:
        assert api.balance(s, LI).customer == LI
        assert api.statement(s, LI)
        assert [a.customer for a in api.accruals(s, api.get_programme(s, "Q"), date(2024, 3, 20))] == [LI]
        assert api.rebate_statement(s, LI, date(2024, 3, 20))["accruing"]
        assert sum(stage.end for stage in api.ladder(s, timestamp("2024-06-01"), None).stages) == 2
        assert sum(r.feedbacks for r in api.satisfaction_repurchase(s)) == 1
        for read in (api.balance, api.statement, api.rebate_statement):
            with pytest.raises(NotFound, match=f"no customer with code {WANG!r}"):
                read(s, WANG)
    with app.session(as_user="mgr") as s:
        assert api.balance(s, WANG).customer == WANG


def test_profile_card_of_a_visible_customer_only(team, kehu_cli):
    mine = kehu_cli("--as", "li", "customer", "show", LI, "--json")
    assert mine.exit_code == 0 and "loyalty" in mine.output, mine
    theirs = kehu_cli("--as", "li", "customer", "show", WANG)
    assert theirs.exit_code == 1 and "no customer with code" in theirs.output


def test_without_users_anyone_is_the_administrator(shop, kehu_cli):
    code = shop.customer()
    shop.log(code, amount="2000", at="2024-02-10T10:00:00+08:00")
    assert kehu_cli("loyalty", "earn", code, "50", "--reason", "x").exit_code == 0
    assert kehu_cli("loyalty", "settings", "set", "feedback_bonus", "30").exit_code == 0
    assert kehu_cli("loyalty", "expire", "--dry-run").exit_code == 0
    [(actor, action, changes)] = audit_of(shop, "points", code)
    assert action == "earned" and changes["points"] == 50 and actor
