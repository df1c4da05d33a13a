"""The rank-based methods at their edges: ABC, the pyramid, the RFM scores and segments.

Every comparison of ``kehu_tiering.methods`` gets data exactly on its boundary and one step
either side, with the expected class written by hand from the documented rules:

* ABC: A when the measures strictly larger hold less than cut_A% of the total (80), else B
  below cut_B% (95), else C; a measure of zero or less is C.
* Pyramid: VIP when the customers strictly ahead are fewer than cut_1% of N (1), 主要客户
  below cut_2% (5), 普通客户 below cut_3% (50), else 小客户; zero or less is 小客户.
* RFM: over the buyers (an order in the window), score = 1 + floor(5 * worse / B); then the
  first segment that matches.

The classes are computed by the SQL the run uses, on a statistics relation written by hand
(the columns the methods read), both as the run computes them (N, the total and B as numbers
taken first) and as the one-query definition does (scalar subqueries).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, cast, insert, literal, select

from kehu_tiering import methods
from kehu_tiering.settings import make_settings

#: The columns of the statistics the methods read, one row per customer.
BASE = Table(
    "boundary_stats",
    MetaData(),
    Column("customer_id", Integer, primary_key=True),
    Column("measure_cents", BigInteger, nullable=False),
    Column("orders_window", Integer, nullable=False),
    Column("orders_total", Integer, nullable=False),
    Column("recency_days", Integer),
    Column("tenure_days", Integer),
)
NAMES = ("customer_id", "measure_cents", "orders_window", "orders_total", "recency_days", "tenure_days")
CLASSES = ("customers", "rank", "rank_pct", "cum_share_before", "abc", "pyramid", "r_score", "f_score")
CLASSES += ("m_score", "rfm")


def _number(value: int) -> Any:
    return cast(literal(value), BigInteger)


def _values(app: Any, columns: list[Any]) -> list[Any]:
    """The values of these expressions, in one statement."""
    with app.session() as session:
        return list(session.execute(select(*(c.label(f"c{n}") for n, c in enumerate(columns)))).one())


def _fill(app: Any, rows: list[tuple[Any, ...]]) -> None:
    with app.session() as session:
        BASE.create(session.connection())
        if rows:
            session.execute(insert(BASE), [dict(zip(NAMES, row, strict=True)) for row in rows])
        session.commit()


def _read(row: Any) -> dict[str, Any]:
    """The classes of one row; the shares as floats (PostgreSQL computes them as NUMERIC)."""
    shares = ("rank_pct", "cum_share_before")
    return {c: float(row[c]) if c in shares and row[c] is not None else row[c] for c in CLASSES}


def _as_the_run(app: Any, settings: Any) -> tuple[dict[int, dict[str, Any]], dict[str, list[Any]]]:
    """Every customer's classes as a run computes them, and the three rank relations' rows."""
    with app.session() as session:
        n, total, buyers = (_number(v) for v in session.execute(methods.rank_totals(BASE)).one())
        statements = methods.rank_selects(BASE, n, total, settings, buyers)
        ranks = {name: stmt.subquery(name) for name, stmt in statements.items()}
        view = methods.stats_view_select(BASE, ranks, n, total, settings.new_days).subquery()
        rows = session.execute(select(*(view.c[c] for c in ("customer_id", *CLASSES)))).mappings()
        got = {row["customer_id"]: _read(row) for row in rows}
        relations = {
            name: sorted(tuple(row) for row in session.execute(stmt)) for name, stmt in statements.items()
        }
    return got, relations


def _as_one_query(app: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> dict[int, dict[str, Any]]:
    """The same by ``classified_select`` (scalar subqueries), over the hand-written statistics."""
    monkeypatch.setattr(methods, "base_select", lambda dialect, settings, extra=(): select(BASE))
    one = methods.classified_select(app.dialect, settings).subquery()
    with app.session() as session:
        rows = session.execute(select(*(one.c[c] for c in ("customer_id", *CLASSES)))).mappings()
        return {row["customer_id"]: _read(row) for row in rows}


def _both(app: Any, monkeypatch: pytest.MonkeyPatch, **options: Any) -> dict[int, dict[str, Any]]:
    settings = make_settings(as_of="2026-06-15", **options)
    got, _ = _as_the_run(app, settings)
    assert _as_one_query(app, settings, monkeypatch) == got
    return got


def _column(got: dict[int, dict[str, Any]], name: str) -> dict[int, Any]:
    return {cid: row[name] for cid, row in got.items()}


# -- the cuts, one class at a time (pure functions of the customer's numbers) -------------


# (measure, cum_before, total) -> ABC class, cuts 80 and 95: cum_before * 10000 < cut * total.
ABC_EDGES = [
    (8000, 0, 10000, "A"),  # the top customer
    (1500, 7999, 10000, "A"),  # 79.99% ahead
    (1500, 8000, 10000, "B"),  # exactly 80% ahead
    (1500, 8001, 10000, "B"),
    (1500, 8000, 10001, "A"),  # 79.992% ahead: one cent more in the total
    (500, 9499, 10000, "B"),
    (500, 9500, 10000, "C"),  # exactly 95% ahead
    (500, 9500, 10001, "B"),  # 94.99%
    (500, 9501, 10000, "C"),
    (1, 0, 1, "A"),  # one cent, alone
    (0, 10000, 10000, "C"),
    (-1, 10000, 10000, "C"),
    (0, 0, 0, "C"),  # nobody has a positive measure
    # Totals whose cut * total passes 64 bits (over 9.2 * 10^14 cents): still exact.
    (1, 1_599_999_999_999_999, 2_000_000_000_000_000, "A"),  # a cent under 80% of 20 trillion yuan
    (1, 1_600_000_000_000_000, 2_000_000_000_000_000, "B"),  # exactly 80%
    (1, 1_600_000_000_000_002, 2_000_000_000_000_003, "A"),  # 80% is ...002.4: below it
    (1, 1_600_000_000_000_003, 2_000_000_000_000_003, "B"),
    (1, 1_899_999_999_999_999, 2_000_000_000_000_000, "B"),
    (1, 1_900_000_000_000_000, 2_000_000_000_000_000, "C"),  # exactly 95%
    (1, 7_200_000_000_000_000_000, 9_000_000_000_000_000_001, "A"),  # 80% is ...000.8
    (1, 7_200_000_000_000_000_001, 9_000_000_000_000_000_001, "B"),
    (1, 0, 9_000_000_000_000_000_001, "A"),
    (1, 9_000_000_000_000_000_000, 9_000_000_000_000_000_001, "C"),
    # The total's remainder (mod 10000) counts: 80% of 12504 is 10003.2, so 10003 is below it.
    (1, 10003, 12504, "A"),
    (1, 10004, 12504, "B"),
    (1, 10003, 12503, "B"),  # 80% of 12503 is 10002.4
    # Exactly on a cut with a remainder: 80% of 10005 is 8004, 95% of 10020 is 9519.
    (1, 8003, 10005, "A"),
    (1, 8004, 10005, "B"),
    (1, 9518, 10020, "B"),
    (1, 9519, 10020, "C"),
]


def test_abc_on_its_cuts(kehu_app: Any) -> None:
    settings = make_settings(as_of="2026-06-15")
    columns = [
        methods.measure_classes(_number(m), _number(0), _number(cum), _number(100), _number(total), settings)[
            0
        ]
        for m, cum, total, _ in ABC_EDGES
    ]
    got = _values(kehu_app, columns)
    assert dict(zip(ABC_EDGES, got, strict=True)) == {case: case[-1] for case in ABC_EDGES}


# (measure, rank, N, cuts) -> pyramid class: rank * 10000 < cut * N.
PYRAMID_EDGES = [
    (5, 0, 1, "1,5,50", "VIP"),  # the top customer, even alone
    (5, 0, 100, "1,5,50", "VIP"),
    (5, 1, 100, "1,5,50", "主要客户"),  # exactly 1% ahead
    (5, 1, 101, "1,5,50", "VIP"),  # 0.99% ahead
    (5, 4, 100, "1,5,50", "主要客户"),
    (5, 5, 100, "1,5,50", "普通客户"),  # exactly 5%
    (5, 5, 101, "1,5,50", "主要客户"),
    (5, 49, 100, "1,5,50", "普通客户"),
    (5, 50, 100, "1,5,50", "小客户"),  # exactly 50%
    (5, 50, 101, "1,5,50", "普通客户"),
    (5, 51, 100, "1,5,50", "小客户"),
    # cuts with decimals: 1.37% of 73 customers is 1.0001 customers, so rank 1 is still VIP
    (5, 1, 73, "1.37,5,50", "VIP"),
    (5, 1, 72, "1.37,5,50", "主要客户"),
    # 42.86% of 7 customers is 3.0002: rank 3 is still inside each cut in turn; 42.85%: 2.9995
    (5, 3, 7, "42.86,50,60", "VIP"),
    (5, 3, 7, "42.85,50,60", "主要客户"),
    (5, 3, 7, "1,42.86,50", "主要客户"),
    (5, 3, 7, "1,42.85,50", "普通客户"),
    (5, 3, 7, "1,5,42.86", "普通客户"),
    (5, 3, 7, "1,5,42.85", "小客户"),
    (5, 2, 4, "25,50,75", "普通客户"),
    (5, 3, 4, "25,50,75", "小客户"),  # exactly 75%
    (5, 3, 4, "25,50,75.01", "普通客户"),
    (5, 3, 4, "25,50,100", "普通客户"),  # a last cut of 100%: every positive measure is above 小客户
    (0, 0, 4, "25,50,100", "小客户"),  # zero: 小客户 whatever its rank
    (-1, 0, 4, "25,50,100", "小客户"),
    (1, 0, 4, "25,50,100", "VIP"),
]


def test_pyramid_on_its_cuts(kehu_app: Any) -> None:
    columns = [
        methods.measure_classes(
            _number(m),
            _number(rank),
            _number(0),
            _number(n),
            _number(100),
            make_settings("2026-06-15", pyramid_cuts=cuts),
        )[1]
        for m, rank, n, cuts, _ in PYRAMID_EDGES
    ]
    got = _values(kehu_app, columns)
    assert dict(zip(PYRAMID_EDGES, got, strict=True)) == {case: case[-1] for case in PYRAMID_EDGES}


def test_abc_cuts_with_decimals(kehu_app: Any) -> None:
    """Cuts 80.25 and 99.99: basis points 8025 and 9999, compared exactly."""
    assert methods.basis_points(Decimal("80.25")) == 8025
    assert methods.basis_points(Decimal("0.01")) == 1
    assert methods.basis_points(Decimal(100)) == 10000
    settings = make_settings(as_of="2026-06-15", abc_cuts="80.25,99.99")
    cases = {8024: "A", 8025: "B", 9998: "B", 9999: "C"}
    columns = [
        methods.measure_classes(_number(1), _number(0), _number(cum), _number(100), _number(10000), settings)[
            0
        ]
        for cum in cases
    ]
    assert dict(zip(cases, _values(kehu_app, columns), strict=True)) == cases


# (worse, buyers) -> 1 + floor(5 * worse / buyers); no buyers: no score.
SCORE_EDGES = [
    (0, 1, 1),
    (0, 5, 1),
    (1, 5, 2),  # exactly one fifth worse
    (4, 5, 5),
    (1, 6, 1),  # 5/6 of a fifth
    (2, 6, 2),
    (5, 6, 5),
    (1, 10, 1),
    (2, 10, 2),  # exactly a fifth
    (3, 10, 2),
    (9, 10, 5),
    (0, 0, None),
]


def test_rfm_score_on_the_quintiles(kehu_app: Any) -> None:
    got = _values(kehu_app, [methods.score(_number(w), _number(b)) for w, b, _ in SCORE_EDGES])
    assert dict(zip(SCORE_EDGES, got, strict=True)) == {case: case[-1] for case in SCORE_EDGES}


# (R, F, M, orders_total, orders_window, tenure_days, new_days) -> segment, first match wins.
SEGMENT_EDGES = [
    (None, None, None, 0, 0, None, 90, "prospect"),
    (None, None, None, 1, 0, 400, 90, "lost"),
    (5, 5, 5, 1, 0, 400, 90, "lost"),  # scores, no order in the window: still lost
    (1, 1, 1, 1, 1, 89, 90, "new"),
    (1, 1, 1, 1, 1, 90, 90, "new"),  # first purchase exactly new_days ago
    (1, 1, 1, 1, 1, 91, 90, "hibernating"),
    (5, 5, 5, 1, 1, 30, 30, "new"),
    (5, 5, 5, 1, 1, 31, 30, "champions"),
    (4, 4, 4, 9, 3, 400, 90, "champions"),
    (3, 4, 4, 9, 3, 400, 90, "loyal"),
    (4, 3, 4, 9, 3, 400, 90, "potential_loyalist"),
    (4, 4, 3, 9, 3, 400, 90, "loyal"),
    (3, 4, 1, 9, 3, 400, 90, "loyal"),
    (3, 5, 5, 9, 3, 400, 90, "loyal"),
    (2, 4, 1, 9, 3, 400, 90, "at_risk"),
    (4, 1, 1, 9, 3, 400, 90, "potential_loyalist"),
    (5, 3, 5, 9, 3, 400, 90, "potential_loyalist"),
    (3, 3, 1, 9, 3, 400, 90, "need_attention"),
    (3, 3, 5, 9, 3, 400, 90, "need_attention"),
    (3, 2, 1, 9, 3, 400, 90, "about_to_sleep"),
    (3, 1, 5, 9, 3, 400, 90, "about_to_sleep"),
    (2, 3, 1, 9, 3, 400, 90, "at_risk"),
    (2, 4, 4, 9, 3, 400, 90, "cannot_lose"),
    (1, 5, 5, 9, 3, 400, 90, "cannot_lose"),
    (2, 4, 3, 9, 3, 400, 90, "at_risk"),
    (2, 3, 4, 9, 3, 400, 90, "at_risk"),
    (1, 3, 1, 9, 3, 400, 90, "at_risk"),
    (2, 2, 5, 9, 3, 400, 90, "hibernating"),
    (2, 2, 2, 9, 3, 400, 90, "hibernating"),
    (1, 1, 1, 9, 3, 400, 90, "hibernating"),
]


def test_rfm_segment_first_match(kehu_app: Any) -> None:
    columns = [
        methods.rfm_segment(*(literal(None) if v is None else _number(v) for v in case[:6]), case[6])
        for case in SEGMENT_EDGES
    ]
    got = _values(kehu_app, columns)
    assert dict(zip(SEGMENT_EDGES, got, strict=True)) == {case: case[-1] for case in SEGMENT_EDGES}


# -- ranks over customers: ties, buyers, both ways of computing them ----------------------

#: id, measure (cents), orders in the window, orders ever, recency days, tenure days.
CUSTOMERS = [
    (1, 5000, 3, 5, 2, 400),
    (2, 5000, 1, 1, 10, 10),  # ties customer 1's measure; first purchase 10 days ago
    (3, 2000, 2, 2, 30, 200),
    (4, 1000, 1, 3, 30, 300),  # ties customer 3's recency
    (5, -200, 1, 1, 60, 95),  # an order, and a larger refund, in the window
    (6, -300, 0, 2, 10, 700),  # only a refund in the window: not a buyer, recency of customer 2
    (7, 0, 0, 0, None, None),  # never bought
]


def test_ranks_ties_and_scores_by_hand(kehu_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """N = 7, total = 130.00 (positive measures only), B = 5 buyers (1-5)."""
    _fill(kehu_app, CUSTOMERS)
    got = _both(kehu_app, monkeypatch)
    assert set(_column(got, "customers").values()) == {7}
    # Strictly larger measures ahead: the two 50.00 share rank 0.
    assert _column(got, "rank") == {1: 0, 2: 0, 3: 2, 4: 3, 5: 5, 6: 6, 7: 4}
    assert _column(got, "rank_pct") == pytest.approx(
        {1: 0, 2: 0, 3: 2 / 7, 4: 3 / 7, 5: 5 / 7, 6: 6 / 7, 7: 4 / 7}
    )
    # Positive measures ahead over the total: 100.00 / 130.00 before 20.00, 120.00 before 10.00.
    shares = {1: 0, 2: 0, 3: 100 / 130, 4: 120 / 130, 5: 1, 6: 1, 7: 1}
    assert _column(got, "cum_share_before") == pytest.approx(shares)
    # 76.9% ahead: A; 92.3%: B; no positive measure: C.
    assert _column(got, "abc") == {1: "A", 2: "A", 3: "A", 4: "B", 5: "C", 6: "C", 7: "C"}
    # 1% of 7 is 0.07 (rank 0 only), 5% 0.35, 50% 3.5 (ranks 2 and 3).
    assert _column(got, "pyramid") == {
        1: "VIP",
        2: "VIP",
        3: "普通客户",
        4: "普通客户",
        5: "小客户",
        6: "小客户",
        7: "小客户",
    }
    # R: buyers with a strictly longer recency (2 -> 4, 10 -> 3, 30 -> 1, 60 -> 0), score 1 + worse.
    assert _column(got, "r_score") == {1: 5, 2: 4, 3: 2, 4: 2, 5: 1, 6: None, 7: None}
    # F: buyers with strictly fewer orders (3 -> 4, 2 -> 3, 1 -> 0).
    assert _column(got, "f_score") == {1: 5, 2: 1, 3: 4, 4: 1, 5: 1, 6: None, 7: None}
    # M: buyers with a strictly smaller measure (50.00 -> 3, 20.00 -> 2, 10.00 -> 1, -2.00 -> 0).
    assert _column(got, "m_score") == {1: 4, 2: 4, 3: 3, 4: 2, 5: 1, 6: None, 7: None}
    assert _column(got, "rfm") == {
        1: "champions",
        2: "new",
        3: "at_risk",
        4: "hibernating",
        5: "hibernating",  # first purchase 95 days ago: not new
        6: "lost",
        7: "prospect",
    }


def test_rank_relations_per_distinct_value(kehu_app: Any) -> None:
    """One row per distinct value: (measure, ahead, positive ahead, customers below, ABC, pyramid, M)."""
    _fill(kehu_app, CUSTOMERS)
    _, relations = _as_the_run(kehu_app, make_settings(as_of="2026-06-15"))
    assert relations["by_measure"] == [
        (-300, 6, 13000, 0, "C", "小客户", 1),
        (-200, 5, 13000, 1, "C", "小客户", 1),
        (0, 4, 13000, 2, "C", "小客户", 2),
        (1000, 3, 12000, 3, "B", "普通客户", 2),
        (2000, 2, 10000, 4, "A", "普通客户", 3),
        (5000, 0, 0, 5, "A", "VIP", 4),
    ]
    # Recency and orders: the buyers' values only, with the buyers strictly worse and the score.
    assert relations["by_recency"] == [(2, 4, 5), (10, 3, 4), (30, 1, 2), (60, 0, 1)]
    assert relations["by_orders"] == [(1, 0, 1), (2, 3, 4), (3, 4, 5)]


def test_one_buyer_and_one_cent(kehu_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A single buyer of one cent: A and VIP; every score 1 (nobody is worse), so hibernating."""
    _fill(kehu_app, [(1, 1, 1, 1, 200, 300), (2, 0, 0, 1, 500, 600), (3, 0, 0, 0, None, None)])
    got = _both(kehu_app, monkeypatch)
    assert got[1] == {
        "customers": 3,
        "rank": 0,
        "rank_pct": 0,
        "cum_share_before": 0,
        "abc": "A",
        "pyramid": "VIP",
        "r_score": 1,
        "f_score": 1,
        "m_score": 1,
        "rfm": "hibernating",
    }
    # Zero measures behind it: the whole cent ahead, C and 小客户 whatever the small rank.
    assert (got[2]["abc"], got[2]["pyramid"], got[2]["rank"], got[2]["cum_share_before"]) == (
        "C",
        "小客户",
        1,
        1,
    )
    assert (got[2]["rfm"], got[3]["rfm"]) == ("lost", "prospect")


