"""Sales plans (销售计划): the planning procedure of the course material, and its check.

A forecast says "I want to get from A to B"; a plan says how (预测与计划的关系). The plan follows
the five steps of 计划的基本作业程序:

1. 掌握情势, the situation: notes on the internal and the external environment.
2. 设定目标, the targets: saved SMART targets, linked by salesperson and first day.
3. 前提假定, the assumptions: the forecast of the environment, each of a :data:`KINDS` kind.
4. 拟定行动计划, the actions: priority, owner, due date and the resources they need.
5. 编列预算, the budget: the resources in money and the results expected of them.

:func:`check` flags what is missing and the mistakes the material names
(预测与计划常犯的错误): bottom-up and top-down not balanced, numbers without a plan, actions
without priorities, the trend without scenarios of change.

Who sees a plan: a user whose record rules restrict the customers they see (a salesperson)
sees the plans that serve at least one target and only targets they see (all of whose
customers are theirs); other users see every plan. Writing needs ``forecast.plan``.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

from attrs import frozen
from sqlalchemy import ColumnElement, and_, exists, select, true
from sqlalchemy.orm import Session

from kehu_core import audit, validation
from kehu_core.access import acting, customer_condition, require
from kehu_core.choices import Choice, Vocabulary
from kehu_core.errors import NotFound, Problem, ValidationError
from kehu_core.i18n import N_, messages
from kehu_core.validation import FieldError
from kehu_forecast.models import (
    plan_actions,
    plan_assumptions,
    plan_budget,
    plan_targets,
    plans,
    runs,
    targets,
)
from kehu_forecast.runs import RUN_KIND_NAMES
from kehu_forecast.security import PLAN
from kehu_forecast.targets import visible_targets

_ = messages("kehu_forecast").gettext

#: What an assumption is about: the trend itself, the three changes outside the company the
#: material names (公司外的变化: 竞争者变动, 客户变动, 市场需求变化), or the company (公司内的变化).
KINDS = ("trend", "competitor", "customer", "market", "internal")
#: The kinds of assumption as people name them (趋势, 竞争者, 客户, 市场, 公司内部).
KIND_NAMES = Vocabulary(
    "kehu_forecast",
    N_("assumption kind"),
    [
        Choice("trend", N_("trend"), aliases=("趋势",)),
        Choice("competitor", N_("competitor"), aliases=("竞争者", "竞争对手")),
        Choice("customer", N_("customer"), aliases=("客户",)),
        Choice("market", N_("market"), aliases=("市场", "市场需求")),
        Choice("internal", N_("internal"), aliases=("内部", "公司内部")),
    ],
)
#: The kinds that are a scenario of change beyond the trend.
SCENARIO_KINDS = ("competitor", "customer", "market")
#: The five steps, in order, with the name the material gives each.
STEPS = {
    "situation": "掌握情势",
    "targets": "设定目标",
    "assumptions": "前提假定",
    "actions": "拟定行动计划",
    "budget": "编列预算",
}
#: What a flag is about, as people read it: ``plan 3``, ``target 张伟/2026-01-01``, ``action 7``.
SUBJECTS = {"plan": N_("plan {ref}"), "target": N_("target {ref}"), "action": N_("action {ref}")}
#: The audit trail's entity for plans (``kehu audit --entity forecast.plan``).
AUDIT_ENTITY = "forecast.plan"
DOING = "write sales plans"
_TARGET_KEY = re.compile(r"^(?P<salesperson>.+)/(?P<day>\d{4}-\d{2}-\d{2})$")


@frozen
class Flag:
    """One thing the check found: ``code`` names the mistake, ``step`` the planning step it
    belongs to, ``subject`` what it is about (``plan 3``, ``target 张伟/2026-01-01``, ``action 7``)."""

    code: str
    step: str
    subject: str
    message: str


def subject_label(subject: str) -> str:
    """A flag's subject (``plan 3``, kept so in ``--json``) in the reader's language."""
    kind, _space, ref = subject.partition(" ")
    template = SUBJECTS.get(kind)
    return _(template).format(ref=ref) if template and ref else subject


@frozen
class PlanView:
    """A plan with its five steps and its totals (money exact to the cent)."""

    id: int
    name: str
    run_id: int | None
    run_kind: str | None
    situation_internal: str
    situation_external: str
    created_by: str
    targets: list[dict[str, Any]]
    assumptions: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    budget: list[dict[str, Any]]
    #: The sum of the linked targets that exist.
    targets_total: Decimal
    #: The sum of the budget's amounts, and of the results expected of them.
    budget_total: Decimal
    expected_total: Decimal


def _text(field: str, value: Any, max_length: int, *, required: bool = True) -> str | None:
    if validation.blank(value):
        if required:
            raise ValidationError([Problem(field, _("must not be empty"))])
        return None
    try:
        return validation.text(value, max_length)
    except FieldError as exc:
        raise ValidationError([Problem(field, str(exc))]) from exc


def _money(field: str, value: Any) -> Decimal:
    try:
        return validation.money(value)
    except FieldError as exc:
        raise ValidationError([Problem(field, str(exc), value=str(value))]) from exc


def visible_plans(session: Session) -> ColumnElement[bool] | None:
    """The plans the acting user may see, or ``None`` for all (see the module's docstring)."""
    if customer_condition(session) is None:
        return None
    rule = visible_targets(session)
    assert rule is not None
    seen = select(targets.c.id).where(
        targets.c.salesperson == plan_targets.c.salesperson,
        targets.c.period_start == plan_targets.c.period_start,
        rule,
    )
    linked = select(plan_targets.c.plan_id).where(plan_targets.c.plan_id == plans.c.id)
    hidden = linked.where(~exists(seen))
    return and_(exists(linked), ~exists(hidden))


def _plan_row(session: Session, plan_id: int) -> Any:
    stmt = select(plans).where(plans.c.id == plan_id)
    rule = visible_plans(session)
    if rule is not None:
        stmt = stmt.where(rule)
    row = session.execute(stmt).mappings().first()
    if row is None:
        raise NotFound(_("no sales plan {id}").format(id=plan_id))
    return row


def _resolve_target(session: Session, given: Any, field: str = "target") -> tuple[str, date]:
    """A saved target the acting user sees, named by id or ``SALESPERSON/FIRST-DAY``."""
    raw = str(given).strip()
    stmt = select(targets.c.salesperson, targets.c.period_start)
    match = _TARGET_KEY.match(raw)
    if raw.isdigit():
        stmt = stmt.where(targets.c.id == int(raw))
    elif match:
        try:
            day = date.fromisoformat(match["day"])
        except ValueError as exc:
            raise ValidationError([Problem(field, _("not a date"), value=raw)]) from exc
        stmt = stmt.where(targets.c.salesperson == match["salesperson"], targets.c.period_start == day)
    else:
        raise ValidationError([Problem(field, _("give a target id or SALESPERSON/FIRST-DAY"), value=raw)])
    rule = visible_targets(session)
    if rule is not None:
        stmt = stmt.where(rule)
    found = session.execute(stmt).first()
    if found is None:
        raise NotFound(_("no target {target} (see `kehu forecast targets --list --json`)").format(target=raw))
    return str(found[0]), found[1]


def _key(salesperson: str, start: date) -> str:
    return f"{salesperson}/{start.isoformat()}"


def create_plan(
    session: Session,
    name: str,
    *,
    run_id: int | None = None,
    target_keys: list[Any] | tuple[Any, ...] = (),
    situation_internal: str | None = None,
    situation_external: str | None = None,
) -> PlanView:
    """Create a sales plan attached to forecast run ``run_id`` and/or the saved targets
    ``target_keys`` (ids or ``SALESPERSON/FIRST-DAY``), with the situation notes (掌握情势:
    the internal and the external environment). Needs ``forecast.plan``; audited."""
    require(session, PLAN, DOING)
    title = _text("name", name, 200)
    internal = _text("internal", situation_internal, 10_000, required=False)
    external = _text("external", situation_external, 10_000, required=False)
    if run_id is not None and session.scalar(select(runs.c.id).where(runs.c.id == run_id)) is None:
        raise NotFound(_("no forecast run {id} (see `kehu forecast runs`)").format(id=run_id))
    keys = list(dict.fromkeys(_resolve_target(session, k) for k in target_keys))
    plan_id = session.scalar(
        plans.insert()
        .values(
            name=title,
            run_id=run_id,
            situation_internal=internal,
            situation_external=external,
            created_by=acting(session).login,
        )
        .returning(plans.c.id)
    )
    assert plan_id is not None
    if keys:
        session.execute(
            plan_targets.insert(),
            [{"plan_id": plan_id, "salesperson": s, "period_start": d} for s, d in keys],
        )
    audit.record(
        session,
        AUDIT_ENTITY,
        str(plan_id),
        "created",
        {"name": title, "run_id": run_id, "targets": [_key(s, d) for s, d in keys]},
    )
    return show_plan(session, int(plan_id))


def add_target(session: Session, plan_id: int, target: Any) -> PlanView:
    """Link saved target ``target`` (id or ``SALESPERSON/FIRST-DAY``) to the plan (设定目标);
    linking it again changes nothing."""
    require(session, PLAN, DOING)
    _plan_row(session, plan_id)
    salesperson, start = _resolve_target(session, target)
    linked = select(plan_targets.c.plan_id).where(
        plan_targets.c.plan_id == plan_id,
        plan_targets.c.salesperson == salesperson,
        plan_targets.c.period_start == start,
    )
    if session.scalar(linked) is None:
        session.execute(
            plan_targets.insert().values(plan_id=plan_id, salesperson=salesperson, period_start=start)
        )
        audit.record(
            session, AUDIT_ENTITY, str(plan_id), "target linked", {"target": _key(salesperson, start)}
        )
    return show_plan(session, plan_id)


def add_assumption(session: Session, plan_id: int, kind: str, text: str) -> dict[str, Any]:
    """Add an assumption (前提假定) of ``kind`` (one of :data:`KINDS`) to the plan."""
    require(session, PLAN, DOING)
    _plan_row(session, plan_id)
    try:
        chosen = validation.choice(kind, KIND_NAMES)
    except FieldError as exc:
        raise ValidationError([Problem("kind", str(exc), value=str(kind))]) from exc
    body = _text("text", text, 10_000)
    new_id = session.scalar(
        plan_assumptions.insert()
        .values(plan_id=plan_id, kind=chosen, text=body)
        .returning(plan_assumptions.c.id)
    )
    audit.record(session, AUDIT_ENTITY, str(plan_id), "assumption added", {"kind": chosen})
    return {"id": int(new_id or 0), "plan_id": plan_id, "kind": chosen, "text": body}


def add_action(
    session: Session,
    plan_id: int,
    title: str,
    *,
    owner: str,
    due: date,
    priority: int | None = None,
    resources: str | None = None,
    target: Any = None,
) -> dict[str, Any]:
    """Add an action (拟定行动计划) with its ``owner``, ``due`` day, ``priority`` (1 first;
    ``None`` when not decided, which the check flags), the ``resources`` it needs and the
    plan's ``target`` it serves (id or ``SALESPERSON/FIRST-DAY``; it must be one of the plan's)."""
    require(session, PLAN, DOING)
    _plan_row(session, plan_id)
    name = _text("title", title, 250)
    who = _text("owner", owner, 100)
    if not isinstance(due, date):
        raise ValidationError([Problem("due", _("must be a day (YYYY-MM-DD)"), value=str(due))])
    if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int) or priority < 1):
        raise ValidationError(
            [Problem("priority", _("must be a whole number from 1 (first)"), value=str(priority))]
        )
    needs = _text("resources", resources, 10_000, required=False)
    salesperson: str | None = None
    start: date | None = None
    if target is not None and str(target).strip():
        salesperson, start = _resolve_target(session, target)
        linked = select(plan_targets.c.plan_id).where(
            plan_targets.c.plan_id == plan_id,
            plan_targets.c.salesperson == salesperson,
            plan_targets.c.period_start == start,
        )
        if session.scalar(linked) is None:
            raise ValidationError(
                [
                    Problem(
                        "target",
                        _("not a target of plan {plan}; link it first with add-target").format(plan=plan_id),
                        value=str(target),
                    )
                ]
            )
    values = dict(
        plan_id=plan_id,
        title=name,
        priority=priority,
        owner=who,
        due=due,
        resources=needs,
        target_salesperson=salesperson,
        target_start=start,
    )
    new_id = session.scalar(plan_actions.insert().values(**values).returning(plan_actions.c.id))
    audit.record(session, AUDIT_ENTITY, str(plan_id), "action added", {"title": name, "priority": priority})
    return _action_dict({"id": int(new_id or 0), **values})


