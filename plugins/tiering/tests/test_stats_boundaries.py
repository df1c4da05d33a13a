"""Every statistics column at its boundaries, with the expected values written by hand.

As of 2026-06-15 in Shanghai (UTC+8): the as-of day ends at 2026-06-16 00:00 local; a window
of 12 months is July 2025 - June 2026 and the previous window July 2024 - June 2025. Each
customer buys, pays or complains exactly on one of those edges and one step (a second, a
microsecond) either side. The numbers are read the way a run reads them (the work tables) and
by the one-query definition (``classified_select``), with the as-of month taken from the
monthly buckets whole (nothing later in the month) and from the interactions (a purchase at
the very end of the as-of day).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    literal_column,
    select,
    type_coerce,
    update,
)
from tiering_helpers import add_customers, current, local, payment, purchase, record, run

from kehu_core import hookimpl
from kehu_core.customers import add_customer
from kehu_core.models import BigId, Customer, CustomerTag, Interaction
from kehu_core.types import UTCDateTime
from kehu_tiering.api import TierRule, customer_stats
from kehu_tiering.methods import classified_select
from kehu_tiering.settings import make_settings
from kehu_tiering.stats import (
    MONEY_COLUMNS,
    STATS,
    YUAN,
    StatColumn,
    as_of_month_is_whole,
    attribute,
    attribute_contains,
    base_select,
    day_number,
    has_tag,
    money,
    stat,
)
from kehu_tiering.worktables import WorkTables

pytestmark = pytest.mark.usefixtures("shanghai")

AS_OF = date(2026, 6, 15)

#: A customer who never bought, paid or complained.
NOTHING: dict[str, Any] = {
    "revenue_window": Decimal("0.00"),
    "revenue_total": Decimal("0.00"),
    "revenue_prev_window": Decimal("0.00"),
    "margin_window": Decimal("0.00"),
    "margin_total": Decimal("0.00"),
    "orders_window": 0,
    "orders_total": 0,
    "avg_order_value": None,
    "first_purchase_at": None,
    "last_purchase_at": None,
    "recency_days": None,
    "tenure_months": None,
    "tenure_days": None,
    "months_active": 0,
    "quarters_active": 0,
    "overdue_payments": 0,
    "max_days_late": None,
    "avg_days_late": None,
    "avg_satisfaction": None,
    "complaints_window": 0,
    "measure": Decimal("0.00"),
    "measure_cents": 0,
}


def _bought(
    revenue: str,
    total: str,
    prev: str,
    margin: str,
    margin_total: str,
    orders: int,
    orders_total: int,
    average: str | None,
    first: datetime,
    last: datetime,
    recency: int,
    tenure_months: int,
    tenure_days: int,
    months: int,
    quarters: int,
) -> dict[str, Any]:
    """A buyer's purchase columns (the run's measure: revenue)."""
    return {
        **NOTHING,
        "revenue_window": Decimal(revenue),
        "revenue_total": Decimal(total),
        "revenue_prev_window": Decimal(prev),
        "margin_window": Decimal(margin),
        "margin_total": Decimal(margin_total),
        "orders_window": orders,
        "orders_total": orders_total,
        "avg_order_value": None if average is None else Decimal(average),
        "first_purchase_at": first,
        "last_purchase_at": last,
        "recency_days": recency,
        "tenure_months": tenure_months,
        "tenure_days": tenure_days,
        "months_active": months,
        "quarters_active": quarters,
        "measure": Decimal(revenue),
        "measure_cents": int(Decimal(revenue) * 100),
    }


def _one(code_month: tuple[int, int], quarters: int, months: int = 1) -> dict[str, Any]:
    """A customer with one purchase of 1.00 at noon on the 10th of (year, month)."""
    at = local(*code_month, 10, 12)
    recency = (AS_OF - at.date()).days
    tenure = (2026 * 12 + 5) - (code_month[0] * 12 + code_month[1] - 1)
    in_window, in_previous = tenure < 12, 12 <= tenure < 24
    return _bought(
        "1.00" if in_window else "0.00",
        "1.00",
        "1.00" if in_previous else "0.00",
        "0.00",
        "0.00",
        1 if in_window else 0,
        1,
        "1.00" if in_window else None,
        at,
        at,
        recency,
        tenure,
        recency,
        months if in_window else 0,
        quarters,
    )


#: Purchases at noon on the 10th, by the number of months before the as-of month (k): which
#: of the four 3-month periods (k 0-2, 3-5, 6-8, 9-11) they fall in; k = 12 is none, and so is
#: k = 64 (a 64-bit shift by 64 would wrap around to period 0); k = 377: a first and last
#: purchase more than 30 years before, whose day number is less than half the as-of day's.
MONTHS_BACK = {0: (2026, 6), 1: (2026, 5), 2: (2026, 4), 3: (2026, 3), 5: (2026, 1), 8: (2025, 10)}
MONTHS_BACK |= {9: (2025, 9), 11: (2025, 7), 12: (2025, 6), 64: (2021, 2), 377: (1995, 1)}

EXPECTED: dict[str, dict[str, Any]] = {
    # Window start (July 1 00:00) in, a second before it in the previous window, the previous
    # window's start in it, a second before out of both; the as-of day's last second in.
    "W": _bought(
        "1700.00",
        "3100.00",
        "600.00",
        "640.00",  # (100 - 60) + (1600 - 1000); the 200 without a cost has no margin
        "940.00",  # and (400 - 100) of the previous window
        2,
        5,
        "850.00",
        local(2024, 6, 30, 23, 59, 59),
        local(2026, 6, 15, 23, 59, 59),
        0,
        24,
        715,  # 2024-06-30 to 2026-06-15
        2,  # July 2025 and June 2026
        2,  # k = 0 and k = 11; June 2025 (k = 12) is in no period
    ),
    # Refunds: netted from revenue, not orders; a refund's cost counts back; a month of refunds
    # only is not active; the last purchase is the last refund.
    "R": _bought(
        "240.00",
        "240.00",
        "0.00",
        "170.00",  # (300 - 100) + (-50 + 20)
        "170.00",
        1,
        1,
        "240.00",
        local(2026, 3, 10, 12),
        local(2026, 5, 5, 12),
        41,
        3,
        97,
        1,
        1,
    ),
    # The as-of month's first instant and the second before it.
    "JUNE1": _bought(
        "30.00",
        "30.00",
        "0.00",
        "0.00",
        "0.00",
        2,
        2,
        "15.00",
        local(2026, 5, 31, 23, 59, 59),
        local(2026, 6, 1, 0, 0),
        14,
        1,
        15,
        2,
        1,
    ),
    # A refund alone: negative revenue, no order, no average, no active month.
    "REFUND": _bought(
        "-25.00",
        "-25.00",
        "0.00",
        "0.00",
        "0.00",
        0,
        0,
        None,
        local(2026, 6, 1, 0, 0),
        local(2026, 6, 1, 0, 0),
        14,
        0,
        14,
        0,
        0,
    ),
    **{f"K{k}": _one(ym, 0 if k >= 12 else 1) for k, ym in MONTHS_BACK.items()},
    # 101 orders of 1.51 in all: 0.0149505 a order, 0.01 to the cent (0.015 if it were kept to
    # a tenth of a fen, 0.00 if floored).
    # An average of exactly half a fen over 500,000 yuan: 1,000,000.07 over two orders is
    # 500,000.035, shown 500,000.04 (a float read to 11 decimals would show 500,000.03).
    "HALF_FEN": _bought(
        "1000000.07",
        "1000000.07",
        "0.00",
        "0.00",
        "0.00",
        2,
        2,
        "500000.04",
        local(2026, 6, 3, 9),
        local(2026, 6, 3, 9),
        12,
        0,
        12,
        1,
        1,
    ),
    "AVG101": _bought(
        "1.51",
        "1.51",
        "0.00",
        "0.00",
        "0.00",
        101,
        101,
        "0.01",
        local(2026, 6, 2, 9),
        local(2026, 6, 2, 9),
        13,
        0,
        13,
        1,
        1,
    ),
    # One purchase in each period, on the periods' inner edges (k 2 | 3, 8 | 9).
    "Q4": {},
    # Periods 0, 1 and 3, not 2.
    "Q3": {},
    # Paid exactly at the end of the as-of day: unpaid as of then, late to the as-of day.
    "PAID_AT_END": {**NOTHING, "overdue_payments": 1, "max_days_late": 5, "avg_days_late": 5.0},
    # Recorded at the window's first instant: counted; a second before: not.
    "PAY_AT_START": {**NOTHING, "overdue_payments": 1, "max_days_late": 2, "avg_days_late": 2.0},
    "PAY_BEFORE_START": dict(NOTHING),
    # Due and recorded in 1995, never paid: before the window.
    "PAY_1995": dict(NOTHING),
    # Recorded at the end of the as-of day: after it.
    "PAY_AT_END": dict(NOTHING),
    # A payment without a due date is never late.
    "NO_DUE": dict(NOTHING),
    # 3 and 10 days late, one on its due day, one 3 days early, one unpaid but cancelled or
    # planned: two
    # overdue, the longest 10, on average 6.5.
    "PAY2": {**NOTHING, "overdue_payments": 2, "max_days_late": 10, "avg_days_late": 6.5},
    # Feedback 5 and a complaint 2 at the window's start; a complaint a second before the window,
    # one at the end of the as-of day, one a second later, a cancelled and a planned one do not
    # count.
    "SAT": {**NOTHING, "avg_satisfaction": 3.5, "complaints_window": 1},
    "NEVER": dict(NOTHING),
    # Bought only after the as-of day: at the end of it, or on the next month's first instant
    # (the as-of month is then whole), and a second later.
    "AFTER": dict(NOTHING),
}
q4 = [local(*MONTHS_BACK[k], 10, 12) for k in (2, 3, 8, 9)]
EXPECTED["Q4"] = _bought(
    "4.00", "4.00", "0.00", "0.00", "0.00", 4, 4, "1.00", q4[-1], q4[0], 66, 9, 278, 4, 4
)
q3 = [local(*MONTHS_BACK[k], 10, 12) for k in (0, 5, 11)]
EXPECTED["Q3"] = _bought(
    "3.00", "3.00", "0.00", "0.00", "0.00", 3, 3, "1.00", q3[-1], q3[0], 5, 11, 340, 3, 3
)


def _log(app: Any, after: datetime) -> dict[str, int]:
    """The customers of EXPECTED and their interactions (and one archived buyer)."""
    ids = add_customers(app, [*EXPECTED, "ARCHIVED"])
    rows = [
        purchase(ids["W"], local(2025, 7, 1, 0, 0), 100, cost=60),
        purchase(ids["W"], local(2025, 6, 30, 23, 59, 59), 200),
        purchase(ids["W"], local(2024, 7, 1, 0, 0), 400, cost=100),
        purchase(ids["W"], local(2024, 6, 30, 23, 59, 59), 800),
        purchase(ids["W"], local(2026, 6, 15, 23, 59, 59), 1600, cost=1000),
        purchase(ids["R"], local(2026, 3, 10, 12), 300, cost=100),
        purchase(ids["R"], local(2026, 4, 10, 12), -50, cost=20),
        purchase(ids["R"], local(2026, 5, 5, 12), -10),
        purchase(ids["JUNE1"], local(2026, 6, 1, 0, 0), 10),
        purchase(ids["JUNE1"], local(2026, 5, 31, 23, 59, 59), 20),
        purchase(ids["REFUND"], local(2026, 6, 1, 0, 0), -25),
        *(purchase(ids["AVG101"], local(2026, 6, 2, 9), "0.01") for _ in range(100)),
        purchase(ids["AVG101"], local(2026, 6, 2, 9), "0.51"),
        purchase(ids["HALF_FEN"], local(2026, 6, 3, 9), "500000.00"),
        purchase(ids["HALF_FEN"], local(2026, 6, 3, 9), "500000.07"),
        *(purchase(ids[f"K{k}"], local(*ym, 10, 12), 1) for k, ym in MONTHS_BACK.items()),
        *(purchase(ids["Q4"], at, 1) for at in q4),
        *(purchase(ids["Q3"], at, 1) for at in q3),
        payment(ids["PAID_AT_END"], local(2026, 6, 10, 9), local(2026, 6, 16, 0, 0)),
        payment(ids["PAY_AT_START"], local(2025, 7, 1, 0, 0), local(2025, 7, 3, 12)),
        payment(ids["PAY_BEFORE_START"], local(2025, 6, 30, 23, 59, 59), local(2025, 7, 5, 12)),
        payment(ids["PAY_1995"], local(1995, 1, 10, 9), None),
        payment(ids["PAY_AT_END"], local(2026, 6, 1, 9), None, at=local(2026, 6, 16, 0, 0)),
        dict(
            customer_id=ids["NO_DUE"],
            kind="payment",
            status="done",
            occurred_at=local(2026, 6, 1, 9),
            amount=Decimal("100.00"),
        ),
        payment(ids["PAY2"], local(2026, 5, 1, 9), local(2026, 5, 4, 9)),
        payment(ids["PAY2"], local(2026, 5, 1, 9), local(2026, 5, 11, 23, 59)),
        payment(ids["PAY2"], local(2026, 5, 1, 9), local(2026, 5, 1, 23, 59)),
        payment(ids["PAY2"], local(2026, 5, 1, 9), local(2026, 4, 28, 9)),
        {**payment(ids["PAY2"], local(2026, 5, 1, 9), None), "status": "cancelled"},
        {**payment(ids["PAY2"], local(2026, 5, 1, 9), None), "status": "planned"},
        *(
            dict(customer_id=ids["SAT"], kind=kind, status="done", occurred_at=at, satisfaction=score)
            for kind, at, score in (
                ("feedback", local(2026, 6, 1, 9), 5),
                ("complaint", local(2025, 7, 1, 0, 0), 2),
                ("complaint", local(2025, 6, 30, 23, 59, 59), 1),
                ("complaint", local(2026, 6, 16, 0, 0), 1),
                ("complaint", local(2026, 6, 16, 0, 0, 1), 1),
            )
        ),
        *(
            dict(
                customer_id=ids["SAT"],
                kind="complaint",
                status=status,
                occurred_at=local(2026, 6, 2),
                satisfaction=1,
            )
            for status in ("cancelled", "planned")
        ),
        purchase(ids["AFTER"], after, 3200),
        purchase(ids["AFTER"], local(2026, 7, 1, 0, 0, 1), 6400),  # the next month: never read
        purchase(ids["ARCHIVED"], local(2026, 6, 1, 9), 100),
    ]
    record(app, rows)
    with app.session() as session:
        session.execute(update(Customer).where(Customer.id == ids["ARCHIVED"]).values(active=False))
        session.commit()
    return ids


def _by_both_paths(app: Any, settings: Any, ids: dict[str, int]) -> tuple[dict[str, Any], dict[str, Any]]:
    """{code: row} as a run reads it (the work tables) and by the one-query definition."""
    codes = {cid: code for code, cid in ids.items()}
    one = classified_select(app.dialect, settings).subquery("one")
    query = select(*(type_coerce(c, YUAN).label(c.name) if c.name in MONEY_COLUMNS else c for c in one.c))
    with app.session() as session:
        one_query = {codes[r["customer_id"]]: money(dict(r)) for r in session.execute(query).mappings()}
        with WorkTables(session, app.dialect, []) as temp:
            temp.fill(settings)
            run = {code: money(temp.customer_row(cid) or {}) for code, cid in ids.items()}
    return run, one_query


def _differences(rows: dict[str, Any], expected: dict[str, dict[str, Any]]) -> dict[Any, Any]:
    return {
        (code, name): (rows.get(code, {}).get(name, "missing"), value)
        for code, columns in expected.items()
        for name, value in columns.items()
        if rows.get(code, {}).get(name, "missing") != value
    }


@pytest.mark.parametrize(
    "after, whole",
    [(local(2026, 6, 16, 0, 0), False), (local(2026, 7, 1, 0, 0), True)],
    ids=["as-of-month-from-interactions", "as-of-month-whole"],
)
def test_every_column_on_the_window_and_as_of_edges(tiering_app: Any, after: datetime, whole: bool) -> None:
    ids = _log(tiering_app, after)
    settings = make_settings(as_of=AS_OF)
    with tiering_app.session() as session:
        assert as_of_month_is_whole(session, settings) is whole
    run, one_query = _by_both_paths(tiering_app, settings, ids)
    assert _differences(run, EXPECTED) == {}
    assert _differences(one_query, EXPECTED) == {}
    assert run["ARCHIVED"] == {} and "ARCHIVED" not in one_query


#: (settings, {code: {column: value}}): the window over all history, and 6 months by margin.
OTHER_SETTINGS = {
    "all": (
        {"window": "all"},
        {
            "W": {
                "revenue_window": Decimal("3100.00"),
                "revenue_prev_window": Decimal("0.00"),
                "margin_window": Decimal("940.00"),
                "orders_window": 5,
                "avg_order_value": Decimal("620.00"),
                "months_active": 5,  # June and July 2024, June and July 2025, June 2026
                "quarters_active": 2,  # the last 12 months, whatever the window
                "measure": Decimal("3100.00"),
                "measure_cents": 310000,
            },
            "K12": {
                "revenue_window": Decimal("1.00"),
                "orders_window": 1,
                "months_active": 1,
                "quarters_active": 0,
            },
            "PAY_BEFORE_START": {"overdue_payments": 1, "max_days_late": 5, "avg_days_late": 5.0},
            # 1995-01-10 to 2026-06-15, unpaid
            "PAY_1995": {"overdue_payments": 1, "max_days_late": 11479, "avg_days_late": 11479.0},
            "PAY_AT_END": {"overdue_payments": 0},
            "SAT": {"avg_satisfaction": 2.6667, "complaints_window": 2},  # (5 + 2 + 1) / 3
        },
    ),
    "6-margin": (
        {"window": 6, "measure": "margin"},
        {
            # January - June 2026; the previous window July - December 2025
            "W": {
                "revenue_window": Decimal("1600.00"),
                "revenue_prev_window": Decimal("100.00"),
                "margin_window": Decimal("600.00"),
                "orders_window": 1,
                "months_active": 1,
                "measure": Decimal("600.00"),
                "measure_cents": 60000,
            },
            "R": {"margin_window": Decimal("170.00"), "measure": Decimal("170.00"), "measure_cents": 17000},
            "K5": {
                "revenue_window": Decimal("1.00"),
                "revenue_prev_window": Decimal("0.00"),
                "months_active": 1,
            },
            "K8": {
                "revenue_window": Decimal("0.00"),
                "revenue_prev_window": Decimal("1.00"),
                "months_active": 0,
            },
            "K11": {"revenue_window": Decimal("0.00"), "revenue_prev_window": Decimal("1.00")},
            "K12": {"revenue_window": Decimal("0.00"), "revenue_prev_window": Decimal("0.00")},
            "PAY_AT_START": {"overdue_payments": 0},
            "SAT": {"avg_satisfaction": 5.0, "complaints_window": 0},
        },
    ),
}


@pytest.mark.parametrize("name", list(OTHER_SETTINGS))
def test_the_window_over_all_history_and_the_margin_measure(tiering_app: Any, name: str) -> None:
    options, expected = OTHER_SETTINGS[name]
    ids = _log(tiering_app, local(2026, 6, 16, 0, 0))
    run, one_query = _by_both_paths(tiering_app, make_settings(as_of=AS_OF, **options), ids)
    for rows in (run, one_query):
        got = {code: {k: rows[code][k] for k in columns} for code, columns in expected.items()}
        assert got == expected


# -- the customer's own fields, tags and attributes -------------------------------------------


def test_own_fields_as_long_as_the_card_takes_them(tiering_app: Any) -> None:
    """A region, industry and owner of 100 characters (the card's longest) and kind ``person``
    reach the statistics whole, by ``kehu tier stats`` and by a run, on both databases."""
    with tiering_app.session() as session:
        add_customer(
            tiering_app,
            session,
            {
                "code": "LONG",
                "name": "长",
                "kind": "person",
                "region": "区" * 100,
                "industry": "i" * 100,
                "owner": "o" * 100,
            },
        )
    with tiering_app.session() as session:
        row = customer_stats(tiering_app, session, "LONG", make_settings(as_of=AS_OF))
    assert (row["kind"], row["region"], row["industry"], row["owner"]) == (
        "person",
        "区" * 100,
        "i" * 100,
        "o" * 100,
    )
    assert run(tiering_app, as_of=AS_OF).customers == 1


class TagsAndAttributes:
    """Flags by a tag and by a word in a list attribute (``%`` and ``_`` are literal characters)."""

    @hookimpl
    def kehu_tier_rules(self) -> list[TierRule]:
        return [
            TierRule(name="t.tag", flag="tagged", when=has_tag("重点")),
            TierRule(name="t.word", flag="half_off", when=attribute_contains("offers", "50%_")),
            TierRule(name="t.text", flag="north", when=attribute("zone") == "北区"),
        ]


def test_a_tag_or_an_attribute_is_the_customer_s_own(tiering_app: Any, kehu_register_plugin: Any) -> None:
    """TAGGED holds the tag, the word ``50%_`` and the zone; BEFORE (a smaller id) and LATER (a
    larger one) hold none of them, but tags that sort before and after the tag; LIKE holds
    words that ``50%_`` would match with ``%`` or ``_`` unescaped."""
    kehu_register_plugin(TagsAndAttributes(), "tags")
    ids = add_customers(tiering_app, ["BEFORE"], attributes={"zone": "东区"})
    ids |= add_customers(tiering_app, ["TAGGED"], attributes={"offers": ["50%_off"], "zone": "北区"})
    ids |= add_customers(tiering_app, ["LATER"], attributes={"offers": ["none"], "zone": "南区"})
    ids |= add_customers(tiering_app, ["LIKE"], attributes={"offers": ["50a_off", "50%a"]})
    with tiering_app.session() as session:
        session.add(CustomerTag(customer_id=ids["BEFORE"], tag="其他"))  # sorts before 重点
        session.add(CustomerTag(customer_id=ids["TAGGED"], tag="重点"))
        session.add(CustomerTag(customer_id=ids["LATER"], tag="首要"))  # sorts after 重点
    assert ids["BEFORE"] < ids["TAGGED"] < ids["LATER"] < ids["LIKE"]
    run(tiering_app, as_of=AS_OF)
    for flag in ("tagged", "half_off", "north"):
        assert set(current(tiering_app, f"flag:{flag}")) == {ids["TAGGED"]}, flag


# -- local days in a zone with daylight saving time ------------------------------------------


def test_local_days_in_a_zone_with_daylight_saving_time(
    kehu_app: Any, company_zone: Callable[[str], None]
) -> None:
    """Berlin: midnight is 23:00 UTC in winter and 22:00 UTC in summer; a second before is the day before."""
    company_zone("Europe/Berlin")
    table = Table(
        "tiering_test_days", MetaData(), Column("id", BigId, primary_key=True), Column("at", UTCDateTime)
    )
    instants = {
        1: datetime(2026, 3, 28, 23, 0, tzinfo=UTC),  # 2026-03-29 00:00 CET
        2: datetime(2026, 3, 28, 22, 59, 59, tzinfo=UTC),  # 2026-03-28 23:59:59
        3: datetime(2026, 6, 14, 22, 0, tzinfo=UTC),  # 2026-06-15 00:00 CEST
        4: datetime(2026, 6, 14, 21, 59, 59, tzinfo=UTC),  # 2026-06-14 23:59:59
    }
    with kehu_app.session() as session:
        table.create(session.connection())
        session.execute(insert(table), [{"id": n, "at": at} for n, at in instants.items()])
        got = dict(session.execute(select(table.c.id, day_number(table.c.at, kehu_app.dialect))).all())
        table.drop(session.connection())
    march_29 = (date(2026, 3, 29) - date(1970, 1, 1)).days
    june_15 = (date(2026, 6, 15) - date(1970, 1, 1)).days
    assert got == {1: march_29, 2: march_29 - 1, 3: june_15, 4: june_15 - 1}


# -- a plugin's statistics column ------------------------------------------------------------


def _visits(customer_id: Any) -> Any:
    return select(func.count()).where(Interaction.customer_id == customer_id).scalar_subquery()


@pytest.mark.parametrize(
    "name",
    [5, None, "", "Visits", "1visits", "visits-total", "visits total", "v" * 64, "revenue_window", "rank"],
)
def test_a_statistics_column_s_name_is_refused_in_one_line(name: Any) -> None:
    with pytest.raises(ValueError, match=r"^statistics column .*(63 at most|already a column)") as refused:
        StatColumn(name=name, expression=_visits)
    assert "\n" not in str(refused.value)


def test_a_statistics_column_s_name_and_type() -> None:
    """63 characters, digits and ``_`` after the first letter pass; the type is the expression's
    unless given; an expression of unknown type needs ``type=``; not a function is refused."""
    longest = StatColumn(name="v" + "_9" * 31, expression=_visits)
    assert len(longest.name) == 63 and isinstance(longest.sql_type, Integer)
    assert isinstance(StatColumn(name="a", expression=_visits, type=String(8)).sql_type, String)
    assert longest.column.table is STATS and longest.column.name == longest.name
    assert stat("recency_days") is STATS.c.recency_days
    unknown = StatColumn(name="unknown", expression=lambda customer_id: literal_column("1"))
    with pytest.raises(ValueError, match=r"^statistics column unknown: give type="):
        unknown.sql_type  # noqa: B018
    with pytest.raises(ValueError, match=r"^statistics column visits: expression must be a function"):
        StatColumn(name="visits", expression="count(*)")  # type: ignore[arg-type]


def test_the_largest_amounts_add_up_to_the_cent(tiering_app: Any) -> None:
    """Two purchases of the largest amount a card takes (9,999,999,999,999.99) in the window: the
    statistics (before ranking) are exact to the cent, 16 digits of cents."""
    ids = add_customers(tiering_app, ["BIG"])
    largest = "9999999999999.99"
    record(tiering_app, [purchase(ids["BIG"], local(2026, 6, 1, 9), largest, cost="0.01") for _ in range(2)])
    base = base_select(tiering_app.dialect, make_settings(as_of=AS_OF)).subquery("base")
    money_read = (type_coerce(base.c[name], YUAN).label(name) for name in ("revenue_window", "margin_window"))
    with tiering_app.session() as session:
        row = money(dict(session.execute(select(*money_read, base.c.measure_cents)).mappings().one()))
    assert row == {
        "revenue_window": Decimal("19999999999999.98"),
        "margin_window": Decimal("19999999999999.96"),
        "measure_cents": 1999999999999998,
    }


def test_sums_past_ten_thousand_trillion_yuan_convert_without_overflow(tiering_app: Any) -> None:
    """1,001 purchases of the largest amount: ¥10,009,999,999,999,989.99 in all, 19 digits of
    cents (a BIGINT holds them). The statistics convert them to yuan without overflowing; exact
    to the cent on PostgreSQL, to a floating point's 16 digits on SQLite (docs/tiering.md, known
    limits)."""
    ids = add_customers(tiering_app, ["HUGE"])
    largest = Decimal("9999999999999.99")
    record(tiering_app, [purchase(ids["HUGE"], local(2026, 6, 1, 9), largest) for _ in range(1001)])
    with tiering_app.session() as session:
        row = customer_stats(tiering_app, session, "HUGE", make_settings(as_of=AS_OF))
    total = Decimal("10009999999999989.99")
    assert row["measure_cents"] == 1000999999999998999
    assert row["orders_window"] == 1001 and row["avg_order_value"] == largest
    if tiering_app.dialect == "postgresql":
        assert (row["revenue_window"], row["revenue_total"]) == (total, total)
    else:
        assert abs(row["revenue_total"] - total) <= 2 and row["revenue_window"] == row["revenue_total"]
