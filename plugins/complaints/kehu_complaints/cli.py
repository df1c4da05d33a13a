"""``kehu complaint ...``: the command line of the complaints plugin. No business rules here."""

from __future__ import annotations

import getpass
import os
from typing import Any

import click

from kehu_core.cli import requires_plugin, transaction
from kehu_core.cli.output import (
    emit_json,
    emit_pairs,
    emit_rows,
    emit_table,
    json_option,
    list_output_options,
)

PLUGIN = "complaints"


def _actor(value: str | None) -> str:
    if value:
        return value
    try:
        return os.environ.get("KEHU_USER") or getpass.getuser()
    except Exception:  # no user name on this system (containers)
        return "unknown"


by_option = click.option(
    "--by", "actor", metavar="NAME", help="Who does this (default: $KEHU_USER, then your login)."
)
version_option = click.option(
    "--expect-version",
    type=int,
    metavar="N",
    help="Refuse (conflict) unless the complaint is still at version N, as shown by `complaint show`.",
)


@click.group("complaint")
def complaint() -> None:
    """Grievances (抱怨) and complaints (投诉): open, move through the workflow, report.

    \b
    Example:
      kehu complaint open --customer C0001 --kind complaint --category quality \\
          --severity high --description "打印机卡纸" --wants fast_solution,compensation
      kehu complaint move 1 acknowledged --note "已致歉"
      kehu complaint list --overdue
    """


# -- open, list, show ----------------------------------------------------------------------------
@complaint.command("open")
@click.option("--customer", "customer_code", required=True, metavar="CODE", help="The customer's code.")
@click.option("--description", required=True, help="What the customer says.")
@click.option("--kind", help="grievance (抱怨, informal) or complaint (投诉, formal; default).")
@click.option("--channel", help="How it came in: 电话, 门店, e-mail ...")
@click.option("--category", help="quality, delivery, service, billing or other (中文 too: 产品质量 ...).")
@click.option("--severity", help="low, medium (default), high or critical.")
@click.option(
    "--wants",
    help="What the customer wants: fast_solution, respect, explanation, compensation, no_recurrence.",
)
@click.option("--handler", help="Who handles it (else the team's rule picks one).")
@click.option("--team", help="The team that handles it.")
@click.option("--responsible", "responsible_party", help="The responsible party, if known.")
@click.option("--department", "responsible_department", help="The responsible department.")
@click.option("--opened-at", help="When it was received (default: now), e.g. 2025-09-30T16:00.")
@by_option
@json_option
@requires_plugin(PLUGIN)
def open_(actor: str | None, as_json: bool, **values: Any) -> None:
    """Record a grievance or complaint; its SLA due times are computed and it may be auto-assigned.

    \b
    Example:
      kehu complaint open --customer C0001 --description "送货晚了三天" --category delivery
    """
    from kehu_complaints.services import open_complaint, record_dict

    given = {k: v for k, v in values.items() if v is not None}
    with transaction() as (app, session):
        record = open_complaint(app, session, given, _actor(actor))
    if as_json:
        emit_json(record_dict(record))
    else:
        click.echo(
            f"complaint #{record.id} opened for {record.customer_code} ({record.customer_name}); "
            f"policy {record.sla_policy}: first response due {_local(record.first_response_due_at)}, "
            f"resolution due {_local(record.resolution_due_at)}; handler {record.handler or '-'}"
        )


def _local(moment: Any) -> str:
    from kehu_core.cli.output import cell

    return cell(moment)


LIST_KEYS = (
    "id",
    "customer_code",
    "customer_name",
    "kind",
    "category",
    "severity",
    "status",
    "handler",
    "first_response_due_at",
    "resolution_due_at",
    "overdue",
)
LIST_HEADERS = (
    "#",
    "code",
    "customer",
    "kind",
    "category",
    "severity",
    "status",
    "handler",
    "response due",
    "resolution due",
    "overdue",
)