def add_budget(
    session: Session,
    plan_id: int,
    item: str,
    amount: Any,
    *,
    expected: Any = "0",
    action_id: int | None = None,
) -> dict[str, Any]:
    """Add a budget line (编列预算): ``amount`` of money for ``item``, the result ``expected`` of
    it (revenue), optionally for one of the plan's actions. Amounts are exact to the cent."""
    require(session, PLAN, DOING)
    _plan_row(session, plan_id)
    what = _text("item", item, 250)
    cost = _money("amount", amount)
    result = _money("expected", expected)
    if action_id is not None:
        owner_plan = session.scalar(select(plan_actions.c.plan_id).where(plan_actions.c.id == action_id))
        if owner_plan != plan_id:
            raise ValidationError(
                [
                    Problem(
                        "action", _("not an action of plan {plan}").format(plan=plan_id), value=str(action_id)
                    )
                ]
            )
    new_id = session.scalar(
        plan_budget.insert()
        .values(plan_id=plan_id, item=what, amount=cost, expected=result, action_id=action_id)
        .returning(plan_budget.c.id)
    )
    audit.record(
        session,
        AUDIT_ENTITY,
        str(plan_id),
        "budget added",
        {"item": what, "amount": str(cost), "expected": str(result)},
    )
    return {
        "id": int(new_id or 0),
        "plan_id": plan_id,
        "item": what,
        "amount": cost,
        "expected": result,
        "action_id": action_id,
    }


