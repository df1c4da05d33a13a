"""``kehu loyalty rebate``: distributor rebate programmes (月返/季返/年返), accrual, settlement and
statements."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import click
from attrs import asdict

from kehu_core.cli.context import PluginGroup, transaction
from kehu_core.cli.output import (
    emit_json,
    emit_pairs,
    emit_result,
    emit_rows,
    json_option,
    list_output_options,
)
from kehu_core.cli.params import DAY, VocabularyType
from kehu_core.i18n import messages
from kehu_loyalty import api
from kehu_loyalty.rebates import PERIOD

_, ngettext = messages("kehu_loyalty").functions()


def _tiers_text(tiers: tuple[tuple[Decimal, Decimal], ...], separator: str) -> str:
    """``>=100,000.00 -> 2.00%``: thresholds and rates in ASCII (no ambiguous-width symbols)."""
    return separator.join(f">={t:,} -> {r * 100:.2f}%" for t, r in tiers)


@click.group("rebate", cls=PluginGroup, plugin="loyalty")
def rebate() -> None:
    """Distributor rebates 返利: programmes, accrual, settlement, statements."""


@rebate.group("programme")
def programme() -> None:
    """Rebate programmes."""


@programme.command("add")
@click.argument("code")
@click.option("--name", default="", help="Display name (default: 季返 CODE ...).")
@click.option(
    "--period",
    type=VocabularyType(PERIOD),
    required=True,
    help="month, quarter or year: 月返, 季返 or 年返.",
)
@click.option(
    "--tier", "tiers", multiple=True, help="THRESHOLD:RATE, repeatable: --tier 100000:2% --tier 500000:3%."
)
@click.option(
    "--tag",
    default="经销商",
    show_default=True,
    help="Customers with this tag are the programme's distributors.",
)
@click.option(
    "--starts", type=DAY, default=None, help="First period: the one containing this date (default: today)."
)
@json_option
def programme_add(
    code: str, name: str, period: str, tiers: tuple[str, ...], tag: str, starts: date | None, as_json: bool
) -> None:
    """Create a rebate programme. The rate of the highest threshold reached applies to the whole volume.

    \b
    Example:
      kehu loyalty rebate programme add Q-REBATE --period quarter --tier 100000:2% --tier 500000:3%
    """
    with transaction() as (_app, session):
        result = api.add_programme(session, code, name, period, list(tiers), tag, starts)
    emit_result(
        result,
        as_json,
        _("programme {code} ({name}): {period}, tag {tag}, from {starts}; {tiers}").format(
            code=code,
            name=result.name,
            period=PERIOD.label(result.period),
            tag=tag,
            starts=result.starts_on,
            tiers=_tiers_text(result.tiers, ", "),
        ),
    )


@programme.command("list")
@list_output_options
def programme_list(as_json: bool, as_csv: bool) -> None:
    """Every rebate programme.

    \b
    Example:
      kehu loyalty rebate programme list --csv
    """
    shown = not (as_json or as_csv)
    with transaction() as (_app, session):
        rows = [
            {
                "code": p.code,
                "name": p.name,
                "period": PERIOD.label(p.period) if shown else p.period,
                "tag": p.tag,
                "starts_on": p.starts_on,
                "active": p.active,
                "tiers": _tiers_text(p.tiers, "; ")
                if shown
                else "; ".join(f"≥{t} → {r}" for t, r in p.tiers),  # untranslated: stable for scripts,
            }
            for p in api.list_programmes(session)
        ]
    keys = ("code", "name", "period", "tag", "starts_on", "active", "tiers")
    emit_rows(
        (
            _("code"),
            _("name"),
            _("rebate period"),
            _("distributor tag"),
            _("from"),
            _("active"),
            _("thresholds"),
        ),
        rows,
        keys,
        as_json=as_json,
        as_csv=as_csv,
    )


@rebate.command("accrual")
@click.argument("code")
@click.option("--as-of", type=DAY, default=None, help="A day in the period to show (default: today).")
@list_output_options
def accrual_cmd(code: str, as_of: date | None, as_json: bool, as_csv: bool) -> None:
    """The running period: each distributor's volume, rebate so far, and the gap to the next threshold.

    \b
    Example:
      kehu loyalty rebate accrual Q-REBATE
    """
    with transaction() as (_app, session):
        rows = [asdict(a) for a in api.accruals(session, api.get_programme(session, code), as_of)]
    keys = (
        "customer",
        "name",
        "period_start",
        "volume",
        "rate",
        "accrued",
        "next_threshold",
        "to_next",
        "next_rate",
    )
    emit_rows(
        (
            _("customer"),
            _("name"),
            _("period from"),
            _("volume"),
            _("rate"),
            _("accrued"),
            _("next threshold"),
            _("to go"),
            _("next rate"),
        ),
        rows,
        keys,
        as_json=as_json,
        as_csv=as_csv,
    )


@rebate.command("settle")
@click.argument("code", required=False)
@click.option("--as-of", type=DAY, default=None, help="Settle periods ended by this day (default: today).")
@json_option
def settle_cmd(code: str | None, as_of: date | None, as_json: bool) -> None:
    """Settle every ended period (of one programme, or all); settling again writes nothing new.

    \b
    Example:
      kehu loyalty rebate settle Q-REBATE
    """
    with transaction() as (_app, session):
        runs = api.settle_rebates(session, code, as_of)
    if as_json:
        emit_json(runs)
    else:
        for run in runs:
            click.echo(
                _("{programme}: {periods} ended period(s), {written} new settlement(s), ¥{total}").format(
                    programme=run.programme, periods=run.periods, written=run.written, total=run.total_rebate
                )
            )


@rebate.command("statement")
@click.argument("customer")
@click.option("--as-of", type=DAY, default=None, help="Day for the running accrual (default: today).")
@json_option
def statement_cmd(customer: str, as_of: date | None, as_json: bool) -> None:
    """A distributor's rebate statement: settled periods and what is accruing now.

    \b
    Example:
      kehu loyalty rebate statement C0007
    """
    with transaction() as (_app, session):
        result = api.rebate_statement(session, customer, as_of)
    if as_json:
        emit_json({"customer": customer, **result})
        return
    keys = ("code", "period_start", "period_end", "volume", "rate", "rebate")
    emit_rows(
        (_("programme"), _("from"), _("to"), _("volume"), _("rate"), _("rebate")),
        result["settled"],
        keys,
        as_json=False,
        as_csv=False,
    )
    emit_pairs(_("settled total"), [(_("rebate"), result["settled_total"])])
    for a in result["accruing"]:
        emit_pairs(
            _("accruing: {programme} {start}..{end}").format(
                programme=a.programme, start=a.period_start, end=a.period_end
            ),
            [
                (_("volume"), a.volume),
                (_("rate"), a.rate),
                (_("accrued"), a.accrued),
                (_("next threshold"), a.next_threshold),
                (_("to go"), a.to_next),
            ],
        )