@complaint.command("list")
@click.option("--status", help="Only this stage (see `kehu complaint workflow`).")
@click.option("--overdue", is_flag=True, help="Only running complaints past a due time.")
@click.option("--handler", help="Only this handler's.")
@click.option("--customer", "customer_code", metavar="CODE", help="Only this customer's.")
@click.option("--category", help="Only this category.")
@click.option("--open", "open_only", is_flag=True, help="Only unresolved, unclosed complaints.")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True)
@list_output_options
@requires_plugin(PLUGIN)
def list_(as_json: bool, as_csv: bool, limit: int, **filters: Any) -> None:
    """List complaints, most urgent first.

    \b
    Example:
      kehu complaint list --overdue --handler 王芳
    """
    from kehu_complaints.fields import CATEGORIES, vocab
    from kehu_complaints.services import ComplaintQuery, list_complaints, record_dict
    from kehu_core.errors import Problem, ValidationError

    if filters.get("category"):
        try:
            filters["category"] = vocab(CATEGORIES)(filters["category"])
        except ValueError as exc:
            raise ValidationError([Problem("category", str(exc), value=filters["category"])]) from None
    with transaction() as (app, session):
        records = list_complaints(session, ComplaintQuery(limit=limit, **filters))
    rows = [record_dict(r) for r in records]
    emit_rows(LIST_HEADERS, rows, LIST_KEYS, as_json=as_json, as_csv=as_csv)


@complaint.command("show")
@click.argument("complaint_id", type=int)
@json_option
@requires_plugin(PLUGIN)
def show_(complaint_id: int, as_json: bool) -> None:
    """Show a complaint and its timeline (every transition, assignment and note).

    \b
    Example:
      kehu complaint show 12
    """
    from attrs import asdict

    from kehu_complaints.services import record_dict, show

    with transaction() as (app, session):
        detail = show(app, session, complaint_id)
    record = detail.complaint
    if as_json:
        emit_json(
            {
                **record_dict(record),
                "next_stages": list(detail.next_stages),
                "timeline": [asdict(e) for e in detail.timeline],
            }
        )
        return
    emit_pairs(
        f"Complaint #{record.id} ({record.kind}) v{record.version}",
        [
            ("customer", f"{record.customer_code} {record.customer_name}"),
            ("status", record.status),
            ("category / severity", f"{record.category} / {record.severity}"),
            ("channel", record.channel),
            ("description", record.description),
            ("wants", ", ".join(record.wants)),
            ("handler / team", f"{record.handler or '-'} / {record.team or '-'}"),
            ("responsible", f"{record.responsible_party or '-'} / {record.responsible_department or '-'}"),
            ("solution", record.solution),
            (
                "compensation",
                f"{record.compensation_amount} {record.compensation_type or ''}"
                if record.compensation_amount is not None
                else None,
            ),
            ("approved by", record.approved_by),
            ("SLA policy / tier", f"{record.sla_policy} / {record.tier or '-'}"),
            ("opened", record.opened_at),
            ("first response due", record.first_response_due_at),
            ("first response", record.first_response_at),
            ("resolution due", record.resolution_due_at),
            ("resolved", record.resolved_at),
            ("clock", "paused" if record.paused else "running"),
            (
                "breached",
                ", ".join(
                    n
                    for n, t in (
                        ("first response", record.first_response_breached_at),
                        ("resolution", record.resolution_breached_at),
                    )
                    if t
                )
                or None,
            ),
            ("escalated to", record.escalated_to),
            ("satisfaction", record.satisfaction),
            ("root cause", record.root_cause),
            ("corrective action", record.corrective_action),
            ("penalty", record.penalty_note),
            ("closed", record.closed_at),
            ("close reason", record.close_reason),
            ("next stages", ", ".join(detail.next_stages) or "(end)"),
        ],
    )
    click.echo()
    emit_table(
        ("when", "who", "action", "from", "to", "note"),
        [(e.at, e.actor, e.action, e.from_status, e.to_status, e.note) for e in detail.timeline],
    )


