"""What the complaining customer wanted (客户投诉的真实需求): the report's breakdown by want, checked
by hand on five complaints and against pandas on a generated log, and the workflow guard that
requires the matching step (compensation; root cause and corrective action)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from kehu_complaints import api
from kehu_complaints.report import REPURCHASE_DAYS, WANT_KEYS, build_report
from kehu_complaints.workflow import TransitionRefused
from kehu_core import customers, interactions

NOW = datetime(2025, 9, 30, 4, 0, tzinfo=UTC)
START = datetime(2025, 1, 2, 1, 0, tzinfo=UTC)
STEPS = ("acknowledged", "investigating", "solution_proposed", "customer_agreed", "in_progress", "resolved")
WANTS = ("fast_solution", "respect", "explanation", "compensation", "no_recurrence")


def _to_in_progress(h, app, cid, when, **changes):
    for stage, kw in h.path("in_progress"):
        if stage == "solution_proposed":
            kw = {"changes": {**kw["changes"], **changes}}
        h.move(app, cid, stage, when, **kw)


def _buy(app, h, code, when):
    with app.session() as s:
        interactions.log_interaction(
            app, s, {"customer_code": code, "kind": "purchase", "amount": "100", "occurred_at": h.at(when)}
        )


def test_report_by_want_by_hand(app, h, kehu_cli):
    # A: fast solution + compensation, resolved after 10 h, satisfaction 5; C1 buys on 1 April.
    a = h.open_one(app, "2025-03-03 09:00", wants="fast_solution,compensation")
    _to_in_progress(h, app, a.id, "2025-03-03 09:30", compensation_type="voucher", compensation_amount="100")
    h.move(app, a.id, "resolved", "2025-03-03 19:00")
    h.move(app, a.id, "followed_up", "2025-03-04 10:00", changes={"satisfaction": "5"})
    # B: compensation + no recurrence, C2, resolved after 48 h, satisfaction 2; C2 buys exactly
    # 90 days after B was opened (counted).
    b = h.open_one(app, "2025-03-03 09:00", customer_code="C2", wants="赔偿,不再发生")
    _to_in_progress(h, app, b.id, "2025-03-03 10:00", compensation_type="refund")
    h.move(app, b.id, "resolved", "2025-03-05 09:00")
    h.move(app, b.id, "followed_up", "2025-03-06 09:00", changes={"satisfaction": "2"})
    # E: explanation, C2, opened one second earlier: the same purchase is one second too late.
    e = h.open_one(app, "2025-03-03 08:59:59", customer_code="C2", wants="explanation")
    _to_in_progress(h, app, e.id, "2025-03-03 10:00")
    h.move(app, e.id, "resolved", "2025-03-04 08:59:59")  # exactly 24 h
    h.move(app, e.id, "followed_up", "2025-03-05 09:00", changes={"satisfaction": "4"})
    # C: respect, opened 41 days before the report: its 90-day window has not passed.
    c = h.open_one(app, "2025-11-20 09:00", wants="respect")
    _to_in_progress(h, app, c.id, "2025-11-20 10:00")
    h.move(app, c.id, "resolved", "2025-11-20 13:00")  # 4 h
    # D: nothing recorded; never resolved; C2 bought 61 days after it.
    h.open_one(app, "2025-04-01 09:00", customer_code="C2")
    _buy(app, h, "C1", "2025-04-01 10:00")
    _buy(app, h, "C2", "2025-06-01 09:00")

    with app.session() as s:
        r = build_report(s, app.dialect, now=h.at("2025-12-31 12:00").astimezone(UTC))
    assert list(r.by_want) == list(WANT_KEYS) == [*WANTS, "none"]

    def figures(want):
        f = r.by_want[want]
        return (
            f.complaints,
            (f.resolution.count, f.resolution.median_hours, f.resolution.p90_hours),
            (f.satisfaction_count, f.satisfaction_average),
            (f.repurchase.complaints, f.repurchase.bought_again, f.repurchase.rate),
        )

    assert figures("fast_solution") == (1, (1, 10.0, 10.0), (1, 5.0), (1, 1, 1.0))
    assert figures("respect") == (1, (1, 4.0, 4.0), (0, None), (0, 0, None))
    assert figures("explanation") == (1, (1, 24.0, 24.0), (1, 4.0), (1, 0, 0.0))
    # 10 h and 48 h: median 29, p90 10 + 0.9 * 38 = 44.2; satisfaction (5 + 2) / 2
    assert figures("compensation") == (2, (2, 29.0, 44.2), (2, 3.5), (2, 2, 1.0))
    assert figures("no_recurrence") == (1, (1, 48.0, 48.0), (1, 2.0), (1, 1, 1.0))
    assert figures("none") == (1, (0, None, None), (0, None), (1, 1, 1.0))
    assert r.by_want["compensation"].label == "赔偿或补偿"

    shown = kehu_cli("complaint", "report", "--json")
    assert shown.exit_code == 0, shown.output
    by_want = shown.json["by_want"]
    assert list(by_want) == [*WANTS, "none"]
    assert set(by_want["respect"]) == {
        "label",
        "complaints",
        "resolution",
        "satisfaction_count",
        "satisfaction_average",
        "repurchase",
    }
    assert set(by_want["respect"]["resolution"]) == {"count", "median_hours", "p90_hours"}
    assert set(by_want["respect"]["repurchase"]) == {"complaints", "bought_again", "rate"}
    table = kehu_cli("complaint", "report").output
    assert "By what the customer wanted (客户投诉的真实需求)" in table
    row = next(line for line in table.splitlines() if line.startswith("compensation "))
    assert "29.0 / 44.2 (n=2)" in row and "3.5 (n=2)" in row


def _generate(app, rng):
    """Retail-shaped: most customers buy once, a long tail often, cancelled orders and refunds,
    complaints over the Spring Festival wanting 0 to 3 things, handled at every pace."""
    purchases = []
    with app.session() as s:
        for n in range(40):
            customers.add_customer(app, s, {"code": f"G{n:03d}", "name": f"客户{n}"})
        for n in range(40):
            count = 1 if rng.random() < 0.7 else min(30, int(rng.paretovariate(1.2)) + 1)
            for _ in range(count):
                when = START + timedelta(days=rng.randint(0, 260), hours=rng.randint(0, 23))
                cancelled = rng.random() < 0.05
                values = {
                    "customer_code": f"G{n:03d}",
                    "kind": "purchase",
                    "amount": "99.50",
                    "occurred_at": when,
                }
                if cancelled:
                    values["status"] = "cancelled"
                interactions.log_interaction(app, s, values)
                purchases.append((f"G{n:03d}", when, "cancelled" if cancelled else "done"))
                if rng.random() < 0.1:  # a refund: money back, not a purchase
                    back = {"customer_code": f"G{n:03d}", "kind": "payment", "note": "退款"}
                    interactions.log_interaction(app, s, {**back, "occurred_at": when + timedelta(days=3)})
    for _ in range(40):
        wants = rng.sample(WANTS, rng.choice((0, 1, 1, 2, 3)))
        opened = START + timedelta(days=rng.randint(0, 200), minutes=rng.randint(0, 600))
        with app.session() as s:
            record = api.open_complaint(
                app,
                s,
                {
                    "customer_code": f"G{rng.randrange(40):03d}",
                    "description": "问题",
                    "kind": rng.choice(("complaint", "grievance")),
                    "wants": wants,
                },
                "王芳",
                now=opened,
            )
        pace = timedelta(hours=rng.choice((0.5, 2, 30, 200)), seconds=rng.randint(0, 3599))
        depth = rng.randint(0, len(STEPS))
        when = opened
        changes = {"solution": "补发", "compensation_type": rng.choice(("none", "voucher", "refund"))}
        for stage in STEPS[:depth]:
            when += pace
            with app.session() as s:
                api.move(app, s, record.id, stage, "王芳", changes=changes, now=min(when, NOW))
        if depth == len(STEPS) and rng.random() < 0.7:
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
    return purchases


@pytest.mark.parametrize("seed", [3, 11])
def test_report_by_want_matches_pandas(app, seed):
    rng = random.Random(seed)
    purchases = _generate(app, rng)
    with app.session() as s:
        records = api.list_complaints(app, s, api.ComplaintQuery(limit=None))
        report = build_report(s, app.dialect, now=NOW)
    frame = pd.DataFrame([api.record_dict(r, NOW) for r in records])
    for column in [c for c in frame.columns if c.endswith("_at")]:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    bought = pd.DataFrame(purchases, columns=["customer_code", "at", "status"])
    bought["at"] = pd.to_datetime(bought["at"], utc=True)
    bought = bought[bought.status == "done"]
    now = pd.Timestamp(NOW)
    window = frame.opened_at <= now - pd.Timedelta(days=REPURCHASE_DAYS)
    merged = frame[["id", "customer_code", "opened_at"]].merge(bought, on="customer_code", how="left")
    hit = (merged["at"] > merged.opened_at) & (merged["at"] <= merged.opened_at + pd.Timedelta(days=90))
    again = frame.id.isin(merged.loc[hit, "id"])
    answered = frame.satisfaction.notna() & (frame.followed_up_at.notna() | frame.closed_at.notna())
    hours = (frame.resolved_at - frame.opened_at).dt.total_seconds() / 3600

    for want in WANT_KEYS:
        has = frame.wants.map(lambda w, want=want: (len(w) == 0) if want == "none" else want in w)
        f = report.by_want[want]
        assert f.complaints == int(has.sum()), want
        resolved = hours[has & frame.resolved_at.notna()]
        assert f.resolution.count == len(resolved)
        if len(resolved):
            assert f.resolution.median_hours == pytest.approx(round(resolved.quantile(0.5), 2), abs=0.011)
            assert f.resolution.p90_hours == pytest.approx(round(resolved.quantile(0.9), 2), abs=0.011)
        assert f.satisfaction_count == int((has & answered).sum())
        if (has & answered).any():
            assert f.satisfaction_average == round(float(frame.satisfaction[has & answered].mean()), 2)
        assert f.repurchase.complaints == int((has & window).sum())
        assert f.repurchase.bought_again == int((has & window & again).sum())
    assert report.by_want["none"].complaints + sum(1 for w in frame.wants if w) == len(frame)


# -- the workflow requires the matching step ------------------------------------------------------


def _refusal(app, h, cid, stage, when, **kw):
    with pytest.raises(TransitionRefused) as refused:
        h.move(app, cid, stage, when, **kw)
    assert refused.value.guard == "wanted_steps"
    message = str(refused.value)
    assert "\n" not in message
    return message


def test_compensation_wanted_needs_compensation_recorded_to_resolve(app, h):
    c = h.open_one(app, wants="compensation")
    _to_in_progress(h, app, c.id, "2025-03-03 10:00")
    message = _refusal(app, h, c.id, "resolved", "2025-03-03 11:00")
    assert message == (
        "guard 'wanted_steps' refused in_progress -> resolved: the customer wanted compensation "
        "(赔偿或补偿); missing compensation_amount or compensation_type (--compensation or "
        "--compensation-type; 'none' states that none is given). Nothing was changed."
    )
    h.move(app, c.id, "resolved", "2025-03-03 11:00", changes={"compensation_type": "none"})
    assert h.get(app, c.id).complaint.status == "resolved"


@pytest.mark.parametrize(
    ("changes", "allowed"),
    [
        ({}, False),
        ({"compensation_amount": "0"}, True),  # an amount alone, even zero, is recorded
        ({"compensation_type": "voucher"}, True),
    ],
)
def test_compensation_recorded_by_either_field(app, h, changes, allowed):
    c = h.open_one(app, wants="compensation")
    _to_in_progress(h, app, c.id, "2025-03-03 10:00")
    if allowed:
        h.move(app, c.id, "resolved", "2025-03-03 11:00", changes=changes)
    else:
        _refusal(app, h, c.id, "resolved", "2025-03-03 11:00", changes=changes)


def test_no_compensation_wanted_resolves_without_it(app, h):
    c = h.open_one(app, wants="fast_solution,respect,explanation")
    _to_in_progress(h, app, c.id, "2025-03-03 10:00")
    h.move(app, c.id, "resolved", "2025-03-03 11:00")
    assert h.get(app, c.id).complaint.status == "resolved"


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({}, "root_cause, corrective_action"),
        ({"root_cause": "漏检"}, "corrective_action"),
        ({"corrective_action": "复检"}, "root_cause"),
        ({"root_cause": "漏检", "corrective_action": "  "}, "corrective_action"),
        ({"root_cause": "漏检", "corrective_action": "复检"}, None),
    ],
)
def test_no_recurrence_wanted_needs_root_cause_and_corrective_action_to_close(app, h, changes, missing):
    # A grievance (抱怨): the formal review guard does not apply, this one does.
    c = h.open_one(app, wants="no_recurrence", kind="grievance")
    _to_in_progress(h, app, c.id, "2025-03-03 10:00")
    h.move(app, c.id, "resolved", "2025-03-03 11:00")  # resolving needs no root cause yet
    h.move(app, c.id, "followed_up", "2025-03-04 10:00", changes={"satisfaction": "4"})
    if missing is None:
        h.move(app, c.id, "closed", "2025-03-04 11:00", changes=changes)
        assert h.get(app, c.id).complaint.status == "closed"
        return
    message = _refusal(app, h, c.id, "closed", "2025-03-04 11:00", changes=changes)
    assert message.endswith(
        f"the customer wanted no_recurrence (解决问题，不让它再次发生); missing {missing} "
        "(--root-cause and --corrective-action). Nothing was changed."
    )


def test_the_setting_turns_the_guard_off(app, h, kehu_cli):
    shown = kehu_cli("complaint", "settings", "--json")
    assert shown.json["require_wanted_steps"] is True
    changed = kehu_cli("complaint", "settings", "require_wanted_steps", "off")
    assert changed.exit_code == 0, changed.output
    c = h.open_one(app, wants="compensation,no_recurrence", kind="grievance")
    _to_in_progress(h, app, c.id, "2025-03-03 10:00")
    h.move(app, c.id, "resolved", "2025-03-03 11:00")
    h.move(app, c.id, "closed", "2025-03-03 12:00", reason="客户电话确认")
    assert h.get(app, c.id).complaint.status == "closed"
    bad = kehu_cli("complaint", "settings", "require_wanted_steps", "maybe")
    assert bad.exit_code == 1
    assert "require_wanted_steps: must be true or false" in bad.output


def test_the_cli_refusal_is_one_line(app, h, kehu_cli):
    c = h.open_one(app, wants="compensation")
    _to_in_progress(h, app, c.id, "2025-03-03 10:00")
    refused = kehu_cli("complaint", "move", str(c.id), "resolved")
    assert refused.exit_code != 0
    lines = [line for line in refused.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "the customer wanted compensation" in lines[0], refused.output
    assert "missing compensation_amount or compensation_type" in lines[0]
