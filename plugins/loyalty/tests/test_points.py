"""Redemption, expiry (FIFO lots), refunds and the ledger's invariants, through services and the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select

from kehu_core.errors import KehuError
from kehu_core.validation import timestamp
from kehu_loyalty.expiry import expire_points
from kehu_loyalty.models import ALLOCATIONS, LEDGER, REWARDS
from kehu_loyalty.rewards import InsufficientPoints, OutOfStock, add_reward, adjust, redeem


def counts(shop):
    return shop.run(
        lambda s: (
            s.scalar(select(func.count()).select_from(LEDGER)),
            s.scalar(select(func.count()).select_from(ALLOCATIONS)),
            s.scalar(select(REWARDS.c.stock).where(REWARDS.c.code == "MUG")),
        )
    )


@pytest.fixture
def member_with_lots(shop):
    code = shop.customer(since="2023-01-01")
    shop.run(lambda s: s.execute(LEDGER.delete()))

    for when, points in (("2023-02-01", 300), ("2023-06-01", 500), ("2024-01-01", 200)):
        shop.run_app(adjust, code, points, "seed", now=timestamp(when))
    shop.run(add_reward, "MUG", "定制马克杯", 400, 3)
    return code


def test_redeem_spends_oldest_lots_first(shop, member_with_lots):
    code = member_with_lots
    result = shop.run_app(redeem, code, "MUG", now=timestamp("2024-01-10"))
    lots = [e["id"] for e in shop.ledger(code) if e["points"] > 0]
    assert result.lots == ((lots[0], 300), (lots[1], 100))
    assert result.balance == 600 == shop.balance(code)


def test_redeem_more_than_balance_fails_and_changes_nothing(shop, member_with_lots, kehu_cli):
    code = member_with_lots
    before = counts(shop)
    with pytest.raises(InsufficientPoints, match="has 1000 point"):
        shop.run_app(redeem, code, "MUG", quantity=3, now=timestamp("2024-01-10"))
    # Through the CLI at a date where lots expired: the expiry it wrote is rolled back too.
    result = kehu_cli("loyalty", "redeem", code, "MUG", "--quantity", "2")
    assert (
        result.exit_code == 1 and "nothing was changed" in result.output and "Traceback" not in result.output
    )
    assert counts(shop) == before


def test_redeem_more_than_stock_fails_and_changes_nothing(shop, member_with_lots, kehu_cli):
    code = member_with_lots
    shop.run_app(redeem, code, "MUG", now=timestamp("2024-01-10"))
    before = counts(shop)
    with pytest.raises(OutOfStock, match="has 2 left, 3 asked"):
        shop.run_app(redeem, code, "MUG", quantity=3, now=timestamp("2024-01-10"))
    for args in (("NOPE", "MUG"), (code, "NOPE"), (code, "MUG", "--quantity", "0")):
        result = kehu_cli("loyalty", "redeem", *args)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert counts(shop) == before


def test_expiry_takes_what_is_left_of_the_oldest_lots_once(shop, member_with_lots):
    code = member_with_lots
    shop.run_app(redeem, code, "MUG", now=timestamp("2023-12-01"))  # 300 from lot 1, 100 from lot 2
    result = shop.run_app(expire_points, timestamp("2024-07-01"))
    assert (result.entries, result.points) == (1, 400)  # lot 1 is empty; lot 2 had 400 left; lot 3 not due
    assert shop.run_app(expire_points, timestamp("2024-07-01")).entries == 0
    expired = [e for e in shop.ledger(code) if e["kind"] == "expire"]
    assert [(e["points"], e["occurred_at"]) for e in expired] == [(-400, timestamp("2024-06-01"))]
    assert shop.balance(code) == 200


def test_redemption_cannot_spend_expired_points(shop, member_with_lots):
    code = member_with_lots
    with pytest.raises(InsufficientPoints, match="has 200 point"):
        shop.run_app(redeem, code, "MUG", now=timestamp("2024-07-01"))


def test_refund_takes_back_newest_points_and_records_shortfall(shop):
    code = shop.customer()
    shop.run(add_reward, "MUG", "杯子", 150)
    shop.log(code, amount="100", at="-5")  # +100 and +100 first purchase bonus
    shop.log(code, amount="-40", at="-4")  # -40 from the newest lot
    assert shop.balance(code) == 160
    shop.run_app(redeem, code, "MUG")
    shop.log(code, amount="-60", at="-3")  # only 10 left: 50 already spent
    refund = [e for e in shop.ledger(code) if e["kind"] == "refund"][-1]
    assert (refund["kind"], refund["points"], refund["shortfall"]) == ("refund", -10, 50)
    assert "already spent" in refund["reason"]
    assert shop.balance(code) == 0


def test_manual_earn_needs_reason_and_positive_points(shop, kehu_cli):
    code = shop.customer()
    assert kehu_cli("loyalty", "earn", code, "0", "--reason", "x").exit_code == 1
    blank = kehu_cli("loyalty", "earn", code, "5", "--reason", "  ")
    assert blank.exit_code == 1 and "reason" in blank.output
    ok = kehu_cli("loyalty", "earn", code, "50", "--reason", "新品发布会", "--key", "ev1", "--json")
    assert ok.exit_code == 0 and ok.json["balance"] == 50
    again = kehu_cli("loyalty", "earn", code, "50", "--reason", "新品发布会", "--key", "ev1")
    assert again.exit_code == 1 and "already exists" in again.output
    assert shop.balance(code) == 50
    stranger = shop.customer(member=False)
    refused = kehu_cli("loyalty", "balance", stranger)
    assert refused.exit_code == 1 and "not a member" in refused.output


def test_cli_balance_statement_rewards_expire(shop, kehu_cli):
    code = shop.customer()
    shop.log(code, amount="88.8", at="-3")
    assert (
        kehu_cli("loyalty", "rewards", "add", "MUG", "定制马克杯", "--cost", "100", "--stock", "3").exit_code
        == 0
    )
    bad = kehu_cli("loyalty", "rewards", "add", "X", "坏", "--cost", "-1", "--stock", "-2")
    assert bad.exit_code == 1 and "cost" in bad.output and "stock" in bad.output
    assert kehu_cli("loyalty", "rewards", "list", "--json").json[0]["code"] == "MUG"
    assert kehu_cli("loyalty", "redeem", code, "MUG", "--json").json["balance"] == 88
    bal = kehu_cli("loyalty", "balance", code, "--json").json
    assert bal["balance"] == 88
    rows = kehu_cli("loyalty", "statement", code, "--json").json["rows"]
    assert [r["kind"] for r in rows] == ["earn", "bonus", "redeem"] and rows[-1]["balance"] == 88
    assert "redeem" in kehu_cli("loyalty", "statement", code, "--csv").output
    assert kehu_cli("loyalty", "expire", "--dry-run", "--json").json["entries"] == 0
    assert kehu_cli("loyalty", "expire", "--as-of", "2030-01-01", "--json").json["points"] == 88
    assert kehu_cli("loyalty", "expire", "--as-of", "nonsense").exit_code == 2  # a usage error


def test_cli_shows_the_points_available_first_and_labels_the_ledger_sum(shop, kehu_cli):
    """100 yuan 400 days ago (100 points + the first-purchase bonus of 100, both expired some 35
    days ago, not written off) and 50 yuan 3 days ago: the ledger sums to 250, 50 can be spent."""
    code = shop.customer()
    shop.log(code, amount="100", at="-400")
    shop.log(code, amount="50", at="-3")
    bal = kehu_cli("loyalty", "balance", code, "--json").json
    assert (bal["available"], bal["balance"], bal["expired_not_yet_written_off"]) == (50, 250, 200)
    lines = kehu_cli("loyalty", "balance", code).output.splitlines()
    assert lines[1].split() == ["available", "to", "spend", "50"]
    assert lines[2].split() == ["ledger", "(before", "expired", "points", "are", "written", "off)", "250"]
    card = kehu_cli("customer", "show", code, "--json").json["loyalty"]
    assert (card["available"], card["balance"], card["expired_not_yet_written_off"]) == (50, 250, 200)
    shown = kehu_cli("customer", "show", code).output
    assert "points available to spend    50\n" in shown and "expired not yet written off  200\n" in shown
    earned = kehu_cli("loyalty", "earn", code, "5", "--reason", "活动")
    assert earned.output.strip() == f"{code}: +5 points; 55 available to spend"
    assert kehu_cli("loyalty", "rewards", "add", "MUG", "马克杯", "--cost", "55").exit_code == 0
    spent = kehu_cli("loyalty", "redeem", code, "MUG")
    assert spent.output.strip() == f"{code}: redeemed 1 x MUG for 55 points; 0 available to spend"
    bal = kehu_cli("loyalty", "balance", code, "--json").json
    assert (bal["available"], bal["balance"], bal["expired_not_yet_written_off"]) == (0, 0, 0)


def test_settings_are_validated(shop, kehu_cli):
    assert kehu_cli("loyalty", "settings", "set", "expiry_months", "0").exit_code == 1
    assert kehu_cli("loyalty", "settings", "set", "bogus", "1").exit_code == 1
    assert kehu_cli("loyalty", "settings", "set", "points_per_yuan", "2").exit_code == 0
    code = shop.customer()
    shop.log(code, amount="10.5", at="-1")
    assert shop.ledger(code)[0]["points"] == 21


def test_loyalty_commands_refuse_where_not_installed(kehu_app, kehu_cli):
    for args in (("ladder",), ("rewards", "list"), ("rebate", "programme", "list"), ("rebate", "settle")):
        result = kehu_cli("loyalty", *args)
        assert result.exit_code == 1 and "kehu plugins install loyalty" in result.output, args


def test_uninstall_drops_every_table(shop, kehu_cli, kehu_app):
    result = kehu_cli("plugins", "uninstall", "loyalty", "--yes")
    assert result.exit_code == 0, result.output
    with kehu_app.engine.connect() as conn:
        assert not [t for t in inspect(conn).get_table_names() if t.startswith("loyalty_")]


def test_refused_redeem_raises_kehu_error_types():
    assert issubclass(InsufficientPoints, KehuError) and issubclass(OutOfStock, KehuError)


def test_expiry_names_the_local_day_the_points_were_earned(shop, company_zone):
    """Earned at 00:30 in Shanghai on 10 March (still 9 March in UTC): the reason says 2024-03-10."""
    company_zone("Asia/Shanghai")
    code = shop.customer()
    shop.log(code, amount="10", at="2024-03-10T00:30:00+08:00")
    shop.run_app(expire_points, timestamp("2030-01-01"))
    reasons = [e["reason"] for e in shop.ledger(code) if e["kind"] == "expire"]
    assert reasons == ["10 point(s) earned 2024-03-10 expired", "100 point(s) earned 2024-03-10 expired"]
