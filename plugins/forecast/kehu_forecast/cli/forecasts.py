"""``kehu forecast runs | show | history``: the saved runs, and the history behind them.

Reading only: no model library is imported here (``kehu forecast run`` is in
:mod:`kehu_forecast.cli.run`)."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from kehu_core import calendar
from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import emit_rows, list_output_options
from kehu_core.cli.params import DAY
from kehu_core.i18n import messages
from kehu_forecast.cli.options import FREQ, LEVEL, PERIODS, RUN_ID
from kehu_forecast.history import history_rows
from kehu_forecast.methods import SOURCE_NAMES, describe
from kehu_forecast.periods import FREQ_NAMES
from kehu_forecast.report import run_rows
from kehu_forecast.runs import RUN_KIND_NAMES, list_runs

_ = messages("kehu_forecast").gettext


@click.command(cls=TranslatedCommand, name="runs")
@list_output_options
def runs_cmd(as_json: bool, as_csv: bool) -> None:
    """The saved forecast runs, newest first (``created`` is the local day, ``by`` who made it).

    ``total`` is the company's for a user who sees every customer, else that of the
    customers you see.

    \b
    Example:
      kehu forecast runs --json
    """
    with transaction() as (_app, session):
        rows = [{**r, "created": calendar.format_day(r["created_at"])} for r in list_runs(session)]
    if not as_json and not as_csv:
        rows = [_shown_run(r) for r in rows]
    emit_rows(
        [
            _("id"),
            _("kind"),
            _("method"),
            _("freq"),
            _("from"),
            _("periods"),
            _("total"),
            _("source"),
            _("by"),
            _("created"),
        ],
        rows,
        ["id", "kind", "method", "freq", "first_period", "horizon", "total", "source", "by", "created"],
        as_json=as_json,
        as_csv=as_csv,
    )


def _shown_run(row: dict[str, Any]) -> dict[str, Any]:
    """A run as the table shows it: labels in the reader's language instead of the codes."""
    return {
        **row,
        "kind": RUN_KIND_NAMES.label(row["kind"]),
        "method": describe(row["kind"], row["method"]),
        "freq": FREQ_NAMES.label(row["freq"]),
        "source": SOURCE_NAMES.label(row["source"]),
    }


@click.command(cls=TranslatedCommand, name="show")
@click.argument("run_id", type=RUN_ID, required=False)
@click.option("--level", type=LEVEL, default="region", show_default=True)
@list_output_options
def show_cmd(run_id: int | None, level: str, as_json: bool, as_csv: bool) -> None:
    """Values of a run (default: the newest) at one level, per period.

    Region and company need permission forecast.company; customers and salespeople count only
    the customers you see.

    \b
    Example:
      kehu forecast show --level salesperson
    """
    with transaction() as (_app, session):
        plan, rows = run_rows(session, level, run_id)
    keys = ["node", "parent", *[p.isoformat() for p in plan.periods], "total"]
    headers = [_("node"), _("parent"), *[p.isoformat() for p in plan.periods], _("total")]
    emit_rows(headers, rows, keys, as_json=as_json, as_csv=as_csv)


@click.command(cls=TranslatedCommand, name="history")
@click.option("--freq", type=FREQ, default="month", show_default=True)
@click.option("--level", type=LEVEL, default="region", show_default=True)
@click.option("--by-category", is_flag=True, help="Split each node by product category (a second dimension).")
@click.option("--periods", "length", type=PERIODS, help="Periods of history (default 36 months / 156 weeks).")
@click.option("--as-of", "as_of", type=DAY, help="History up to the period before DATE (default: today).")
@list_output_options
def history_cmd(
    freq: str,
    level: str,
    by_category: bool,
    length: int | None,
    as_of: date | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Net purchases (refunds deducted) per node and period: what the forecasts start from.

    \b
    Example:
      kehu forecast history --level salesperson --by-category --periods 12 --csv
    """
    with transaction() as (_app, session):
        period_list, rows = history_rows(
            session, freq=freq, level=level, by_category=by_category, as_of=as_of, length=length
        )
    keys = ["node", *(["category"] if by_category else []), *[p.isoformat() for p in period_list], "total"]
    headers = [
        _("node"),
        *([_("category")] if by_category else []),
        *[p.isoformat() for p in period_list],
        _("total"),
    ]
    emit_rows(headers, rows, keys, as_json=as_json, as_csv=as_csv)
