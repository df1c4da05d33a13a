"""The complaint procedure (投诉处理程序) cannot be skipped for a formal complaint (投诉): the
review on every path to ``closed``, the follow-up with satisfaction or a recorded exemption,
auto-close for grievances (抱怨) only by default, and approval that can be made mandatory.
Every expected value is worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from kehu_complaints import api, handling, jobs
from kehu_complaints.workflow import TransitionRefused, default_workflow
from kehu_core import audit
from kehu_core.errors import ValidationError

REVIEW = {
    "responsible_party": "仓库",
    "penalty_note": "无",
    "root_cause": "出库未复核",
    "corrective_action": "双人复核",
}
#: The option each review field is asked for by, as the refusal names it.
OPTION = {
    "responsible_party": "--responsible",
    "penalty_note": "--penalty",
    "root_cause": "--root-cause",
    "corrective_action": "--corrective-action",
}


def _resolved(app, h, kind="complaint", **values):
    c = h.open_one(app, "2025-03-03 09:00", handler="王芳", kind=kind, **values)
    h.walk(app, c.id, "2025-03-03 10:00")
    return c.id


def _status(app, h, cid):
    return h.get(app, cid).complaint.status


@pytest.mark.parametrize("missing", list(REVIEW))
@pytest.mark.parametrize("blank", ["", "   "])
def test_each_review_field_is_required_on_every_path_to_closed(app, h, missing, blank):
    followed = _resolved(app, h)
    h.move(app, followed, "followed_up", "2025-03-04 10:00", changes={"satisfaction": "4"})
    exempt = _resolved(app, h)
    review = {**REVIEW, missing: blank} if blank else {k: v for k, v in REVIEW.items() if k != missing}
    for cid, kw in ((followed, {}), (exempt, {"reason": "客户失联"})):
        before = h.get(app, cid).complaint.version
        with pytest.raises(TransitionRefused, match="review_written") as info:
            h.move(app, cid, "closed", "2025-03-04 11:00", changes=review, **kw)
        assert OPTION[missing] in str(info.value)
        assert sum(option in str(info.value) for option in OPTION.values()) == 1  # only the missing one
        assert h.get(app, cid).complaint.version == before


def test_a_penalty_of_none_stated_closes_and_the_exemption_is_in_history_and_audit(app, h):
    followed = _resolved(app, h)
    h.move(app, followed, "followed_up", "2025-03-04 10:00", changes={"satisfaction": "4"})
    assert h.move(app, followed, "closed", "2025-03-04 11:00", changes=REVIEW).status == "closed"
    assert h.get(app, followed).complaint.penalty_note == "无"

    exempt = _resolved(app, h)
    # no follow-up, no reason: refused by the follow-up guard, even with the review
    with pytest.raises(TransitionRefused, match="follow_up_or_reason") as info:
        h.move(app, exempt, "closed", "2025-03-04 11:00", changes=REVIEW)
    assert "complaints.exempt" in str(info.value)
    closed = h.move(app, exempt, "closed", "2025-03-04 11:00", changes=REVIEW, reason="客户失联")
    assert closed.status == "closed" and closed.close_reason == "客户失联"
    last = h.get(app, exempt).timeline[-1]
    assert (last.action, last.from_status, last.to_status) == ("moved", "resolved", "closed")
    assert "reason: 客户失联" in last.note and "exempt from the follow-up (回访) by 王芳" in last.note
    with app.session() as s:
        entry = audit.trail(s, entity="complaint", key=str(exempt))[-1]
    assert entry.changes["exempt"] == "closed without the follow-up (回访) and satisfaction"


def test_a_follow_up_without_satisfaction_is_no_follow_up(app, h):
    """A company that drops the satisfaction guard at follow-up still closes a formal complaint
    only with the satisfaction recorded, or by exemption."""
    workflow = default_workflow()
    workflow.remove_guard("satisfaction_recorded")
    cid = _resolved(app, h)
    with app.session() as s:
        handling.move(app, s, cid, "followed_up", "王芳", now=h.at("2025-03-04 10:00"), workflow=workflow)
    with pytest.raises(TransitionRefused, match="follow_up_or_reason"), app.session() as s:
        handling.move(
            app, s, cid, "closed", "王芳", changes=REVIEW, now=h.at("2025-03-04 11:00"), workflow=workflow
        )
    with app.session() as s:
        done = handling.move(
            app,
            s,
            cid,
            "closed",
            "王芳",
            changes={**REVIEW, "satisfaction": "3"},
            now=h.at("2025-03-04 11:00"),
            workflow=workflow,
        )
    assert done.status == "closed" and done.satisfaction == 3


def test_a_grievance_keeps_the_light_procedure(app, h):
    by_reason = _resolved(app, h, kind="grievance")
    assert h.move(app, by_reason, "closed", "2025-03-04 11:00", reason="客户满意").status == "closed"
    followed = _resolved(app, h, kind="grievance")
    h.move(app, followed, "followed_up", "2025-03-04 10:00", changes={"satisfaction": "5"})
    assert h.move(app, followed, "closed", "2025-03-04 11:00").status == "closed"
    last = h.get(app, by_reason).timeline[-1]
    assert "exempt" not in (last.note or "")


def test_auto_close_closes_grievances_only_unless_the_setting_says_so(app, h):
    # both resolved 2025-03-03 10:00 Shanghai = 02:00 UTC; 7 days later is 2025-03-10 02:00 UTC
    grievance = _resolved(app, h, kind="grievance")
    formal = _resolved(app, h)
    edge = h.at("2025-03-10 10:00").astimezone(UTC)
    with app.session() as s:
        assert jobs.auto_close(app, s, edge) == "nothing to auto-close"  # exactly 7 days: not yet
        assert (
            jobs.auto_close(app, s, edge + timedelta(seconds=1))
            == "1 resolved complaint(s) auto-closed without follow-up"
        )
        assert jobs.auto_close(app, s, edge + timedelta(days=30)) == "nothing to auto-close"
    assert _status(app, h, grievance) == "closed"
    assert _status(app, h, formal) == "resolved"
    with app.session() as s:
        assert api.settings(app, s)["auto_close_complaints"] is False
        api.change_setting(app, s, "auto_close_complaints", "yes")
    with app.session() as s:
        assert jobs.auto_close(app, s, edge + timedelta(days=30)).startswith("1 resolved complaint(s)")
    assert _status(app, h, formal) == "closed"


def _agree(app, h, amount, when="2025-03-03 11:00"):
    """Propose a solution (with ``amount`` compensation, or none) and move it to customer_agreed."""
    c = h.open_one(app, "2025-03-03 09:00", handler="王芳")
    h.walk(app, c.id, "2025-03-03 10:00", until="investigating")
    changes = {"solution": "退款"} | ({"compensation_amount": amount} if amount is not None else {})
    h.move(app, c.id, "solution_proposed", "2025-03-03 10:00", changes=changes)
    return h.move(app, c.id, "customer_agreed", when)


def _threshold(app, value):
    with app.session() as s:
        return api.change_setting(app, s, "approval_threshold", value)["approval_threshold"]


@pytest.mark.parametrize(
    ("threshold", "amount", "needs_approval"),
    [
        ("500", "499.99", False),
        ("500", "500.00", False),  # not above the threshold
        ("500", "500.01", True),
        ("500", None, False),
        ("0", "0.00", False),
        ("0", "0.01", True),
        ("0", None, False),  # no compensation: nothing above 0
        ("always", None, True),  # every solution
        ("always", "0.00", True),
        ("ALWAYS ", "0.01", True),
    ],
)
def test_approval_threshold_and_always(app, h, threshold, amount, needs_approval):
    stored = _threshold(app, threshold)
    assert stored == ("always" if threshold.strip().lower() == "always" else f"{int(threshold)}.00")
    if needs_approval:
        with pytest.raises(TransitionRefused, match="guard 'approval'") as info:
            _agree(app, h, amount)
        if stored == "always":
            assert "approval_threshold is always" in str(info.value)
    else:
        assert _agree(app, h, amount).status == "customer_agreed"


@pytest.mark.parametrize("value", ["-1", "-0.01", "0.001", "sometimes", ""])
def test_a_negative_or_unknown_threshold_is_refused_in_one_line(app, h, kehu_cli, value):
    with pytest.raises(ValidationError) as info:
        _threshold(app, value)
    message = str(info.value)
    assert message.startswith("approval_threshold: must be a non-negative amount")
    assert "'always' (every solution needs approval)" in message and "\n" not in message
    assert "nothing was changed" in message
    out = kehu_cli("complaint", "settings", "approval_threshold", value)
    assert out.exit_code != 0 and "approval_threshold: must be a non-negative amount" in out.output
    assert "Traceback" not in out.output
    with app.session() as s:
        assert api.settings(app, s)["approval_threshold"] == "500.00"