def _action_dict(row: Any) -> dict[str, Any]:
    r = dict(row)
    target = _key(r["target_salesperson"], r["target_start"]) if r.get("target_salesperson") else None
    return {
        "id": int(r["id"]),
        "priority": r["priority"],
        "title": r["title"],
        "owner": r["owner"],
        "due": r["due"],
        "resources": r["resources"],
        "target": target,
    }


def show_plan(session: Session, plan_id: int) -> PlanView:
    """The plan with its five steps and totals; :class:`NotFound` for a plan the acting user
    may not see, exactly as for one that does not exist."""
    row = _plan_row(session, plan_id)
    run_kind = None
    if row["run_id"] is not None:
        run_kind = session.scalar(select(runs.c.kind).where(runs.c.id == row["run_id"]))
    found = (
        select(
            plan_targets.c.salesperson,
            plan_targets.c.period_start,
            targets.c.id,
            targets.c.period_end,
            targets.c.amount,
            targets.c.run_id,
        )
        .select_from(
            plan_targets.outerjoin(
                targets,
                and_(
                    targets.c.salesperson == plan_targets.c.salesperson,
                    targets.c.period_start == plan_targets.c.period_start,
                ),
            )
        )
        .where(plan_targets.c.plan_id == plan_id)
        .order_by(plan_targets.c.period_start, plan_targets.c.salesperson)
    )
    linked = [
        {
            "target": _key(r.salesperson, r.period_start),
            "target_id": r.id,
            "salesperson": r.salesperson,
            "period_start": r.period_start,
            "period_end": r.period_end,
            "amount": r.amount,
            "run_id": r.run_id,
        }
        for r in session.execute(found)
    ]
    assumptions = [
        dict(r)
        for r in session.execute(
            select(plan_assumptions.c.id, plan_assumptions.c.kind, plan_assumptions.c.text)
            .where(plan_assumptions.c.plan_id == plan_id)
            .order_by(plan_assumptions.c.id)
        ).mappings()
    ]
    # Priority order: 1 first, undecided last, then in the order they were added.
    actions = [
        _action_dict(r)
        for r in session.execute(
            select(plan_actions)
            .where(plan_actions.c.plan_id == plan_id)
            .order_by(plan_actions.c.priority.is_(None), plan_actions.c.priority, plan_actions.c.id)
        ).mappings()
    ]
    budget = [
        dict(r)
        for r in session.execute(
            select(
                plan_budget.c.id,
                plan_budget.c.item,
                plan_budget.c.amount,
                plan_budget.c.expected,
                plan_budget.c.action_id,
            )
            .where(plan_budget.c.plan_id == plan_id)
            .order_by(plan_budget.c.id)
        ).mappings()
    ]
    zero = Decimal("0.00")
    return PlanView(
        id=int(row["id"]),
        name=row["name"],
        run_id=row["run_id"],
        run_kind=run_kind,
        situation_internal=row["situation_internal"] or "",
        situation_external=row["situation_external"] or "",
        created_by=row["created_by"],
        targets=linked,
        assumptions=assumptions,
        actions=actions,
        budget=budget,
        targets_total=sum((t["amount"] for t in linked if t["amount"] is not None), zero),
        budget_total=sum((b["amount"] for b in budget), zero),
        expected_total=sum((b["expected"] for b in budget), zero),
    )


