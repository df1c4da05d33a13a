"""``kehu forecast targets``: SMART targets per salesperson (``track``, which can plot, is in
:mod:`kehu_forecast.cli.track`)."""

from __future__ import annotations

import click

from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import emit_rows, list_output_options
from kehu_core.cli.params import VocabularyType
from kehu_core.i18n import messages
from kehu_forecast import targets
from kehu_forecast.cli.options import RUN_ID

_ = messages("kehu_forecast").gettext


@click.command(cls=TranslatedCommand, name="targets")
@click.option(
    "--run", "run_id", type=RUN_ID, help="The plan to set targets from (default: newest reconciled run)."
)
@click.option(
    "--period", "grouping", type=VocabularyType(targets.GROUPING_NAMES), default="quarter", show_default=True
)
@click.option("--list", "only_list", is_flag=True, help="Only list the saved targets.")
@list_output_options
def targets_cmd(run_id: int | None, grouping: str, only_list: bool, as_json: bool, as_csv: bool) -> None:
    """SMART targets per salesperson and period from a reconciled plan: who, which customers,
    how much, by when.

    \b
    Example:
      kehu forecast targets --period month
    """
    with transaction() as (app, session):
        if not only_list:
            targets.save_targets(app, session, run_id=run_id, grouping=grouping)
        rows = targets.list_targets(session)
    keys = ["salesperson", "period_start", "period_end", "amount", "baseline", "customers", "note"]
    headers = [
        _("salesperson"),
        _("period start"),
        _("period end"),
        _("amount"),
        _("baseline"),
        _("customers"),
        _("note"),
    ]
    emit_rows(headers, rows, keys, as_json=as_json, as_csv=as_csv)
