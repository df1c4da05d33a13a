"""``kehu loyalty ladder|satisfaction``: the loyalty ladder and the satisfaction report."""

from __future__ import annotations

from datetime import datetime

import click

from kehu_core.calendar import format_day
from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import emit_json, emit_table, json_option
from kehu_core.cli.params import TIMESTAMP
from kehu_core.i18n import messages
from kehu_loyalty import api
from kehu_loyalty.ladder import STAGE

_ = messages("kehu_loyalty").gettext


@click.command("ladder", cls=TranslatedCommand)
@click.option(
    "--since", type=TIMESTAMP, default=None, help="Start of the period (default: 90 days before --as-of)."
)
@click.option("--as-of", type=TIMESTAMP, default=None, help="End of the period (default: now).")
@click.option(
    "--loyal-quarters",
    type=click.IntRange(1, 4),
    default=3,
    show_default=True,
    help="'loyal': a repeat buyer who bought in this many of the last four 91-day quarters.",
)
@json_option
def ladder_cmd(since: datetime | None, as_of: datetime | None, loyal_quarters: int, as_json: bool) -> None:
    """The loyalty ladder: customers per stage and how many moved in the period.

    prospect -> first_time -> repeat -> loyal -> member -> advocate (the course material:
    合格预期顾客 -> 首次购买客户 -> 重复购买客户 -> 忠诚客户 -> 成员 -> 拥护者). The rungs are stages of
    buying: member (enrolled) and advocate (referred a buyer) also require a purchase, so a
    customer who never bought is a prospect. `kehu loyalty settings set ladder_mode legacy`
    ranks enrolment and referrals alone, bought or not.

    \b
    Example:
      kehu loyalty ladder --since 2025-01-01 --json
    """
    with transaction() as (_app, session):
        report = api.ladder(session, since, as_of, loyal_quarters)
    if as_json:
        emit_json(report)
        return
    emit_table(
        (
            _("ladder stage"),
            _("at {day}").format(day=format_day(report.since)),
            _("at {day}").format(day=format_day(report.as_of)),
            _("moved in"),
            _("moved out"),
        ),
        [(STAGE.label(s.stage), s.start, s.end, s.moved_in, s.moved_out) for s in report.stages],
    )
    click.echo()
    click.echo(
        _("{moved} customer(s) changed stage; {new} new customer(s).").format(
            moved=report.moved, new=report.new
        )
    )
    if report.transitions:
        emit_table(
            (_("stage before"), _("stage after"), _("customers")),
            [(STAGE.label(a) if a else _("(new)"), STAGE.label(b), n) for a, b, n in report.transitions],
        )


@click.command("satisfaction", cls=TranslatedCommand)
@click.option(
    "--window",
    "window_days",
    type=click.IntRange(1, 3650),
    default=180,
    show_default=True,
    help="A repurchase counts if it follows the feedback within this many days.",
)
@json_option
def satisfaction_cmd(window_days: int, as_json: bool) -> None:
    """Repurchase rate by satisfaction score (满意度): a 5 rebuys six times as often as a 4.

    \b
    Example:
      kehu loyalty satisfaction --window 365
    """
    with transaction() as (_app, session):
        rows = api.satisfaction_repurchase(session, window_days)
    if as_json:
        emit_json({"window_days": window_days, "xerox_ratio_5_to_4": api.XEROX_RATIO, "rows": rows})
        return
    emit_table(
        (
            _("satisfaction score"),
            _("feedbacks"),
            _("bought again"),
            _("repurchase rate"),
            _("times score 4"),
        ),
        [
            (
                r.score,
                r.feedbacks,
                r.repurchased,
                f"{r.rate:.1%}" if r.rate is not None else None,
                r.ratio_to_4,
            )
            for r in rows
        ],
    )
    click.echo()
    click.echo(
        _(
            "The course material (Xerox): customers who give 5 are six times as likely to buy again "
            "as those who give 4 (给出5分的顾客再购买的可能性比给出4分的顾客多6倍)."
        )
    )
