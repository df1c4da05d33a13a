"""``kehu tier report``: per tier, customers and revenue share; the 80/20 check; the moves; a plot.

A module of its own because drawing imports matplotlib, which no other tier command needs.
"""

from __future__ import annotations

import click
from attrs import asdict

from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import emit_json, emit_table, json_option
from kehu_core.plotfonts import missing_font_advice
from kehu_tiering import api
from kehu_tiering.plot import draw


@click.command("report", cls=TranslatedCommand)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, writable=True),
    help="Also draw the Pareto curve and the pyramid into a PNG.",
)
@json_option
def report_cmd(plot: str | None, as_json: bool) -> None:
    """Customers and revenue share per tier, the 80/20 check, and the moves of the last run.

    \b
    Example:
      kehu tier report --plot tiers.png
    """
    with transaction() as (app, session):
        report = api.tier_report(app, session)
        curve = api.pareto_curve(app, session, report) if plot else None
    if plot:
        draw(report, curve or [], plot)
        advice = missing_font_advice()
        if advice:
            click.echo(advice, err=True)
    if as_json:
        emit_json({**asdict(report), "plot": plot})
        return
    s = report.settings
    click.secho(
        f"tiering as of {report.as_of} (run {report.run_id}; window {s.get('window') or 'all'} months, "
        f"measure {s.get('measure')}, tier method {report.tier_method})",
        bold=True,
    )
    if report.pareto:
        p = report.pareto
        click.echo(
            f"80/20 check (二八法则): top 20% of customers ({p.top_customers} of {p.customers}) bring "
            f"{p.top20_share_pct}% of revenue ({p.total_revenue} in the window)"
        )
    click.echo()
    emit_table(
        ["method", "tier", "customers", "% customers", "revenue", "% revenue"],
        [
            [t.method, t.tier, t.customers, t.customer_pct, t.revenue, t.revenue_share_pct]
            for t in report.tiers
        ],
    )
    if report.segments:
        click.echo()
        click.echo("RFM segments (scores over the customers who bought in the window):")
        for name, meaning in report.segments:
            click.echo(f"  {name}: {meaning}")
    if report.conflicts:
        click.echo()
        shown = ", ".join(report.conflicts[:20]) + (" ..." if len(report.conflicts) > 20 else "")
        click.secho(
            f"conflict: {len(report.conflicts)} customer(s) are key accounts (大客户) and poor-quality "
            f"customers (劣质客户) at once; review them: {shown}",
            fg="yellow",
        )
    click.echo()
    if report.movements:
        emit_table(
            ["method", "from", "to", "customers"],
            [[m.method, m.old_tier, m.new_tier, m.customers] for m in report.movements],
        )
    else:
        click.echo("no tier moves in the last run")
    if plot:
        click.echo(f"wrote {plot}", err=True)
