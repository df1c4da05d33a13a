"""``kehu forecast gap``: top-down against bottom-up at every level."""

from __future__ import annotations

import click
from attrs import asdict

from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import emit_json, emit_rows, list_output_options
from kehu_core.i18n import messages
from kehu_core.plotfonts import missing_font_advice
from kehu_forecast import plot
from kehu_forecast.cli.options import LEVEL, RUN_ID, plot_option
from kehu_forecast.gap import LEVELS, gap_report
from kehu_forecast.hierarchy import LEVEL_NAMES

_ = messages("kehu_forecast").gettext


@click.command(cls=TranslatedCommand, name="gap")
@click.option("--bottomup", "bu_run", type=RUN_ID, help="Bottom-up run id (default: newest).")
@click.option("--topdown", "td_run", type=RUN_ID, help="Top-down run id (default: newest).")
@click.option(
    "--threshold", type=float, default=10.0, show_default=True, help="Flag gaps of at least this percent."
)
@click.option(
    "--level",
    "levels",
    multiple=True,
    type=LEVEL,
    help="Levels to show (default company, region, salesperson).",
)
@click.option("--flagged", "only_flagged", is_flag=True, help="Only the flagged nodes.")
@plot_option(help="Write a PNG: top-down against bottom-up per region.")
@list_output_options
def gap_cmd(
    bu_run: int | None,
    td_run: int | None,
    threshold: float,
    levels: tuple[str, ...],
    only_flagged: bool,
    plot_path: str | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Gap report: top-down against bottom-up at every level, absolute and percent, flagged above a threshold.

    Not balancing the two is the first classic mistake of forecasting (未能平衡由上而下与由下而上).

    \b
    Example:
      kehu forecast gap --level region --threshold 15 --plot gap.png
    """
    with transaction() as (_app, session):
        report = gap_report(
            session, bu_run=bu_run, td_run=td_run, threshold=threshold, levels=levels or LEVELS
        )
    bu, td = report.bottom_up, report.top_down
    data = [asdict(r) for r in report.rows if r.flagged or not only_flagged]
    if plot_path:
        regions = [r for r in report.rows if r.level == "region"]
        plot.plot_bars(
            _("Top-down vs bottom-up by region"),
            [r.node for r in regions],
            {
                _("top-down"): [float(r.top_down) for r in regions],
                _("bottom-up"): [float(r.bottom_up) for r in regions],
            },
            plot_path,
            note=f"#{td.run_id} / #{bu.run_id}",
        )
        advice = missing_font_advice()
        if advice:
            click.echo(advice, err=True)
    keys = ["level", "node", "bottom_up", "top_down", "gap", "percent", "flagged"]
    headers = [_("level"), _("node"), _("bottom-up"), _("top-down"), _("gap"), _("percent"), _("flagged")]
    if as_json:
        emit_json(
            {
                "bottomup_run": bu.run_id,
                "topdown_run": td.run_id,
                "periods": report.periods,
                "threshold": threshold,
                "flagged": report.flagged,
                "rows": data,
            }
        )
    else:
        if not as_csv:
            data = [{**r, "level": LEVEL_NAMES.label(r["level"])} for r in data]
        emit_rows(headers, data, keys, as_json=False, as_csv=as_csv)
