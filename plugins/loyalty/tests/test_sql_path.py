"""The SQL earning path writes exactly the ledger the Python path writes.

Random programmes (plugin rules with categories, channels, products, min_amount, birthday
months, promotion periods, once-per scopes, referrer bonuses), members with and without
birthdays, tier multipliers, refunds and month-end times are earned through each path in
turn, rolled back in between, and the ledgers (and refund allocations) compared.
"""

from __future__ import annotations

import contextlib
import io
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kehu_core import InteractionBatch, RecordedRows, hookimpl
from kehu_core.customers import add_customer
from kehu_core.errors import Conflict
from kehu_core.importing import import_interactions
from kehu_core.interactions import write_interactions
from kehu_core.models import Customer
from kehu_core.validation import timestamp
from kehu_loyalty import earning, hooks
from kehu_loyalty.accounts import enroll, record_referral
from kehu_loyalty.earning import earn_batch, earn_rules, plan
from kehu_loyalty.models import ALLOCATIONS, LEDGER
from kehu_loyalty.rules import EarnRule
from kehu_loyalty.settings import set_setting

NOW = datetime(2025, 1, 1, tzinfo=UTC)
CATEGORIES = ("咖啡", "茶", "耗材", None)
CHANNELS = ("门店", "online", None)
PRODUCTS = ("A1", "B2", None)


class _Rollback(Exception):
    pass


class Tiers:
    """Tiers by customer id: VIP (×1.5), B (×1.2), ordinary (no multiplier) or none."""

    @hookimpl
    def kehu_customer_tiers(self, session, customer_ids, method):
        if method is not None:
            return None  # segments: loyalty reads only THE tier
        return {cid: ("VIP", "B", "ordinary")[cid % 4] for cid in customer_ids if cid % 4 != 3}


class Rules:
    def __init__(self, rules):
        self.rules = rules

    @hookimpl
    def kehu_loyalty_earn_rules(self):
        return self.rules


def random_rules(rng: random.Random) -> list[Any]:
    """A few amount and bonus rules with random conditions."""

    def conditions(birthday_ok: bool = True) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if rng.random() < 0.4:
            found["categories"] = tuple(c for c in rng.sample(CATEGORIES[:3], 2))
        if rng.random() < 0.3:
            found["channels"] = (rng.choice(CHANNELS[:2]),)
        if rng.random() < 0.3:
            found["products"] = ("A1", "B2")
        if rng.random() < 0.4:
            found["min_amount"] = Decimal(rng.choice(["0.01", "50", "199.995", "1000"]))
        if birthday_ok and rng.random() < 0.3:
            found["birthday_month"] = True
        if rng.random() < 0.3:
            found["valid_from"] = datetime(2024, rng.randint(1, 6), 1, tzinfo=UTC)
        if rng.random() < 0.3:
            found["valid_until"] = datetime(2024, rng.randint(7, 12), 15, 16, tzinfo=UTC)
        return found

    rules = []
    for n in range(rng.randint(1, 3)):
        rate = Decimal(rng.choice(["0.5", "0.25", "1.5", "0.0250", "3", "0.3333"]))
        kinds = rng.choice([("purchase",), ("purchase", "payment")])
        rules.append(
            EarnRule(
                f"promo{n}",
                kinds=kinds,
                points_per_yuan=rate,
                tier_multiplier=rng.random() < 0.7,
                **conditions(),
            )
        )
    for n in range(rng.randint(1, 3)):
        beneficiary = rng.choice(["customer", "customer", "referrer"])
        rules.append(
            EarnRule(
                f"bonus{n}",
                kinds=rng.choice([("purchase",), ("feedback", "purchase"), ("visit",)]),
                fixed_points=rng.randint(1, 50),
                once_per=rng.choice([None, "customer", "year", "month"]),
                beneficiary=beneficiary,
                **conditions(birthday_ok=beneficiary == "customer"),
            )
        )
    return rules


def yearly_rules(rng: random.Random) -> list[Any]:
    """Rules on days of every year and multiplier rules (drawn apart: the other draws stay as they were)."""

    days = ["11-11", "11-11..11-12", "12-31..01-01", "02-29", "01-01..12-31"]
    return [
        EarnRule("acme.double_11", multiplier=rng.choice(["2", "1.5"]), every_year=rng.choice(days)),
        EarnRule(
            "acme.tea_days",
            multiplier=rng.choice(["3", "2"]),
            categories=("茶",),
            every_year=rng.choice(days),
            tier_multiplier=rng.random() < 0.5,
        ),
        EarnRule("acme.yearly", points_per_yuan=Decimal("0.25"), every_year=rng.choice(days)),
        EarnRule("acme.singles_day", fixed_points=11, once_per="year", every_year=rng.choice(days)),
    ]


