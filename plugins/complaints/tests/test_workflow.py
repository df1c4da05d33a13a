"""The workflow: illegal moves and failed guards are refused by name and change nothing; the
happy path through approval; a company plugin adds a stage and a guard through the hook."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kehu_complaints import api
from kehu_complaints.models import HISTORY
from kehu_complaints.workflow import Guard, Stage, TransitionRefused, default_workflow
from kehu_core import hookimpl
from kehu_core.errors import KehuError


def _state(app, cid):
    with app.session() as s:
        history = s.scalar(select(func.count()).select_from(HISTORY).where(HISTORY.c.complaint_id == cid))
    c = _get(app, cid)
    return c.status, c.version, history, c.solution, c.approved_by


def _get(app, cid):
    with app.session() as s:
        return api.get_complaint(app, s, cid).complaint


REFUSALS = [
    # (stage to reach first, move, kwargs, guard named in the error)
    ("received", "resolved", {}, "not in the workflow"),
    ("received", "rejected", {}, "reason_stated"),
    ("investigating", "solution_proposed", {}, "solution_required"),
    ("solution_proposed", "customer_agreed", {}, "approval"),  # compensation 800 > 500
    ("solution_proposed", "approved", {"actor": "王芳"}, "approver_not_handler"),
    ("resolved", "followed_up", {}, "satisfaction_recorded"),
    ("resolved", "closed", {}, "follow_up_or_reason"),
    ("followed_up", "closed", {}, "review_written"),
    ("closed", "reopened", {}, "reason_stated"),
]
PATH = {
    "received": [],
    "investigating": [("acknowledged", {}), ("investigating", {})],
}
PATH["solution_proposed"] = PATH["investigating"] + [
    (
        "solution_proposed",
        {"changes": {"solution": "换新机", "compensation_amount": "800", "compensation_type": "replacement"}},
    )
]
PATH["resolved"] = PATH["solution_proposed"] + [
    ("approved", {"actor": "主管李娜"}),
    ("customer_agreed", {}),
    ("in_progress", {}),
    ("resolved", {}),
]
PATH["followed_up"] = PATH["resolved"] + [("followed_up", {"changes": {"satisfaction": "4"}})]
PATH["closed"] = PATH["followed_up"] + [
    (
        "closed",
        {
            "changes": {
                "responsible_party": "仓库",
                "penalty_note": "无",
                "root_cause": "质检漏检",
                "corrective_action": "加强出厂检验",
            }
        },
    )
]


def test_illegal_moves_and_failed_guards_change_nothing(app, h):
    c = h.open_one(app, "2025-03-03 09:00", handler="王芳")
    reached = "received"
    hour = 10
    for start, target, kwargs, guard in REFUSALS:
        for stage, kw in PATH[start][
            len(PATH[reached])
            if reached in PATH and PATH[start][: len(PATH[reached])] == PATH[reached]
            else 0 :
        ]:
            h.move(app, c.id, stage, f"2025-03-04 {hour:02d}:00", **kw)
            hour += 0 if hour >= 17 else 1
        reached = start
        before = _state(app, c.id)
        with pytest.raises(TransitionRefused) as info:
            h.move(app, c.id, target, "2025-03-05 10:00", **kwargs)
        assert guard in str(info.value), (target, str(info.value))
        assert "Nothing was changed" in str(info.value)
        assert _state(app, c.id) == before, f"{start} -> {target} changed something"
    assert _get(app, c.id).status == "closed"


def test_approval_rules(app, h):
    """A changed solution voids the approval; critical severity always needs one."""
    c = h.open_one(app, "2025-03-03 09:00", handler="王芳")
    for stage, kw in PATH["solution_proposed"] + [("approved", {"actor": "主管李娜"})]:
        h.move(app, c.id, stage, "2025-03-03 10:00", **kw)
    assert _get(app, c.id).approved_by == "主管李娜"
    with pytest.raises(TransitionRefused, match="approval"):
        h.move(app, c.id, "customer_agreed", "2025-03-03 11:00", changes={"compensation_amount": "2000"})
    done = h.move(app, c.id, "customer_agreed", "2025-03-03 11:00")
    assert done.status == "customer_agreed" and done.approved_by == "主管李娜"

    # critical severity needs approval even without compensation
    c = h.open_one(app, "2025-03-03 09:00", severity="critical", handler="王芳")
    for stage, kw in PATH["investigating"] + [("solution_proposed", {"changes": {"solution": "道歉"}})]:
        h.move(app, c.id, stage, "2025-03-03 10:00", **kw)
    with pytest.raises(TransitionRefused, match="severity is critical"):
        h.move(app, c.id, "customer_agreed", "2025-03-03 11:00")


class Acme:
    """A company's rule plugin: a quality-inspection stage, and refunds need the finance team."""

    @hookimpl
    def kehu_complaint_workflow(self, workflow):
        workflow.add_stage(Stage("quality_check", "质检复核", description="the QA lab re-tests the product"))
        workflow.add_transition("investigating", "quality_check")
        workflow.add_transition("quality_check", "solution_proposed")
        workflow.remove_transition("investigating", "solution_proposed")
        workflow.add_guard(
            Guard(
                "finance_signs_refunds",
                "refunds are proposed by the finance department",
                lambda ctx: (
                    None
                    if ctx.complaint.get("compensation_type") != "refund" or ctx.actor.startswith("财务")
                    else "a refund is proposed by 财务"
                ),
                targets=("solution_proposed",),
            )
        )
        workflow.remove_guard("approver_not_handler")


