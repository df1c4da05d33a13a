"""``kehu tier stats`` computes a customer's statistics the way a run does (the work tables over the
monthly aggregates); the one-query definition of the relation (``classified_select``) must give
the same numbers, column by column, on a log shaped like a real shop's. And the edges of
"overdue", which the run computes from local day numbers."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, type_coerce, update
from test_real_data import retail_log
from tiering_helpers import add_customers, local, payment, purchase, record, run

from kehu_core.models import Customer
from kehu_tiering.api import customer_stats
from kehu_tiering.methods import classified_select
from kehu_tiering.settings import make_settings
from kehu_tiering.stats import MONEY_COLUMNS, YUAN, money
from kehu_tiering.worktables import WorkTables

pytestmark = pytest.mark.usefixtures("shanghai")

AS_OF = date(2026, 6, 15)


def _others(app: Any, ids: dict[str, int], seed: int) -> None:
    """Payments (some late, some unpaid), purchases on credit, complaints and feedback."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for n, cid in enumerate(ids.values()):
        if n % 3:
            continue
        for _ in range(rng.choice((1, 1, 2, 4))):
            due = local(2026, 6, 15, 12) - timedelta(days=rng.randint(-20, 500), hours=rng.randint(0, 23))
            late = rng.choice((None, -3, 0, 0, 1, 12, 30, 31, 90))
            paid = None if late is None else due + timedelta(days=late)
            rows.append(payment(cid, due, paid, kind=rng.choice(("payment", "payment", "purchase"))))
        if n % 7 == 0:
            when = local(2026, 6, 15, 12) - timedelta(days=rng.randint(0, 400))
            for kind in ("complaint", "feedback"):
                rows.append(
                    dict(
                        customer_id=cid,
                        kind=kind,
                        status="done",
                        occurred_at=when,
                        satisfaction=rng.randint(1, 5),
                    )
                )
    record(app, rows)


def _archive(app: Any, code: str) -> None:

    with app.session() as session:
        session.execute(update(Customer).where(Customer.code == code).values(active=False))
        session.commit()


def _one_query(app: Any, settings: Any) -> dict[int, dict[str, Any]]:
    """Every active customer's row by the one-query definition (subqueries, no work tables)."""

    one = classified_select(app.dialect, settings).subquery("one")
    # Money read as yuan, as the run's rows are read.
    query = select(*(type_coerce(c, YUAN).label(c.name) if c.name in MONEY_COLUMNS else c for c in one.c))
    with app.session() as session:
        rows = session.execute(query).mappings().all()
    return {row["customer_id"]: money(dict(row)) for row in rows}


def _differences(got: dict[int, dict[str, Any]], expected: dict[int, dict[str, Any]]) -> dict[Any, Any]:
    """{(customer, column): (got, expected)} for every value that differs."""
    return {
        (cid, name): (got.get(cid, {}).get(name), value)
        for cid, row in expected.items()
        for name, value in row.items()
        if got.get(cid, {}).get(name, "missing") != value
    }


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"window": "all"},
        {"window": 6, "measure": "margin"},
        {"as_of": date(2026, 5, 31)},  # a past month's end: later purchases of the month must not count
        {"as_of": date(2026, 7, 31), "window": 3},  # after every purchase: the monthly buckets whole
    ],
)
def test_tier_stats_equals_the_one_query_definition_on_a_retail_log(tiering_app: Any, options: Any) -> None:

    ids = retail_log(tiering_app, 240, seed=23)
    _others(tiering_app, ids, seed=23)
    archived = next(iter(ids))
    _archive(tiering_app, archived)
    settings = make_settings(**{"as_of": AS_OF, **options})
    expected = _one_query(tiering_app, settings)
    assert ids[archived] not in expected
    with tiering_app.session() as session:
        active = dict(session.query(Customer.code, Customer.id).filter(Customer.active.is_(True)).all())
    assert set(expected) == set(active.values())
    # The data is shaped as intended: mostly one-time buyers, refunds, late payers, complainers.
    rows = list(expected.values())
    buyers = [r for r in rows if r["orders_total"] > 0]
    assert sum(r["orders_total"] == 1 for r in buyers) / len(buyers) > 0.5
    assert any(r["overdue_payments"] for r in rows) and any(r["complaints_window"] for r in rows)
    assert any(r["revenue_total"] < 0 for r in rows) or any(
        r["margin_total"] != r["revenue_total"] for r in rows
    )
    codes = sorted(active)
    with tiering_app.session() as session:
        for code in [*codes[::9], codes[-1]]:
            got = customer_stats(tiering_app, session, code, settings)
            assert list(got) == list(expected[active[code]]), code  # same columns, same order
            assert _differences({0: got}, {0: expected[active[code]]}) == {}, code
        with pytest.raises(Exception, match="archived"):
            customer_stats(tiering_app, session, archived, settings)


