"""Tiering on data shaped like a real retail log, and the edges of the rules that read it:
change-heavy re-runs, RFM over buyers, the key-account rule, upgrade potential, the
key-account / poor-quality conflict, and what ``tier explain`` shows after a second run."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select
from test_crosscheck import _current, _frames
from tiering_helpers import AS_OF, add_customers, current, local, payment, purchase, record, run
from tiering_reference import classify

from kehu_core.models import Customer
from kehu_tiering import api
from kehu_tiering.api import customer_stats
from kehu_tiering.models import assignments as a
from kehu_tiering.models import snapshots as snap
from kehu_tiering.settings import make_settings
from kehu_tiering.stats import RFM_SEGMENTS

pytestmark = pytest.mark.usefixtures("shanghai")


def _history(app: Any) -> list[Any]:
    with app.session() as session:
        return session.execute(select(a).order_by(a.c.id)).all()


def test_change_heavy_rerun_closes_every_moved_row_once(tiering_app: Any) -> None:
    """Every customer moves: each old row is closed by the second run, one current row each."""
    codes = [f"M{i:03d}" for i in range(40)]
    ids = add_customers(tiering_app, codes)
    when = datetime(2026, 5, 1, 10, tzinfo=UTC)
    record(tiering_app, [purchase(ids[c], when, 100 * (i + 1)) for i, c in enumerate(codes)])
    run(tiering_app)
    first = current(tiering_app, "pyramid")
    # The order turns over: the smallest buy the most in June.
    later = datetime(2026, 6, 20, 10, tzinfo=UTC)
    record(tiering_app, [purchase(ids[c], later, 100_000 * (40 - i)) for i, c in enumerate(codes)])
    result = run(tiering_app, as_of=date(2026, 6, 30))
    second = current(tiering_app, "pyramid")
    moved = [cid for cid in first if first[cid] != second[cid]]
    assert len(moved) >= 20
    rows = [r for r in _history(tiering_app) if r.method == "pyramid"]
    for cid in moved:
        mine = [(r.tier, r.valid_to, r.ended_run_id) for r in rows if r.customer_id == cid]
        assert mine == [(first[cid], date(2026, 6, 30), result.run_id), (second[cid], None, None)]
    assert sum(1 for r in rows if r.valid_to is None) == 40


def test_explain_shows_the_latest_runs_numbers_and_window(tiering_app: Any, kehu_cli: Any) -> None:
    """The tier stays the same across two runs; explain shows the second run's date, window, numbers."""
    ids = add_customers(tiering_app, ["E1", "E2"])
    record(
        tiering_app,
        [
            purchase(ids["E1"], datetime(2026, 5, 1, 10, tzinfo=UTC), 9000),
            purchase(ids["E2"], datetime(2026, 5, 1, 10, tzinfo=UTC), 100),
        ],
    )
    run(tiering_app)  # as of 2026-06-15, window 12
    record(tiering_app, [purchase(ids["E1"], datetime(2026, 6, 20, 10, tzinfo=UTC), 1000)])
    run(tiering_app, as_of=date(2026, 6, 30), window=6)
    explained = kehu_cli("tier", "explain", "E1", "--json").json["explanations"]
    pyramid = next(e for e in explained if e["method"] == "pyramid")
    assert pyramid["tier"] == "VIP"
    assert pyramid["valid_from"] == AS_OF.isoformat()  # first given by the first run
    assert pyramid["run_as_of"] == "2026-06-30"
    assert pyramid["cut_points"]["window_months"] == 6
    assert float(pyramid["metrics"]["revenue_window"]) == 10000.0  # 9000 + 1000, not 9000
    text = kehu_cli("tier", "explain", "E1").output
    assert "10000" in text and "numbers of the run as of" in text and "2026-06-30" in text


# -- RFM over the buyers ------------------------------------------------------------------


