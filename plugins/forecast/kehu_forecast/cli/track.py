"""``kehu forecast track``: targets against actual purchases so far (with ``--plot``, a chart)."""

from __future__ import annotations

from datetime import date

import click
from attrs import asdict

from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import emit_rows, list_output_options
from kehu_core.cli.params import DAY
from kehu_core.i18n import messages
from kehu_core.plotfonts import missing_font_advice
from kehu_forecast import plot
from kehu_forecast.cli.options import plot_option
from kehu_forecast.statuses import status_label
from kehu_forecast.targets import track

_ = messages("kehu_forecast").gettext


@click.command(cls=TranslatedCommand, name="track")
@click.option("--as-of", "as_of", type=DAY, help="Default: today.")
@click.option("--salesperson")
@plot_option(help="Write a PNG: target against actual per salesperson.")
@list_output_options
def track_cmd(
    as_of: date | None, salesperson: str | None, plot_path: str | None, as_json: bool, as_csv: bool
) -> None:
    """Targets against actual purchases so far: achieved, expected by now, on track or behind.

    \b
    Example:
      kehu forecast track --salesperson 张伟 --plot track.png
    """
    with transaction() as (_app, session):
        rows = [asdict(p) for p in track(session, as_of=as_of, salesperson=salesperson)]
    if plot_path:
        plot.plot_bars(
            _("Targets against actuals"),
            [f"{r['salesperson']} {r['period_start']:%Y-%m}" for r in rows],
            {
                _("target"): [float(r["amount"]) for r in rows],
                _("expected by now"): [float(r["expected_to_date"]) for r in rows],
                _("actual"): [float(r["actual"]) for r in rows],
            },
            plot_path,
        )
        advice = missing_font_advice()
        if advice:
            click.echo(advice, err=True)
    keys = [
        "salesperson",
        "period_start",
        "period_end",
        "amount",
        "expected_to_date",
        "actual",
        "achieved_pct",
        "elapsed_pct",
        "status",
    ]
    headers = [
        _("salesperson"),
        _("period start"),
        _("period end"),
        _("target"),
        _("expected by now"),
        _("actual"),
        _("achieved %"),
        _("elapsed %"),
        _("status"),
    ]
    if not as_json and not as_csv:
        rows = [{**r, "status": status_label(r["status"])} for r in rows]
    emit_rows(headers, rows, keys, as_json=as_json, as_csv=as_csv)
