"""``complaint report`` against figures computed by hand from four complaints."""

from __future__ import annotations

from datetime import UTC

from kehu_complaints.cli.overview import _print_report
from kehu_complaints.report import _quantile, build_report
from kehu_core import interactions


def _through(h, app, cid, times, satisfaction):
    for (stage, kw), when in zip(h.path("in_progress"), times):
        h.move(app, cid, stage, when, **kw)
    h.move(app, cid, "resolved", times[-3])
    h.move(app, cid, "followed_up", times[-2], changes={"satisfaction": satisfaction})
    h.move(
        app,
        cid,
        "closed",
        times[-1],
        changes={
            "responsible_party": "仓库",
            "penalty_note": "无",
            "root_cause": "漏检",
            "corrective_action": "复检",
        },
    )


def test_report_figures(app, h, kehu_cli, capsys):
    a = h.open_one(app, "2025-03-03 09:00")
    _through(
        h,
        app,
        a.id,
        ["2025-03-03 10:00"] * 5 + ["2025-03-04 10:00", "2025-03-05 10:00", "2025-03-05 11:00"],
        "5",
    )
    b = h.open_one(app, "2025-03-03 09:00", customer_code="C2", category="delivery", severity="low")
    _through(
        h,
        app,
        b.id,
        ["2025-03-04 12:00"] * 5 + ["2025-03-20 09:00", "2025-03-21 10:00", "2025-03-21 11:00"],
        "2",
    )
    c = h.open_one(app, "2025-06-02 09:00", severity="high")
    h.walk(app, c.id, "2025-06-02 09:30", "in_progress")
    h.move(app, c.id, "resolved", "2025-06-02 15:00")
    h.move(app, c.id, "reopened", "2025-06-05 09:00", reason="又坏了")
    h.open_one(app, "2025-12-20 10:00", customer_code="C2", kind="grievance")
    with app.session() as s:
        for code, when in (
            ("C1", "2025-01-10 10:00"),
            ("C1", "2025-04-01 10:00"),
            ("C1", "2025-10-15 10:00"),
        ):
            interactions.log_interaction(
                app,
                s,
                {"customer_code": code, "kind": "purchase", "amount": "100", "occurred_at": h.at(when)},
            )

    with app.session() as s:
        r = build_report(s, app.dialect, now=h.at("2025-12-31 12:00").astimezone(UTC))
    assert (r.total, r.open) == (4, 2)
    assert r.by_status == {"closed": 2, "received": 1, "reopened": 1}
    assert r.by_category == {"other": 3, "delivery": 1}
    assert r.by_severity == {"medium": 2, "high": 1, "low": 1}
    # first response: 1h, 27h, 0.5h; resolution: 25h and 17 days (C's was undone by the reopen)
    assert (r.first_response.count, r.first_response.median_hours, r.first_response.p90_hours) == (
        3,
        1.0,
        21.8,
    )
    assert (r.resolution.count, r.resolution.median_hours, r.resolution.p90_hours) == (2, 216.5, 369.7)
    # breached: B answered late, C and D running past due; A was on time
    assert (r.breached, r.decided, r.breach_rate) == (3, 4, 0.75)
    assert (r.reopened, r.reopen_rate) == (1, 0.25)
    assert (r.satisfaction_count, r.satisfaction_average, r.satisfaction_distribution) == (
        2,
        3.5,
        {"2": 1, "5": 1},
    )
    # 90-day windows passed for A, B, C; only A was handled within SLA, and C1 bought on 1 April
    assert (
        r.repurchase_within_sla.complaints,
        r.repurchase_within_sla.bought_again,
        r.repurchase_within_sla.rate,
    ) == (1, 1, 1.0)
    assert (r.repurchase_outside_sla.complaints, r.repurchase_outside_sla.bought_again) == (2, 0)
    assert r.course_figures["complainers_buy_again"] == "54-70%"
    assert r.course_figures["buy_again_when_handled_quickly_and_well"] == "95%"

    # overall: the two groups together, 1 of 3 bought again
    assert (
        r.repurchase_overall.complaints,
        r.repurchase_overall.bought_again,
        r.repurchase_overall.rate,
    ) == (3, 1, 0.3333)

    _print_report(r)
    lines = capsys.readouterr().out.splitlines()
    assert any(line.split() == ["all", "complaints", "33.3%", "(1", "of", "3)"] for line in lines)
    assert any(line.split()[:3] == ["handled", "within", "SLA"] for line in lines)
    assert any(
        line.split() == ["benchmark:", "complainers", "who", "buy", "again", "54-70%"] for line in lines
    )
    assert not any("seed" in line.lower() for line in lines)
    shown = kehu_cli("complaint", "report")
    assert shown.exit_code == 0
    assert "benchmark: when handled quickly and well  95%" in shown.output
    assert "seed" not in shown.output.lower()
    overall = kehu_cli("complaint", "report", "--json").json["repurchase_overall"]
    assert set(overall) == {"complaints", "bought_again", "rate"}
    assert kehu_cli("complaint", "report", "--since", "2025-06-01", "--json").json["total"] == 2


def test_quantile_matches_percentile_cont():
    assert _quantile([], 0.5) is None
    assert _quantile([4.0], 0.9) == 4.0
    assert _quantile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert _quantile([0.0, 10.0], 0.9) == 9.0