def list_plans(session: Session) -> list[dict[str, Any]]:
    """The plans the acting user sees, newest first, with counts, the budget total and how
    many flags :func:`check` raises on each."""
    stmt = select(plans.c.id).order_by(plans.c.id.desc())
    rule = visible_plans(session)
    if rule is not None:
        stmt = stmt.where(rule)
    result = []
    for plan_id in session.scalars(stmt):
        view = show_plan(session, int(plan_id))
        result.append(
            {
                "id": view.id,
                "name": view.name,
                "run_id": view.run_id,
                "targets": len(view.targets),
                "assumptions": len(view.assumptions),
                "actions": len(view.actions),
                "budget_total": view.budget_total,
                "expected_total": view.expected_total,
                "flags": len(check_view(session, view)),
                "created_by": view.created_by,
            }
        )
    return result


def check_plan(session: Session, plan_id: int) -> list[Flag]:
    """What the plan misses or gets wrong, by the material's planning procedure and its named
    mistakes (see :func:`check_view`)."""
    return check_view(session, show_plan(session, plan_id))


def _reconciliation(session: Session, view: PlanView) -> str | None:
    """Why the plan's numbers are not bottom-up balanced against top-down, or ``None``.

    The plan's run is its own, else the runs its targets were set from. It must be a
    reconciled run that took a top-down run in, by a method other than plain bottom-up
    (which keeps the bottom-up numbers and ignores the top-down ones).
    """
    run_ids = (
        [view.run_id]
        if view.run_id is not None
        else sorted({t["run_id"] for t in view.targets if t["run_id"] is not None})
    )
    if not run_ids:
        return _("no forecast run: attach the plan to a reconciled run (kehu forecast reconcile)")
    for run_id in run_ids:
        kind, params = session.execute(select(runs.c.kind, runs.c.params).where(runs.c.id == run_id)).one()
        params = params or {}
        if kind != "reconciled":
            # {kind} is the code, as the message has always said it; a translation may say {kind_name}.
            return _("run {id} is {kind}, not reconciled: balance it with kehu forecast reconcile").format(
                id=run_id, kind=kind, kind_name=RUN_KIND_NAMES.label(kind)
            )
        if not params.get("topdown_run"):
            return _(
                "run {id} was reconciled without a top-down run: kehu forecast topdown, then reconcile"
            ).format(id=run_id)
        if params.get("method") == "bottom-up":
            return _("run {id} was reconciled bottom-up: the top-down numbers were not used").format(
                id=run_id
            )
    return None