# -- move, assign, note --------------------------------------------------------------------------
@complaint.command("move")
@click.argument("complaint_id", type=int)
@click.argument("stage")
@click.option("--solution", help="The proposed solution.")
@click.option("--compensation", "compensation_amount", help="Compensation in yuan.")
@click.option(
    "--compensation-type", help="refund, replacement, repair, voucher, discount, cash, gift, other."
)
@click.option("--responsible", "responsible_party", help="The responsible party.")
@click.option("--department", "responsible_department", help="The responsible department.")
@click.option("--root-cause", help="Root cause (反省检讨).")
@click.option("--corrective-action", help="What changes so it does not happen again.")
@click.option("--penalty", "penalty_note", help="Penalty for the responsible party.")
@click.option("--satisfaction", help="The customer's satisfaction 1-5 (at follow-up).")
@click.option("--reason", help="Why (closing without follow-up, rejecting, withdrawing, reopening).")
@click.option("--note", help="A note for the history.")
@version_option
@by_option
@json_option
@requires_plugin(PLUGIN)
def move_(
    complaint_id: int,
    stage: str,
    reason: str | None,
    note: str | None,
    expect_version: int | None,
    actor: str | None,
    as_json: bool,
    **changes: Any,
) -> None:
    """Move a complaint to STAGE, recording fields on the way; guards may refuse.

    \b
    Example:
      kehu complaint move 12 solution_proposed --solution "换新机" --compensation 800 --compensation-type replacement
      kehu complaint move 12 approved --by 主管李娜
      kehu complaint move 12 closed --reason "客户失联"
    """
    from kehu_complaints.services import move, record_dict

    given = {k: v for k, v in changes.items() if v is not None}
    with transaction() as (app, session):
        record = move(
            app,
            session,
            complaint_id,
            stage,
            _actor(actor),
            changes=given,
            reason=reason,
            note=note,
            expected_version=expect_version,
        )
    if as_json:
        emit_json(record_dict(record))
    else:
        click.echo(f"complaint #{record.id} is now {record.status} (version {record.version})")


@complaint.command("assign")
@click.argument("complaint_id", type=int)
@click.option("--to", "handler", help="The handler.")
@click.option("--team", help="The team; without --to its rule (round robin or balanced) picks the handler.")
@version_option
@by_option
@json_option
@requires_plugin(PLUGIN)
def assign_(
    complaint_id: int,
    handler: str | None,
    team: str | None,
    expect_version: int | None,
    actor: str | None,
    as_json: bool,
) -> None:
    """Assign a complaint to a handler, or let a team's rule choose.

    \b
    Example:
      kehu complaint assign 12 --to 王芳
      kehu complaint assign 12 --team 客服一组
    """
    from kehu_complaints.services import assign, record_dict

    with transaction() as (app, session):
        record = assign(
            app,
            session,
            complaint_id,
            _actor(actor),
            handler=handler,
            team=team,
            expected_version=expect_version,
        )
    if as_json:
        emit_json(record_dict(record))
    else:
        click.echo(
            f"complaint #{record.id} assigned to {record.handler}"
            + (f" (team {record.team})" if record.team else "")
        )


@complaint.command("severity")
@click.argument("complaint_id", type=int)
@click.argument("level")
@click.option("--reason", help="Why it is re-graded.")
@version_option
@by_option
@json_option
@requires_plugin(PLUGIN)
def severity_(
    complaint_id: int,
    level: str,
    reason: str | None,
    expect_version: int | None,
    actor: str | None,
    as_json: bool,
) -> None:
    """Re-grade an open complaint (low, medium, high, critical); its SLA due times follow.

    \b
    Example:
      kehu complaint severity 12 critical --reason "客户要求赔偿并威胁曝光"
    """
    from kehu_complaints.services import record_dict, regrade

    with transaction() as (app, session):
        record = regrade(
            app, session, complaint_id, level, _actor(actor), reason=reason, expected_version=expect_version
        )
    if as_json:
        emit_json(record_dict(record))
    else:
        click.echo(
            f"complaint #{record.id} is now {record.severity}: policy {record.sla_policy}, "
            f"resolution due {_local(record.resolution_due_at)}"
        )