def _scores(app: Any) -> dict[str, tuple[str, Any, Any, Any]]:
    """{code: (segment, R, F, M)} of the current RFM assignments and their run's snapshot."""

    with app.session() as session:
        return {
            code: (tier, r, f, m)
            for code, tier, r, f, m in session.execute(
                select(Customer.code, a.c.tier, snap.c.r_score, snap.c.f_score, snap.c.m_score)
                .join(a, a.c.customer_id == Customer.id)
                .join(snap, (snap.c.run_id == a.c.run_id) & (snap.c.customer_id == a.c.customer_id))
                .where(a.c.valid_to.is_(None), a.c.method == "rfm")
            )
        }


def test_rfm_scores_over_buyers_with_ties_by_hand(tiering_app: Any) -> None:
    """Six buyers (B = 6): score = 1 + floor(5 * worse / 6); ties share the group's lowest rank."""
    codes = ["P0", "L0", "B1", "B2", "B3", "B4", "B5", "N1"]
    ids = add_customers(tiering_app, codes)
    old = local(2024, 1, 10, 12)  # before the window: tenure, not window orders
    rows = [purchase(ids["L0"], local(2025, 1, 10, 12), 500)]
    rows += [purchase(ids[c], old, 1) for c in ("B1", "B2", "B3", "B4", "B5")]
    rows += [purchase(ids[c], local(2025, 8, 1, 12), 100) for c in ("B1", "B2")]
    rows += [purchase(ids["B3"], local(2026, m, 10, 12), 300) for m in (1, 2)]
    rows += [purchase(ids[c], local(2026, 6, d, 12), 1000) for c in ("B4", "B5") for d in (1, 5, 10)]
    rows += [purchase(ids["N1"], local(2026, 5, 1, 12), 50)]
    record(tiering_app, rows)
    run(tiering_app)
    assert _scores(tiering_app) == {
        "P0": ("prospect", None, None, None),  # never bought: no scores
        "L0": ("lost", None, None, None),  # bought, but not in the window: no scores
        # R worse 0, F worse 0 (three one-order buyers tie at the bottom), M worse 1 -> 1 + 5 // 6 = 1
        "B1": ("hibernating", 1, 1, 1),
        "B2": ("hibernating", 1, 1, 1),
        # R worse 2 -> 1 + 10 // 6 = 2; F worse 3 -> 1 + 15 // 6 = 3; M worse 3 -> 3
        "B3": ("at_risk", 2, 3, 3),
        # R worse 4 -> 1 + 20 // 6 = 4; F worse 4 -> 4; M worse 4 -> 4
        "B4": ("champions", 4, 4, 4),
        "B5": ("champions", 4, 4, 4),
        # first purchase 45 days ago: new, whatever the scores (R worse 3 -> 3, F 1, M worse 0 -> 1)
        "N1": ("new", 3, 1, 1),
    }


def test_new_is_a_first_purchase_within_new_days(tiering_app: Any) -> None:
    """As of 2026-06-15, 90 days back is 2026-03-17: on it new, the day before not; --new-days 89 moves it."""
    ids = add_customers(tiering_app, ["N90", "N91", "N89"])
    record(
        tiering_app,
        [
            purchase(ids["N89"], local(2026, 3, 18, 0, 5), 100),
            purchase(ids["N90"], local(2026, 3, 17, 23, 55), 100),  # local day 17 (15:55 UTC)
            purchase(ids["N91"], local(2026, 3, 16, 23, 55), 100),
        ],
    )
    run(tiering_app)
    segments = {code: v[0] for code, v in _scores(tiering_app).items()}
    assert segments["N89"] == "new" and segments["N90"] == "new"
    assert segments["N91"] != "new"
    run(tiering_app, new_days=89)
    segments = {code: v[0] for code, v in _scores(tiering_app).items()}
    assert segments["N89"] == "new" and segments["N90"] != "new"


