"""Which earning path a batch takes (issue 21), at its edges: the local zone's fixed offset is
worked out only on SQLite and only for rules that look at local time, and SQLite's 64-bit
integers bound the amounts: a batch whose largest amount (a purchase or a refund) times the
rules' rate numerator is exactly 2**63 - 1 cents is earned in SQL, one cent more in Python.

No database: the plan reads only the session's dialect, the rules and the batch's columns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from kehu_core.hooktypes import InteractionBatch
from kehu_loyalty.earning import EarnResult, Plan, earn_batch, plan
from kehu_loyalty.rules import EarnRule

D = Decimal
TOP = 2**63 - 1  # SQLite's largest integer
WHEN = datetime(2024, 3, 10, 4, 0, tzinfo=UTC)
BASE = EarnRule("base", points_per_yuan=D(1))  # rate numerator 1: the bound is the cents
MONTHLY = EarnRule("feedback", kinds=("feedback",), fixed_points=20, once_per="month")


def session_of(dialect: str) -> SimpleNamespace:
    """Just enough of a session for :func:`plan`: its dialect's name."""
    return SimpleNamespace(get_bind=lambda: SimpleNamespace(dialect=SimpleNamespace(name=dialect)))


def batch(*amounts: Decimal | None) -> InteractionBatch:
    return InteractionBatch(
        [{"id": n, "kind": "purchase", "occurred_at": WHEN, "amount": a} for n, a in enumerate(amounts, 1)]
    )


@pytest.fixture(autouse=True)
def shanghai(company_zone):
    company_zone("Asia/Shanghai")  # UTC+8 all year: a fixed offset of 480 minutes


@pytest.mark.parametrize(
    ("dialect", "rules", "expected"),
    [
        ("sqlite", [BASE, MONTHLY], Plan("sql", offset=480)),  # once a local month: the offset
        ("sqlite", [BASE], Plan("sql")),  # no rule looks at local time: no offset
        ("postgresql", [BASE, MONTHLY], Plan("sql")),  # PostgreSQL converts times itself
    ],
)
def test_the_local_offset_only_on_sqlite_and_only_for_local_time_rules(dialect, rules, expected):
    assert plan(session_of(dialect), rules, batch(D("10")), []) == expected


def cents(n: int) -> Decimal:
    return D(n) / 100


@pytest.mark.parametrize(
    ("amounts", "path"),
    [
        ((cents(TOP),), "sql"),  # exactly 2**63 - 1 cents x 1 point a yuan
        ((cents(TOP + 1),), "python"),  # a cent more
        ((cents(-TOP),), "sql"),  # a refund as large
        ((cents(-TOP - 1),), "python"),  # a refund a cent larger: refunds count by their size
        ((D("5"), cents(-TOP - 1)), "python"),  # the largest size, whichever sign
        ((cents(TOP + 1), D("-5")), "python"),
        ((None, D("5")), "sql"),  # a purchase without an amount counts for nothing
        ((None,), "sql"),
    ],
)
def test_sqlite_takes_amounts_up_to_64_bits_of_cents(amounts, path):
    found = plan(session_of("sqlite"), [BASE], batch(*amounts), [])
    assert found.path == path
    assert found.why == (None if path == "sql" else "amounts too large for 64-bit integer points on SQLite")


def test_a_tier_multiplier_raises_the_bound():
    # x1.5 = 3/2: the numerator bound is 3, so a third of 2**63 - 1 cents is the largest amount.
    assert plan(session_of("sqlite"), [BASE], batch(cents(TOP // 3)), [D("1.5")]).path == "sql"
    assert plan(session_of("sqlite"), [BASE], batch(cents(TOP // 3 + 1)), [D("1.5")]).path == "python"
    # a rule that ignores tiers keeps the bound at 1
    plain = EarnRule("base", points_per_yuan=D(1), tier_multiplier=False)
    assert plan(session_of("sqlite"), [plain], batch(cents(TOP)), [D("1.5")]).path == "sql"


def test_a_multiplier_rule_raises_the_bound():
    double = EarnRule("double", multiplier=D(2))
    assert plan(session_of("sqlite"), [BASE, double], batch(cents(TOP // 2)), []).path == "sql"
    assert plan(session_of("sqlite"), [BASE, double], batch(cents(TOP // 2 + 1)), []).path == "python"


def test_postgresql_takes_any_amount_up_to_64_bits_of_points():
    # Points, not cents, are bounded there: 2**63 - 1 points is (2**63 - 1) x 100 cents at 1 a yuan.
    assert plan(session_of("postgresql"), [BASE], batch(D(TOP) + D("0.99")), []).path == "sql"
    found = plan(session_of("postgresql"), [BASE], batch(D(TOP + 1)), [])
    assert found == Plan("python", "points that could pass 64 bits")


def test_an_empty_batch_earns_nothing_and_reads_nothing():
    # No application and no session are touched: the batch is empty.
    assert earn_batch(None, None, InteractionBatch([])) == EarnResult(0, 0, 0, 0, 0)  # type: ignore[arg-type]


def test_a_batch_without_amounts_is_never_too_large():
    # A rate of 10**17 points a yuan: one yuan (10**19 in the cents' numerator) would pass SQLite's
    # integers, a cent would not, and without an amount there is nothing to multiply.
    huge = EarnRule("huge", points_per_yuan=D(10**17))
    assert plan(session_of("sqlite"), [huge], batch(None), []) == Plan("sql")
    assert plan(session_of("sqlite"), [huge], batch(D("0.01")), []).path == "sql"
    assert plan(session_of("sqlite"), [huge], batch(D("1.00")), []).path == "python"
