"""``kehu forecast plan ...``: sales plans in the five steps of the planning procedure, and their check."""

from __future__ import annotations

from datetime import date
from typing import Any

import click
from attrs import asdict

from kehu_core.cli.context import PluginGroup, transaction
from kehu_core.cli.output import (
    emit_json,
    emit_pairs,
    emit_result,
    emit_rows,
    emit_table,
    json_option,
    list_output_options,
)
from kehu_core.cli.params import DAY, MONEY, VocabularyType
from kehu_core.i18n import N_, messages
from kehu_forecast import planning
from kehu_forecast.cli.options import RUN_ID
from kehu_forecast.runs import RUN_KIND_NAMES

_ = messages("kehu_forecast").gettext

#: A plan's, an action's id (64-bit).
ID = click.IntRange(1, 2**63 - 1)
PRIORITY = click.IntRange(1, 1000)
FLAG_KEYS = ["code", "step", "subject", "message"]
#: What people read for each column of the plan's tables.
HEADERS = {
    "id": N_("id"),
    "name": N_("name"),
    "run_id": N_("run"),
    "targets": N_("targets"),
    "assumptions": N_("assumptions"),
    "actions": N_("actions"),
    "budget_total": N_("budget total"),
    "expected_total": N_("expected total"),
    "flags": N_("flags"),
    "target": N_("target"),
    "period_end": N_("period end"),
    "amount": N_("amount"),
    "kind": N_("kind"),
    "text": N_("text"),
    "priority": N_("priority"),
    "title": N_("title"),
    "owner": N_("owner"),
    "due": N_("due"),
    "resources": N_("resources"),
    "item": N_("item"),
    "expected": N_("expected"),
    "action_id": N_("action"),
    "code": N_("code"),
    "step": N_("step"),
    "subject": N_("subject"),
    "message": N_("message"),
}
LIST_KEYS = [
    "id",
    "name",
    "run_id",
    "targets",
    "assumptions",
    "actions",
    "budget_total",
    "expected_total",
    "flags",
]


@click.group("plan", cls=PluginGroup, plugin="forecast")
def plan() -> None:
    """Sales plans (销售计划): how the forecast's numbers will be reached.

    \b
    The planning procedure (计划的基本作业程序), one command per step:
      create          掌握情势 the situation, attached to a run and targets
      add-target      设定目标 a saved SMART target the plan serves
      add-assumption  前提假定 trend, competitor, customer, market, internal
      add-action      拟定行动计划 priority, owner, due date, resources
      add-budget      编列预算 money and the result expected of it
      check           the steps left out and the mistakes the course names
    \b
    kehu forecast plan create "2026 Q1 华东" --run 12 --target 张伟/2026-01-01 \\
        --internal "two new reps" --external "competitor A cut prices 5%"
    kehu forecast plan add-assumption 1 competitor "A keeps its prices 5% lower until June"
    kehu forecast plan add-action 1 "Visit the top 10 customers" --priority 1 --owner 张伟 \\
        --due 2026-01-31 --resources "2 days a week, car" --target 张伟/2026-01-01
    kehu forecast plan add-budget 1 "Customer visits" 12000 --expected 150000 --action 1
    kehu forecast plan check 1
    """