def test_segment_meanings_on_the_card_and_in_the_report(tiering_app: Any, kehu_cli: Any) -> None:
    ids = add_customers(tiering_app, ["S1", "S2"])
    record(tiering_app, [purchase(ids["S1"], local(2026, 5, 1, 12), 100)])
    run(tiering_app)
    card = kehu_cli("customer", "show", "S1").output
    assert RFM_SEGMENTS["new"] in card
    report = kehu_cli("tier", "report").output
    assert f"new: {RFM_SEGMENTS['new']}" in report and f"prospect: {RFM_SEGMENTS['prospect']}" in report
    assert "champions:" not in report  # only the segments present are explained
    assert len(set(RFM_SEGMENTS.values())) == len(RFM_SEGMENTS)
    assert all("\n" not in meaning for meaning in RFM_SEGMENTS.values())


# -- key accounts (大客户) ------------------------------------------------------------------

#: One purchase in each 3-month period back from June 2026, and a first one in June 2025.
FULL = [(2025, 6, 10), (2025, 8, 15), (2025, 11, 15), (2026, 2, 15), (2026, 5, 15)]


def _fillers(app: Any, count: int = 100) -> None:
    """Customers of ¥5,000 each (one purchase in January 2026): the tested ones stay class A
    and the small ones stay 小客户, whatever they buy."""
    ids = add_customers(app, [f"F{i:03d}" for i in range(count)])
    record(app, [purchase(cid, local(2026, 1, 10, 12), 5000) for cid in ids.values()])


def test_key_account_needs_large_orders_and_a_continuous_year(tiering_app: Any) -> None:
    variants: dict[str, tuple[list[tuple[int, int, int]], str]] = {
        "KA": (FULL, "4000"),  # every condition: key account
        "KT11": ([(2025, 7, 10), *FULL[1:]], "4000"),  # first purchase July 2025: tenure 11 months
        # the periods' edges: Sep 30 is Jul-Sep, Oct 1 Oct-Dec, Mar 31 Jan-Mar, Apr 1 Apr-Jun
        "KQ": ([(2025, 6, 10), (2025, 9, 30), (2025, 10, 1), (2026, 3, 31), (2026, 4, 1)], "4000"),
        "KGAP": ([(2025, 6, 10), (2025, 10, 1), (2025, 12, 31), (2026, 3, 31), (2026, 4, 1)], "4000"),
        "KLATE": ([*FULL[:4], (2026, 3, 31)], "4000"),  # nothing in Apr-Jun 2026
        # two orders a day, above the fillers' revenue: average order exactly ¥1,000, and ¥999.995
        # (which avg_order_value rounds to 1000.00 on PostgreSQL: the rule compares exactly)
        "KO1000": (FULL, "1500,500"),
        "KO999": (FULL, "1500,499.99"),
    }
    ids = add_customers(tiering_app, list(variants))
    _fillers(tiering_app)
    record(
        tiering_app,
        [
            purchase(ids[code], local(*day, 12), amount)
            for code, (days, amounts) in variants.items()
            for day in days
            for amount in amounts.split(",")
        ],
    )
    run(tiering_app)
    flagged = {code for code, cid in ids.items() if cid in current(tiering_app, "flag:key_account")}
    assert flagged == {"KA", "KQ", "KO1000"}
    assert all(current(tiering_app, "abc")[cid] == "A" for cid in ids.values())  # all large: A


def test_key_account_stats_columns(tiering_app: Any) -> None:
    ids = add_customers(tiering_app, ["Q1"])
    record(tiering_app, [purchase(ids["Q1"], local(*day, 12), 100) for day in FULL[:3]])
    with tiering_app.session() as session:
        row = customer_stats(tiering_app, session, "Q1", make_settings(as_of=AS_OF))
    # June 2025 (no period), Aug 2025 (Jul-Sep), Nov 2025 (Oct-Dec): two periods of four
    assert row["quarters_active"] == 2 and row["tenure_months"] == 12
    assert row["tenure_days"] == (AS_OF - date(2025, 6, 10)).days


# -- upgrade potential --------------------------------------------------------------------