@complaint.command("note")
@click.argument("complaint_id", type=int)
@click.argument("text")
@by_option
@json_option
@requires_plugin(PLUGIN)
def note_(complaint_id: int, text: str, actor: str | None, as_json: bool) -> None:
    """Add a note to a complaint's history (it cannot be edited or deleted later).

    \b
    Example:
      kehu complaint note 12 "客户来电询问进度"
    """
    from kehu_complaints.services import add_note

    with transaction() as (app, session):
        entry = add_note(session, complaint_id, _actor(actor), text)
    if as_json:
        emit_json(entry)
    else:
        click.echo(f"note added to complaint #{complaint_id}")


# -- workflow and report -------------------------------------------------------------------------
@complaint.command("workflow")
@click.option("--mermaid", is_flag=True, help="Print a Mermaid state diagram.")
@json_option
@requires_plugin(PLUGIN)
def workflow_(mermaid: bool, as_json: bool) -> None:
    """Print the workflow: stages, transitions and guards (as changed by installed plugins).

    \b
    Example:
      kehu complaint workflow --mermaid > workflow.mmd
    """
    from kehu_complaints.workflow import build_workflow

    with transaction() as (app, session):
        workflow = build_workflow(app)
    if as_json:
        emit_json(workflow.as_data())
    else:
        click.echo(workflow.as_mermaid() if mermaid else workflow.as_text())


@complaint.command("report")
@click.option("--since", help="Only complaints opened on or after this date.")
@click.option("--until", help="Only complaints opened before this date.")
@json_option
@requires_plugin(PLUGIN)
def report_(since: str | None, until: str | None, as_json: bool) -> None:
    """Counts, response and resolution times, SLA breach and reopen rates, satisfaction, repurchase.

    The repurchase rate within 90 days after a complaint is set beside the seeds' figures:
    54-70% of complainers buy again, 95% when the complaint is handled quickly and well.

    \b
    Example:
      kehu complaint report --since 2025-01-01 --json
    """
    from kehu_complaints.report import build_report
    from kehu_core.errors import Problem, ValidationError
    from kehu_core.validation import FieldError, timestamp

    bounds = {}
    for name, value in (("since", since), ("until", until)):
        if value:
            try:
                bounds[name] = timestamp(value)
            except FieldError as exc:
                raise ValidationError(
                    [Problem(name, str(exc), value=value)], headline="report refused:"
                ) from None
    with transaction() as (app, session):
        report = build_report(session, app.dialect, **bounds)
    if as_json:
        emit_json(report)
        return
    pct = lambda r: "-" if r is None else f"{r * 100:.1f}%"
    emit_pairs("Complaints 抱怨与投诉", [("total", report.total), ("open", report.open)])
    for title, counts in (
        ("By category", report.by_category),
        ("By severity", report.by_severity),
        ("By status", report.by_status),
    ):
        emit_pairs(title, list(counts.items()))
    emit_pairs(
        "Timing (wall-clock hours)",
        [
            (
                "first response: median / p90",
                f"{report.first_response.median_hours} / {report.first_response.p90_hours} (n={report.first_response.count})",
            ),
            (
                "resolution: median / p90",
                f"{report.resolution.median_hours} / {report.resolution.p90_hours} (n={report.resolution.count})",
            ),
            ("SLA breach rate", f"{pct(report.breach_rate)} ({report.breached} of {report.decided})"),
            ("reopen rate", f"{pct(report.reopen_rate)} ({report.reopened} of {report.total})"),
        ],
    )
    emit_pairs(
        "Satisfaction after close (1-5)",
        [
            ("average", report.satisfaction_average),
            ("answers", report.satisfaction_count),
            *[(f"score {k}", v) for k, v in report.satisfaction_distribution.items()],
        ],
    )
    w, o = report.repurchase_within_sla, report.repurchase_outside_sla
    emit_pairs(
        f"Bought again within {report.repurchase_days} days",
        [
            ("handled within SLA", f"{pct(w.rate)} ({w.bought_again} of {w.complaints})"),
            ("not within SLA", f"{pct(o.rate)} ({o.bought_again} of {o.complaints})"),
            ("seeds: complainers who buy again", report.seed["complainers_buy_again"]),
            ("seeds: when handled quickly and well", report.seed["buy_again_when_handled_quickly_and_well"]),
        ],
    )


