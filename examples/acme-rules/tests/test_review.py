"""ACME's weekly review job: one row per local week, run by ``kehu jobs run-due``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kehu_complaints import api
from kehu_core import calendar, customers, interactions, jobs

JOB = "acme_rules.weekly_review"


@pytest.fixture
def week(kehu_app, kehu_install, kehu_cli):
    """BIG is VIP, JUDGED judged a key account, LATE 60 days late, PLAIN nothing; three complaints."""
    kehu_install("acme_rules")
    now = datetime.now(UTC)
    app = kehu_app
    with app.session() as session:
        for code in ("BIG", "JUDGED", "LATE", "PLAIN", "GONE"):
            customers.add_customer(app, session, {"code": code, "name": f"客户{code}"})
        for code, kind, amount, due in (
            ("BIG", "purchase", "100000", None),
            ("PLAIN", "purchase", "500", None),
            ("GONE", "purchase", "90000", None),
            ("LATE", "payment", "800", now - timedelta(days=60)),  # unpaid: 60 days late today
        ):
            values = {
                "customer_code": code,
                "kind": kind,
                "occurred_at": now - timedelta(days=60),
                "amount": amount,
            }
            interactions.log_interaction(app, session, {**values, **({"due_at": due} if due else {})})
    assert kehu_cli("acme", "set", "JUDGED", "--strategic-project").exit_code == 0
    assert kehu_cli("tier", "run").exit_code == 0
    assert kehu_cli("customer", "archive", "GONE").exit_code == 0  # archived: not counted
    with app.session() as session:
        for code in ("JUDGED", "PLAIN", "BIG"):
            c = api.open_complaint(app, session, {"customer_code": code, "description": "送货晚"}, "王芳")
        api.close(app, session, c.id, "王芳", stage="withdrawn", reason="客户撤回")  # BIG's: not open
    return app


def reviews(kehu_cli):
    result = kehu_cli("acme", "reviews", "--json")
    assert result.exit_code == 0, result.output
    return [(r["week"], r["key_accounts"], r["late_payers"], r["open_key_complaints"]) for r in result.json]


def acme_outcomes(result):
    assert result.exit_code == 0, result.output
    return [(o["name"], o["status"], o["message"]) for o in result.json if o["name"] == JOB]


def test_one_review_a_week(week, kehu_cli):
    monday = calendar.period_start(calendar.today(), "week").isoformat()
    [(_, status, message)] = acme_outcomes(kehu_cli("jobs", "run-due", "--json"))
    assert (status, message) == (
        "ok",
        f"week of {monday}: key accounts 2, late payers 1, open key-account complaints 1",
    )
    assert reviews(kehu_cli) == [(monday, 2, 1, 1)]

    assert acme_outcomes(kehu_cli("jobs", "run-due", "--json")) == []  # not due again: nothing new
    forced = acme_outcomes(kehu_cli("jobs", "run-due", JOB, "--force", "--json"))
    assert forced == [(JOB, "ok", f"week of {monday} already reviewed")]  # idempotent per week
    assert reviews(kehu_cli) == [(monday, 2, 1, 1)]

    with week.session() as session:  # a key account's complaint more by next week
        api.open_complaint(week, session, {"customer_code": "BIG", "description": "又卡纸"}, "王芳")
    later = datetime.now(UTC) + timedelta(days=7, minutes=1)
    [outcome] = jobs.run_due(week, now=later, names=[JOB])
    next_monday = calendar.period_start(calendar.local_day(later), "week").isoformat()
    assert next_monday > monday
    assert outcome.status == "ok", outcome.message
    assert reviews(kehu_cli) == [(monday, 2, 1, 1), (next_monday, 2, 1, 2)]


def test_the_job_is_listed(week, kehu_cli):
    listed = {j["name"]: j for j in kehu_cli("jobs", "list", "--json").json}
    assert (listed[JOB]["plugin"], listed[JOB]["interval_seconds"]) == ("acme_rules", 7 * 24 * 3600)
