"""``kehu forecast market set | import | list`` and ``kehu forecast topdown``: the top-down side."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import click

from kehu_core.cli.context import PluginGroup, transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import emit_result, emit_rows, json_option, list_output_options
from kehu_core.cli.params import DAY, MONEY, VocabularyType
from kehu_core.i18n import messages
from kehu_forecast import topdown
from kehu_forecast.cli.options import HORIZON, PERIODS
from kehu_forecast.cli.summary import emit_plan_summary
from kehu_forecast.report import summary as plan_summary

_, ngettext = messages("kehu_forecast").functions()


@click.group("market", cls=PluginGroup, plugin="forecast")
def market() -> None:
    """Top-down inputs: market potential and expected share (or growth) per month.

    \b
    kehu forecast market set 2026-12 region 华东 --potential 2000000 --share 12%
    kehu forecast market set 2026-12 company - --growth 0.08 --months 12
    kehu forecast market import market.csv
    """


@market.command("set")
@click.argument("period")
@click.argument("dimension", type=VocabularyType(topdown.DIMENSION_NAMES))
@click.argument("key")
@click.option("--potential", type=MONEY, help="Market potential in yuan for the period.")
@click.option("--share", help="Expected market share: 0.12 or 12%.")
@click.option(
    "--growth", help="Instead of potential × share: growth over the same month last year, 0.08 or 8%."
)
@click.option(
    "--months", type=PERIODS, default=1, show_default=True, help="Apply to this many months from PERIOD."
)
def market_set(
    period: str,
    dimension: str,
    key: str,
    potential: Decimal | None,
    share: str | None,
    growth: str | None,
    months: int,
) -> None:
    """Set the market input for PERIOD (YYYY-MM), DIMENSION and KEY (the region or industry).

    \b
    Example:
      kehu forecast market set 2026-12 region 华东 --potential 2000000 --share 12%
    """
    values = {"dimension": dimension, "key": key, "potential": potential, "share": share, "growth": growth}
    with transaction() as (_app, session):
        count = topdown.set_market_months(session, period, values, months=months)
    click.echo(ngettext("set {count} market input", "set {count} market inputs", count).format(count=count))


@market.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--encoding", default="utf-8-sig", show_default=True, help="gbk for files from Chinese Excel.")
@json_option
def market_import(file: str, encoding: str, as_json: bool) -> None:
    """Import market inputs from CSV (period, dimension, key, potential, share, growth); all or nothing.

    \b
    Example:
      kehu forecast market import market.csv --encoding gbk
    """
    with transaction() as (_app, session):
        count = topdown.import_market_inputs(session, file, encoding)
    emit_result(
        {"imported": count},
        as_json,
        ngettext("imported {count} market input", "imported {count} market inputs", count).format(
            count=count
        ),
    )


@market.command("list")
@list_output_options
def market_list(as_json: bool, as_csv: bool) -> None:
    """Market inputs and the top-down figure each gives.

    \b
    Example:
      kehu forecast market list --csv
    """
    with transaction() as (_app, session):
        rows = topdown.list_market_inputs(session)
    keys = ["period", "dimension", "key", "potential", "share", "growth", "figure"]
    headers = [_("period"), _("dimension"), _("key"), _("potential"), _("share"), _("growth"), _("figure")]
    if not as_json and not as_csv:
        rows = [{**r, "dimension": topdown.DIMENSION_NAMES.label(r["dimension"])} for r in rows]
    emit_rows(headers, rows, keys, as_json=as_json, as_csv=as_csv)


@click.command(cls=TranslatedCommand, name="topdown")
@click.option(
    "--dimension",
    type=VocabularyType(topdown.DIMENSION_NAMES),
    help="Which market inputs to use (default: the only dimension that has some).",
)
@click.option(
    "--allocation",
    type=VocabularyType(topdown.ALLOCATION_NAMES),
    default="average_proportions",
    show_default=True,
    help="How group figures are split to customers.",
)
@click.option("--horizon", type=HORIZON, default=12, show_default=True)
@click.option(
    "--window", type=PERIODS, default=12, show_default=True, help="Months of history for the proportions."
)
@click.option("--as-of", "as_of", type=DAY, help="Forecast as if today were DATE.")
@json_option
def topdown_cmd(
    dimension: str | None, allocation: str, horizon: int, window: int, as_of: date | None, as_json: bool
) -> None:
    """Top-down forecast (由上而下): market potential × share, allocated down, saved as a run.

    \b
    Example:
      kehu forecast topdown --dimension region --allocation proportion_averages
    """
    with transaction() as (app, session):
        plan = topdown.save_top_down(
            app,
            session,
            dimension=dimension,
            allocation=allocation,
            horizon=horizon,
            as_of=as_of,
            window=window,
        )
        summary = plan_summary(session, plan)
    emit_plan_summary(summary, as_json)