# -- teams ---------------------------------------------------------------------------------------
@complaint.group("team")
def team() -> None:
    """Complaint-handling teams: members, lead (receives escalations), assignment rule."""


def _emit_team(record: Any, as_json: bool) -> None:
    if as_json:
        emit_json(record)
    else:
        members = ", ".join(f"{m} ({n} open)" for m, n in record.members.items()) or "-"
        click.echo(f"team {record.name}: lead {record.lead or '-'}, {record.assignment}; members: {members}")


@team.command("add")
@click.argument("name")
@click.option("--lead", help="The team lead; SLA breaches escalate to them.")
@click.option(
    "--assignment",
    type=click.Choice(["manual", "round_robin", "balanced"]),
    help="How new complaints are assigned.",
)
@click.option(
    "--member", "members", multiple=True, help="A member (repeat for several, in round-robin order)."
)
@json_option
@requires_plugin(PLUGIN)
def team_add(
    name: str, lead: str | None, assignment: str | None, members: tuple[str, ...], as_json: bool
) -> None:
    """Create a team, or change its lead and rule and add members.

    \b
    Example:
      kehu complaint team add 客服一组 --lead 李娜 --assignment balanced --member 王芳 --member 刘洋
    """
    from kehu_complaints.teams import save_team

    with transaction() as (app, session):
        record = save_team(session, name, lead=lead, assignment=assignment, members=list(members))
    _emit_team(record, as_json)


@team.command("remove-member")
@click.argument("name")
@click.argument("member")
@json_option
@requires_plugin(PLUGIN)
def team_remove_member(name: str, member: str, as_json: bool) -> None:
    """Take a member out of the team's assignment (their open complaints stay theirs)."""
    from kehu_complaints.teams import remove_member

    with transaction() as (app, session):
        record = remove_member(session, name, member)
    _emit_team(record, as_json)


@team.command("list")
@list_output_options
@requires_plugin(PLUGIN)
def team_list(as_json: bool, as_csv: bool) -> None:
    """List teams with their members' open complaints."""
    from kehu_complaints.teams import list_teams

    with transaction() as (app, session):
        records = list_teams(session)
    rows = [
        {
            "name": r.name,
            "lead": r.lead,
            "assignment": r.assignment,
            "members": ", ".join(f"{m}:{n}" for m, n in r.members.items()),
        }
        for r in records
    ]
    if as_json:
        emit_json(records)
    else:
        emit_rows(
            ("team", "lead", "assignment", "members (open)"),
            rows,
            ("name", "lead", "assignment", "members"),
            as_json=False,
            as_csv=as_csv,
        )


# -- SLA policies, calendar, settings ------------------------------------------------------------
@complaint.group("sla")
def sla_group() -> None:
    """SLA policies: first response and resolution targets in business minutes, tried by priority."""


@sla_group.command("list")
@list_output_options
@requires_plugin(PLUGIN)
def sla_list(as_json: bool, as_csv: bool) -> None:
    """List SLA policies in the order they are tried, with the open complaints each governs."""
    from attrs import asdict

    from kehu_complaints.sla import load_policies, policy_names_in_use

    with transaction() as (app, session):
        policies, in_use = load_policies(session), policy_names_in_use(session)
    rows = [
        {
            **asdict(p),
            "open": in_use.get(p.name, 0),
            "severities": ",".join(p.severities) or "any",
            "tiers": ",".join(p.tiers) or "any",
            "kinds": ",".join(p.kinds) or "any",
            "paused_stages": ",".join(p.paused_stages),
        }
        for p in policies
    ]
    keys = (
        "priority",
        "name",
        "severities",
        "tiers",
        "kinds",
        "first_response_minutes",
        "resolution_minutes",
        "paused_stages",
        "open",
    )
    emit_rows(
        ("prio", "name", "severity", "tier", "kind", "response min", "resolution min", "paused in", "open"),
        rows,
        keys,
        as_json=as_json,
        as_csv=as_csv,
    )


