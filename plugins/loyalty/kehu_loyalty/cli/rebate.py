"""``kehu loyalty rebate``: distributor rebate programmes (月返/季返/年返), accrual, settlement and
statements."""

from __future__ import annotations

from datetime import date

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
from kehu_core.cli.params import DAY
from kehu_loyalty import api


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
    "--period", type=click.Choice(["month", "quarter", "year"]), required=True, help="月返 / 季返 / 年返."
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
    tiers_text = ", ".join(f"≥{t:,} → {r * 100:.2f}%" for t, r in result.tiers)
    emit_result(
        result,
        as_json,
        f"programme {code} ({result.name}): {period}, tag {tag}, from {result.starts_on}; {tiers_text}",
    )


@programme.command("list")
@list_output_options
def programme_list(as_json: bool, as_csv: bool) -> None:
    """Every rebate programme.

    \b
    Example:
      kehu loyalty rebate programme list --csv
    """
    with transaction() as (_app, session):
        rows = [
            {
                "code": p.code,
                "name": p.name,
                "period": p.period,
                "tag": p.tag,
                "starts_on": p.starts_on,
                "active": p.active,
                "tiers": "; ".join(f"≥{t} → {r}" for t, r in p.tiers),
            }
            for p in api.list_programmes(session)
        ]
    keys = ("code", "name", "period", "tag", "starts_on", "active", "tiers")
    emit_rows(
        ("code", "name", "period", "tag", "from", "active", "tiers"),
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
        ("customer", "name", "period", "volume", "rate", "accrued", "next threshold", "to go", "next rate"),
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
                f"{run.programme}: {run.periods} ended period(s), {run.written} new settlement(s), "
                f"¥{run.total_rebate}"
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
        ("programme", "from", "to", "volume", "rate", "rebate"),
        result["settled"],
        keys,
        as_json=False,
        as_csv=False,
    )
    emit_pairs("settled total", [("rebate", result["settled_total"])])
    for a in result["accruing"]:
        emit_pairs(
            f"accruing: {a.programme} {a.period_start}..{a.period_end}",
            [
                ("volume", a.volume),
                ("rate", a.rate),
                ("accrued", a.accrued),
                ("next threshold", a.next_threshold),
                ("to go", a.to_next),
            ],
        )