def edge_rows(rng: random.Random, ids: list[int], zone: str, prefix: str) -> list[dict[str, Any]]:
    """Purchases on the company-local edges of 11-11, 12-31..01-01 and 02-29: the last moment of
    the day before, the first and last of the day, the first of the day after."""
    local = ZoneInfo(zone)
    rows = []
    for year, month, day in ((2024, 11, 11), (2024, 12, 31), (2024, 1, 1), (2024, 2, 29)):
        start = datetime(year, month, day, tzinfo=local)
        for moment in (
            start - timedelta(microseconds=1),
            start,
            start + timedelta(days=1, microseconds=-1),
            start + timedelta(days=1),
        ):
            rows.append(
                {
                    "customer_id": rng.choice(ids),
                    "kind": "purchase",
                    "status": "done",
                    "occurred_at": moment.astimezone(UTC),
                    "amount": Decimal(rng.randint(1, 60000)) / 100,
                    "category": rng.choice(CATEGORIES),
                    "external_ref": f"{prefix}{len(rows)}",
                }
            )
    return rows


def random_moment(rng: random.Random) -> datetime:
    """A time in 2024, often at a month's end or around local midnight (16:00 UTC in Shanghai)."""
    if rng.random() < 0.5:
        month = rng.randint(1, 12)
        day = rng.choice([28, 29, 30, 31, 1])
        try:
            base = datetime(2024, month, day, tzinfo=UTC)
        except ValueError:
            base = datetime(2024, month, 28, tzinfo=UTC)
        return base + timedelta(
            hours=rng.choice([0, 15, 16, 22, 23]),
            minutes=rng.randint(0, 59),
            microseconds=rng.randint(0, 10**6 - 1),
        )
    return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(
        seconds=rng.randrange(366 * 86400), microseconds=rng.randint(0, 999999)
    )


