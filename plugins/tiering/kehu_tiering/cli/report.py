"""``kehu tier report``: per tier, customers and revenue share; the 80/20 check; the moves; a plot.

A module of its own because drawing imports matplotlib, which no other tier command needs.
"""

from __future__ import annotations

import click
from attrs import asdict

from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import emit_json, emit_table, json_option
from kehu_core.i18n import messages
from kehu_core.plotfonts import missing_font_advice
from kehu_tiering import api
from kehu_tiering.plot import draw
from kehu_tiering.vocab import MEASURE, method_label, tier_label

_, ngettext = messages("kehu_tiering").functions()


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
    window = s.get("window")
    click.secho(
        _(
            "tiering as of {as_of} (run {run}; window {window}, measure {measure}, tier method {method})"
        ).format(
            as_of=report.as_of,
            run=report.run_id,
            window=ngettext("{n} month", "{n} months", window).format(n=window)
            if window
            else _("all history"),
            measure=MEASURE.label(s["measure"]) if s.get("measure") in MEASURE else s.get("measure"),
            method=method_label(report.tier_method),
        ),
        bold=True,
    )
    if report.pareto:
        p = report.pareto
        click.echo(
            _(
                "80/20 check (二八法则): top 20% of customers ({top} of {customers}) bring "
                "{share}% of revenue ({revenue} in the window)"
            ).format(
                top=p.top_customers, customers=p.customers, share=p.top20_share_pct, revenue=p.total_revenue
            )
        )
    click.echo()
    emit_table(
        [_("method"), _("tier"), _("customers"), _("% customers"), _("revenue"), _("% revenue")],
        [
            [
                method_label(t.method),
                tier_label(t.tier),
                t.customers,
                t.customer_pct,
                t.revenue,
                t.revenue_share_pct,
            ]
            for t in report.tiers
        ],
    )
    if report.segments:
        click.echo()
        click.echo(_("RFM segments (scores over the customers who bought in the window):"))
        for name, meaning in report.segments:
            click.echo(_("  {segment}: {meaning}").format(segment=name, meaning=_(meaning)))
    if report.conflicts:
        click.echo()
        shown = _(", ").join(report.conflicts[:20]) + (" ..." if len(report.conflicts) > 20 else "")
        click.secho(
            ngettext(
                "conflict: {n} customer(s) are key accounts (大客户) and poor-quality customers (劣质客户) "
                "at once; review them: {codes}",
                "conflict: {n} customer(s) are key accounts (大客户) and poor-quality customers (劣质客户) "
                "at once; review them: {codes}",
                len(report.conflicts),
            ).format(n=len(report.conflicts), codes=shown),
            fg="yellow",
        )
    click.echo()
    if report.movements:
        emit_table(
            [_("method"), _("from"), _("to"), _("customers")],
            [
                [method_label(m.method), tier_label(m.old_tier), tier_label(m.new_tier), m.customers]
                for m in report.movements
            ],
        )
    else:
        click.echo(_("no tier moves in the last run"))
    if plot:
        click.echo(_("wrote {path}").format(path=plot), err=True)
