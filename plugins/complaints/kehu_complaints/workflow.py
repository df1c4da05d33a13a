"""The complaint workflow as data: stages, transitions and guards.

The default follows the complaint procedure of the course material (投诉处理程序: 先处理感觉,
再处理问题; 受理 → 确定责任 → 处理方案 → 主管批示 → 通知客户 → 实施 → 处罚责任者 → 存档 →
总结评价). Companies change it through the
``kehu_complaint_workflow`` hook (see :mod:`kehu_complaints.hookspecs`): add stages, transitions
and guards, or remove them. A guard is a named check run before a move; it returns the reason
it refuses, or ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from attrs import define, field, frozen

from kehu_complaints.fields import WANTS
from kehu_core.app import Kehu
from kehu_core.errors import KehuError

#: Stage kinds: ``open`` (the clocks run), ``done`` (resolved, clocks stopped, not closed), ``closed``.
STAGE_KINDS = ("open", "done", "closed")


@frozen
class Stage:
    """A stage of handling.

    ``kind`` says whether clocks run (``open``), the problem is solved (``done``), or the case is
    over (``closed``). ``sets`` names the timestamp entering it records: ``resolved_at``,
    ``followed_up_at``, ``closed_at``; ``reopens`` restarts the resolution clock.
    """

    key: str
    label: str
    kind: str = "open"
    sets: str | None = None
    reopens: bool = False
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if self.kind not in STAGE_KINDS:
            raise ValueError(f"stage kind must be one of {', '.join(STAGE_KINDS)}, got {self.kind!r}")


@frozen
class GuardContext:
    """What a guard sees: the complaint as it would be after the move, and who moves it."""

    complaint: Mapping[str, Any]
    source: str
    target: str
    actor: str
    reason: str | None
    settings: Mapping[str, Any]


@frozen
class Guard:
    """A named check on moves into ``targets`` (all moves when empty), optionally only from ``sources``."""

    name: str
    description: str
    check: Callable[[GuardContext], str | None]
    targets: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def applies(self, source: str, target: str) -> bool:
        """True when this guard runs for a move from ``source`` to ``target``."""
        return (not self.targets or target in self.targets) and (not self.sources or source in self.sources)


class TransitionRefused(KehuError):
    """A move is not in the workflow, or a guard refused it; nothing was changed."""

    def __init__(self, message: str, guard: str | None = None):
        self.guard = guard
        super().__init__(message)


@define
class Workflow:
    """Stages, allowed transitions and guards. Built fresh from the default and the hook."""

    stages: dict[str, Stage] = field(factory=dict)
    transitions: dict[tuple[str, str], str] = field(factory=dict)
    guards: dict[str, Guard] = field(factory=dict)
    initial: str = "received"

    # -- building (the hook's API) ---------------------------------------------------------
    def add_stage(self, stage: Stage) -> None:
        """Add (or replace) a stage."""
        self.stages[stage.key] = stage

    def add_transition(self, source: str, target: str, label: str = "") -> None:
        """Allow moving from ``source`` to ``target``."""
        self.transitions[(source, target)] = label

    def remove_transition(self, source: str, target: str) -> None:
        """Forbid a move the default allows."""
        self.transitions.pop((source, target), None)

    def add_guard(self, guard: Guard) -> None:
        """Add (or replace, by name) a guard."""
        self.guards[guard.name] = guard

    def remove_guard(self, name: str) -> None:
        """Drop a guard, e.g. to waive approval in a small shop."""
        self.guards.pop(name, None)

    def validate(self) -> None:
        """Refuse a workflow whose transitions or guards name unknown stages."""
        problems = []
        if self.initial not in self.stages:
            problems.append(f"initial stage {self.initial!r} is not a stage")
        for source, target in self.transitions:
            for key in (source, target):
                if key not in self.stages:
                    problems.append(f"transition {source} -> {target} names unknown stage {key!r}")
        for guard in self.guards.values():
            for key in (*guard.targets, *guard.sources):
                if key not in self.stages:
                    problems.append(f"guard {guard.name} names unknown stage {key!r}")
        if problems:
            raise KehuError("the complaint workflow is inconsistent:\n  " + "\n  ".join(problems))

    # -- using -----------------------------------------------------------------------------
    def stage(self, key: str) -> Stage:
        """The stage ``key``, or a clear error listing the stages."""
        try:
            return self.stages[key]
        except KeyError:
            raise KehuError(f"no stage {key!r}; stages: {', '.join(self.stages)}") from None

    def next_stages(self, source: str) -> list[str]:
        """Stages reachable in one move from ``source``, in workflow order."""
        order = list(self.stages)
        return sorted((t for s, t in self.transitions if s == source), key=order.index)

    def keys_of_kind(self, *kinds: str) -> list[str]:
        """Stage keys whose kind is one of ``kinds``."""
        return [s.key for s in self.stages.values() if s.kind in kinds]

    def check(self, context: GuardContext) -> None:
        """Raise :class:`TransitionRefused` unless the move is allowed and every guard passes."""
        self.stage(context.target)
        if (context.source, context.target) not in self.transitions:
            allowed = ", ".join(self.next_stages(context.source)) or "none (final stage)"
            raise TransitionRefused(
                f"cannot move from {context.source!r} to {context.target!r}: not in the workflow; "
                f"from {context.source!r} the next stages are: {allowed}. Nothing was changed.",
                guard="transition",
            )
        for guard in self.guards.values():
            if guard.applies(context.source, context.target):
                reason = guard.check(context)
                if reason:
                    raise TransitionRefused(
                        f"guard {guard.name!r} refused {context.source} -> {context.target}: {reason}. "
                        "Nothing was changed.",
                        guard=guard.name,
                    )

    # -- rendering -------------------------------------------------------------------------
    def as_text(self) -> str:
        """The graph as text: each stage with its next stages, then the guards."""
        lines = []
        for stage in self.stages.values():
            nexts = self.next_stages(stage.key)
            mark = {"open": "", "done": " [done]", "closed": " [closed]"}[stage.kind]
            lines.append(f"{stage.key} ({stage.label}){mark} -> {', '.join(nexts) if nexts else '(end)'}")
        lines.append("")
        lines.append("guards:")
        for guard in self.guards.values():
            where = f"into {', '.join(guard.targets)}" if guard.targets else "on every move"
            if guard.sources:
                where += f" from {', '.join(guard.sources)}"
            lines.append(f"  {guard.name} ({where}): {guard.description}")
        return "\n".join(lines)

    def as_mermaid(self) -> str:
        """The graph as a Mermaid state diagram."""
        lines = ["stateDiagram-v2"]
        for stage in self.stages.values():
            lines.append(f"    {stage.key} : {stage.key} {stage.label}")
        lines.append(f"    [*] --> {self.initial}")
        guarded: dict[tuple[str, str], list[str]] = {}
        for guard in self.guards.values():
            for pair in self.transitions:
                if guard.applies(*pair):
                    guarded.setdefault(pair, []).append(guard.name)
        for (source, target), label in self.transitions.items():
            names = guarded.get((source, target), [])
            text = label or ""
            if names:
                text = (text + " " if text else "") + "[" + ", ".join(names) + "]"
            lines.append(f"    {source} --> {target}" + (f" : {text}" if text else ""))
        for stage in self.stages.values():
            if stage.kind == "closed" and not self.next_stages(stage.key):
                lines.append(f"    {stage.key} --> [*]")
        return "\n".join(lines)

    def as_data(self) -> dict[str, Any]:
        """The graph as plain data for ``--json``."""
        return {
            "initial": self.initial,
            "stages": [
                {
                    "key": s.key,
                    "label": s.label,
                    "kind": s.kind,
                    "sets": s.sets,
                    "reopens": s.reopens,
                    "description": s.description,
                    "next": self.next_stages(s.key),
                }
                for s in self.stages.values()
            ],
            "transitions": [
                {"from": s, "to": t, "label": label} for (s, t), label in self.transitions.items()
            ],
            "guards": [
                {
                    "name": g.name,
                    "description": g.description,
                    "targets": list(g.targets),
                    "sources": list(g.sources),
                }
                for g in self.guards.values()
            ],
        }


# -- the default workflow ---------------------------------------------------------------------
DEFAULT_STAGES = (
    Stage("received", "受理", description="the complaint is recorded"),
    Stage(
        "acknowledged", "安抚致歉", description="feelings first: listened, sympathised, restated, apologised"
    ),
    Stage("investigating", "调查", description="facts gathered, responsible party determined"),
    Stage(
        "awaiting_customer",
        "等待客户",
        description="waiting on the customer (the default SLA policy pauses here)",
    ),
    Stage("solution_proposed", "提出方案", description="a solution or alternatives proposed"),
    Stage("approved", "主管批准", description="a supervisor approved the solution"),
    Stage("customer_agreed", "客户同意", description="the customer agreed to one solution"),
    Stage("in_progress", "执行中", description="the solution is being carried out"),
    Stage("resolved", "已解决", kind="done", sets="resolved_at", description="the solution was carried out"),
    Stage(
        "followed_up",
        "已回访",
        kind="done",
        sets="followed_up_at",
        description="result checked, satisfaction recorded",
    ),
    Stage("closed", "结案", kind="closed", sets="closed_at", description="review written (反省检讨), filed"),
    Stage(
        "rejected",
        "不予受理",
        kind="closed",
        sets="closed_at",
        description="not a valid complaint; reason stated",
    ),
    Stage("withdrawn", "客户撤回", kind="closed", sets="closed_at", description="the customer withdrew it"),
    Stage(
        "reopened",
        "重新处理",
        reopens=True,
        description="the problem came back; the resolution clock restarts",
    ),
)

DEFAULT_TRANSITIONS = (
    ("received", "acknowledged"),
    ("received", "rejected"),
    ("received", "withdrawn"),
    ("acknowledged", "investigating"),
    ("acknowledged", "awaiting_customer"),
    ("acknowledged", "rejected"),
    ("acknowledged", "withdrawn"),
    ("investigating", "solution_proposed"),
    ("investigating", "awaiting_customer"),
    ("investigating", "rejected"),
    ("investigating", "withdrawn"),
    ("awaiting_customer", "investigating"),
    ("awaiting_customer", "solution_proposed"),
    ("awaiting_customer", "customer_agreed"),
    ("awaiting_customer", "withdrawn"),
    ("solution_proposed", "approved"),
    ("solution_proposed", "customer_agreed"),
    ("solution_proposed", "investigating"),
    ("solution_proposed", "awaiting_customer"),
    ("solution_proposed", "withdrawn"),
    ("approved", "customer_agreed"),
    ("approved", "solution_proposed"),
    ("approved", "awaiting_customer"),
    ("approved", "withdrawn"),
    ("customer_agreed", "in_progress"),
    ("in_progress", "resolved"),
    ("in_progress", "awaiting_customer"),
    ("resolved", "followed_up"),
    ("resolved", "closed"),
    ("resolved", "reopened"),
    ("followed_up", "closed"),
    ("followed_up", "reopened"),
    ("closed", "reopened"),
    ("rejected", "reopened"),
    ("reopened", "acknowledged"),
    ("reopened", "investigating"),
)


#: ``approval_threshold`` set to this word: every solution needs a supervisor's approval.
ALWAYS = "always"

#: What closing a formal complaint (投诉) records, by field: the option that gives it and what it is.
REVIEW_FIELDS = (
    ("responsible_party", "--responsible", "the responsible party (判定责任人)"),
    ("penalty_note", "--penalty", "the penalty decision (处罚责任人; 无/none when there is none, stated)"),
    ("root_cause", "--root-cause", "the root cause (总结评价)"),
    ("corrective_action", "--corrective-action", "the corrective action (总结评价)"),
)


def approval_required(complaint: Mapping[str, Any], settings: Mapping[str, Any]) -> bool:
    """True when the solution needs a supervisor: ``approval_threshold`` is ``always``, the
    compensation is above the threshold (strictly), or the severity is critical."""
    threshold = str(settings.get("approval_threshold", "500.00"))
    if threshold == ALWAYS or complaint.get("severity") == "critical":
        return True
    amount = complaint.get("compensation_amount")
    return amount is not None and Decimal(amount) > Decimal(threshold)


def _approval(ctx: GuardContext) -> str | None:
    if approval_required(ctx.complaint, ctx.settings) and not ctx.complaint.get("approved_by"):
        threshold = ctx.settings.get("approval_threshold", "500.00")
        amount = ctx.complaint.get("compensation_amount")
        if threshold == ALWAYS:
            why = "approval_threshold is always: every solution is approved"
        elif ctx.complaint.get("severity") == "critical":
            why = "severity is critical"
        else:
            why = f"compensation {amount} is above the approval threshold {threshold}"
        return f"supervisor approval required ({why}); move it to 'approved' first"
    return None


def _has_solution(ctx: GuardContext) -> str | None:
    if not (ctx.complaint.get("solution") or "").strip():
        return "no solution recorded; give one with --solution"
    return None


def followed_up(complaint: Mapping[str, Any]) -> bool:
    """True when the complaint went through the follow-up (回访) with the satisfaction recorded."""
    return complaint.get("followed_up_at") is not None and complaint.get("satisfaction") is not None


def closes_without_follow_up(complaint: Mapping[str, Any], target: str) -> bool:
    """True when a move to ``target`` closes a formal complaint (投诉) that was not followed up
    with a recorded satisfaction: an exemption from the procedure, which needs permission
    ``complaints.exempt`` and a reason."""
    return target == "closed" and complaint.get("kind") == "complaint" and not followed_up(complaint)


def _follow_up_or_reason(ctx: GuardContext) -> str | None:
    formal = ctx.complaint.get("kind") == "complaint"
    done = followed_up(ctx.complaint) if formal else ctx.complaint.get("followed_up_at") is not None
    if not done and not (ctx.reason or "").strip():
        if formal:
            return (
                "a formal complaint (投诉) is closed after the follow-up (回访) with the customer's "
                "satisfaction; or exempt it: state why with --reason (permission complaints.exempt)"
            )
        return "not followed up; follow up first, or state why it is closed without one (--reason)"
    return None


def _satisfaction(ctx: GuardContext) -> str | None:
    if ctx.complaint.get("satisfaction") is None:
        return "record the customer's satisfaction (1-5) with --satisfaction"
    return None


def missing_review(complaint: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The fields of :data:`REVIEW_FIELDS` a formal complaint (投诉) still lacks to be closed
    (none for a grievance)."""
    if complaint.get("kind") != "complaint":
        return []
    return [spec for spec in REVIEW_FIELDS if not str(complaint.get(spec[0]) or "").strip()]