def build_shop(app: Any, rng: random.Random, customers: int = 16) -> list[int]:
    """Customers (members or not, with birthdays or not, earning from different dates) and referrals."""

    codes = []
    with app.session() as s:
        for n in range(customers):
            code = f"S{n:03d}"
            fields: dict[str, Any] = {"code": code, "name": f"客户{n}"}
            if rng.random() < 0.6:
                fields["birthday"] = date(1990, rng.randint(1, 12), rng.randint(1, 28)).isoformat()
            add_customer(app, s, fields)
            codes.append(code)
            if rng.random() < 0.85:
                since = rng.choice([datetime(2020, 1, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)])
                enroll(app, s, [code], since=since, now=since)
        for referred in rng.sample(codes, customers // 3):
            referrer = rng.choice([c for c in codes if c != referred])
            with contextlib.suppress(Conflict):  # a customer drawn twice: one referral per customer
                record_referral(s, referrer, referred)
        return [s.scalar(select(Customer.id).where(Customer.code == c)) for c in codes]


def random_rows(rng: random.Random, ids: list[int], count: int, prefix: str) -> list[dict[str, Any]]:
    rows = []
    for n in range(count):
        kind = rng.choice(["purchase"] * 6 + ["payment", "feedback", "visit"])
        amount = None
        if kind in ("purchase", "payment"):
            amount = Decimal(rng.randint(0, 600000)) / 100
            if rng.random() < 0.05:
                amount = Decimal(rng.randint(10**9, 10**11)) / 100  # big: no float anywhere
            if kind == "purchase" and rng.random() < 0.12:
                amount = -Decimal(rng.randint(1, 30000)) / 100
        rows.append(
            {
                "customer_id": rng.choice(ids),
                "kind": kind,
                "status": rng.choice(["done"] * 9 + ["planned"]),
                "occurred_at": random_moment(rng),
                "amount": amount,
                "category": rng.choice(CATEGORIES),
                "channel": rng.choice(CHANNELS),
                "product": rng.choice(PRODUCTS),
                "external_ref": f"{prefix}{n}",
                "satisfaction": rng.randint(1, 5) if kind == "feedback" else None,
            }
        )
    return rows


def record_quietly(app: Any, rows: list[dict[str, Any]], monkeypatch: Any) -> list[dict[str, Any]]:
    """Write interactions without earning (the hook's earning switched off for the moment)."""

    with monkeypatch.context() as patch:
        patch.setattr(hooks, "earn_batch", lambda *a, **k: earning.EMPTY)
        with app.session() as s:
            return write_interactions(app, s, rows, "test")


def snapshot(session: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The ledger by idempotency key (ids left out: they depend on insertion order) and the
    allocations by key."""

    columns = [c for c in LEDGER.columns if c.name != "id"]
    ledger = sorted(tuple(r) for r in session.execute(select(*columns)))
    keys = dict(session.execute(select(LEDGER.c.id, LEDGER.c.idempotency_key)).all())
    links = sorted((keys[d], keys[lot], p) for d, lot, p in session.execute(select(ALLOCATIONS)))
    return ledger, links


def _differences(left: Any, right: Any) -> tuple[list[Any], list[Any]]:
    """Entries (and allocations) only in ``left``, only in ``right``: readable failures."""
    return (
        [r for r in left[0] if r not in right[0]] + [a for a in left[1] if a not in right[1]],
        [r for r in right[0] if r not in left[0]] + [a for a in right[1] if a not in left[1]],
    )


def as_batch(rows: list[dict[str, Any]]) -> Any:
    """The rows as the core hands them to the hook: ids and value lists, no mapping per row."""

    keys = list(rows[0])
    return InteractionBatch(
        rows=RecordedRows(keys, [r["id"] for r in rows], [[r[k] for k in keys[1:]] for r in rows]),
        source="test",
    )


def earn_and_look(app: Any, rows: list[dict[str, Any]], path: str, commit: bool = False) -> tuple[Any, Any]:
    found: dict[str, Any] = {}
    try:
        with app.session() as s:
            found["result"] = earn_batch(app, s, as_batch(rows), NOW, path=path)
            found["ledger"] = snapshot(s)
            if not commit:
                raise _Rollback
    except _Rollback:
        pass
    return found["result"], found["ledger"]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin"])
def test_sql_and_python_paths_write_the_same_ledger(
    kehu_app, kehu_install, kehu_register_plugin, monkeypatch, company_zone, seed, zone
):
    company_zone(zone)
    rng = random.Random(seed)
    kehu_install("loyalty")
    rules = random_rules(rng) + yearly_rules(random.Random(seed))
    kehu_register_plugin(Rules(rules), "promo_rules")
    kehu_register_plugin(Tiers(), "tiers")
    ids = build_shop(kehu_app, rng)
    with kehu_app.session() as s:  # whole years (the shortcut in SQL) and odd months (day clamping)
        set_setting(s, "expiry_months", str((12, 1, 13)[seed % 3]))
    first = record_quietly(kehu_app, random_rows(rng, ids, 60, "A"), monkeypatch)
    edges = edge_rows(random.Random(seed), ids, zone, "E")
    second = record_quietly(kehu_app, random_rows(rng, ids, 160, "B") + edges, monkeypatch)
    with kehu_app.session() as s:
        settings, in_force = earn_rules(kehu_app, s)
        assert any(r.birthday_month for r in in_force)  # the built-in birthday rule needs local months
        chosen = plan(s, in_force, as_batch(second), list(settings.tier_multipliers.values()))
    if kehu_app.dialect == "sqlite" and zone == "Europe/Berlin":
        # Summer time: SQLite cannot tell local months; the batch falls back to Python.
        assert chosen.path == "python" and "not fixed" in chosen.why
        with pytest.raises(ValueError, match="cannot be earned in SQL"):
            earn_and_look(kehu_app, second, "sql")
        return
    assert chosen.path == "sql"
    # An earlier batch is in the ledger already (once-per-customer bonuses, lots for refunds).
    earn_and_look(kehu_app, first, "python", commit=True)
    by_python = earn_and_look(kehu_app, second, "python")
    by_sql = earn_and_look(kehu_app, second, "sql")
    assert _differences(by_sql[1], by_python[1]) == ([], [])
    assert by_sql[0] == by_python[0]
    result, ledger = by_python
    assert result.entries > 10 and result.refunds > 0, "the random batch should exercise earning and refunds"
    rules_seen = {row[6] for row in ledger[0]}
    assert any(r and "+" in r for r in rules_seen), rules_seen  # combined amount rules were exercised
    assert any(r and "acme." in r for r in rules_seen), rules_seen  # and the yearly and multiplier rules


def test_replaying_a_batch_writes_nothing_on_either_path(
    kehu_app, kehu_install, kehu_register_plugin, monkeypatch
):
    rng = random.Random(7)
    kehu_install("loyalty")
    kehu_register_plugin(Tiers(), "tiers")
    ids = build_shop(kehu_app, rng)
    rows = record_quietly(kehu_app, random_rows(rng, ids, 120, "R"), monkeypatch)
    first, before = earn_and_look(kehu_app, rows, "sql", commit=True)
    assert first.entries > 0
    for path in ("sql", "python"):
        again, after = earn_and_look(kehu_app, rows, path)
        assert (again.entries, again.points) == (0, 0)
        assert after == before


def test_sql_path_is_used_for_imports_and_expiry_dates_clamp(shop, kehu_app):
    """Through the import: expiry keeps the time to the microsecond and clamps Feb 29 to Feb 28;
    the reason shows the amount with two decimals."""

    code = shop.customer()
    csv = (
        "external_ref,customer_code,kind,occurred_at,amount\n"
        f"X1,{code},purchase,2024-02-29T10:00:00+00:00,10.5\n"
        f"X2,{code},purchase,2024-01-31T23:59:59.123456+00:00,1234567.89\n"
    ).encode()
    with kehu_app.session() as s:
        import_interactions(kehu_app, s, io.BytesIO(csv))
    entries = {e["idempotency_key"]: e for e in shop.ledger(code)}
    earns = sorted(
        (e["expires_at"], e["points"], e["reason"]) for k, e in entries.items() if k.startswith("earn:")
    )
    assert earns == [
        (timestamp("2025-01-31T23:59:59.123456+00:00"), 1234567, "¥1234567.89 × 1 pt/¥ (base)"),
        (timestamp("2025-02-28T10:00:00+00:00"), 10, "¥10.50 × 1 pt/¥ (base)"),
    ]


def test_batches_that_cannot_be_compiled_fall_back_to_python(shop, kehu_app, kehu_register_plugin):
    """Nine conditional amount rules (2**9 combinations) are earned in Python, with the same rules."""

    many = [EarnRule(f"cat{n}", points_per_yuan=Decimal("0.1"), categories=(f"品类{n}",)) for n in range(9)]
    kehu_register_plugin(Rules(many), "many_rules")
    code = shop.customer()
    shop.log(code, amount="100", category="品类3")
    [earn] = [e for e in shop.ledger(code) if e["kind"] == "earn"]
    assert (earn["points"], earn["rule"], earn["reason"]) == (
        110,
        "base+cat3",
        "¥100.00 × 1.1 pt/¥ (base+cat3)",
    )
    row = {"id": earn["interaction_id"], "occurred_at": earn["occurred_at"], "amount": Decimal("100")}
    with kehu_app.session() as s:
        settings, rules = earn_rules(kehu_app, s)
        chosen = plan(s, rules, as_batch([row]), list(settings.tier_multipliers.values()))
    assert chosen.path == "python" and "more than 8 conditional amount rules" in chosen.why


def test_amounts_too_big_for_sqlite_integers_fall_back_to_python(shop, kehu_app, kehu_register_plugin):
    kehu_register_plugin(Rules([EarnRule("odd_rate", points_per_yuan=Decimal("0.3333"))]), "odd_rate")
    row = {"id": 1, "occurred_at": NOW, "amount": Decimal("99999999999999.99")}
    with kehu_app.session() as s:
        settings, rules = earn_rules(kehu_app, s)
        chosen = plan(s, rules, as_batch([row]), list(settings.tier_multipliers.values()))
        small = plan(
            s,
            rules,
            as_batch([{**row, "amount": Decimal("-5000")}]),
            list(settings.tier_multipliers.values()),
        )
    if kehu_app.dialect == "sqlite":
        assert chosen.path == "python" and "64-bit" in chosen.why
    else:  # PostgreSQL computes points in numeric: no limit
        assert chosen.path == "sql"
    assert small.path == "sql"


def test_long_reasons_are_cut_alike_on_both_paths(kehu_app, kehu_install, kehu_register_plugin, monkeypatch):
    """Rule names long enough to push the reason past 200 characters and the names past the
    ledger's 64-character ``rule`` column: both paths cut both alike (PostgreSQL would refuse
    a longer ``rule``)."""

    rng = random.Random(11)
    kehu_install("loyalty")
    long_names = [
        EarnRule(f"promo{n}_" + "members_double_points_" * 2, points_per_yuan=Decimal("0.5"))
        for n in range(4)
    ]
    kehu_register_plugin(Rules(long_names), "long_rules")
    ids = build_shop(kehu_app, rng)
    rows = record_quietly(kehu_app, random_rows(rng, ids, 40, "L"), monkeypatch)
    by_python = earn_and_look(kehu_app, rows, "python")
    by_sql = earn_and_look(kehu_app, rows, "sql")
    assert _differences(by_sql[1], by_python[1]) == ([], [])
    earned = [row for row in by_sql[1][0] if row[1] == "earn"]
    assert earned and all(len(row[5]) == 200 for row in earned)
    assert all(len(row[6]) == 64 and row[6].endswith("…") for row in earned)