def test_company_plugin_changes_the_workflow(app, h, kehu_register_plugin, kehu_cli):
    kehu_register_plugin(Acme(), "complaints_test_acme")
    text = kehu_cli("complaint", "workflow")
    assert text.exit_code == 0, text
    line = next(ln for ln in text.output.splitlines() if ln.startswith("investigating"))
    assert "quality_check" in line and "solution_proposed" not in line
    assert "finance_signs_refunds (into solution_proposed)" in text.output
    mermaid = kehu_cli("complaint", "workflow", "--mermaid").output
    assert (
        mermaid.startswith("stateDiagram-v2")
        and "quality_check --> solution_proposed : [solution_required, finance_signs_refunds]" in mermaid
    )
    hook = kehu_cli("hooks", "kehu_complaint_workflow", "--json")
    assert (
        hook.exit_code == 0
        and "complaints_test_acme" in hook.output
        and "Change the complaint workflow" in hook.output
    )
    data = kehu_cli("complaint", "workflow", "--json").json
    assert "approver_not_handler" not in [g["name"] for g in data["guards"]]

    c = h.open_one(app, "2025-03-03 09:00", handler="王芳")
    h.move(app, c.id, "acknowledged", "2025-03-03 10:00")
    h.move(app, c.id, "investigating", "2025-03-03 11:00")
    with pytest.raises(TransitionRefused, match="not in the workflow"):
        h.move(app, c.id, "solution_proposed", "2025-03-03 12:00", changes={"solution": "退款"})
    h.move(app, c.id, "quality_check", "2025-03-03 13:00")
    refund = {"solution": "退款", "compensation_amount": "100", "compensation_type": "refund"}
    with pytest.raises(TransitionRefused, match="finance_signs_refunds"):
        h.move(app, c.id, "solution_proposed", "2025-03-03 14:00", changes=refund)
    assert (
        h.move(app, c.id, "solution_proposed", "2025-03-03 14:00", actor="财务张三", changes=refund).status
        == "solution_proposed"
    )


def test_unknown_stage_in_a_company_workflow_is_reported():
    workflow = default_workflow()
    workflow.add_transition("investigating", "lab")
    with pytest.raises(KehuError, match="unknown stage 'lab'"):
        workflow.validate()


def test_default_workflow_reaches_every_stage():
    workflow = default_workflow()
    seen, todo = {workflow.initial}, [workflow.initial]
    while todo:
        for nxt in workflow.next_stages(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(workflow.stages)
    assert workflow.as_mermaid().count("-->") == len(workflow.transitions) + 2  # [*] in, withdrawn out