def _review(ctx: GuardContext) -> str | None:
    missing = missing_review(ctx.complaint)
    if missing:
        return "a formal complaint (投诉) is closed with the review; missing " + ", ".join(
            f"{what} ({option})" for _, option, what in missing
        )
    return None


#: The step that meets what the customer wanted (客户投诉的真实需求), required when setting
#: ``require_wanted_steps`` is on: want -> (stages the record must hold it by, fields (all
#: required, or any one when ``any_of``), how to give them).
WANTED_STEPS: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool, str]] = {
    "compensation": (
        ("resolved", "closed"),
        ("compensation_amount", "compensation_type"),
        True,
        "--compensation or --compensation-type; 'none' states that none is given",
    ),
    "no_recurrence": (
        ("closed",),
        ("root_cause", "corrective_action"),
        False,
        "--root-cause and --corrective-action",
    ),
}


def _recorded(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def missing_wanted(complaint: Mapping[str, Any], target: str) -> list[tuple[str, list[str], str]]:
    """For a move into ``target``: each want of the complaint whose step is not recorded yet, as
    (want, missing fields, how to give them); see :data:`WANTED_STEPS`."""
    result = []
    for want in complaint.get("wants") or ():
        if want not in WANTED_STEPS:
            continue
        targets, fields, any_of, how = WANTED_STEPS[want]
        if target not in targets:
            continue
        missing = [f for f in fields if not _recorded(complaint.get(f))]
        if missing and (not any_of or len(missing) == len(fields)):
            result.append((want, missing, how))
    return result


def _wanted_steps(ctx: GuardContext) -> str | None:
    if not ctx.settings.get("require_wanted_steps", True):
        return None
    missing = missing_wanted(ctx.complaint, ctx.target)
    if not missing:
        return None
    want, fields, how = missing[0]
    joined = " or ".join(fields) if WANTED_STEPS[want][2] else ", ".join(fields)
    return f"the customer wanted {want} ({WANTS[want]}); missing {joined} ({how})"


def _reason(ctx: GuardContext) -> str | None:
    if not (ctx.reason or "").strip():
        return "state the reason with --reason"
    return None


def _approver(ctx: GuardContext) -> str | None:
    if ctx.actor and ctx.actor == ctx.complaint.get("handler"):
        return f"the handler ({ctx.actor}) cannot approve their own solution; a supervisor must"
    return None


DEFAULT_GUARDS = (
    Guard(
        "approval",
        "supervisor approval above the compensation threshold, at critical severity, or always",
        _approval,
        targets=("customer_agreed",),
    ),
    Guard(
        "approver_not_handler",
        "the supervisor who approves is not the handler",
        _approver,
        targets=("approved",),
    ),
    Guard(
        "solution_required",
        "no proposal, approval or resolve without a recorded solution",
        _has_solution,
        targets=("solution_proposed", "approved", "customer_agreed", "resolved"),
    ),
    Guard(
        "satisfaction_recorded",
        "a follow-up records the customer's satisfaction 1-5",
        _satisfaction,
        targets=("followed_up",),
    ),
    Guard(
        "follow_up_or_reason",
        "no close without a follow-up (a formal complaint: with satisfaction) or a stated reason "
        "(a formal complaint: and an exemption)",
        _follow_up_or_reason,
        targets=("closed",),
    ),
    Guard(
        "review_written",
        "a formal complaint closes with responsible party, penalty decision, root cause and "
        "corrective action, from any stage",
        _review,
        targets=("closed",),
    ),
    Guard(
        "wanted_steps",
        "what the customer wanted is met on record (setting require_wanted_steps): compensation "
        "recorded by resolve and close when compensation was wanted, root cause and corrective "
        "action by close when no recurrence was wanted",
        _wanted_steps,
        targets=("resolved", "closed"),
    ),
    Guard(
        "reason_stated",
        "rejecting, withdrawing or reopening states a reason",
        _reason,
        targets=("rejected", "withdrawn", "reopened"),
    ),
)


def default_workflow() -> Workflow:
    """The complaint procedure (投诉处理程序) as a :class:`Workflow` (a fresh, mutable copy)."""
    workflow = Workflow()
    for stage in DEFAULT_STAGES:
        workflow.add_stage(stage)
    for source, target in DEFAULT_TRANSITIONS:
        workflow.add_transition(source, target)
    for guard in DEFAULT_GUARDS:
        workflow.add_guard(guard)
    return workflow


def build_workflow(app: Kehu) -> Workflow:
    """The default workflow changed by every installed plugin's ``kehu_complaint_workflow``."""
    workflow = default_workflow()
    app.hook.kehu_complaint_workflow(workflow=workflow)
    workflow.validate()
    return workflow