@sla_group.command("set")
@click.argument("name")
@click.option("--priority", type=int, help="Lower is tried first.")
@click.option("--severities", help="Comma-separated severities it matches (empty: any).")
@click.option("--tiers", help="Comma-separated customer tiers it matches (empty: any).")
@click.option("--kinds", help="grievance and/or complaint (empty: any).")
@click.option(
    "--first-response", "first_response_minutes", type=int, help="Business minutes to the first response."
)
@click.option("--resolution", "resolution_minutes", type=int, help="Business minutes to resolution.")
@click.option("--paused-stages", help="Comma-separated stages in which the clock stops.")
@click.option("--active/--inactive", default=None, help="Use the policy or not.")
@json_option
@requires_plugin(PLUGIN)
def sla_set(name: str, as_json: bool, **values: Any) -> None:
    """Create or change a policy; due times of open complaints are recomputed (pauses kept).

    \b
    Example:
      kehu complaint sla set vip --priority 5 --tiers VIP --first-response 30 --resolution 240
    """
    from kehu_complaints.settings import calendar_of
    from kehu_complaints.sla import recompute_open, save_policy
    from kehu_complaints.workflow import build_workflow
    from kehu_core.types import utcnow

    given = {k: v for k, v in values.items() if v is not None}
    with transaction() as (app, session):
        policy = save_policy(session, name, given, list(build_workflow(app).stages))
        changed = recompute_open(
            app, session, calendar_of(session), utcnow(), reason=f"SLA policy {name} changed"
        )
    if as_json:
        emit_json({"policy": policy, "recomputed": changed})
    else:
        click.echo(f"policy {policy.name} saved; due times of {changed} open complaint(s) recomputed")


@sla_group.command("delete")
@click.argument("name")
@json_option
@requires_plugin(PLUGIN)
def sla_delete(name: str, as_json: bool) -> None:
    """Delete a policy (not the default); open complaints are re-matched."""
    from kehu_complaints.settings import calendar_of
    from kehu_complaints.sla import delete_policy, recompute_open
    from kehu_core.types import utcnow

    with transaction() as (app, session):
        delete_policy(session, name)
        changed = recompute_open(
            app, session, calendar_of(session), utcnow(), reason=f"SLA policy {name} deleted"
        )
    if as_json:
        emit_json({"deleted": name, "recomputed": changed})
    else:
        click.echo(f"policy {name} deleted; due times of {changed} open complaint(s) recomputed")


@sla_group.command("recompute")
@json_option
@requires_plugin(PLUGIN)
def sla_recompute(as_json: bool) -> None:
    """Re-match policies and tiers and recompute due times of every open complaint."""
    from kehu_complaints.settings import calendar_of
    from kehu_complaints.sla import recompute_open
    from kehu_core.types import utcnow

    with transaction() as (app, session):
        changed = recompute_open(app, session, calendar_of(session), utcnow(), reason="recomputed on request")
    if as_json:
        emit_json({"recomputed": changed})
    else:
        click.echo(f"due times of {changed} open complaint(s) changed")


@complaint.group("calendar")
def calendar_group() -> None:
    """The business calendar: China's holidays and swapped working days, plus your own exceptions."""


