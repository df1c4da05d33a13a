"""``move --at``: a step done earlier is recorded at the time it happened (not in the future, not
before the previous step), the history keeps both times, and the SLA clocks use it.

Times by hand: the default policy gives 480 business minutes to answer and 2,400 to resolve, on
09:00-12:00 and 13:00-18:00 working days. Opened Monday 2025-03-03 09:00, the first response is
due 2025-03-03 18:00 (3 h + 5 h) and the resolution Friday 2025-03-07 18:00 (five 8-hour days).
"""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from kehu_complaints import api, jobs
from kehu_complaints.report import build_report
from kehu_core.errors import ValidationError

ONE = timedelta(seconds=1)
NOW = "2025-03-04 10:00:00"


def _move(app, h, cid, stage, at, now=NOW, **kw):
    with app.session() as s:
        return api.move(app, s, cid, stage, "王芳", now=h.at(now), at=at, **kw)


def test_not_in_the_future_exactly_now_is_allowed(app, h):
    c = h.open_one(app, "2025-03-03 09:00")
    with pytest.raises(ValidationError) as info:
        _move(app, h, c.id, "acknowledged", h.at(NOW) + ONE)
    message = str(info.value)
    assert message == (
        "at: is in the future (now is 2025-03-04 10:00:00); nothing was changed (got '2025-03-04 10:00:01')"
    )
    assert h.get(app, c.id).complaint.status == "received"
    done = _move(app, h, c.id, "acknowledged", h.at(NOW))
    assert done.first_response_at == h.at(NOW)
    # exactly now: one time, nothing "recorded later"
    assert h.get(app, c.id).timeline[-1].recorded_at is None


def test_not_before_the_previous_step_exactly_it_is_allowed(app, h):
    c = h.open_one(app, "2025-03-03 09:00")
    opened = h.at("2025-03-03 09:00")
    with pytest.raises(ValidationError, match=r"^at: is before the previous step of complaint #\d+ "):
        _move(app, h, c.id, "acknowledged", opened - ONE)
    assert _move(app, h, c.id, "acknowledged", opened).first_response_at == opened  # the opening itself
    step = h.at("2025-03-03 15:00")
    _move(app, h, c.id, "investigating", step)
    with pytest.raises(ValidationError) as info:
        _move(app, h, c.id, "awaiting_customer", step - ONE)
    assert "(2025-03-03 15:00:00); nothing was changed (got '2025-03-03 14:59:59')" in str(info.value)
    assert h.get(app, c.id).complaint.status == "investigating"
    assert _move(app, h, c.id, "awaiting_customer", step).status == "awaiting_customer"


def test_the_history_keeps_when_it_happened_and_when_it_was_recorded(app, h, kehu_cli):
    c = h.open_one(app, "2025-03-03 09:00")
    _move(app, h, c.id, "acknowledged", h.at("2025-03-03 17:00"), note="电话回复")
    h.move(app, c.id, "investigating", "2025-03-04 11:00")  # at the time it is recorded
    first, second = h.get(app, c.id).timeline[-2:]
    assert (first.at, first.recorded_at, first.to_status) == (
        h.at("2025-03-03 17:00"),
        h.at(NOW),
        "acknowledged",
    )
    assert (second.at, second.recorded_at) == (h.at("2025-03-04 11:00"), None)
    shown = kehu_cli("complaint", "show", str(c.id))
    assert shown.exit_code == 0, shown.output
    line = next(row for row in shown.output.splitlines() if "电话回复" in row)
    assert "2025-03-03 17:00" in line and "2025-03-04 10:00" in line
    data = kehu_cli("complaint", "show", str(c.id), "--json").json
    entry = next(e for e in data["timeline"] if e["note"] == "电话回复")
    assert entry["at"].startswith("2025-03-03T09:00:00") and entry["recorded_at"].startswith(
        "2025-03-04T02:00"
    )


@pytest.mark.parametrize(
    ("answered", "breached"), [("17:59:59", False), ("18:00:00", False), ("18:00:01", True)]
)
def test_the_sla_uses_the_time_given_and_a_breach_it_disproves_is_cleared(app, h, answered, breached):
    c = h.open_one(app, "2025-03-03 09:00")
    assert h.get(app, c.id).complaint.first_response_due_at == h.at("2025-03-03 18:00")
    with app.session() as s:  # the job runs the next morning: nobody has recorded an answer yet
        jobs.escalate(app, s, h.at("2025-03-04 09:00").astimezone(UTC))
    assert h.get(app, c.id).complaint.first_response_breached_at is not None
    record = _move(app, h, c.id, "acknowledged", h.at(f"2025-03-03 {answered}"))
    assert record.first_response_at == h.at(f"2025-03-03 {answered}")
    assert (record.first_response_breached_at is not None) is breached
    with app.session() as s:
        report = build_report(s, s.get_bind().dialect.name, now=h.at(NOW))
    assert report.breached == (1 if breached else 0)


def test_a_pause_is_counted_between_the_times_given(app, h):
    c = h.open_one(app, "2025-03-03 09:00")
    _move(app, h, c.id, "acknowledged", h.at("2025-03-03 10:00"))
    _move(app, h, c.id, "awaiting_customer", h.at("2025-03-03 11:00"))
    record = _move(app, h, c.id, "investigating", h.at("2025-03-03 14:00"))
    # paused 11:00-12:00 and 13:00-14:00: 2 business hours, so Fri 18:00 moves to Mon 03-10 11:00
    assert record.paused_seconds == 7200
    assert record.resolution_due_at == h.at("2025-03-10 11:00")


def test_the_cli_records_a_step_done_earlier(app, h, kehu_cli):
    c = h.open_one(app, "2025-03-03 09:00")
    done = kehu_cli("complaint", "move", str(c.id), "acknowledged", "--at", "2025-03-03 16:00", "--json")
    assert done.exit_code == 0, done.output
    assert done.json["first_response_at"].startswith("2025-03-03T08:00:00")
    future = kehu_cli("complaint", "move", str(c.id), "investigating", "--at", "2199-01-01 00:00")
    assert future.exit_code != 0 and "at: is in the future" in future.output
    assert "Traceback" not in future.output and h.get(app, c.id).complaint.status == "acknowledged"
