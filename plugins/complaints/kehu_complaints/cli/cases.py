"""``kehu complaint open|list|show|move|close|assign|severity|note|backfill``: handling complaints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from attrs import asdict

from kehu_complaints import api
from kehu_complaints.cli.common import COMPLAINT_ID, stage_name, version_option, when
from kehu_complaints.fields import (
    CATEGORY,
    COMPENSATION_TYPE,
    DOMAIN,
    KIND,
    SEVERITY,
    WANT,
    policy_label,
)
from kehu_complaints.jobs import NOBODY
from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import (
    emit_json,
    emit_pairs,
    emit_rows,
    emit_table,
    json_option,
    list_output_options,
    row_count,
)
from kehu_core.cli.params import MONEY, TIMESTAMP, VocabularyType, given
from kehu_core.i18n import N_, messages
from kehu_core.types import utcnow

_ = messages(DOMAIN).gettext

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
    N_("code"),
    N_("customer"),
    N_("kind"),
    N_("category"),
    N_("severity"),
    N_("status"),
    N_("handler"),
    N_("response due"),
    N_("resolution due"),
    N_("overdue"),
)


def _emit(record: api.ComplaintRecord, as_json: bool, message: str) -> None:
    """A changed complaint: as JSON, or the one line ``message``."""
    if as_json:
        emit_json(api.record_dict(record))
    else:
        click.echo(message)


@click.command("open", cls=TranslatedCommand)
@click.option("--customer", "customer_code", required=True, metavar="CODE", help="The customer's code.")
@click.option("--description", required=True, help="What the customer says.")
@click.option(
    "--kind",
    type=VocabularyType(KIND),
    help="grievance (抱怨, informal) or complaint (投诉, formal; default).",
)
@click.option("--channel", help="How it came in: 电话, 门店, e-mail ...")
@click.option(
    "--category",
    type=VocabularyType(CATEGORY),
    help="quality, delivery, service, billing or other (中文 too: 产品质量 ...).",
)
@click.option(
    "--severity",
    type=VocabularyType(SEVERITY),
    help="low, medium (default), high or critical (低, 中, 高, 紧急).",
)
@click.option(
    "--wants",
    help="What the customer wants, separated by , or 、: fast_solution, respect, explanation, "
    "compensation, no_recurrence (快速解决、赔偿 ...).",
)
@click.option("--handler", help="Who handles it (else the team's rule picks one).")
@click.option("--team", help="The team that handles it.")
@click.option("--responsible", "responsible_party", help="The responsible party, if known.")
@click.option("--department", "responsible_department", help="The responsible department.")
@click.option(
    "--opened-at", type=TIMESTAMP, help="When it was received (default: now), e.g. 2025-09-30 16:00."
)
@json_option
def open_(as_json: bool, **values: Any) -> None:
    """Record a grievance or complaint; its SLA due times are computed and it may be auto-assigned.

    \b
    Example:
      kehu complaint open --customer C0001 --description "送货晚了三天" --category delivery
    """
    with transaction() as (app, session):
        record = api.open_complaint(app, session, given(values))
    _emit(
        record,
        as_json,
        _(
            "complaint #{id} opened for {code} ({name}); policy {policy}: first response due "
            "{first_due}, resolution due {resolution_due}; handler {handler}"
        ).format(
            id=record.id,
            code=record.customer_code,
            name=record.customer_name,
            policy=policy_label(record.sla_policy),
            first_due=when(record.first_response_due_at),
            resolution_due=when(record.resolution_due_at),
            handler=record.handler or "-",
        ),
    )


@click.command("list", cls=TranslatedCommand)
@click.option(
    "--status", help="Only this stage, by code or name (受理, 已解决 ...; see `kehu complaint workflow`)."
)
@click.option("--overdue", is_flag=True, help="Only running complaints past a due time.")
@click.option("--handler", help="Only this handler's.")
@click.option("--customer", "customer_code", metavar="CODE", help="Only this customer's.")
@click.option("--category", type=VocabularyType(CATEGORY), help="Only this category (产品质量 ...).")
@click.option("--open", "open_only", is_flag=True, help="Only unresolved, unclosed complaints.")
@click.option("--limit", type=row_count(1), default=200, show_default=True, help="At most N complaints.")
@list_output_options
def list_(as_json: bool, as_csv: bool, limit: int, **filters: Any) -> None:
    """List complaints, most urgent first.

    \b
    Example:
      kehu complaint list --overdue --handler 王芳
    """
    with transaction() as (app, session):
        records = api.list_complaints(app, session, api.ComplaintQuery(limit=limit, **filters))
        workflow = api.workflow(app)
    rows = []
    for record in records:
        row = api.record_dict(record)
        if not (as_json or as_csv):
            row["kind"] = KIND.label(record.kind)
            row["category"] = CATEGORY.label(record.category)
            row["severity"] = SEVERITY.label(record.severity)
            row["status"] = stage_name(workflow, record.status)
            row["first_response_due_at"] = when(record.first_response_due_at)
            row["resolution_due_at"] = when(record.resolution_due_at)
        rows.append(row)
    emit_rows([_(h) for h in LIST_HEADERS], rows, LIST_KEYS, as_json=as_json, as_csv=as_csv)


@click.command("show", cls=TranslatedCommand)
@click.argument("complaint_id", type=COMPLAINT_ID)
@json_option
def show_(complaint_id: int, as_json: bool) -> None:
    """Show a complaint and its timeline (every transition, assignment and note).

    \b
    Example:
      kehu complaint show 12
    """
    with transaction() as (app, session):
        detail = api.get_complaint(app, session, complaint_id)
        workflow = api.workflow(app)
    record = detail.complaint
    if as_json:
        emit_json(
            {
                **api.record_dict(record),
                "next_stages": list(detail.next_stages),
                "timeline": [asdict(e) for e in detail.timeline],
            }
        )
        return
    now = utcnow()
    breaches = record.breaches(now)
    missed = {
        "first_response": _("first response ({late})"),
        "resolution": _("resolution ({late})"),
    }
    breached = ", ".join(
        missed[name].format(late=late)
        for name, late in (
            ("first_response", _late(record.first_response_at, record.first_response_due_at)),
            ("resolution", _late(record.resolved_at, record.resolution_due_at)),
        )
        if name in breaches
    )
    compensation = (
        f"{record.compensation_amount} {COMPENSATION_TYPE.label(record.compensation_type or '')}".strip()
        if record.compensation_amount is not None
        else None
    )
    emit_pairs(
        _("Complaint #{id} ({kind}) v{version}").format(
            id=record.id, kind=KIND.label(record.kind), version=record.version
        ),
        [
            (_("customer"), f"{record.customer_code} {record.customer_name}"),
            (_("status"), stage_name(workflow, record.status)),
            (
                _("category / severity"),
                f"{CATEGORY.label(record.category)} / {SEVERITY.label(record.severity)}",
            ),
            (_("channel"), record.channel),
            (_("description"), record.description),
            (_("wants"), ", ".join(WANT.label(w) for w in record.wants)),
            (_("handler / team"), f"{record.handler or '-'} / {record.team or '-'}"),
            (_("responsible"), f"{record.responsible_party or '-'} / {record.responsible_department or '-'}"),
            (_("solution"), record.solution),
            (_("compensation"), compensation),
            (_("approved by"), record.approved_by),
            (_("SLA policy / tier"), f"{policy_label(record.sla_policy)} / {record.tier or '-'}"),
            (_("opened at"), when(record.opened_at)),
            (_("first response due"), when(record.first_response_due_at)),
            (_("first response at"), when(record.first_response_at)),
            (_("resolution due"), when(record.resolution_due_at)),
            (_("resolved at"), when(record.resolved_at)),
            (_("clock"), _(CLOCK[record.clock()])),
            (_("breached"), breached or None),
            (_("escalated to"), _escalation(record, breaches)),
            (_("satisfaction"), record.satisfaction),
            (_("root cause"), record.root_cause),
            (_("corrective action"), record.corrective_action),
            (_("penalty"), record.penalty_note),
            (_("closed at"), when(record.closed_at)),
            (_("close reason"), record.close_reason),
            (
                _("next stages"),
                ", ".join(stage_name(workflow, k) for k in detail.next_stages) or _("(end)"),
            ),
        ],
    )
    click.echo()
    emit_table(
        [_("when"), _("recorded"), _("who"), _("action"), _("from"), _("to"), _("note")],
        [
            (
                when(e.at),
                when(e.recorded_at) if e.recorded_at else "",
                e.actor,
                _(ACTIONS[e.action]) if e.action in ACTIONS else e.action,
                stage_name(workflow, e.from_status),
                stage_name(workflow, e.to_status),
                e.note,
            )
            for e in detail.timeline
        ],
    )


#: The SLA clock of ``kehu complaint show``, by :meth:`ComplaintRecord.clock`.
CLOCK = {
    "running": N_("running"),
    "paused": N_("paused"),
    "resolved": N_("stopped (resolved)"),
    "closed": N_("stopped (closed)"),
}

#: A history entry's action (``--json`` keeps the code), as ``show`` names it.
ACTIONS = {
    "opened": N_("opened"),
    "moved": N_("moved"),
    "assigned": N_("assigned"),
    "note": N_("note"),
    "sla": N_("SLA recomputed"),
    "breached": N_("SLA breached"),
    "severity": N_("re-graded"),
}


def _late(done: datetime | None, due: datetime | None) -> str:
    """How a missed due time shows: when it was done against when it was due."""
    if due is None:
        return _("marked")
    if done:
        return _("due {due}, done {done}").format(due=when(due), done=when(done))
    return _("due {due}, not done yet").format(due=when(due))


def _escalation(record: api.ComplaintRecord, breaches: tuple[str, ...]) -> str | None:
    """Who a breached complaint went to: the lead, nobody (no team lead), or not yet escalated."""
    if record.escalated_to:
        return record.escalated_to
    if record.escalated_at is not None:
        return _(NOBODY)
    return _("not escalated") if breaches else None


def _record_fields(func: Any) -> Any:
    """The options a move or a close may set along the way."""
    options = (
        click.option("--solution", help="The proposed solution."),
        click.option("--compensation", "compensation_amount", type=MONEY, help="Compensation in yuan."),
        click.option(
            "--compensation-type",
            type=VocabularyType(COMPENSATION_TYPE),
            help="refund, replacement, repair, voucher, discount, cash, gift, other (退款, 换货 ...).",
        ),
        click.option("--responsible", "responsible_party", help="The responsible party."),
        click.option("--department", "responsible_department", help="The responsible department."),
        click.option("--root-cause", help="Root cause (反省检讨)."),
        click.option("--corrective-action", help="What changes so it does not happen again."),
        click.option("--penalty", "penalty_note", help="Penalty for the responsible party."),
        click.option("--satisfaction", help="The customer's satisfaction 1-5 (at follow-up)."),
        click.option("--reason", help="Why (closing without follow-up, rejecting, withdrawing, reopening)."),
        click.option("--note", help="A note for the history."),
        click.option(
            "--at",
            type=TIMESTAMP,
            help="When the step was done, if earlier (e.g. 2025-09-30 16:00:00): not in the future, "
            "not before the previous step; the history keeps when it was recorded too.",
        ),
    )
    for option in reversed(options):
        func = option(func)
    return func


def _move_or_close(complaint_id: int, stage: str, options: dict[str, Any], *, closing: bool) -> None:
    """What ``move`` and ``close`` share: the fields, reason, note, version and output."""
    as_json = options.pop("as_json")
    passed = dict(
        reason=options.pop("reason"),
        note=options.pop("note"),
        at=options.pop("at"),
        expected_version=options.pop("expect_version"),
        changes=given(options),
    )
    with transaction() as (app, session):
        if closing:
            record = api.close(app, session, complaint_id, stage=stage, **passed)
        else:
            record = api.move(app, session, complaint_id, stage, **passed)
        workflow = api.workflow(app)
    if closing:
        message = _("complaint #{id} is now {stage} (closed {closed})").format(
            id=record.id, stage=workflow.label(record.status), closed=when(record.closed_at)
        )
    else:
        message = _("complaint #{id} is now {stage} (version {version})").format(
            id=record.id, stage=workflow.label(record.status), version=record.version
        )
    _emit(record, as_json, message)


@click.command("move", cls=TranslatedCommand)
@click.argument("complaint_id", type=COMPLAINT_ID)
@click.argument("stage")
@_record_fields
@version_option
@json_option
def move_(complaint_id: int, stage: str, **options: Any) -> None:
    """Move a complaint to STAGE, recording fields on the way; guards may refuse.

    \b
    Example:
      kehu complaint move 12 solution_proposed --solution "换新机" --compensation 800 --compensation-type 换货
      kehu --as lina complaint move 12 approved
      kehu complaint move 12 acknowledged --at "2025-09-30 16:00" --note "昨天电话回复"
    """
    _move_or_close(complaint_id, stage, options, closing=False)


@click.command("close", cls=TranslatedCommand)
@click.argument("complaint_id", type=COMPLAINT_ID)
@click.option(
    "--as",
    "stage",
    default="closed",
    show_default=True,
    help="The closing stage: closed, rejected, withdrawn (结案, 不予受理, 客户撤回).",
)
@_record_fields
@version_option
@json_option
def close_(complaint_id: int, stage: str, **options: Any) -> None:
    """Close a complaint (or reject or withdraw it); the workflow's guards apply.

    \b
    Example:
      kehu complaint close 12 --root-cause "质检漏检" --corrective-action "加强出厂检验"
      kehu complaint close 12 --as rejected --reason "不属于本公司责任"
    """
    _move_or_close(complaint_id, stage, options, closing=True)


@click.command("assign", cls=TranslatedCommand)
@click.argument("complaint_id", type=COMPLAINT_ID)
@click.option("--to", "handler", help="The handler.")
@click.option("--team", help="The team; without --to its rule (round robin or balanced) picks the handler.")
@version_option
@json_option
def assign_(
    complaint_id: int,
    handler: str | None,
    team: str | None,
    expect_version: int | None,
    as_json: bool,
) -> None:
    """Assign a complaint to a handler, or let a team's rule choose.

    \b
    Example:
      kehu complaint assign 12 --to 王芳
      kehu complaint assign 12 --team 客服一组
    """
    with transaction() as (app, session):
        record = api.assign(
            app,
            session,
            complaint_id,
            handler=handler,
            team=team,
            expected_version=expect_version,
        )
    if record.team:
        message = _("complaint #{id} assigned to {handler} (team {team})").format(
            id=record.id, handler=record.handler, team=record.team
        )
    else:
        message = _("complaint #{id} assigned to {handler}").format(id=record.id, handler=record.handler)
    _emit(record, as_json, message)


@click.command("severity", cls=TranslatedCommand)
@click.argument("complaint_id", type=COMPLAINT_ID)
@click.argument("level", type=VocabularyType(SEVERITY))
@click.option("--reason", help="Why it is re-graded.")
@version_option
@json_option
def severity_(
    complaint_id: int,
    level: str,
    reason: str | None,
    expect_version: int | None,
    as_json: bool,
) -> None:
    """Re-grade an open complaint (low, medium, high, critical; 低, 中, 高, 紧急); its SLA due times follow.

    \b
    Example:
      kehu complaint severity 12 critical --reason "客户要求赔偿并威胁曝光"
    """
    with transaction() as (app, session):
        record = api.regrade(
            app, session, complaint_id, level, reason=reason, expected_version=expect_version
        )
    _emit(
        record,
        as_json,
        _("complaint #{id} is now {severity}: policy {policy}, resolution due {due}").format(
            id=record.id,
            severity=SEVERITY.label(record.severity),
            policy=policy_label(record.sla_policy),
            due=when(record.resolution_due_at),
        ),
    )


@click.command("note", cls=TranslatedCommand)
@click.argument("complaint_id", type=COMPLAINT_ID)
@click.argument("text")
@json_option
def note_(complaint_id: int, text: str, as_json: bool) -> None:
    """Add a note to a complaint's history (it cannot be edited or deleted later).

    \b
    Example:
      kehu complaint note 12 "客户来电询问进度"
    """
    with transaction() as (app, session):
        entry = api.add_note(app, session, complaint_id, None, text)
    if as_json:
        emit_json(entry)
    else:
        click.echo(_("note added to complaint #{id}").format(id=complaint_id))


@click.command("backfill", cls=TranslatedCommand)
@click.option("--since", type=TIMESTAMP, default=None, help="Only complaint interactions from this time on.")
@json_option
def backfill_(since: Any, as_json: bool) -> None:
    """Open the complaints of complaint interactions written without this plugin (idempotent).

    Complaint interactions written while complaints was not loaded (`kehu --without-plugin
    complaints ...`) opened no complaint. This opens one for each that has none, at the
    interaction's time; running it again opens nothing. Needs permission complaints.manage.

    \b
    Example:
      kehu complaint backfill --since 2025-06-01
    """
    with transaction() as (app, session):
        found, opened = api.catch_up(app, session, since)
    if as_json:
        emit_json({"interactions": found, "opened": opened})
    else:
        click.echo(
            _("opened {opened} complaint(s) for {found} complaint interaction(s) without one").format(
                opened=opened, found=found
            )
        )
