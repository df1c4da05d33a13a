"""The report against an independent pandas computation, on generated data shaped like a real
customer log: most customers buy once, a long tail buys often, refunds and cancelled orders,
purchases late at night around the 90-day edge, complaints opened over the Spring Festival
and handled at every pace (some late, some reopened, some followed up)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from kehu_complaints import api
from kehu_complaints.report import REPURCHASE_DAYS, build_report
from kehu_core import customers, interactions

NOW = datetime(2025, 9, 30, 4, 0, tzinfo=UTC)
START = datetime(2025, 1, 2, 1, 0, tzinfo=UTC)  # 2025-01-02 09:00 Shanghai
STEPS = ("acknowledged", "investigating", "solution_proposed", "customer_agreed", "in_progress", "resolved")


def _generate(app, rng):
    """Customers, purchases and complaints; returns the purchases and the complaint ids."""
    purchases = []
    with app.session() as s:
        for n in range(40):
            customers.add_customer(app, s, {"code": f"G{n:03d}", "name": f"客户{n}"})
        for n in range(40):
            code = f"G{n:03d}"
            # 70% buy once, the tail buys a Pareto-like number of times
            count = 1 if rng.random() < 0.7 else min(30, int(rng.paretovariate(1.2)) + 1)
            for _ in range(count):
                when = START + timedelta(days=rng.randint(0, 260), hours=rng.randint(0, 23))
                status = "cancelled" if rng.random() < 0.05 else "done"
                values = {"customer_code": code, "kind": "purchase", "amount": "99.50", "occurred_at": when}
                if status == "cancelled":
                    values["status"] = "cancelled"
                interactions.log_interaction(app, s, values)
                purchases.append((code, when, "purchase", status))
                if rng.random() < 0.1:  # a refund: money back, not a purchase
                    back = when + timedelta(days=3)
                    interactions.log_interaction(
                        app,
                        s,
                        {"customer_code": code, "kind": "payment", "note": "退款", "occurred_at": back},
                    )
                    purchases.append((code, back, "payment", "done"))
    ids = []
    for _ in range(30):
        code = f"G{rng.randrange(40):03d}"
        opened = START + timedelta(days=rng.randint(0, 200), minutes=rng.randint(0, 600))
        with app.session() as s:
            record = api.open_complaint(
                app,
                s,
                {
                    "customer_code": code,
                    "description": "问题",
                    "kind": rng.choice(("complaint", "grievance")),
                },
                "王芳",
                now=opened,
            )
        ids.append(record.id)
        pace = timedelta(hours=rng.choice((0.5, 2, 30, 200)))
        depth = rng.randint(0, len(STEPS))
        when = opened
        for stage in STEPS[:depth]:
            when += pace
            with app.session() as s:
                api.move(app, s, record.id, stage, "王芳", changes={"solution": "补发"}, now=min(when, NOW))
        if depth == len(STEPS) and rng.random() < 0.6:
            with app.session() as s:
                api.move(
                    app,
                    s,
                    record.id,
                    "followed_up",
                    "王芳",
                    changes={"satisfaction": rng.randint(1, 5)},
                    now=min(when + pace, NOW),
                )
            if rng.random() < 0.3:
                with app.session() as s:
                    api.move(
                        app, s, record.id, "reopened", "王芳", reason="又坏了", now=min(when + 2 * pace, NOW)
                    )
    return purchases, ids


def _edge_purchases(app, complaint):
    """For one complaint's customer: a purchase exactly 90 days after and one a second later."""
    edge = complaint.opened_at + timedelta(days=REPURCHASE_DAYS)
    rows = []
    with app.session() as s:
        for when in (edge, edge + timedelta(seconds=1)):
            interactions.log_interaction(
                app,
                s,
                {
                    "customer_code": complaint.customer_code,
                    "kind": "purchase",
                    "amount": "1",
                    "occurred_at": when,
                },
            )
            rows.append((complaint.customer_code, when, "purchase", "done"))
    return rows