def test_upgrade_potential_needs_a_previous_window_with_revenue(tiering_app: Any) -> None:
    """Previous window: Jul 2024 - Jun 2025; window: Jul 2025 - Jun 2026 (as of 2026-06-15)."""
    ids = add_customers(tiering_app, ["UP", "UEQ", "UNEW", "UONE", "UEDGE"])
    _fillers(tiering_app)
    prev, w1, w2 = local(2025, 3, 10, 12), local(2025, 9, 10, 12), local(2026, 3, 10, 12)
    record(
        tiering_app,
        [
            purchase(ids["UP"], prev, 100),
            purchase(ids["UP"], w1, "60.00"),
            purchase(ids["UP"], w2, "60.01"),  # 120.01 > 1.2 * 100
            purchase(ids["UEQ"], prev, 100),
            purchase(ids["UEQ"], w1, 60),
            purchase(ids["UEQ"], w2, 60),  # 120.00: not more than 20%
            purchase(ids["UNEW"], w1, 60),
            purchase(ids["UNEW"], w2, 60),  # nothing before: no growth to measure
            purchase(ids["UONE"], prev, 100),
            purchase(ids["UONE"], w2, 500),  # one order
            purchase(ids["UEDGE"], local(2024, 6, 30, 12), 100),  # before the previous window
            purchase(ids["UEDGE"], w1, 60),
            purchase(ids["UEDGE"], w2, 61),
        ],
    )
    run(tiering_app)
    flagged = {code for code, cid in ids.items() if cid in current(tiering_app, "flag:upgrade_potential")}
    assert flagged == {"UP"}
    run(tiering_app, window="all")  # no previous window: nobody
    assert current(tiering_app, "flag:upgrade_potential") == {}


# -- a key account that is poor-quality ---------------------------------------------------


def test_key_account_and_poor_quality_is_reported(tiering_app: Any, kehu_cli: Any) -> None:
    ids = add_customers(tiering_app, ["KX"], attributes={"key_account_flags": ["strategic"]})
    ids |= add_customers(tiering_app, ["KY"])
    _fillers(tiering_app)
    due = local(2026, 3, 1, 12)
    record(
        tiering_app,
        [payment(ids[c], due, None) for c in ("KX", "KY")]
        + [payment(ids[c], local(2026, 4, 1, 12), local(2026, 4, 20, 12)) for c in ("KX", "KY")],
    )
    run(tiering_app)
    assert ids["KX"] in current(tiering_app, "flag:key_account")
    assert ids["KX"] in current(tiering_app, "flag:poor_quality")
    assert ids["KY"] in current(tiering_app, "flag:poor_quality")  # poor quality alone: no conflict
    with tiering_app.session() as session:
        assert api.flag_conflicts(session) == ["KX"]
        assert api.flag_conflicts(session, ids["KY"]) == []
    report = kehu_cli("tier", "report").output
    assert "1 customer(s) are key accounts (大客户) and poor-quality customers (劣质客户) at once" in report
    assert "KX" in report
    assert kehu_cli("tier", "report", "--json").json["conflicts"] == ["KX"]
    card = kehu_cli("customer", "show", "KX", "--json").json
    assert card["tiering"]["conflict"] is True
    assert "neither wins" in kehu_cli("customer", "show", "KX").output
    assert kehu_cli("customer", "show", "KY", "--json").json["tiering"]["conflict"] is False


# -- a retail-shaped log against pandas ---------------------------------------------------


def retail_log(app: Any, customers: int, seed: int) -> dict[str, int]:
    """A log shaped like a real shop's: 18 months to the as-of date, most customers buy once,
    a long tail buys often (a few big accounts with large orders every month), some never buy;
    refunds, purchases around local midnight, a few after the as-of date (which must not count)."""
    rng = random.Random(seed)
    ids = add_customers(app, [f"R{seed}-{i:04d}" for i in range(customers)])
    end = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)  # the end of local day 2026-06-15 (Shanghai)
    rows = []
    for n, cid in enumerate(ids.values()):
        if rng.random() < 0.08:
            continue  # never bought
        if n % 40 == 0:  # a big account: large orders every month or so for 18 months
            count, scale = rng.randint(14, 20), 3000.0
            days = sorted(rng.sample(range(0, 545), count))
        else:
            count = 1 if rng.random() < 0.65 else min(40, 2 + int(rng.paretovariate(1.3)))
            scale = 80.0 * rng.paretovariate(2.0)
            days = [rng.randint(-5, 545) for _ in range(count)]
        for day in days:
            # seconds around local midnight too (16:00 UTC): the day and month are the local ones
            when = end - timedelta(days=day, seconds=rng.choice((1, 60, 3600 * 7, rng.randint(0, 86399))))
            amount = round(rng.lognormvariate(0, 0.6) * scale, 2) or 0.01
            rows.append(purchase(cid, when, f"{amount:.2f}"))
            if rng.random() < 0.04:  # a refund of part of it, a few days later
                rows.append(purchase(cid, when + timedelta(days=3), f"{-round(amount / 2, 2):.2f}"))
    record(app, rows)
    return ids


