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

from kehu_complaints.fields import DOMAIN, WANTS
from kehu_core.app import Kehu
from kehu_core.choices import Choice, Vocabulary
from kehu_core.errors import KehuError
from kehu_core.i18n import LANGUAGES, N_, messages

_ = messages(DOMAIN).gettext

#: Stage kinds: ``open`` (the clocks run), ``done`` (resolved, clocks stopped, not closed), ``closed``.
STAGE_KINDS = ("open", "done", "closed")


@frozen
class Stage:
    """A stage of handling.

    ``kind`` says whether clocks run (``open``), the problem is solved (``done``), or the case is
    over (``closed``). ``sets`` names the timestamp entering it records: ``resolved_at``,
    ``followed_up_at``, ``closed_at``; ``reopens`` restarts the resolution clock.

    ``label`` is what people read: the default stages' are English, marked ``N_`` and shown
    in the user's language from the catalog of the gettext ``domain`` (this plugin's by
    default); a company plugin names its own (``Stage("quality_check", N_("quality check"),
    domain="kehu_acme_rules")``) to ship the translation in its catalog, or gives the label in
    Chinese (``Stage("quality_check", "质检复核")``), shown as written. ``aliases``: other
    names people may type for it (受理, 回访 ...), besides its code and label.
    """

    key: str
    label: str
    kind: str = "open"
    sets: str | None = None
    reopens: bool = False
    description: str = ""
    aliases: tuple[str, ...] = ()
    domain: str = DOMAIN

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
            problems.append(_("initial stage '{stage}' is not a stage").format(stage=self.initial))
        for source, target in self.transitions:
            for key in (source, target):
                if key not in self.stages:
                    problems.append(
                        _("transition {source} -> {target} names unknown stage '{stage}'").format(
                            source=source, target=target, stage=key
                        )
                    )
        for guard in self.guards.values():
            for key in (*guard.targets, *guard.sources):
                if key not in self.stages:
                    problems.append(
                        _("guard {guard} names unknown stage '{stage}'").format(guard=guard.name, stage=key)
                    )
        if problems:
            raise KehuError(
                _("the complaint workflow is inconsistent:\n  {problems}").format(
                    problems="\n  ".join(problems)
                )
            )

    # -- using -----------------------------------------------------------------------------
    def stage(self, key: str) -> Stage:
        """The stage ``key`` (its code, label or Chinese name), or a clear error listing the stages."""
        return self.stages[self.parse_stage(key)]

    def vocabulary(self) -> Vocabulary:
        """The stages as a :class:`~kehu_core.choices.Vocabulary`: each accepted by its code,
        its label in any language and its aliases (``受理``, ``已解决``, ``回访`` ...)."""
        names: Any
        choices = []
        for stage in self.stages.values():
            names = stage.aliases
            label = stage.label or stage.key
            if stage.domain != DOMAIN:
                catalog = messages(stage.domain)
                names = (*names, *(catalog.translate_in(lang, label) for lang in LANGUAGES))
                label = catalog.gettext(label)
            choices.append(Choice(stage.key, label, aliases=names))
        return Vocabulary(DOMAIN, N_("stage"), choices)

    def parse_stage(self, value: str) -> str:
        """The code of the stage ``value`` names; :class:`KehuError` listing the stages when none."""
        if value in self.stages:
            return value
        vocabulary = self.vocabulary()
        code = vocabulary.names().get(str(value).strip().casefold().replace("-", "_").replace(" ", "_"))
        if code is None:
            raise KehuError(
                _("no stage '{value}'; stages: {accepted}").format(
                    value=value, accepted=vocabulary.accepted()
                )
            )
        return code

    def label(self, key: str | None) -> str:
        """What people read for stage ``key`` in their language (``-`` for none; a stage the
        workflow no longer has, by its code)."""
        if key is None:
            return "-"
        stage = self.stages.get(key)
        return messages(stage.domain).gettext(stage.label) if stage and stage.label else key

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
            allowed = ", ".join(self.named(k) for k in self.next_stages(context.source)) or _(
                "none (final stage)"
            )
            raise TransitionRefused(
                _(
                    "cannot move from '{source}' to '{target}': not in the workflow; "
                    "from '{source}' the next stages are: {allowed}. Nothing was changed."
                ).format(source=context.source, target=context.target, allowed=allowed),
                guard="transition",
            )
        for guard in self.guards.values():
            if guard.applies(context.source, context.target):
                reason = guard.check(context)
                if reason:
                    raise TransitionRefused(
                        _(
                            "guard '{guard}' refused {source} -> {target}: {reason}. Nothing was changed."
                        ).format(
                            guard=guard.name, source=context.source, target=context.target, reason=reason
                        ),
                        guard=guard.name,
                    )

    # -- rendering -------------------------------------------------------------------------
    def as_text(self) -> str:
        """The graph as text: each stage with its next stages, then the guards."""
        lines = []
        for stage in self.stages.values():
            nexts = self.next_stages(stage.key)
            mark = {"open": "", "done": " " + _("[done]"), "closed": " " + _("[closed]")}[stage.kind]
            shown = ", ".join(self.named(k) for k in nexts) if nexts else _("(end)")
            lines.append(f"{self.named(stage.key)}{mark} -> {shown}")
        lines.append("")
        lines.append(_("guards:"))
        for guard in self.guards.values():
            targets = ", ".join(self.named(k) for k in guard.targets)
            sources = ", ".join(self.named(k) for k in guard.sources)
            if guard.targets and guard.sources:
                where = _("into {targets} from {sources}").format(targets=targets, sources=sources)
            elif guard.targets:
                where = _("into {targets}").format(targets=targets)
            elif guard.sources:
                where = _("on every move from {sources}").format(sources=sources)
            else:
                where = _("on every move")
            lines.append(
                "  "
                + _("{guard} ({where}): {description}").format(
                    guard=guard.name, where=where, description=_(guard.description)
                )
            )
        return "\n".join(lines)

    def named(self, key: str) -> str:
        """A stage for people with the code to type: ``quality_check (质检复核)``, in Chinese
        ``等待客户 [awaiting_customer]``; the code alone when the label only spells it out."""
        label = self.label(key)
        if label.strip().casefold().replace(" ", "_") == key.casefold():
            return key
        return _("{key} ({label})").format(key=key, label=label)

    def as_mermaid(self) -> str:
        """The graph as a Mermaid state diagram."""
        lines = ["stateDiagram-v2"]
        for stage in self.stages.values():
            lines.append(f"    {stage.key} : {stage.key} {self.label(stage.key)}")
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
    Stage(
        "received",
        N_("received"),
        description="the complaint is recorded",
        aliases=("受理", "已受理", "收到"),
    ),
    Stage(
        "acknowledged",
        N_("acknowledged"),
        description="feelings first: listened, sympathised, restated, apologised",
        aliases=("安抚致歉", "安抚", "致歉", "道歉"),
    ),
    Stage(
        "investigating",
        N_("investigating"),
        description="facts gathered, responsible party determined",
        aliases=("调查", "调查中", "判定责任人", "确定责任"),
    ),
    Stage(
        "awaiting_customer",
        N_("awaiting customer"),
        description="waiting on the customer (the default SLA policy pauses here)",
        aliases=("等待客户", "等客户"),
    ),
    Stage(
        "solution_proposed",
        N_("solution proposed"),
        description="a solution or alternatives proposed",
        aliases=("提出方案", "提出处理方案", "处理方案"),
    ),
    Stage(
        "approved",
        N_("approved"),
        description="a supervisor approved the solution",
        aliases=("主管批准", "主管批示", "批准"),
    ),
    Stage(
        "customer_agreed",
        N_("customer agreed"),
        description="the customer agreed to one solution",
        aliases=("客户同意", "通知客户"),
    ),
    Stage(
        "in_progress",
        N_("in progress"),
        description="the solution is being carried out",
        aliases=("执行中", "处理", "处理中", "实施", "实施处理方案"),
    ),
    Stage(
        "resolved",
        N_("resolved"),
        kind="done",
        sets="resolved_at",
        description="the solution was carried out",
        aliases=("已解决", "解决"),
    ),
    Stage(
        "followed_up",
        N_("followed up"),
        kind="done",
        sets="followed_up_at",
        description="result checked, satisfaction recorded",
        aliases=("已回访", "回访", "追踪结果"),
    ),
    Stage(
        "closed",
        N_("closed"),
        kind="closed",
        sets="closed_at",
        description="review written (反省检讨), filed",
        aliases=("结案", "已结案", "存档", "总结评价"),
    ),
    Stage(
        "rejected",
        N_("rejected"),
        kind="closed",
        sets="closed_at",
        description="not a valid complaint; reason stated",
        aliases=("不予受理", "拒绝"),
    ),
    Stage(
        "withdrawn",
        N_("withdrawn"),
        kind="closed",
        sets="closed_at",
        description="the customer withdrew it",
        aliases=("客户撤回", "撤回"),
    ),
    Stage(
        "reopened",
        N_("reopened"),
        reopens=True,
        description="the problem came back; the resolution clock restarts",
        aliases=("重新处理", "重开"),
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
    ("responsible_party", "--responsible", N_("the responsible party (判定责任人)")),
    (
        "penalty_note",
        "--penalty",
        N_("the penalty decision (处罚责任人; 无/none when there is none, stated)"),
    ),
    ("root_cause", "--root-cause", N_("the root cause (总结评价)")),
    ("corrective_action", "--corrective-action", N_("the corrective action (总结评价)")),
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
            why = _("approval_threshold is always: every solution is approved")
        elif ctx.complaint.get("severity") == "critical":
            why = _("severity is critical")
        else:
            why = _("compensation {amount} is above the approval threshold {threshold}").format(
                amount=amount, threshold=threshold
            )
        return _("supervisor approval required ({why}); move it to 'approved' first").format(why=why)
    return None


def _has_solution(ctx: GuardContext) -> str | None:
    if not (ctx.complaint.get("solution") or "").strip():
        return _("no solution recorded; give one with --solution")
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
            return _(
                "a formal complaint (投诉) is closed after the follow-up (回访) with the customer's "
                "satisfaction; or exempt it: state why with --reason (permission complaints.exempt)"
            )
        return _("not followed up; follow up first, or state why it is closed without one (--reason)")
    return None


def _satisfaction(ctx: GuardContext) -> str | None:
    if ctx.complaint.get("satisfaction") is None:
        return _("record the customer's satisfaction (1-5) with --satisfaction")
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
        fields = ", ".join(
            _("{what} ({option})").format(what=_(what), option=option) for _field, option, what in missing
        )
        return _("a formal complaint (投诉) is closed with the review; missing {fields}").format(
            fields=fields
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
        N_("--compensation or --compensation-type; 'none' states that none is given"),
    ),
    "no_recurrence": (
        ("closed",),
        ("root_cause", "corrective_action"),
        False,
        N_("--root-cause and --corrective-action"),
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
    if WANTED_STEPS[want][2] and len(fields) == 2:
        joined = _("{first} or {second}").format(first=fields[0], second=fields[1])
    else:
        joined = ", ".join(fields)
    return _("the customer wanted {want} ({name}); missing {fields} ({how})").format(
        want=want, name=WANTS[want], fields=joined, how=_(how)
    )


def _reason(ctx: GuardContext) -> str | None:
    if not (ctx.reason or "").strip():
        return _("state the reason with --reason")
    return None


def _approver(ctx: GuardContext) -> str | None:
    if ctx.actor and ctx.actor == ctx.complaint.get("handler"):
        return _("the handler ({actor}) cannot approve their own solution; a supervisor must").format(
            actor=ctx.actor
        )
    return None


DEFAULT_GUARDS = (
    Guard(
        "approval",
        N_("supervisor approval above the compensation threshold, at critical severity, or always"),
        _approval,
        targets=("customer_agreed",),
    ),
    Guard(
        "approver_not_handler",
        N_("the supervisor who approves is not the handler"),
        _approver,
        targets=("approved",),
    ),
    Guard(
        "solution_required",
        N_("no proposal, approval or resolve without a recorded solution"),
        _has_solution,
        targets=("solution_proposed", "approved", "customer_agreed", "resolved"),
    ),
    Guard(
        "satisfaction_recorded",
        N_("a follow-up records the customer's satisfaction 1-5"),
        _satisfaction,
        targets=("followed_up",),
    ),
    Guard(
        "follow_up_or_reason",
        N_(
            "no close without a follow-up (a formal complaint: with satisfaction) or a stated reason "
            "(a formal complaint: and an exemption)"
        ),
        _follow_up_or_reason,
        targets=("closed",),
    ),
    Guard(
        "review_written",
        N_(
            "a formal complaint closes with responsible party, penalty decision, root cause and "
            "corrective action, from any stage"
        ),
        _review,
        targets=("closed",),
    ),
    Guard(
        "wanted_steps",
        N_(
            "what the customer wanted is met on record (setting require_wanted_steps): compensation "
            "recorded by resolve and close when compensation was wanted, root cause and corrective "
            "action by close when no recurrence was wanted"
        ),
        _wanted_steps,
        targets=("resolved", "closed"),
    ),
    Guard(
        "reason_stated",
        N_("rejecting, withdrawing or reopening states a reason"),
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
