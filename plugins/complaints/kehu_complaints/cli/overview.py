"""``kehu complaint workflow|report``: the workflow as installed, and what the handling achieves."""

from __future__ import annotations

from datetime import date

import click

from kehu_complaints import api
from kehu_complaints.fields import CATEGORY, DOMAIN, SEVERITY, WANT
from kehu_complaints.report import ComplaintReport, Percentiles
from kehu_complaints.workflow import Workflow, default_workflow
from kehu_core.calendar import day_start
from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import emit_json, emit_pairs, emit_table, json_option
from kehu_core.cli.params import DAY
from kehu_core.i18n import messages

_ = messages(DOMAIN).gettext


@click.command("workflow", cls=TranslatedCommand)
@click.option("--mermaid", is_flag=True, help="Print a Mermaid state diagram.")
@json_option
def workflow_(mermaid: bool, as_json: bool) -> None:
    """Print the workflow: stages, transitions and guards (as changed by installed plugins).

    \b
    Example:
      kehu complaint workflow --mermaid > workflow.mmd
    """
    with transaction() as (app, _session):
        workflow = api.workflow(app)
    if as_json:
        emit_json(workflow.as_data())
    else:
        click.echo(workflow.as_mermaid() if mermaid else workflow.as_text())


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


@click.command("report", cls=TranslatedCommand)
@click.option("--since", type=DAY, help="Only complaints opened on or after this day.")
@click.option("--until", type=DAY, help="Only complaints opened before this day.")
@json_option
def report_(since: date | None, until: date | None, as_json: bool) -> None:
    """Counts, timings, SLA breach and reopen rates, satisfaction, and repurchase after a complaint.

    The repurchase rate within 90 days after a complaint is set beside the figures of the course
    material: 54-70% of complainers buy again, 95% when the complaint is handled quickly and well.
    Resolution time, satisfaction and repurchase are also broken down by what the customer
    wanted (客户投诉的真实需求: fast_solution, respect, explanation, compensation, no_recurrence;
    none when nothing was recorded); a complaint counts under each of its wants.

    \b
    Example:
      kehu complaint report --since 2025-01-01 --json
    """
    with transaction() as (app, session):
        report = api.report(
            app,
            session,
            since=day_start(since) if since else None,
            until=day_start(until) if until else None,
        )
        workflow = api.workflow(app)
    if as_json:
        emit_json(report)
    else:
        _print_report(report, workflow)


def _print_report(report: ComplaintReport, workflow: Workflow | None = None) -> None:
    workflow = workflow or default_workflow()
    emit_pairs(
        _("Complaints and grievances (抱怨与投诉)"), [(_("total"), report.total), (_("open"), report.open)]
    )
    for title, counts in (
        (_("By category"), [(CATEGORY.label(k), n) for k, n in report.by_category.items()]),
        (_("By severity"), [(SEVERITY.label(k), n) for k, n in report.by_severity.items()]),
        (_("By status"), [(workflow.label(k), n) for k, n in report.by_status.items()]),
    ):
        emit_pairs(title, counts)
    first, resolution = report.first_response, report.resolution
    emit_pairs(
        _("Timing (wall-clock hours)"),
        [
            (_("first response: median / p90"), _timing(first)),
            (_("resolution: median / p90"), _timing(resolution)),
            (_("SLA breach rate"), _share(report.breach_rate, report.breached, report.decided)),
            (_("reopen rate"), _share(report.reopen_rate, report.reopened, report.total)),
        ],
    )
    emit_pairs(
        _("Satisfaction at follow-up (回访满意度 1-5)"),
        [
            (_("average"), report.satisfaction_average),
            (_("answers"), report.satisfaction_count),
            *[(_("score {score}").format(score=k), v) for k, v in report.satisfaction_distribution.items()],
        ],
    )
    overall = report.repurchase_overall
    within, outside = report.repurchase_within_sla, report.repurchase_outside_sla
    figures = report.course_figures
    emit_pairs(
        _("Bought again within {days} days after a complaint (投诉后回购)").format(
            days=report.repurchase_days
        ),
        [
            (_("all complaints"), _share(overall.rate, overall.bought_again, overall.complaints)),
            (_("handled within SLA"), _share(within.rate, within.bought_again, within.complaints)),
            (_("not within SLA"), _share(outside.rate, outside.bought_again, outside.complaints)),
            (_("benchmark: complainers who buy again"), figures["complainers_buy_again"]),
            (
                _("benchmark: when handled quickly and well"),
                figures["buy_again_when_handled_quickly_and_well"],
            ),
        ],
    )
    click.echo("\n" + _("By what the customer wanted (客户投诉的真实需求)"))
    emit_table(
        [
            _("wanted"),
            _("complaints"),
            _("resolution h median / p90 (n)"),
            _("satisfaction (n)"),
            _("bought again"),
        ],
        [
            (
                WANT.label(want) if want in WANT else _("nothing recorded"),
                f.complaints,
                _timing(f.resolution),
                _("{average} (n={n})").format(
                    average=f.satisfaction_average if f.satisfaction_average is not None else "-",
                    n=f.satisfaction_count,
                ),
                _share(f.repurchase.rate, f.repurchase.bought_again, f.repurchase.complaints),
            )
            for want, f in report.by_want.items()
        ],
    )


def _timing(p: Percentiles) -> str:
    """``median / p90 (n=count)``; ``-`` for a figure of no complaint."""
    median = "-" if p.median_hours is None else p.median_hours
    p90 = "-" if p.p90_hours is None else p.p90_hours
    return _("{median} / {p90} (n={n})").format(median=median, p90=p90, n=p.count)


def _share(rate: float | None, part: int, whole: int) -> str:
    """``33.3% (1 of 3)``."""
    return _("{rate} ({part} of {whole})").format(rate=_pct(rate), part=part, whole=whole)
