"""``kehu tier``: run the classification, and read it back (show, explain, history, rules, report)."""

from __future__ import annotations

from typing import Any

import click

from kehu_core.cli import requires_plugin, transaction
from kehu_core.cli.output import (
    emit_json,
    emit_pairs,
    emit_rows,
    emit_table,
    json_option,
    list_output_options,
)

PLUGIN = "tiering"


@click.group()
def tier() -> None:
    """Customer tiering (客户分级): ABC/80-20, the pyramid, RFM, key accounts (大客户), flags.

    \b
    Start:  kehu tier run && kehu tier report
    Docs:   docs/tiering.md
    """


def _settings(session: Any, as_of: str | None, options: dict[str, Any], defaults: bool) -> Any:
    from datetime import date

    from kehu_tiering.queries import last_settings
    from kehu_tiering.settings import make_settings

    base = None if defaults else last_settings(session)
    values: dict[str, Any] = base.to_json() if base else {}
    values.pop("as_of", None)
    values.update({k: v for k, v in options.items() if v not in (None, ())})
    return make_settings(as_of=as_of or date.today().isoformat(), **values)


@tier.command("run")
@click.option(
    "--method", "methods", default=None, metavar="M[,M...]", help="abc, pyramid, rfm, flags (default: all)."
)
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Classify as of this date (default: today).")
@click.option(
    "--window",
    default=None,
    metavar="MONTHS|all",
    help="Calendar months ending with the as-of month (default 12).",
)
@click.option(
    "--measure",
    type=click.Choice(["revenue", "margin"]),
    default=None,
    help="What ranks customers (default revenue).",
)
@click.option(
    "--abc-cuts", default=None, metavar="A,B", help="Cumulative share cut points in % (default 80,95)."
)
@click.option(
    "--pyramid-cuts",
    default=None,
    metavar="VIP,MAJOR,ORDINARY",
    help="Rank cut points in % from the top (default 1,5,50).",
)
@click.option(
    "--primary",
    type=click.Choice(["pyramid", "abc", "rfm"]),
    default=None,
    help='The method that is "the" tier (default pyramid).',
)
@click.option(
    "--rules",
    "rules_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A TOML rules file (repeatable).",
)
@click.option("--defaults", is_flag=True, help="Start from the defaults instead of the last run's settings.")
@json_option
@requires_plugin(PLUGIN)
def run_cmd(as_of: str | None, defaults: bool, as_json: bool, **options: Any) -> None:
    """Classify every active customer and record what changed.

    Settings you give are remembered: the next run (and the daily job) starts from them.

    \b
    Examples:
      kehu tier run
      kehu tier run --as-of 2026-06-30 --window 6 --pyramid-cuts 1,5,20
      kehu tier run --measure margin --rules acme-rules.toml
    """
    from kehu_core.cli.output import Progress
    from kehu_tiering.engine import STEPS, run

    with transaction() as (app, session):
        settings = _settings(session, as_of, options, defaults)
        with Progress("tiering", total=STEPS) as progress:
            result = run(app, session, settings, progress=progress)
    if as_json:
        emit_json(result)
        return
    click.echo(
        f"tiered {result.customers} customer(s) as of {result.as_of} in {result.seconds:.2f}s: "
        f"{result.written} assignment(s) changed, {result.moved} tier move(s)"
    )
    for method, counts in result.counts.items():
        click.echo(
            f"  {method}: " + ", ".join(f"{t} {n}" for t, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        )


run_cmd.name = "run"


@tier.command("show")
@click.argument("code")
@json_option
@requires_plugin(PLUGIN)
def show_cmd(code: str, as_json: bool) -> None:
    """Show the current tiers and flags of customer CODE."""
    from kehu_tiering.queries import show

    with transaction() as (_app, session):
        tiers = show(session, code)
    if as_json:
        emit_json(tiers)
        return
    pairs = [("tier", f"{tiers.tier or '-'} ({tiers.primary})")]
    pairs += [(m, f"{a.tier}  (by {a.decided_by}, since {a.valid_from})") for m, a in tiers.tiers.items()]
    pairs += [("flags", ", ".join(f"{f.tier} (by {f.decided_by})" for f in tiers.flags) or "-")]
    emit_pairs(f"{tiers.code} {tiers.name}", pairs)


@tier.command("explain")
@click.argument("code")
@json_option
@requires_plugin(PLUGIN)
def explain_cmd(code: str, as_json: bool) -> None:
    """Explain each tier of customer CODE: the rule or method, the numbers, the cut points."""
    from kehu_tiering.queries import explain

    with transaction() as (app, session):
        tiers, items = explain(session, app, code)
    if as_json:
        emit_json({"code": tiers.code, "name": tiers.name, "primary": tiers.primary, "explanations": items})
        return
    if not items:
        click.echo(f"{tiers.code} has no tier yet: run `kehu tier run`")
    for e in items:
        pairs = [("decided by", e.reason), ("since", e.valid_from)]
        pairs += [(f"  {k}", v) for k, v in e.metrics.items()]
        pairs += [(f"  cut {k}", v) for k, v in e.cut_points.items()]
        emit_pairs(f"{e.method}: {e.tier}", pairs)
        click.echo()


@tier.command("history")
@click.argument("code")
@list_output_options
@requires_plugin(PLUGIN)
def history_cmd(code: str, as_json: bool, as_csv: bool) -> None:
    """Every tier customer CODE has had, with validity dates and the deciding rule."""
    from attrs import asdict

    from kehu_tiering.queries import history

    with transaction() as (_app, session):
        rows = [asdict(r) for r in history(session, code)]
    keys = ["method", "tier", "valid_from", "valid_to", "decided_by"]
    emit_rows(["method", "tier", "from", "to", "decided by"], rows, keys, as_json=as_json, as_csv=as_csv)


@tier.command("rules")
@click.option(
    "--rules",
    "rules_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Also list a TOML rules file's rules.",
)
@list_output_options
@requires_plugin(PLUGIN)
def rules_cmd(rules_files: tuple[str, ...], as_json: bool, as_csv: bool) -> None:
    """List the rules in the order they apply: built-ins, plugins', files'."""
    from kehu_tiering import rules as rules_mod
    from kehu_tiering.queries import last_settings

    with transaction() as (app, session):
        last = last_settings(session)
        files = rules_files or (last.rules_files if last else ())
        found = rules_mod.collect(app, files)
    rows = [
        {
            "order": i,
            "name": r.name,
            "sets": r.sets,
            "priority": r.priority,
            "source": r.source,
            "description": r.description,
            "condition": r.condition_text,
        }
        for i, r in enumerate(found, start=1)
    ]
    if as_json or as_csv:
        emit_rows([], rows, list(rows[0]) if rows else [], as_json=as_json, as_csv=as_csv)
        return
    emit_table(
        ["#", "name", "sets", "priority", "source", "description"],
        [[r["order"], r["name"], r["sets"], r["priority"], r["source"], r["description"]] for r in rows],
    )


@tier.command("report")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, writable=True),
    help="Also draw the Pareto curve and the pyramid into a PNG.",
)
@json_option
@requires_plugin(PLUGIN)
def report_cmd(plot: str | None, as_json: bool) -> None:
    """Customers and revenue share per tier, the 80/20 check, and the moves of the last run.

    \b
    Example:
      kehu tier report --plot tiers.png
    """
    from kehu_tiering.report import build_report, pareto_curve
    from kehu_tiering.settings import TierSettings

    with transaction() as (app, session):
        report = build_report(session, app.dialect)
        curve = pareto_curve(session, app.dialect, TierSettings.from_json(report.settings)) if plot else None
    if plot:
        from kehu_tiering.plot import draw

        draw(report, curve or [], plot)
    if as_json:
        emit_json({**_asdict(report), "plot": plot})
        return
    s = report.settings
    click.secho(
        f"tiering as of {report.as_of} (run {report.run_id}; window {s.get('window') or 'all'} months, "
        f"measure {s.get('measure')}, primary {report.primary})",
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


def _asdict(value: Any) -> Any:
    from attrs import asdict

    return asdict(value)


@tier.command("stats")
@click.argument("code")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="As of this date (default: today).")
@click.option(
    "--window",
    default=None,
    metavar="MONTHS|all",
    help="Window in calendar months (default: the last run's, else 12).",
)
@click.option(
    "--measure",
    type=click.Choice(["revenue", "margin"]),
    default=None,
    help="The measure (default: the last run's).",
)
@json_option
@requires_plugin(PLUGIN)
def stats_cmd(code: str, as_of: str | None, window: str | None, measure: str | None, as_json: bool) -> None:
    """Show the statistics relation of customer CODE (what rules see), on any date."""
    from kehu_tiering.statsview import customer_stats

    with transaction() as (app, session):
        settings = _settings(session, as_of, {"window": window, "measure": measure}, False)
        row = customer_stats(app, session, settings, code)
    if as_json:
        emit_json(row)
        return
    emit_pairs(f"{code} as of {settings.as_of} (window {settings.window or 'all'})", list(row.items()))


@tier.command("rebuild")
@json_option
@requires_plugin(PLUGIN)
def rebuild_cmd(as_json: bool) -> None:
    """Recompute the monthly purchase aggregates from the interactions (normally kept up to date)."""
    from kehu_tiering.aggregates import rebuild

    with transaction() as (_app, session):
        buckets = rebuild(session)
    if as_json:
        emit_json({"buckets": buckets})
    else:
        click.echo(f"rebuilt {buckets} monthly bucket(s)")