def _emit_plan(view: planning.PlanView, as_json: bool) -> None:
    data = asdict(view)
    if as_json:
        emit_json(data)
        return
    run = (
        _("{id} ({kind})").format(id=view.run_id, kind=RUN_KIND_NAMES.label(view.run_kind or ""))
        if view.run_id is not None
        else "-"
    )
    emit_pairs(
        _("sales plan {id}: {name}").format(id=view.id, name=view.name),
        [
            (_("run"), run),
            (_("掌握情势 internal"), view.situation_internal or "-"),
            (_("掌握情势 external"), view.situation_external or "-"),
            (_("targets total"), view.targets_total),
            (_("budget total"), view.budget_total),
            (_("expected total"), view.expected_total),
            (_("created by"), view.created_by),
        ],
    )
    sections: list[tuple[str, list[str], list[dict[str, Any]]]] = [
        (_("设定目标 targets"), ["target", "period_end", "amount", "run_id"], view.targets),
        (_("前提假定 assumptions"), ["id", "kind", "text"], view.assumptions),
        (
            _("拟定行动计划 actions"),
            ["id", "priority", "title", "owner", "due", "resources", "target"],
            view.actions,
        ),
        (_("编列预算 budget"), ["id", "item", "amount", "expected", "action_id"], view.budget),
    ]
    for title, keys, rows in sections:
        click.secho(title, bold=True)
        if rows:
            shown = [
                [planning.KIND_NAMES.label(r[k]) if k == "kind" else r.get(k) for k in keys] for r in rows
            ]
            emit_table([_(HEADERS[k]) for k in keys], shown)
        else:
            click.echo("  -")


@plan.command("create")
@click.argument("name")
@click.option(
    "--run", "run_id", type=RUN_ID, help="The forecast run the plan is for (best: a reconciled run)."
)
@click.option(
    "--target", "target_keys", multiple=True, help="A target it serves: id or SALESPERSON/FIRST-DAY (repeat)."
)
@click.option("--internal", help="掌握情势: the internal environment (people, products, capacity).")
@click.option("--external", help="掌握情势: the external environment (competitors, customers, market).")
@json_option
def create_cmd(
    name: str,
    run_id: int | None,
    target_keys: tuple[str, ...],
    internal: str | None,
    external: str | None,
    as_json: bool,
) -> None:
    """Create a sales plan NAME: its situation, for a forecast run and the targets it serves.

    \b
    Example:
      kehu forecast plan create "2026 Q1 华东" --run 12 --target 张伟/2026-01-01
    """
    with transaction() as (_app, session):
        view = planning.create_plan(
            session,
            name,
            run_id=run_id,
            target_keys=target_keys,
            situation_internal=internal,
            situation_external=external,
        )
    _emit_plan(view, as_json)


@plan.command("list")
@list_output_options
def list_cmd(as_json: bool, as_csv: bool) -> None:
    """The sales plans you see, newest first, with their budget and how many flags the check raises.

    \b
    Example:
      kehu forecast plan list
    """
    with transaction() as (_app, session):
        rows = planning.list_plans(session)
    emit_rows([_(HEADERS[k]) for k in LIST_KEYS], rows, LIST_KEYS, as_json=as_json, as_csv=as_csv)


@plan.command("show")
@click.argument("plan_id", type=ID)
@json_option
def show_cmd(plan_id: int, as_json: bool) -> None:
    """Sales plan PLAN_ID step by step: situation, targets, assumptions, actions in priority order, budget.

    \b
    Example:
      kehu forecast plan show 1
    """
    with transaction() as (_app, session):
        view = planning.show_plan(session, plan_id)
    _emit_plan(view, as_json)


@plan.command("add-target")
@click.argument("plan_id", type=ID)
@click.argument("target")
@json_option
def add_target_cmd(plan_id: int, target: str, as_json: bool) -> None:
    """设定目标: link saved TARGET (id or SALESPERSON/FIRST-DAY; ids are in
    `kehu forecast targets --list --json`).

    \b
    Example:
      kehu forecast plan add-target 1 张伟/2026-04-01
    """
    with transaction() as (_app, session):
        view = planning.add_target(session, plan_id, target)
    _emit_plan(view, as_json)


@plan.command("add-assumption")
@click.argument("plan_id", type=ID)
@click.argument("kind", type=VocabularyType(planning.KIND_NAMES))
@click.argument("text")
@json_option
def add_assumption_cmd(plan_id: int, kind: str, text: str, as_json: bool) -> None:
    """前提假定: what the plan assumes. KIND: trend, or a change in competitors, customers,
    market demand, or inside the company (internal).

    \b
    Example:
      kehu forecast plan add-assumption 1 market "demand in 华东 grows 8% with the new metro line"
    """
    with transaction() as (_app, session):
        row = planning.add_assumption(session, plan_id, kind, text)
    emit_result(
        row,
        as_json,
        _("assumption {id} ({kind}) added to plan {plan}").format(
            id=row["id"], kind=planning.KIND_NAMES.label(row["kind"]), plan=plan_id
        ),
    )