def check_view(session: Session, view: PlanView) -> list[Flag]:
    """The flags of a plan already read (:func:`show_plan`).

    * ``missing_step``: a step of the procedure left empty: no situation notes (掌握情势), no
      target (设定目标), no assumption (前提假定), no budget line (编列预算).
    * ``numbers_without_plan`` (只问数字, 忽略计划): the plan has no action at all.
    * ``target_without_actions``: a linked target that no action serves; and a linked target
      that no longer exists.
    * ``action_without_priority`` (没有将行动列出优先顺序): an action without a priority, or
      two actions sharing one (no order between them).
    * ``no_scenario`` (只预测未来的趋势, 但没预估可能发生的变化): no assumption about
      competitors, customers or market demand.
    * ``not_reconciled`` (未能平衡由上而下与由下而上): the plan's run is not a reconciled run
      balanced against a top-down run.
    """
    subject = f"plan {view.id}"
    flags: list[Flag] = []

    def missing(step: str, what: str) -> None:
        flags.append(Flag("missing_step", STEPS[step], subject, what))

    if not view.situation_internal and not view.situation_external:
        missing(
            "situation",
            _("no situation notes: describe the internal and external environment (--internal, --external)"),
        )
    if not view.targets:
        missing("targets", _("no target: link the SMART targets the plan serves (add-target)"))
    if not view.assumptions:
        missing(
            "assumptions", _("no assumption: state what the plan assumes of the environment (add-assumption)")
        )
    if not view.budget:
        missing("budget", _("no budget: put the resources and the expected results in money (add-budget)"))
    if not view.actions:
        flags.append(
            Flag(
                "numbers_without_plan",
                STEPS["actions"],
                subject,
                _("numbers without a plan: no action says how they will be reached (add-action)"),
            )
        )
    served = Counter(a["target"] for a in view.actions if a["target"])
    for t in view.targets:
        if t["target_id"] is None:
            flags.append(
                Flag(
                    "target_without_actions",
                    STEPS["targets"],
                    f"target {t['target']}",
                    _("the target no longer exists: link the one set now"),
                )
            )
        elif served[t["target"]] == 0:
            flags.append(
                Flag(
                    "target_without_actions",
                    STEPS["actions"],
                    f"target {t['target']}",
                    _("no action serves this target"),
                )
            )
    priorities = Counter(a["priority"] for a in view.actions if a["priority"] is not None)
    for a in view.actions:
        if a["priority"] is None:
            flags.append(
                Flag(
                    "action_without_priority",
                    STEPS["actions"],
                    f"action {a['id']}",
                    _("no priority: give each action its place in the order (1 first)"),
                )
            )
        elif priorities[a["priority"]] > 1:
            flags.append(
                Flag(
                    "action_without_priority",
                    STEPS["actions"],
                    f"action {a['id']}",
                    _("shares priority {priority} with another action: no order between them").format(
                        priority=a["priority"]
                    ),
                )
            )
    kinds = {a["kind"] for a in view.assumptions}
    if not kinds.intersection(SCENARIO_KINDS):
        flags.append(
            Flag(
                "no_scenario",
                STEPS["assumptions"],
                subject,
                _("only the trend: add an assumption about competitors, customers or market demand"),
            )
        )
    why = _reconciliation(session, view)
    if why:
        flags.append(Flag("not_reconciled", STEPS["targets"], subject, why))
    return flags


def unplanned_targets(session: Session) -> list[Flag]:
    """The saved targets the acting user sees that no plan serves: numbers without a plan
    (只问数字, 忽略计划)."""
    linked = select(plan_targets.c.plan_id).where(
        plan_targets.c.salesperson == targets.c.salesperson,
        plan_targets.c.period_start == targets.c.period_start,
    )
    stmt = (
        select(targets.c.salesperson, targets.c.period_start)
        .where(~exists(linked))
        .order_by(targets.c.period_start, targets.c.salesperson)
    )
    rule = visible_targets(session)
    stmt = stmt.where(rule if rule is not None else true())
    return [
        Flag(
            "numbers_without_plan",
            STEPS["targets"],
            f"target {_key(s, d)}",
            _("no sales plan serves this target"),
        )
        for s, d in session.execute(stmt)
    ]


def check_all(session: Session) -> list[Flag]:
    """Every plan the acting user sees, checked, and the targets no plan serves."""
    stmt = select(plans.c.id).order_by(plans.c.id)
    rule = visible_plans(session)
    if rule is not None:
        stmt = stmt.where(rule)
    flags = []
    for plan_id in session.scalars(stmt):
        flags += check_plan(session, int(plan_id))
    return flags + unplanned_targets(session)
