"""``kehu complaint workflow|report``: the workflow as installed, and what the handling achieves."""

from __future__ import annotations

from datetime import date

import click

from kehu_complaints import api
from kehu_complaints.report import ComplaintReport
from kehu_core.calendar import day_start
from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import emit_json, emit_pairs, emit_table, json_option
from kehu_core.cli.params import DAY


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
    if as_json:
        emit_json(report)
    else:
        _print_report(report)


def _print_report(report: ComplaintReport) -> None:
    emit_pairs("Complaints 抱怨与投诉", [("total", report.total), ("open", report.open)])
    for title, counts in (
        ("By category", report.by_category),
        ("By severity", report.by_severity),
        ("By status", report.by_status),
    ):
        emit_pairs(title, list(counts.items()))
    first, resolution = report.first_response, report.resolution
    emit_pairs(
        "Timing (wall-clock hours)",
        [
            ("first response: median / p90", f"{first.median_hours} / {first.p90_hours} (n={first.count})"),
            (
                "resolution: median / p90",
                f"{resolution.median_hours} / {resolution.p90_hours} (n={resolution.count})",
            ),
            ("SLA breach rate", f"{_pct(report.breach_rate)} ({report.breached} of {report.decided})"),
            ("reopen rate", f"{_pct(report.reopen_rate)} ({report.reopened} of {report.total})"),
        ],
    )
    emit_pairs(
        "Satisfaction at follow-up (回访满意度 1-5)",
        [
            ("average", report.satisfaction_average),
            ("answers", report.satisfaction_count),
            *[(f"score {k}", v) for k, v in report.satisfaction_distribution.items()],
        ],
    )
    overall = report.repurchase_overall
    within, outside = report.repurchase_within_sla, report.repurchase_outside_sla
    figures = report.course_figures
    emit_pairs(
        f"Bought again within {report.repurchase_days} days after a complaint (投诉后回购)",
        [
            ("all complaints", f"{_pct(overall.rate)} ({overall.bought_again} of {overall.complaints})"),
            ("handled within SLA", f"{_pct(within.rate)} ({within.bought_again} of {within.complaints})"),
            ("not within SLA", f"{_pct(outside.rate)} ({outside.bought_again} of {outside.complaints})"),
            ("benchmark: complainers who buy again", figures["complainers_buy_again"]),
            (
                "benchmark: when handled quickly and well",
                figures["buy_again_when_handled_quickly_and_well"],
            ),
        ],
    )
    click.echo("\nBy what the customer wanted (客户投诉的真实需求)")
    emit_table(
        ("wanted", "", "complaints", "resolution h median / p90 (n)", "satisfaction (n)", "bought again"),
        [
            (
                want,
                f.label,
                f.complaints,
                f"{f.resolution.median_hours} / {f.resolution.p90_hours} (n={f.resolution.count})",
                f"{f.satisfaction_average if f.satisfaction_average is not None else '-'} "
                f"(n={f.satisfaction_count})",
                f"{_pct(f.repurchase.rate)} ({f.repurchase.bought_again} of {f.repurchase.complaints})",
            )
            for want, f in report.by_want.items()
        ],
    )
