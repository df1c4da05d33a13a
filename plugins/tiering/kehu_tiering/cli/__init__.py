"""``kehu tier``: run the classification, and read it back (show, explain, history, rules, report).

Only click here: every rule of tiering lives in :mod:`kehu_tiering.api` and the modules it calls.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import click
from attrs import asdict

from kehu_core.cli.context import PluginGroup, transaction
from kehu_core.cli.output import (
    Progress,
    emit_json,
    emit_pairs,
    emit_rows,
    emit_table,
    json_option,
    list_output_options,
)
from kehu_core.cli.params import DAY, VocabularyType
from kehu_core.i18n import messages
from kehu_tiering import api
from kehu_tiering.engine import STEPS
from kehu_tiering.rules import BUILTIN, TierRule
from kehu_tiering.vocab import (
    MEASURE,
    METHOD,
    TIER_METHOD,
    key_label,
    method_label,
    tier_label,
    value_label,
)

_, ngettext = messages("kehu_tiering").functions()


@click.group("tier", cls=PluginGroup, plugin="tiering")
def tier() -> None:
    """Customer tiering (客户分级): ABC/80-20, the pyramid, RFM, key accounts (大客户), flags.

    \b
    Start:  kehu tier run && kehu tier report
    Docs:   docs/tiering.md
    """


# The report draws with matplotlib: its module is imported only when the report runs.
tier.add_lazy_command(
    "report",
    "kehu_tiering.cli.report:report_cmd",
    "Customers and revenue share per tier, the 80/20 check, moves.",
)


@tier.command("run")
@click.option(
    "--method", "methods", default=None, metavar="M[,M...]", help="abc, pyramid, rfm, flags (default: all)."
)
@click.option("--as-of", "as_of", type=DAY, help="Classify as of the end of this local day (default: today).")
@click.option(
    "--window",
    default=None,
    metavar="MONTHS",
    help="Calendar months ending with the as-of month, or `all` for all history (default 12).",
)
@click.option(
    "--measure",
    type=VocabularyType(MEASURE),
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
    "--tier-method",
    "--primary",
    "tier_method",
    type=VocabularyType(TIER_METHOD),
    default=None,
    help="The method whose class is the customer's tier; the others are segments (default pyramid).",
)
@click.option(
    "--new-days",
    "new_days",
    type=int,
    default=None,
    metavar="DAYS",
    help="RFM 'new' (新客户): first purchase at most this many days ago (default 90).",
)
@click.option(
    "--rules",
    "rules_files",
    multiple=True,
    # Absolute: the file is remembered for the next run and the daily job, which need not
    # start in this directory.
    type=click.Path(dir_okay=False, resolve_path=True),
    help="A TOML rules file (repeatable).",
)
@click.option("--defaults", is_flag=True, help="Start from the defaults instead of the last run's settings.")
@json_option
def run_cmd(as_of: date | None, defaults: bool, as_json: bool, **options: Any) -> None:
    """Classify every active customer and record what changed.

    Settings you give are remembered: the next run (and the daily job) starts from them.

    \b
    Examples:
      kehu tier run
      kehu tier run --window 6 --pyramid-cuts 1,5,20
      kehu tier run --measure margin --rules acme-rules.toml
      kehu tier run --as-of 2026-06-30     # a past day: only before any later run
    """
    with transaction() as (app, session):
        settings = api.tier_settings(session, as_of, defaults=defaults, **options)
        with Progress(_("tiering"), total=STEPS) as progress:
            result = api.run_tiers(app, session, settings=settings, source="cli", progress=progress)
    if as_json:
        emit_json(result)
        return
    click.echo(
        _(
            "tiered {customers} customer(s) as of {as_of} in {seconds}s: "
            "{written} assignment(s) changed, {moved} tier move(s)"
        ).format(
            customers=result.customers,
            as_of=result.as_of,
            seconds=f"{result.seconds:.2f}",
            written=result.written,
            moved=result.moved,
        )
    )
    for method, counts in result.counts.items():
        shown = _(", ").join(
            _("{tier} {n}").format(tier=tier_label(t), n=n)
            for t, n in sorted(counts.items(), key=lambda kv: -kv[1])
        )
        click.echo(_("  {method}: {counts}").format(method=method_label(method), counts=shown))


@tier.command("show")
@click.argument("code")
@json_option
def show_cmd(code: str, as_json: bool) -> None:
    """Show the current tiers and flags of customer CODE.

    \b
    Example:
      kehu tier show C0001
    """
    with transaction() as (_app, session):
        tiers = api.customer_tiers(session, code)
    if as_json:
        emit_json(tiers)
        return
    pairs = [
        (
            _("tier"),
            _("{tier} ({method})").format(
                tier=tier_label(tiers.tier), method=method_label(tiers.tier_method)
            ),
        )
    ]
    pairs += [
        (
            method_label(m),
            _("{tier}  (by {decided_by}, since {since})").format(
                tier=tier_label(a.tier), decided_by=_decider(a.decided_by), since=a.valid_from
            ),
        )
        for m, a in tiers.tiers.items()
    ]
    flags = [
        _("{flag} (by {decided_by})").format(flag=tier_label(f.tier), decided_by=_decider(f.decided_by))
        for f in tiers.flags
    ]
    pairs += [(_("flags"), _(", ").join(flags) or "-")]
    emit_pairs(f"{tiers.code} {tiers.name}", pairs)


@tier.command("explain")
@click.argument("code")
@json_option
def explain_cmd(code: str, as_json: bool) -> None:
    """Explain each tier of customer CODE: the rule or method, the numbers, the cut points.

    \b
    Example:
      kehu tier explain C0001
    """
    with transaction() as (app, session):
        tiers, items = api.explain_customer(app, session, code)
    if as_json:
        emit_json(
            {"code": tiers.code, "name": tiers.name, "tier_method": tiers.tier_method, "explanations": items}
        )
        return
    if not items:
        click.echo(_("{code} has no tier yet: run `kehu tier run`").format(code=tiers.code))
    for e in items:
        pairs: list[tuple[str, Any]] = [
            (_("decided by"), e.reason),
            (_("since"), e.valid_from),
            (_("numbers of the run as of"), e.run_as_of or "-"),
        ]
        pairs += [(f"  {key_label(k)}", value_label(k, v)) for k, v in e.metrics.items()]
        pairs += [
            (_("  cut {name}").format(name=key_label(k)), value_label(k, v)) for k, v in e.cut_points.items()
        ]
        emit_pairs(
            _("{method}: {tier}").format(method=method_label(e.method), tier=tier_label(e.tier)), pairs
        )
        click.echo()


@tier.command("history")
@click.argument("code")
@list_output_options
def history_cmd(code: str, as_json: bool, as_csv: bool) -> None:
    """Every tier customer CODE has had, with validity dates and the deciding rule.

    \b
    Example:
      kehu tier history C0001 --csv > history.csv
    """
    with transaction() as (_app, session):
        rows = [asdict(r) for r in api.tier_history(session, code)]
    keys = ["method", "tier", "valid_from", "valid_to", "decided_by"]
    if not (as_json or as_csv):
        rows = [
            {
                **r,
                "method": method_label(r["method"]),
                "tier": tier_label(r["tier"]),
                "decided_by": _decider(r["decided_by"]),
            }
            for r in rows
        ]
    headers = [_("method"), _("tier"), _("from"), _("to"), _("decided by")]
    emit_rows(headers, rows, keys, as_json=as_json, as_csv=as_csv)


@tier.command("rules")
@click.option(
    "--rules",
    "rules_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Also list a TOML rules file's rules.",
)
@list_output_options
def rules_cmd(rules_files: tuple[str, ...], as_json: bool, as_csv: bool) -> None:
    """List the rules in the order they apply: built-ins, plugins', files'.

    \b
    Example:
      kehu tier rules --rules acme-rules.toml
    """
    with transaction() as (app, session):
        settings = api.tier_settings(session)
        found = api.tier_rules(app, settings, rules_files or None)
        api.check_rules(app, session, settings, found)
        dialect = session.get_bind().dialect
        conditions = [r.condition_sql(dialect) for r in found]
    rows = [
        {
            "order": i,
            "name": r.name,
            "sets": r.sets,
            "priority": r.priority,
            "source": r.source,
            "description": r.description,
            "condition": condition,
        }
        for i, (r, condition) in enumerate(zip(found, conditions), start=1)
    ]
    if as_json or as_csv:
        emit_rows([], rows, list(rows[0]) if rows else [], as_json=as_json, as_csv=as_csv)
        return
    emit_table(
        ["#", _("name"), _("sets"), _("priority"), _("source"), _("description")],
        [
            [
                r["order"],
                r["name"],
                _sets(rule),
                r["priority"],
                _(BUILTIN) if r["source"] == BUILTIN else r["source"],
                _(rule.description) if rule.description else "",
            ]
            for r, rule in zip(rows, found)
        ],
    )


@tier.command("stats")
@click.argument("code")
@click.option("--as-of", "as_of", type=DAY, help="As of the end of this local day (default: today).")
@click.option(
    "--window",
    default=None,
    metavar="MONTHS",
    help="Window in calendar months, or `all` for all history (default: the last run's, else 12).",
)
@click.option(
    "--measure",
    type=VocabularyType(MEASURE),
    default=None,
    help="The measure (default: the last run's).",
)
@json_option
def stats_cmd(code: str, as_of: date | None, window: str | None, measure: str | None, as_json: bool) -> None:
    """Show the statistics relation of customer CODE (what rules see), on any date.

    \b
    Example:
      kehu tier stats C0001 --as-of 2026-06-30 --window 6
    """
    with transaction() as (app, session):
        settings = api.tier_settings(session, as_of, window=window, measure=measure)
        row = api.customer_stats(app, session, code, settings)
    if as_json:
        emit_json(row)
        return
    window = (
        ngettext("{n} month", "{n} months", settings.window).format(n=settings.window)
        if settings.window
        else _("all history")
    )
    title = _("{code} as of {as_of} (window {window})").format(code=code, as_of=settings.as_of, window=window)
    emit_pairs(title, [(key_label(k), value_label(k, v)) for k, v in row.items()])


@tier.command("rebuild")
@json_option
def rebuild_cmd(as_json: bool) -> None:
    """Recompute the monthly purchase aggregates from the interactions (normally kept up to date).

    \b
    Example:
      kehu tier rebuild && kehu tier run
    """
    with transaction() as (_app, session):
        buckets = api.rebuild_aggregates(session)
    if as_json:
        emit_json({"buckets": buckets})
    else:
        click.echo(
            ngettext("rebuilt {n} monthly bucket", "rebuilt {n} monthly buckets", buckets).format(n=buckets)
        )


def _decider(name: str) -> str:
    """A rule's name as it is; a method (that decided by itself) by its label."""
    return method_label(name) if name in METHOD else name


def _sets(rule: TierRule) -> str:
    """What a rule sets, for people: ``flag 大客户`` or ``客户金字塔 = VIP``."""
    if rule.flag:
        return method_label(f"flag:{rule.flag}")
    return _("{method} = {tier}").format(method=method_label(rule.method), tier=tier_label(rule.tier))
