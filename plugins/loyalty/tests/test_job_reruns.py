"""Every loyalty job run, changed, run and run again unchanged (issue 21): the expiry job (with
the level review), rebate settlement and the backfill. The unchanged run writes nothing and
rewrites nothing: the ledger, the accounts and the settlements are compared row by row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from kehu_core.plugins import discover
from kehu_core.types import utcnow
from kehu_loyalty.jobs import expire_job, settle_job
from kehu_loyalty.models import ACCOUNTS, LEDGER, SETTLEMENTS
from kehu_loyalty.rebates import add_programme
from kehu_loyalty.rewards import adjust


def rows(shop, table, *order):
    return shop.run(lambda s: [dict(r) for r in s.execute(select(table).order_by(*order)).mappings()])


def ledger_and_accounts(shop):
    return rows(shop, LEDGER, LEDGER.c.id), rows(shop, ACCOUNTS, ACCOUNTS.c.customer_id)


T0 = datetime(2023, 1, 10, 4, 0, tzinfo=UTC)  # A earns 25000: a lot expiring 2024-01-10T04:00Z
T1 = datetime(2023, 6, 1, tzinfo=UTC)
T2 = datetime(2024, 1, 10, 4, 0, tzinfo=UTC)  # exactly when A's lot expires


def test_expiry_job_run_change_run_unchanged_run(shop):
    a = shop.customer(since="2023-01-01")
    shop.run(lambda s: s.execute(LEDGER.delete()))
    shop.run_app(adjust, a, 25000, "大单", now=T0)
    first = shop.run_app(expire_job, T1)
    assert first == "expired 0 point(s) in 0 lot(s) of 0 member(s); levels: 1 up, 0 down, 0 kept in grace"
    # The change: B earns 6000 (银卡, from 5000), and A's lot reaches its expiry.
    b = shop.customer(since="2023-01-01")
    shop.run(lambda s: s.execute(LEDGER.delete().where(LEDGER.c.points > 0, LEDGER.c.reason != "大单")))
    shop.run_app(adjust, b, 6000, "活动", now=T2 - timedelta(days=10))
    second = shop.run_app(expire_job, T2)
    # A: 25000 expire; A's earning sits exactly at the window's start (T2 - 12 months), which is
    # left out, so A earns no level now but keeps 金卡 in grace (confirmed T1, grace 12 months).
    assert second == (
        "expired 25000 point(s) in 1 lot(s) of 1 member(s); levels: 1 up, 0 down, 1 kept in grace"
    )
    before = ledger_and_accounts(shop)
    third = shop.run_app(expire_job, T2)
    assert third == "expired 0 point(s) in 0 lot(s) of 0 member(s); levels: 0 up, 0 down, 1 kept in grace"
    assert ledger_and_accounts(shop) == before
    levels = {r["customer_id"]: (r["level"], r["level_since"]) for r in before[1]}
    assert sorted(levels.values(), key=str) == sorted([("金卡", T1), ("银卡", T2)], key=str)


def test_settlement_job_run_change_run_unchanged_run(shop, company_zone):
    company_zone("Asia/Shanghai")
    dist = shop.customer(member=False, tags="经销商")
    assert shop.run_app(settle_job, utcnow()) == "no rebate programme"
    shop.run(
        add_programme, "Q", "", "quarter", ["100000:2%", "500000:3%"], starts_on=datetime(2024, 1, 1).date()
    )
    shop.log(dist, amount="100000", at="2024-02-01T12:00:00+08:00")
    # The last instant of the quarter (local): its last day, not settled yet.
    assert shop.run_app(settle_job, datetime(2024, 3, 31, 15, 59, 59, 999999, tzinfo=UTC)) == (
        "Q: 0 settlement(s), ¥0"
    )
    first = shop.run_app(settle_job, datetime(2024, 3, 31, 16, 0, tzinfo=UTC))  # 2024-04-01 00:00 local
    assert first == "Q: 1 settlement(s), ¥2000.00"  # exactly 100000: 2%
    q1 = rows(shop, SETTLEMENTS, SETTLEMENTS.c.period_start)
    # The change: a late purchase in the settled quarter, and the second quarter's purchases.
    shop.log(dist, amount="400000", at="2024-03-20T12:00:00+08:00")
    shop.log(dist, amount="500000", at="2024-05-01T12:00:00+08:00")
    second = shop.run_app(settle_job, datetime(2024, 6, 30, 16, 0, tzinfo=UTC))  # 2024-07-01 local
    assert second == "Q: 1 settlement(s), ¥15000.00"
    after = rows(shop, SETTLEMENTS, SETTLEMENTS.c.period_start)
    assert after[:1] == q1  # the settled quarter is not rewritten with the late purchase
    third = shop.run_app(settle_job, datetime(2024, 6, 30, 16, 0, tzinfo=UTC))
    assert third == "Q: 0 settlement(s), ¥0"
    assert rows(shop, SETTLEMENTS, SETTLEMENTS.c.period_start) == after


def moment(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).replace(microsecond=0).isoformat()


def import_without_loyalty(shop, kehu_cli, monkeypatch, path, *lines):
    """Import ``lines`` with ``kehu --without-plugin loyalty`` (as test_backfill.py does)."""
    path.write_text("\n".join(["external_ref,customer_code,kind,occurred_at,amount", *lines]) + "\n")
    monkeypatch.setenv("KEHU_PLUGINS", "tiering,complaints")
    shop.app.plugins = discover(strict=False)
    shop.app.forget_installed_cache()
    done = kehu_cli("--without-plugin", "loyalty", "interaction", "import", str(path))
    assert done.exit_code == 0, done.output
    monkeypatch.delenv("KEHU_PLUGINS")
    shop.app.plugins = discover(strict=False)
    shop.app.forget_installed_cache()
    assert "loyalty" in shop.app.plugins.loaded


def backfill(kehu_cli):
    done = kehu_cli("loyalty", "backfill", "--json")
    assert done.exit_code == 0, done.output
    return {k: done.json[k] for k in ("entries", "points", "refunds", "reversed_points", "shortfall")}


def test_backfill_run_change_run_unchanged_run(shop, kehu_cli, tmp_path, monkeypatch):
    code = shop.customer(since="2020-01-01")
    import_without_loyalty(
        shop, kehu_cli, monkeypatch, tmp_path / "one.csv", f"B1,{code},purchase,{moment(60)},100"
    )
    assert shop.balance(code) == 0
    # ¥100: 100 points and the first-purchase bonus of 100.
    assert backfill(kehu_cli) == {
        "entries": 2,
        "points": 200,
        "refunds": 0,
        "reversed_points": 0,
        "shortfall": 0,
    }
    import_without_loyalty(
        shop,
        kehu_cli,
        monkeypatch,
        tmp_path / "two.csv",
        f"B2,{code},purchase,{moment(50)},50",
        f"B3,{code},purchase,{moment(40)},-30",
    )
    assert backfill(kehu_cli) == {
        "entries": 1,
        "points": 50,
        "refunds": 1,
        "reversed_points": 30,
        "shortfall": 0,
    }
    before = rows(shop, LEDGER, LEDGER.c.id)
    assert backfill(kehu_cli) == {
        "entries": 0,
        "points": 0,
        "refunds": 0,
        "reversed_points": 0,
        "shortfall": 0,
    }
    assert rows(shop, LEDGER, LEDGER.c.id) == before
    assert shop.balance(code) == 220
