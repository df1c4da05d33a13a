"""``kehu complaint calendar ...`` and ``kehu complaint settings``: business time and settings."""

from __future__ import annotations

from datetime import date

import click

from kehu_complaints import api
from kehu_core.cli.context import PluginGroup, transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import emit_json, emit_pairs, emit_rows, json_option, list_output_options
from kehu_core.cli.params import DAY, NEGATIVE_VALUES
from kehu_core.i18n import N_, messages

_ = messages("kehu_complaints").gettext

#: The days of the week as a table shows them (``--json`` keeps the Chinese 一 ... 日).
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


@click.group("calendar", cls=PluginGroup)
def calendar_group() -> None:
    """The business calendar: China's holidays and swapped working days, plus your own exceptions.

    \b
    Example:
      kehu complaint calendar show --from 2025-09-27 --days 14
    """


@calendar_group.command("show")
@click.option("--from", "start", type=DAY, help="First day (default: today).")
@click.option(
    "--days", type=click.IntRange(1, 366), default=14, show_default=True, help="How many days to show."
)
@list_output_options
def calendar_show(start: date | None, days: int, as_json: bool, as_csv: bool) -> None:
    """Show which days are working days and why.

    \b
    Example:
      kehu complaint calendar show --from 2025-09-27 --days 14
    """
    with transaction() as (app, session):
        rows = api.calendar_days(app, session, start, days)
    if not (as_json or as_csv):
        rows = [{**row, "weekday": _(WEEKDAYS[row["day"].weekday()])} for row in rows]
    emit_rows(
        [_("day"), _("weekday"), _("working"), _("why")],
        rows,
        ("day", "weekday", "workday", "why"),
        as_json=as_json,
        as_csv=as_csv,
    )


@calendar_group.command("set")
@click.argument("day", type=DAY)
@click.option("--workday/--day-off", required=True, help="Make the day a working day or a day off.")
@click.option("--name", help="Why (e.g. 公司年会).")
@json_option
def calendar_set(day: date, workday: bool, name: str | None, as_json: bool) -> None:
    """Add a company exception to the calendar; open complaints' due times are recomputed.

    \b
    Example:
      kehu complaint calendar set 2026-01-30 --day-off --name 年会
    """
    with transaction() as (app, session):
        changed = api.set_calendar(app, session, day, workday, name)
    if as_json:
        emit_json({"day": day, "workday": workday, "name": name, "recomputed": changed})
    else:
        if workday:
            message = _("{day} is now a working day; {n} open complaint(s) recomputed")
        else:
            message = _("{day} is now a day off; {n} open complaint(s) recomputed")
        click.echo(message.format(day=day.isoformat(), n=changed))


@click.command("settings", cls=TranslatedCommand, context_settings=NEGATIVE_VALUES)
@click.argument("key", required=False)
@click.argument("value", required=False)
@json_option
def settings_(key: str | None, value: str | None, as_json: bool) -> None:
    """Show the settings, or set KEY to VALUE (business hours change recomputes due times).

    \b
    Example:
      kehu complaint settings approval_threshold 1000
      kehu complaint settings business_hours "09:00-12:00,13:30-17:30"
    """
    if key is not None and value is None:
        raise click.UsageError(_("give a VALUE to set, or no KEY to show every setting"))
    with transaction() as (app, session):
        current = (
            api.change_setting(app, session, key, value) if key is not None else api.settings(app, session)
        )
    if as_json:
        emit_json(current)
    else:
        emit_pairs(_("Complaint settings"), list(current.items()))
