"""The workflow's rules one comparison at a time, expected values written by hand: which guard
runs for which move, what the default guards refuse (approval at the threshold exactly and a
cent either side, follow-up, satisfaction, the review, what the customer wanted, the approver,
a stated reason), how a workflow is validated, how stages are named, parsed and listed, and the
text and Mermaid renderings of a small workflow.

Values compared as strings are built at run time where a mutant could compare them by
identity (``is``) instead of equality: input read from a file or a database is never the
interned literal of the module."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kehu_complaints.workflow import (
    DEFAULT_GUARDS,
    DEFAULT_STAGES,
    STAGE_KINDS,
    Guard,
    GuardContext,
    Stage,
    TransitionRefused,
    Workflow,
    approval_required,
    closes_without_follow_up,
    default_workflow,
    followed_up,
    missing_review,
    missing_wanted,
)
from kehu_core.errors import KehuError
from kehu_core.i18n import N_, using


def built(*parts: str) -> str:
    """A string equal to the literal ``"".join(parts)`` but not the same object."""
    return "".join(parts)


def context(complaint: dict[str, Any] | None = None, **kw: Any) -> GuardContext:
    values: dict[str, Any] = dict(source="a", target="b", actor="主管李娜", reason=None, settings={})
    values.update(kw)
    return GuardContext(complaint or {}, **values)


GUARDS = {g.name: g for g in DEFAULT_GUARDS}


def refusal(name: str, complaint: dict[str, Any], **kw: Any) -> str | None:
    """What the default guard ``name`` says of ``complaint``."""
    return GUARDS[name].check(context(complaint, **kw))


# -- stages ---------------------------------------------------------------------------------------


def test_a_stage_kind_is_one_of_three_and_only_reopened_restarts_the_clock():
    for kind in STAGE_KINDS:
        assert Stage("x", "x", kind=built(kind)).kind == kind
    with pytest.raises(ValueError, match="stage kind must be one of open, done, closed, got 'paused'"):
        Stage("x", "x", kind="paused")
    assert Stage("x", "x").reopens is False
    assert [s.key for s in DEFAULT_STAGES if s.reopens] == ["reopened"]
    workflow = default_workflow()
    assert workflow.keys_of_kind("closed") == ["closed", "rejected", "withdrawn"]
    assert workflow.keys_of_kind("done", "closed") == [
        "resolved",
        "followed_up",
        "closed",
        "rejected",
        "withdrawn",
    ]
    assert workflow.keys_of_kind("paused") == []


# -- guards: where they run ---------------------------------------------------------------------


def never(ctx: GuardContext) -> str | None:
    return None


@pytest.mark.parametrize(
    ("targets", "sources", "move", "runs"),
    [
        ((), (), ("a", "b"), True),
        (("b",), (), ("a", "b"), True),
        (("b",), (), ("a", "c"), False),
        ((), ("a",), ("a", "b"), True),
        ((), ("a",), ("c", "b"), False),
        (("b",), ("a",), ("a", "b"), True),
        (("b",), ("a",), ("c", "b"), False),  # the right target from another stage
        (("b",), ("a",), ("a", "c"), False),  # the right stage into another target
    ],
)
def test_a_guard_runs_into_its_targets_from_its_sources(targets, sources, move, runs):
    assert Guard("g", "d", never, targets=targets, sources=sources).applies(*move) is runs


# -- a small workflow -----------------------------------------------------------------------------


def small() -> Workflow:
    """new -> gone | lab (label "send"); lab -> fixed; fixed -> shut; shut -> new; parked has no move.

    Guards: ``both`` (into fixed from lab) wants a reason, ``into`` (into lab) always refuses,
    ``from`` (from fixed) never does."""
    workflow = Workflow(initial="new")
    for stage in (
        Stage("new", "new"),
        Stage("lab", "质检复核"),
        Stage("fixed", "fixed", kind="done"),
        Stage("parked", "parked"),
        Stage("shut", "shut", kind="closed"),
        Stage("gone", "gone", kind="closed"),
    ):
        workflow.add_stage(stage)
    workflow.add_transition("new", "gone")
    workflow.add_transition("new", "lab", "send")
    workflow.add_transition("lab", "fixed")
    workflow.add_transition("fixed", "shut")
    workflow.add_transition("shut", "new")
    workflow.add_guard(
        Guard("both", "d-both", lambda c: None if c.reason else "needs a lab report", ("fixed",), ("lab",))
    )
    workflow.add_guard(Guard("into", "d-into", lambda c: "closed for lunch", targets=("lab",)))
    workflow.add_guard(Guard("from", "d-from", never, sources=("fixed",)))
    return workflow


def test_next_stages_in_stage_order_whatever_the_order_of_the_transitions():
    workflow = small()
    assert workflow.next_stages(built("ne", "w")) == ["lab", "gone"]
    assert workflow.next_stages("lab") == ["fixed"]
    assert workflow.next_stages("parked") == []
    assert default_workflow().next_stages("received") == ["acknowledged", "rejected", "withdrawn"]


def test_a_move_not_in_the_workflow_lists_the_next_stages_or_says_final():
    workflow = small()
    with using("en"), pytest.raises(TransitionRefused) as info:
        workflow.check(context(source="new", target="shut"))
    assert str(info.value) == (
        "cannot move from 'new' to 'shut': not in the workflow; "
        "from 'new' the next stages are: lab (质检复核), gone. Nothing was changed."
    )
    assert info.value.guard == "transition"
    with using("en"), pytest.raises(TransitionRefused) as info:
        workflow.check(context(source="gone", target="new"))
    assert "from 'gone' the next stages are: none (final stage). Nothing was changed." in str(info.value)
    with using("en"), pytest.raises(KehuError) as unknown:
        workflow.check(context(source="new", target="nowhere"))
    assert str(unknown.value) == "no stage 'nowhere'; stages: new, lab (质检复核), fixed, parked, shut, gone"
    assert not isinstance(unknown.value, TransitionRefused)


def test_only_the_guards_of_a_move_run_and_the_first_refusal_is_named():
    workflow = small()
    workflow.check(context(source="lab", target="fixed", reason="report 7"))  # into: not this move
    workflow.check(context(source="fixed", target="shut"))  # from runs and passes
    with using("en"), pytest.raises(TransitionRefused) as info:
        workflow.check(context(source="lab", target="fixed"))
    assert str(info.value) == "guard 'both' refused lab -> fixed: needs a lab report. Nothing was changed."
    assert info.value.guard == "both"
    with pytest.raises(TransitionRefused) as info:
        workflow.check(context(source="new", target="lab"))
    assert info.value.guard == "into"


def test_a_workflow_naming_unknown_stages_is_refused_with_every_problem():
    default_workflow().validate()
    small().validate()
    workflow = Workflow(initial="start")
    workflow.add_stage(Stage("a", "a"))
    workflow.add_transition("a", "x")
    workflow.add_transition("y", "a")
    workflow.add_guard(Guard("g", "d", never, targets=("z",), sources=("a", "q")))
    with using("en"), pytest.raises(KehuError) as info:
        workflow.validate()
    assert str(info.value) == (
        "the complaint workflow is inconsistent:\n"
        "  initial stage 'start' is not a stage\n"
        "  transition a -> x names unknown stage 'x'\n"
        "  transition y -> a names unknown stage 'y'\n"
        "  guard g names unknown stage 'z'\n"
        "  guard g names unknown stage 'q'"
    )


# -- naming and parsing stages ----------------------------------------------------------------


def with_stages(*stages: Stage) -> Workflow:
    workflow = default_workflow()
    for stage in stages:
        workflow.add_stage(stage)
    return workflow


def test_stages_are_parsed_by_code_label_alias_or_a_company_catalog():
    workflow = with_stages(
        Stage("lab", "化验室"),  # the label given in Chinese, shown as written
        Stage("bare", ""),  # no label: known by its code
        # A company plugin's label, translated in its own catalog (ACME's, named before this
        # plugin's domain in order) or in another one named after it (the core's).
        Stage("quality_check", N_("quality check"), domain="kehu_acme_rules"),
        Stage("customer_update", N_("edit customers"), domain="kehu_core"),
    )
    for typed, code in [
        ("received", "received"),
        (built("awaiting_", "customer"), "awaiting_customer"),
        ("Awaiting Customer", "awaiting_customer"),
        ("awaiting-customer", "awaiting_customer"),
        (" 等待客户 ", "awaiting_customer"),
        ("受理", "received"),
        ("化验室", "lab"),
        ("bare", "bare"),
        ("Quality Check", "quality_check"),
        ("edit customers", "customer_update"),
        ("修改客户", "customer_update"),
    ]:
        assert workflow.parse_stage(typed) == code, typed
        assert workflow.stage(typed).key == code
    acme = with_stages(Stage("quality_check", N_("quality check"), domain="kehu_acme_rules"))
    assert acme.parse_stage("质检复核") == "quality_check"  # only ACME's catalog says so
    with using("en"), pytest.raises(KehuError, match=r"^no stage 'lunch'; stages: received, acknowledged, "):
        workflow.parse_stage("lunch")


def test_labels_are_in_the_user_language_and_codes_when_there_is_none():
    workflow = with_stages(
        Stage("lab", "化验室"),
        Stage("bare", ""),
        Stage("review", "check"),
        Stage("quality_check", N_("quality check"), domain="kehu_acme_rules"),
    )
    with using("en"):
        assert workflow.label(None) == "-"
        assert workflow.label("gone_stage") == "gone_stage"  # a stage the workflow no longer has
        assert workflow.label("bare") == "bare"
        assert workflow.label("awaiting_customer") == "awaiting customer"
        assert workflow.label("quality_check") == "quality check"
        assert workflow.named("awaiting_customer") == "awaiting_customer"
        assert workflow.named(built("la", "b")) == "lab (化验室)"
        assert workflow.named("bare") == "bare"
        # A label that only sorts before its code is still shown (the code alone only when
        # the label spells it out).
        assert workflow.named("review") == "review (check)"
    with using("zh_CN"):
        assert workflow.label("awaiting_customer") == "等待客户"
        assert workflow.label("quality_check") == "质检复核"
        assert workflow.label("lab") == "化验室"
        assert workflow.named("quality_check") == "质检复核 [quality_check]"
    assert Workflow().label(None) == "-"


# -- renderings -----------------------------------------------------------------------------------


def test_the_workflow_as_text():
    workflow = small()
    workflow.add_guard(Guard("every", "d-every", never))
    with using("en"):
        text = workflow.as_text()
    assert text == (
        "new -> lab (质检复核), gone\n"
        "lab (质检复核) -> fixed\n"
        "fixed [done] -> shut\n"
        "parked -> (end)\n"
        "shut [closed] -> new\n"
        "gone [closed] -> (end)\n"
        "\n"
        "guards:\n"
        "  both (into fixed from lab (质检复核)): d-both\n"
        "  into (into lab (质检复核)): d-into\n"
        "  from (on every move from fixed): d-from\n"
        "  every (on every move): d-every"
    )


def test_the_workflow_as_a_mermaid_diagram():
    workflow = small()
    # A closed stage is a final state only when no move leaves it, whatever spells its kind.
    workflow.add_stage(Stage("gone", "gone", kind=built("clo", "sed")))
    with using("en"):
        diagram = workflow.as_mermaid()
    assert diagram == (
        "stateDiagram-v2\n"
        "    new : new new\n"
        "    lab : lab 质检复核\n"
        "    fixed : fixed fixed\n"
        "    parked : parked parked\n"
        "    shut : shut shut\n"
        "    gone : gone gone\n"
        "    [*] --> new\n"
        "    new --> gone\n"
        "    new --> lab : send [into]\n"
        "    lab --> fixed : [both]\n"
        "    fixed --> shut : [from]\n"
        "    shut --> new\n"
        "    gone --> [*]"
    )
    workflow.add_transition("lab", "parked", "wait")
    assert "    lab --> parked : wait\n" in workflow.as_mermaid() + "\n"


# -- the default guards ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "threshold", "required"),
    [
        (None, "500.00", False),
        ("499.99", "500.00", False),
        ("500.00", "500.00", False),  # exactly the threshold: no approval
        ("500", "500.00", False),
        ("500.01", "500.00", True),
        (Decimal("500.01"), None, True),  # the default threshold is 500.00
        (Decimal("500.00"), None, False),
        ("0.00", "0.00", False),
        ("0.01", "0.00", True),
        (None, "always", True),
        ("0.00", built("al", "ways"), True),  # the word as read from the settings
    ],
)
def test_approval_above_the_threshold_strictly_or_always(amount, threshold, required):
    settings = {} if threshold is None else {"approval_threshold": threshold}
    complaint = {"severity": "high", "compensation_amount": amount}
    assert approval_required(complaint, settings) is required
    assert (refusal("approval", complaint, settings=settings) is not None) is required
    # A record that does not say its severity is not critical.
    assert approval_required({"compensation_amount": amount}, settings) is required


def test_critical_severity_always_needs_approval():
    for severity, required in (("low", False), ("medium", False), ("high", False), ("critical", True)):
        assert approval_required({"severity": built(severity)}, {}) is required, severity
    assert approval_required({"severity": "critical", "compensation_amount": "1.00"}, {}) is True


def test_the_approval_guard_says_why_and_passes_once_approved():
    with using("en"):
        assert refusal(
            "approval", {"compensation_amount": "600"}, settings={"approval_threshold": "500.00"}
        ) == (
            "supervisor approval required (compensation 600 is above the approval threshold 500.00); "
            "move it to 'approved' first"
        )
        assert refusal("approval", {"compensation_amount": "600"}) == (
            "supervisor approval required (compensation 600 is above the approval threshold 500.00); "
            "move it to 'approved' first"
        )
        assert refusal(
            "approval", {"severity": built("crit", "ical")}, settings={"approval_threshold": "9"}
        ) == ("supervisor approval required (severity is critical); move it to 'approved' first")
        always = refusal(
            "approval", {"severity": "critical"}, settings={"approval_threshold": built("al", "ways")}
        )
        assert always == (
            "supervisor approval required (approval_threshold is always: every solution is approved); "
            "move it to 'approved' first"
        )
    approved = {"severity": "critical", "compensation_amount": "9000", "approved_by": "主管李娜"}
    assert refusal("approval", approved, settings={"approval_threshold": "always"}) is None
    assert refusal("approval", {"compensation_amount": "500.00", "approved_by": ""}) is None


def test_a_solution_is_text_that_is_not_blank():
    assert refusal("solution_required", {}) == "no solution recorded; give one with --solution"
    assert refusal("solution_required", {"solution": None}) is not None
    assert refusal("solution_required", {"solution": " \t"}) is not None
    assert refusal("solution_required", {"solution": "补"}) is None


def test_the_follow_up_counts_with_a_satisfaction_for_a_formal_complaint():
    now = "2025-03-07 10:00"
    assert followed_up({"followed_up_at": now, "satisfaction": 1})
    assert not followed_up({"followed_up_at": now, "satisfaction": None})
    assert not followed_up({"followed_up_at": None, "satisfaction": 5})
    assert not followed_up({})
    complaint = built("com", "plaint")
    closed = built("clo", "sed")
    assert closes_without_follow_up({"kind": complaint}, closed)
    assert closes_without_follow_up({"kind": complaint, "followed_up_at": now}, closed)
    assert not closes_without_follow_up({"kind": complaint, "followed_up_at": now, "satisfaction": 3}, closed)
    assert not closes_without_follow_up({"kind": "grievance"}, closed)
    assert not closes_without_follow_up({}, closed)  # no kind: not a formal complaint
    for target in ("approved", "followed_up", "resolved", "withdrawn"):
        assert not closes_without_follow_up({"kind": complaint}, target), target


def test_closing_needs_the_follow_up_or_a_reason():
    with using("en"):
        formal = refusal("follow_up_or_reason", {"kind": built("com", "plaint"), "followed_up_at": "x"})
        grievance = refusal("follow_up_or_reason", {"kind": "grievance"})
    assert formal is not None and formal.startswith("a formal complaint (投诉) is closed after the follow-up")
    assert grievance == "not followed up; follow up first, or state why it is closed without one (--reason)"
    assert refusal("follow_up_or_reason", {}) == grievance  # no kind: a grievance's rule
    assert (
        refusal("follow_up_or_reason", {"kind": "complaint", "followed_up_at": "x", "satisfaction": 4})
        is None
    )
    assert refusal("follow_up_or_reason", {"kind": "grievance", "followed_up_at": "x"}) is None
    assert refusal("follow_up_or_reason", {"kind": "grievance"}, reason="客户失联") is None
    assert refusal("follow_up_or_reason", {"kind": "complaint"}, reason="客户失联") is None
    assert refusal("follow_up_or_reason", {"kind": "complaint"}, reason="  ") is not None


def test_a_follow_up_records_the_satisfaction():
    assert refusal("satisfaction_recorded", {"satisfaction": None}) == (
        "record the customer's satisfaction (1-5) with --satisfaction"
    )
    assert refusal("satisfaction_recorded", {"satisfaction": 1}) is None


REVIEW = {
    "responsible_party": "仓库",
    "penalty_note": "无",
    "root_cause": "漏检",
    "corrective_action": "复检",
}


def test_a_formal_complaint_closes_with_every_review_field():
    formal = built("com", "plaint")
    assert missing_review({"kind": formal, **REVIEW}) == []
    assert [field for field, _o, _w in missing_review({"kind": formal})] == [
        "responsible_party",
        "penalty_note",
        "root_cause",
        "corrective_action",
    ]
    blank = {"kind": formal, **REVIEW, "penalty_note": "  ", "root_cause": None}
    assert [field for field, _o, _w in missing_review(blank)] == ["penalty_note", "root_cause"]
    assert missing_review({"kind": "grievance"}) == []
    assert missing_review({}) == []  # no kind: not a formal complaint
    with using("en"):
        assert refusal("review_written", blank) == (
            "a formal complaint (投诉) is closed with the review; missing the penalty decision "
            "(处罚责任人; 无/none when there is none, stated) (--penalty), "
            "the root cause (总结评价) (--root-cause)"
        )
    assert refusal("review_written", {"kind": formal, **REVIEW}) is None


def test_what_the_customer_wanted_is_met_on_record():
    wants = ["apology", "no_recurrence", "compensation"]  # an unknown want, then two steps
    # Compensation: either field is enough, from resolve on.
    assert missing_wanted({"wants": wants}, "resolved") == [
        ("compensation", ["compensation_amount", "compensation_type"], GUARDS_HOW["compensation"])
    ]
    assert missing_wanted({"wants": wants, "compensation_amount": Decimal("0")}, "resolved") == []
    assert missing_wanted({"wants": wants, "compensation_type": "none"}, "resolved") == []
    assert missing_wanted({"wants": wants, "compensation_type": " "}, "resolved") != []
    assert missing_wanted({"wants": wants}, "in_progress") == []
    # No recurrence: both fields, by close only.
    closing = {"wants": ["no_recurrence"], "root_cause": "漏检"}
    assert missing_wanted(closing, "closed") == [
        ("no_recurrence", ["corrective_action"], GUARDS_HOW["no_recurrence"])
    ]
    assert missing_wanted({**closing, "corrective_action": "复检"}, "closed") == []
    assert missing_wanted({"wants": None}, "closed") == []
    assert missing_wanted({}, "closed") == []


GUARDS_HOW = {
    "compensation": "--compensation or --compensation-type; 'none' states that none is given",
    "no_recurrence": "--root-cause and --corrective-action",
}


def test_the_wanted_steps_guard_names_the_first_want_missing():
    both = {"wants": ["compensation", "no_recurrence"]}
    with using("en"):
        assert refusal("wanted_steps", both, target="closed") == (
            "the customer wanted compensation (赔偿或补偿); missing compensation_amount or "
            "compensation_type (--compensation or --compensation-type; 'none' states that none is given)"
        )
        assert refusal("wanted_steps", {"wants": ["no_recurrence"]}, target="closed") == (
            "the customer wanted no_recurrence (解决问题，不让它再次发生); missing root_cause, "
            "corrective_action (--root-cause and --corrective-action)"
        )
        assert refusal(
            "wanted_steps", {"wants": ["no_recurrence"], "root_cause": "漏检"}, target="closed"
        ) == (
            "the customer wanted no_recurrence (解决问题，不让它再次发生); missing corrective_action "
            "(--root-cause and --corrective-action)"
        )
    assert refusal("wanted_steps", both, target="closed", settings={"require_wanted_steps": False}) is None
    assert refusal("wanted_steps", both, target="closed", settings={"require_wanted_steps": True}) is not None
    assert refusal("wanted_steps", {"wants": ["respect"]}, target="closed") is None


def test_rejecting_withdrawing_or_reopening_states_a_reason():
    assert refusal("reason_stated", {}) == "state the reason with --reason"
    assert refusal("reason_stated", {}, reason=" ") is not None
    assert refusal("reason_stated", {}, reason="重复投诉") is None


@pytest.mark.parametrize(
    ("actor", "handler", "refused"),
    [
        (built("王", "芳"), "王芳", True),
        ("主管李娜", "王芳", False),  # sorts before the handler
        ("赵敏", "王芳", False),  # sorts after the handler
        ("", "", False),  # no actor named: not the handler
        ("主管李娜", None, False),
    ],
)
def test_the_handler_does_not_approve_their_own_solution(actor, handler, refused):
    found = refusal("approver_not_handler", {"handler": handler}, actor=actor)
    assert (found is not None) is refused
    if refused:
        with using("en"):
            assert refusal("approver_not_handler", {"handler": handler}, actor=actor) == (
                "the handler (王芳) cannot approve their own solution; a supervisor must"
            )


# -- on the database ------------------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "refused"), [("499.99", False), ("500.00", False), ("500.01", True)])
def test_compensation_exactly_at_the_threshold_needs_no_approval_when_stored(app, h, amount, refused):
    """The amount as the database gives it back (a number column) is compared, not the text typed."""
    c = h.open_one(app, "2025-03-03 09:00", handler="王芳")
    h.walk(app, c.id, "2025-03-03 10:00", until="investigating")
    changes = {"solution": "退款", "compensation_amount": amount, "compensation_type": "refund"}
    h.move(app, c.id, "solution_proposed", "2025-03-03 11:00", changes=changes)
    if refused:
        with pytest.raises(TransitionRefused, match="above the approval threshold 500.00"):
            h.move(app, c.id, "customer_agreed", "2025-03-03 12:00")
        assert h.get(app, c.id).complaint.status == "solution_proposed"
    else:
        assert h.move(app, c.id, "customer_agreed", "2025-03-03 12:00").status == "customer_agreed"