def test_every_customer_s_row_of_the_run_s_view_equals_the_one_query_definition(tiering_app: Any) -> None:
    """All customers at once: the work tables' view against the one-query definition."""

    ids = retail_log(tiering_app, 300, seed=31)
    _others(tiering_app, ids, seed=31)
    settings = make_settings(as_of=AS_OF)
    expected = _one_query(tiering_app, settings)
    with tiering_app.session() as session, WorkTables(session, tiering_app.dialect, []) as temp:
        temp.fill(settings)
        got = {cid: money(temp.customer_row(cid) or {}) for cid in expected}
    assert _differences(got, expected) == {}


def test_overdue_starts_the_local_day_after_the_due_day(tiering_app: Any) -> None:
    """Paid on the due day (even at 23:59 local) is on time, the next local day is 1 day late;
    unpaid, a due day on the as-of day is not overdue yet, the day before is 1 day late, and a
    payment made after the as-of day counts as unpaid up to it."""

    ids = add_customers(tiering_app, ["SAME", "NEXT", "DUE_TODAY", "DUE_YESTERDAY", "PAID_LATER"])
    due = local(2026, 6, 1, 10, 0)
    record(
        tiering_app,
        [
            payment(ids["SAME"], due, local(2026, 6, 1, 23, 59)),
            payment(ids["NEXT"], due, local(2026, 6, 2, 0, 1)),
            payment(ids["DUE_TODAY"], local(2026, 6, 15, 9, 0), None),
            payment(ids["DUE_YESTERDAY"], local(2026, 6, 14, 23, 0), None),
            payment(ids["PAID_LATER"], local(2026, 6, 10, 9, 0), local(2026, 6, 16, 0, 5)),
        ],
    )
    expected = {
        "SAME": (0, None),
        "NEXT": (1, 1),
        "DUE_TODAY": (0, None),
        "DUE_YESTERDAY": (1, 1),
        "PAID_LATER": (1, 5),  # June 10 to the as-of day, June 15
    }
    run(tiering_app, as_of=AS_OF)
    with tiering_app.session() as session:
        for code, (overdue, longest) in expected.items():
            row = customer_stats(tiering_app, session, code, make_settings(as_of=AS_OF))
            assert (row["overdue_payments"], row["max_days_late"]) == (overdue, longest), code


def test_the_average_order_rounds_half_a_fen_away_from_zero_on_both_paths(tiering_app: Any) -> None:
    """The average order in whole fen, half a fen away from zero, by ``kehu tier stats`` and by
    the one-query definition alike: on the half and one fen either side, with two orders and
    three (a remainder of 1 or 2 fen), below zero, past ¥5,000,000 (where a floating-point
    division lost the half fen) and at the largest amounts a card takes."""

    largest = "9999999999999.99"
    cases = {
        "HALF": (("275.48", "0.01"), "137.75"),  # 137.745
        "BELOW": (("275.47", "0.01"), "137.74"),  # 137.74
        "ABOVE": (("275.49", "0.01"), "137.75"),  # 137.75
        "THIRD": (("0.02", "0.01", "0.01"), "0.01"),  # 0.0133: a remainder of 1 fen rounds down
        "TWO_THIRDS": (("0.03", "0.01", "0.01"), "0.02"),  # 0.0167: a remainder of 2 fen, up
        "NEGATIVE": (("0.01", "0.01", "-100.01"), "-50.00"),  # two orders and a refund: -49.995
        "NEG_BELOW": (("0.01", "0.01", "-100.00"), "-49.99"),  # -49.99
        "NEG_THIRD": (("0.01", "0.01", "0.01", "-0.07"), "-0.01"),  # -0.0133
        "NEG_TWO_THIRDS": (("0.01", "0.01", "0.01", "-0.08"), "-0.02"),  # -0.0167
        "MILLIONS": (("5000000.00", "5000000.01"), "5000000.01"),  # 5,000,000.005
        "LARGEST": ((largest, "9999999999999.98"), largest),  # 9,999,999,999,999.985
        "LARGEST_3": ((largest, largest, "0.01"), "6666666666666.66"),  # 6,666,666,666,666.663
    }
    ids = add_customers(tiering_app, list(cases))
    day = local(2026, 6, 1, 10, 0)
    record(tiering_app, [purchase(ids[code], day, a) for code, (values, _) in cases.items() for a in values])
    expected = {code: value for code, (_, value) in cases.items()}
    settings = make_settings(as_of=AS_OF)
    one_query = _one_query(tiering_app, settings)
    with tiering_app.session() as session:
        for code, value in expected.items():
            row = customer_stats(tiering_app, session, code, settings)
            assert row["avg_order_value"] == one_query[ids[code]]["avg_order_value"] == Decimal(value), code
