"""Money keeps its exact value on both databases.

SQLite stores NUMERIC as REAL (a double). Every decimal of at most 15 significant digits survives
a round trip through a double once quantized back to cents (DBL_DIG is 15), which
:class:`kehu_core.types.Money` does; so kehu accepts at most 15 significant digits on both
backends: amounts below 10^13 yuan (:data:`kehu_core.validation.MAX_MONEY`). Any such amount
written as an interaction's amount or a customer's credit limit reads back exactly; one cent
beyond is refused with one line naming the field, and nothing is saved. Totals are sums: SQLite
adds doubles, and kehu rounds them to the cent; PostgreSQL sums NUMERIC exactly.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from kehu_core import customers
from kehu_core.errors import ValidationError
from kehu_core.interactions import log_interaction
from kehu_core.models import Customer, Interaction
from kehu_core.profile import summarize
from kehu_core.types import to_money
from kehu_core.validation import MAX_MONEY, MAX_QUANTITY, FieldError, money, quantity

CENTS = int(MAX_MONEY * 100)
#: Two-decimal amounts in [-MAX_MONEY, MAX_MONEY]: uniform over the cents (mostly 14 and 15
#: digits, the hard cases for a double) and hypothesis's own decimals (small ones, edges).
AMOUNTS = st.one_of(
    st.integers(-CENTS, CENTS).map(lambda c: Decimal(c).scaleb(-2)),
    st.decimals(-MAX_MONEY, MAX_MONEY, places=2, allow_nan=False, allow_infinity=False),
    st.sampled_from([MAX_MONEY, -MAX_MONEY, Decimal("0.01"), Decimal("-0.01"), Decimal("0.00")]),
)
_codes = itertools.count(1)
WHEN = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)


def write(app, amount: Decimal) -> tuple[int, int]:
    """A customer whose credit limit is |amount| and one purchase of ``amount``: their ids."""
    code = f"M{next(_codes)}"
    with app.session() as s:
        customer = customers.add_customer(
            app, s, {"code": code, "name": "金额", "credit_limit": str(abs(amount))}
        )
        logged = log_interaction(
            app, s, {"customer_code": code, "kind": "purchase", "occurred_at": WHEN, "amount": str(amount)}
        )
        return customer.id, logged.id


def read(app, customer_id: int, interaction_id: int) -> tuple[Decimal | None, Decimal | None]:
    with app.session() as s:  # a new session: the values come from the database
        return (
            s.scalar(select(Customer.credit_limit).where(Customer.id == customer_id)),
            s.scalar(select(Interaction.amount).where(Interaction.id == interaction_id)),
        )


def count(app) -> tuple[int, int]:
    with app.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Customer)),
            s.scalar(select(func.count()).select_from(Interaction)),
        )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(amount=AMOUNTS)
def test_every_amount_in_range_reads_back_exactly(kehu_app, amount):
    ids = write(kehu_app, amount)
    limit, stored = read(kehu_app, *ids)
    assert stored == amount and str(stored) == str(amount.quantize(Decimal("0.01")))
    assert limit == abs(amount)


@pytest.mark.parametrize("amount", [MAX_MONEY, -MAX_MONEY, Decimal("9999999999999.98"), Decimal("0.07")])
def test_the_boundaries_read_back_exactly(kehu_app, amount):
    assert Decimal("9999999999999.99") == MAX_MONEY  # 15 significant digits
    ids = write(kehu_app, amount)
    assert read(kehu_app, *ids) == (abs(amount), amount)


@pytest.mark.parametrize("amount", ["10000000000000.00", "-10000000000000.00", "10000000000000"])
def test_one_step_beyond_is_refused(kehu_app, kehu_cli, amount):
    before = count(kehu_app)
    result = kehu_cli("interaction", "log", "NOBODY", "purchase", "--amount", amount)
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-1] == (
        f"amount: out of range: money must be below 10^13 (at most 9999999999999.99) (got '{amount}')"
    )
    assert "Traceback" not in result.output
    positive = amount.lstrip("-")
    added = kehu_cli("customer", "add", "C9", "甲", "--credit-limit", positive)
    assert added.exit_code == 1 and "Traceback" not in added.output
    assert "credit_limit: out of range: money must be below 10^13 (at most 9999999999999.99)" in added.output
    with pytest.raises(ValidationError) as refused, kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C9", "name": "甲", "credit_limit": positive})
    assert str(refused.value).splitlines()[-1] == (
        f"credit_limit: out of range: money must be below 10^13 (at most 9999999999999.99) (got '{positive}')"
    )
    assert count(kehu_app) == before


def test_one_line_per_field_in_an_import(kehu_app, kehu_cli, tmp_path):
    with kehu_app.session() as s:
        customers.add_customer(kehu_app, s, {"code": "C1", "name": "甲"})
    path = tmp_path / "i.csv"
    path.write_text(
        "customer_code,kind,occurred_at,amount\n"
        "C1,purchase,2026-03-01,9999999999999.99\n"
        "C1,purchase,2026-03-02,-10000000000000.00\n",
        encoding="utf-8",
    )
    before = count(kehu_app)
    result = kehu_cli("interaction", "import", str(path))
    assert result.exit_code == 1, result.output
    [line] = [ln.strip() for ln in result.output.splitlines() if "out of range" in ln]
    assert line == (
        "line 3, amount: out of range: money must be below 10^13 (at most 9999999999999.99) "
        "(got '-10000000000000.00')"
    )
    assert "1 of 2 row(s) refused; nothing was written" in result.output
    assert count(kehu_app) == before


def test_the_limits_are_fifteen_digits():
    assert len(MAX_MONEY.as_tuple().digits) == 15 == len(MAX_QUANTITY.as_tuple().digits)
    assert money("9,999,999,999,999.99") == MAX_MONEY
    assert quantity("999999999999.999") == MAX_QUANTITY
    with pytest.raises(FieldError, match=r"a quantity must be below 10\^12 \(at most 999999999999.999\)"):
        quantity("1000000000000")


#: Amounts near the limit whose total is worked out by hand.
NEAR_LIMIT = [
    "9999999999999.99",
    "9999999999999.97",
    "-9999999999999.98",
    "9999999999999.01",
    "0.03",
    "-1234567890123.45",
    "9999999999999.99",
]
#: 9999999999999.99 × 2 + 9999999999999.97 + 9999999999999.01 + 0.03
#: − 9999999999999.98 − 1234567890123.45
TOTAL = Decimal("28765432109875.56")


def test_a_sum_near_the_limit_is_exact_to_the_cent(kehu_app):
    assert sum(map(Decimal, NEAR_LIMIT)) == TOTAL
    with kehu_app.session() as s:
        customer = customers.add_customer(kehu_app, s, {"code": "BIG", "name": "大客户"})
        for n, amount in enumerate(NEAR_LIMIT):
            log_interaction(
                kehu_app,
                s,
                {
                    "customer_code": "BIG",
                    "kind": "purchase",
                    "occurred_at": WHEN.replace(day=n + 1),
                    "amount": amount,
                },
            )
    with kehu_app.session() as s:
        raw = s.scalar(
            text("SELECT sum(amount) FROM interactions WHERE customer_id = :c"), {"c": customer.id}
        )
        if kehu_app.dialect == "postgresql":
            assert raw == TOTAL  # NUMERIC: exact without rounding
        assert to_money(raw) == TOTAL
        assert summarize(s, customer.id, now=WHEN.replace(month=12)).total_revenue == TOTAL
