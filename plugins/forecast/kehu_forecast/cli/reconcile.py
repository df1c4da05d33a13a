"""``kehu forecast reconcile``: one plan from bottom-up and top-down that adds up at every level."""

from __future__ import annotations

import click

from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import json_option
from kehu_core.cli.params import VocabularyType
from kehu_forecast import api
from kehu_forecast import reconcile as R
from kehu_forecast.cli.options import RUN_ID
from kehu_forecast.cli.summary import emit_plan_summary


@click.command(cls=TranslatedCommand, name="reconcile")
@click.option(
    "--method",
    type=VocabularyType(R.METHOD_NAMES),
    default="mint-wls",
    show_default=True,
)
@click.option(
    "--proportions",
    type=VocabularyType(R.PROPORTION_NAMES),
    default="average_proportions",
    show_default=True,
    help="For top-down and middle-out.",
)
@click.option(
    "--middle-level", type=VocabularyType(R.MIDDLE_LEVEL_NAMES), default="region", show_default=True
)
@click.option("--bottomup", "bu_run", type=RUN_ID, help="Bottom-up run id (default: newest).")
@click.option("--topdown", "td_run", type=RUN_ID, help="Top-down run id (default: newest, if any).")
@json_option
def reconcile_cmd(
    method: str, proportions: str, middle_level: str, bu_run: int | None, td_run: int | None, as_json: bool
) -> None:
    """One plan from bottom-up and top-down that adds up at every level, saved as a run.

    \b
    Example:
      kehu forecast reconcile --method middle-out --middle-level region
    """
    with transaction() as (app, session):
        plan = api.reconcile(
            app,
            session,
            method,
            proportions=proportions,
            middle_level=middle_level,
            bu_run=bu_run,
            td_run=td_run,
        )
        summary = api.summary(session, plan)
    emit_plan_summary(
        summary,
        as_json,
        {"bottomup_run": plan.params.get("bottomup_run"), "topdown_run": plan.params.get("topdown_run")},
    )