@plan.command("add-action")
@click.argument("plan_id", type=ID)
@click.argument("title")
@click.option("--owner", required=True, help="Who carries it out.")
@click.option("--due", required=True, type=DAY, help="By when (YYYY-MM-DD).")
@click.option(
    "--priority",
    type=PRIORITY,
    help="Its place in the order: 1 first (the check flags an action without one).",
)
@click.option("--resources", help="The resources it needs: people, time, money, material.")
@click.option("--target", help="The plan's target it serves: id or SALESPERSON/FIRST-DAY.")
@json_option
def add_action_cmd(
    plan_id: int,
    title: str,
    owner: str,
    due: date,
    priority: int | None,
    resources: str | None,
    target: str | None,
    as_json: bool,
) -> None:
    """拟定行动计划: add action TITLE, with owner, due date, priority and resources.

    \b
    Example:
      kehu forecast plan add-action 1 "Visit the top 10 customers" --priority 1 --owner 张伟 --due 2026-01-31
    """
    with transaction() as (_app, session):
        row = planning.add_action(
            session,
            plan_id,
            title,
            owner=owner,
            due=due,
            priority=priority,
            resources=resources,
            target=target,
        )
    emit_result(
        row,
        as_json,
        _("action {id} added to plan {plan} (priority {priority})").format(
            id=row["id"], plan=plan_id, priority=row["priority"] or "-"
        )
        if row["priority"]
        else _("action {id} added to plan {plan} (no priority)").format(id=row["id"], plan=plan_id),
    )


@plan.command("add-budget")
@click.argument("plan_id", type=ID)
@click.argument("item")
@click.argument("amount", type=MONEY)
@click.option("--expected", type=MONEY, default="0", help="The result expected of it, in money (revenue).")
@click.option("--action", "action_id", type=ID, help="The plan's action it pays for.")
@json_option
def add_budget_cmd(
    plan_id: int, item: str, amount: Any, expected: Any, action_id: int | None, as_json: bool
) -> None:
    """编列预算: AMOUNT of money for ITEM, and the result expected of it.

    \b
    Example:
      kehu forecast plan add-budget 1 "Customer visits" 12000 --expected 150000 --action 1
    """
    with transaction() as (_app, session):
        row = planning.add_budget(session, plan_id, item, amount, expected=expected, action_id=action_id)
    emit_result(
        row,
        as_json,
        _("budget line {id} of plan {plan}: ¥{amount} for ¥{expected} expected").format(
            id=row["id"], plan=plan_id, amount=f"{row['amount']:,}", expected=f"{row['expected']:,}"
        ),
    )


@plan.command("check")
@click.argument("plan_id", type=ID, required=False)
@list_output_options
def check_cmd(plan_id: int | None, as_json: bool, as_csv: bool) -> None:
    """The steps a plan leaves out and the mistakes the course names (预测与计划常犯的错误):
    bottom-up and top-down not reconciled, numbers without a plan, actions without priority,
    the trend without scenarios. Without PLAN_ID: every plan you see, and the targets no plan serves.

    \b
    Example:
      kehu forecast plan check 1
    """
    with transaction() as (_app, session):
        flags = planning.check_plan(session, plan_id) if plan_id is not None else planning.check_all(session)
    rows = [asdict(f) for f in flags]
    if not rows and not as_json and not as_csv:
        click.echo(_("no flags: every step is there and none of the named mistakes"))
        return
    if not as_json and not as_csv:
        rows = [{**r, "subject": planning.subject_label(r["subject"])} for r in rows]
    emit_rows([_(HEADERS[k]) for k in FLAG_KEYS], rows, FLAG_KEYS, as_json=as_json, as_csv=as_csv)