def test_no_positive_measure_and_no_buyer(kehu_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Total 0 and B = 0: every customer is C and 小客户, their share ahead is 1, no scores."""
    _fill(kehu_app, [(1, 0, 0, 1, 40, 500), (2, -500, 0, 2, 40, 500), (3, 0, 0, 0, None, None)])
    got = _both(kehu_app, monkeypatch)
    for cid in (1, 2, 3):
        row = got[cid]
        assert (row["abc"], row["pyramid"], row["cum_share_before"]) == ("C", "小客户", 1), cid
        assert (row["r_score"], row["f_score"], row["m_score"]) == (None, None, None), cid
    assert _column(got, "rank") == {1: 0, 2: 2, 3: 0}
    assert _column(got, "rfm") == {1: "lost", 2: "lost", 3: "prospect"}


def test_quintiles_over_five_and_ten_buyers(kehu_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten buyers with distinct values: worse 0..9 gives 1, 1, 2, 2, 3, 3, 4, 4, 5, 5 on every
    dimension; a non-buyer with a zero measure counts in N and the pyramid but not in B."""
    rows = [(k, 100 * k, k, k, 100 - k, 400) for k in range(1, 11)]
    _fill(kehu_app, [*rows, (11, 0, 0, 1, 300, 900)])
    got = _both(kehu_app, monkeypatch)
    quintiles = {k: 1 + (k - 1) // 2 for k in range(1, 11)}
    for name in ("r_score", "f_score", "m_score"):
        assert {cid: got[cid][name] for cid in quintiles} == quintiles, name
    # 11 customers: 1% is 0.11 and 5% 0.55 customers (rank 0 only: VIP), 50% 5.5 (ranks 1-5).
    assert [got[k]["pyramid"] for k in range(10, 0, -1)] == ["VIP"] + ["普通客户"] * 5 + ["小客户"] * 4
    assert got[11]["pyramid"] == "小客户" and got[11]["customers"] == 11
    # ABC: total 55.00; ahead of 5.00 is 40.00 (72.7%), of 4.00 45.00 (81.8%), of 2.00 52.00
    # (94.5%), of 1.00 54.00 (98.2%).
    assert [got[k]["abc"] for k in range(10, 0, -1)] == ["A"] * 6 + ["B"] * 3 + ["C"]