@calendar_group.command("show")
@click.option("--from", "start", help="First day (default: today).")
@click.option("--days", type=click.IntRange(1, 366), default=14, show_default=True)
@list_output_options
@requires_plugin(PLUGIN)
def calendar_show(start: str | None, days: int, as_json: bool, as_csv: bool) -> None:
    """Show which days are working days and why.

    \b
    Example:
      kehu complaint calendar show --from 2025-09-27 --days 14
    """
    from datetime import timedelta

    from kehu_complaints.settings import calendar_of
    from kehu_core.errors import Problem, ValidationError
    from kehu_core.types import utcnow
    from kehu_core.validation import FieldError, day, local_zone

    try:
        first = day(start) if start else utcnow().astimezone(local_zone()).date()
    except FieldError as exc:
        raise ValidationError([Problem("from", str(exc), value=start)]) from None
    with transaction() as (app, session):
        cal = calendar_of(session)
    rows = []
    for n in range(days):
        d = first + timedelta(days=n)
        name = cal.holiday_name(d)
        if d in cal.exceptions:
            why = "company exception"
        elif name and cal.is_workday(d):
            why = f"swapped working day 调休上班 ({name})"
        else:
            why = name or ("weekend" if d.weekday() >= 5 else "")
        if not cal.is_covered(d):
            why = (why + "; " if why else "") + "no official holiday data for this year: weekends only"
        rows.append(
            {"day": d, "weekday": "一二三四五六日"[d.weekday()], "workday": cal.is_workday(d), "why": why}
        )
    emit_rows(
        ("day", "周", "working", "why"),
        rows,
        ("day", "weekday", "workday", "why"),
        as_json=as_json,
        as_csv=as_csv,
    )


@calendar_group.command("set")
@click.argument("date")
@click.option("--workday/--day-off", required=True, help="Make the day a working day or a day off.")
@click.option("--name", help="Why (e.g. 公司年会).")
@json_option
@requires_plugin(PLUGIN)
def calendar_set(date: str, workday: bool, name: str | None, as_json: bool) -> None:
    """Add a company exception to the calendar; open complaints' due times are recomputed."""
    from kehu_complaints.models import CalendarDay
    from kehu_complaints.settings import calendar_of
    from kehu_complaints.sla import recompute_open
    from kehu_core.errors import Problem, ValidationError
    from kehu_core.types import utcnow
    from kehu_core.validation import FieldError, day

    try:
        when = day(date)
    except FieldError as exc:
        raise ValidationError([Problem("date", str(exc), value=date)]) from None
    with transaction() as (app, session):
        row = session.get(CalendarDay, when)
        if row is None:
            session.add(CalendarDay(day=when, workday=workday, name=name))
        else:
            row.workday, row.name = workday, name
        session.flush()
        changed = recompute_open(app, session, calendar_of(session), utcnow(), reason="calendar changed")
    if as_json:
        emit_json({"day": when, "workday": workday, "name": name, "recomputed": changed})
    else:
        click.echo(
            f"{when} is now a {'working day' if workday else 'day off'}; {changed} open complaint(s) recomputed"
        )


@complaint.command("settings")
@click.argument("key", required=False)
@click.argument("value", required=False)
@json_option
@requires_plugin(PLUGIN)
def settings_(key: str | None, value: str | None, as_json: bool) -> None:
    """Show the settings, or set KEY to VALUE (business hours change recomputes due times).

    \b
    Example:
      kehu complaint settings approval_threshold 1000
      kehu complaint settings business_hours "09:00-12:00,13:30-17:30"
    """
    from kehu_complaints.settings import calendar_of, load_settings, set_setting
    from kehu_complaints.sla import recompute_open
    from kehu_core.types import utcnow

    if key is not None and value is None:
        raise click.UsageError("give a VALUE to set, or no KEY to show every setting")
    with transaction() as (app, session):
        if key is not None:
            set_setting(session, key, value)
            if key in ("business_hours", "timezone", "chinese_holidays"):
                recompute_open(app, session, calendar_of(session), utcnow(), reason=f"setting {key} changed")
        current = load_settings(session)
    if as_json:
        emit_json(current)
    else:
        emit_pairs("Complaint settings", list(current.items()))