@pytest.mark.parametrize("seed", [7, 21])
def test_the_report_matches_pandas_on_a_retail_shaped_log(app, seed):
    rng = random.Random(seed)
    purchases, ids = _generate(app, rng)
    with app.session() as s:
        records = api.list_complaints(app, s, api.ComplaintQuery(limit=None))
    purchases += _edge_purchases(app, records[0])
    frame = pd.DataFrame([api.record_dict(r, NOW) for r in records])
    for column in [c for c in frame.columns if c.endswith("_at")]:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    bought = pd.DataFrame(purchases, columns=["customer_code", "at", "kind", "status"])
    bought["at"] = pd.to_datetime(bought["at"], utc=True)
    bought = bought[(bought.kind == "purchase") & (bought.status == "done")]

    now = pd.Timestamp(NOW)
    closed, resolved = frame.closed_at.notna(), frame.resolved_at.notna()
    running = ~closed & ~resolved & ~frame.paused
    breached = (
        (frame.first_response_at > frame.first_response_due_at)
        | (frame.resolved_at > frame.resolution_due_at)
        | (running & frame.first_response_at.isna() & (frame.first_response_due_at < now))
        | (running & (frame.resolution_due_at < now))
    )
    decided = resolved | closed | breached
    window = frame.opened_at <= now - pd.Timedelta(days=REPURCHASE_DAYS)
    merged = frame[["id", "customer_code", "opened_at"]].merge(bought, on="customer_code", how="left")
    hit = (merged["at"] > merged.opened_at) & (merged["at"] <= merged.opened_at + pd.Timedelta(days=90))
    again = frame.id.isin(merged.loc[hit, "id"])
    within = resolved & ~breached
    answered = frame.satisfaction.notna() & (frame.followed_up_at.notna() | closed)

    with app.session() as s:
        report = build_report(s, app.dialect, now=NOW)
    assert report.total == len(frame) == 30
    assert report.breached == int(breached.sum())
    assert report.decided == int(decided.sum())
    assert report.repurchase_overall.complaints == int(window.sum())
    assert report.repurchase_overall.bought_again == int((window & again).sum())
    assert report.repurchase_within_sla.complaints == int((window & within).sum())
    assert report.repurchase_within_sla.bought_again == int((window & within & again).sum())
    assert report.repurchase_outside_sla.bought_again == int((window & ~within & again).sum())
    assert report.satisfaction_count == int(answered.sum())
    if answered.any():
        assert report.satisfaction_average == round(float(frame.satisfaction[answered].mean()), 2)
    # the show/list rule is the report's rule, complaint by complaint
    assert [bool(r.breaches(NOW)) for r in records] == list(breached)


@pytest.mark.parametrize(
    ("after", "counted"),
    [
        (timedelta(0), False),  # at the complaint itself: not after it
        (timedelta(seconds=1), True),
        (timedelta(days=REPURCHASE_DAYS) - timedelta(seconds=1), True),
        (timedelta(days=REPURCHASE_DAYS), True),  # exactly 90 days after
        (timedelta(days=REPURCHASE_DAYS, seconds=1), False),
    ],
)
def test_the_90_day_window_edges(app, h, after, counted):
    # opened 2025-01-02 23:30 Shanghai (15:30 UTC, the day before in UTC), microseconds kept
    opened = h.at("2025-01-02 23:30:00.250000")
    with app.session() as s:
        api.open_complaint(app, s, {"customer_code": "C1", "description": "卡纸"}, "王芳", now=opened)
        interactions.log_interaction(
            app, s, {"customer_code": "C1", "kind": "purchase", "amount": "1", "occurred_at": opened + after}
        )
        report = build_report(s, app.dialect, now=NOW)
    assert (report.repurchase_overall.complaints, report.repurchase_overall.bought_again) == (1, int(counted))