def _key_accounts_by_pandas(customers: Any, purchases: Any, classes: Any) -> set[int]:
    """The documented default key-account rule computed by pandas from the raw purchases."""

    ts = pd.to_datetime(purchases["occurred_at"], utc=True).dt.tz_convert("Asia/Shanghai")
    p = purchases.assign(month=ts.dt.year * 12 + ts.dt.month - 1, day=ts.dt.date)
    p = p[p["day"] <= AS_OF].copy()
    p["cents"] = (p["amount"].astype(float) * 100).round().astype("int64")
    asof_month = AS_OF.year * 12 + AS_OF.month - 1
    window = p[p["month"] > asof_month - 12]
    revenue = window.groupby("customer_id")["cents"].sum()
    orders = (window["cents"] > 0).groupby(window["customer_id"]).sum()
    positive = window[window["cents"] > 0]
    quarters = ((asof_month - positive["month"]) // 3).groupby(positive["customer_id"]).nunique()
    first_month = p.groupby("customer_id")["month"].min()
    found = set()
    for cid in customers["customer_id"]:
        o = int(orders.get(cid, 0))
        if (
            classes.loc[cid, "abc"] == "A"
            and asof_month - first_month.get(cid, asof_month) >= 12
            and quarters.get(cid, 0) == 4
            and o > 0
            and revenue.get(cid, 0) >= 100_000 * o
        ):
            found.add(int(cid))
    return found


def test_retail_log_matches_pandas_and_segments_mean_what_they_say(tiering_app: Any) -> None:
    retail_log(tiering_app, 800, seed=17)
    customers, purchases = _frames(tiering_app)
    run(tiering_app)
    expected = classify(customers, purchases, AS_OF)
    got, scores = _current(tiering_app)
    for cid, row in expected.iterrows():
        assert (got[(cid, "abc")], got[(cid, "pyramid")], got[(cid, "rfm")]) == (
            row.abc,
            row.pyramid,
            row.rfm,
        )
        values = (row.r_score, row.f_score, row.m_score)
        assert scores[cid] == tuple(None if pd.isna(v) else int(v) for v in values), cid
    key_accounts = _key_accounts_by_pandas(customers, purchases, expected)
    assert set(current(tiering_app, "flag:key_account")) == key_accounts and key_accounts
    # What the segments say on this sparse log
    with tiering_app.session() as session:
        rows = session.execute(
            select(a.c.tier, snap.c.orders_window, snap.c.f_score)
            .join(snap, (snap.c.run_id == a.c.run_id) & (snap.c.customer_id == a.c.customer_id))
            .where(a.c.valid_to.is_(None), a.c.method == "rfm")
        ).all()
    buyers = [r for r in rows if r.orders_window]
    one_order = sum(1 for r in buyers if r.orders_window == 1)
    assert one_order / len(buyers) >= 0.6  # mostly one-time buyers ...
    assert {r.f_score for r in buyers if r.orders_window == 1} == {1}  # ... so one order is F1
    assert all(r.orders_window >= 2 for r in rows if r.tier == "champions")
    assert all(r.orders_window > 0 for r in rows if r.tier == "new")
    assert all(r.f_score is None for r in rows if r.tier in ("lost", "prospect"))
    champions = sum(1 for r in rows if r.tier == "champions")
    assert 0 < champions < 0.2 * len(buyers)
