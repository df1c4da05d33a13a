"""``kehu customer``: the profile cards."""

from __future__ import annotations

import json
from typing import Any

import click

from kehu_core.analysis import ANALYSIS_KEYS
from kehu_core.cli.context import state, transaction
from kehu_core.cli.help import TranslatedCommand, TranslatedGroup
from kehu_core.cli.imports import customer_import
from kehu_core.cli.output import (
    emit_json,
    emit_pairs,
    emit_result,
    emit_rows,
    json_option,
    list_output_options,
    refusing_duplicates,
    row_count,
    to_jsonable,
)
from kehu_core.cli.params import DAY, given, value_options
from kehu_core.customers import (
    CustomerQuery,
    add_customer,
    archive_customer,
    edit_customer,
    iter_customers,
    list_customers,
)
from kehu_core.fields import CUSTOMER_FIELDS
from kehu_core.privacy import export_customer, forget_customer
from kehu_core.profile import profile_card, set_analysis
from kehu_core.profit import SECTION_LABELS, customer_profit, label_of, profit_report

_OPTIONAL = [f for f in CUSTOMER_FIELDS if f.name not in ("code", "name")]


def _field_options(func: Any, include_identity: bool = False) -> Any:
    """One ``--field`` option per customer field, generated from the field table."""
    fields = CUSTOMER_FIELDS if include_identity else _OPTIONAL
    return value_options(func, ((spec.name, spec.help) for spec in fields))


@click.group(cls=TranslatedGroup)
def customer() -> None:
    """Customers and their profile cards (客户资料卡)."""


@customer.command("add")
@click.argument("code")
@click.argument("name")
@_field_options
@json_option
def add(code: str, name: str, as_json: bool, **fields: Any) -> None:
    """Add a customer with CODE (your own unique reference) and NAME.

    \b
    Example:
      kehu customer add C001 华为技术 --region 华南 --industry 通信 --tags "vip,深圳"
    """
    with refusing_duplicates(f"customer {code} already exists"), transaction() as (app, session):
        record = add_customer(app, session, {"code": code, "name": name, **given(fields)})
    emit_result(record, as_json, f"added customer {record.code} {record.name}")


@customer.command("edit")
@click.argument("code")
@click.option("--new-code", "new_code", default=None, help="Change the customer's code.")
@click.option("--name", default=None, help="person's or company's name")
@_field_options
@json_option
def edit(code: str, new_code: str | None, as_json: bool, **fields: Any) -> None:
    """Change fields of customer CODE. An empty value (--region "") clears a field.

    \b
    Example:
      kehu customer edit C001 --region 华东 --owner li --tags "vip,上海"
    """
    values = given(fields)
    if new_code is not None:
        values["code"] = new_code
    if not values:
        raise click.UsageError("nothing to change: give at least one --field")
    with (
        refusing_duplicates(f"customer {new_code} already exists"),
        transaction() as (app, session),
    ):
        record = edit_customer(app, session, code, values)
    emit_result(record, as_json, f"updated customer {record.code}")


@customer.command("show")
@click.argument("code")
@json_option
def show(code: str, as_json: bool) -> None:
    """Print the profile card of customer CODE: fields, 6W1H1S summary, visit history, plugins' sections.

    \b
    Example:
      kehu customer show C001
    """
    with transaction() as (app, session):
        card = profile_card(app, session, code)
        if as_json:
            emit_json({s.key: s.data for s in card.sections})
            return
        for section in card.sections:
            emit_pairs(section.title, section.rows)
            click.echo()


class _ListCommand(TranslatedCommand):
    """``customer list`` whose help ends with the columns and filters plugins add."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        hook = state().plugins.pm.hook
        # No database is opened for help: the hooks get no app.
        columns = [c for cols in hook.kehu_customer_list_columns(app=None, session=None) for c in cols]
        filters = [f for fs in hook.kehu_customer_list_filters(app=None) for f in fs]
        if columns:
            with formatter.section("Columns from plugins"):
                formatter.write_dl([(c.name, c.header) for c in columns])
        if filters:
            with formatter.section("Filters from plugins (--filter NAME=VALUE)"):
                formatter.write_dl([(f"{f.name}={f.metavar}", f.help) for f in filters])


@customer.command("list", cls=_ListCommand)
@click.option("--region", help="Only this region.")
@click.option("--industry", help="Only this industry.")
@click.option("--size", help="Only this company size.")
@click.option("--owner", help="Only customers of this salesperson.")
@click.option("--tag", help="Only customers with this tag.")
@click.option("--search", "text", help="Text in code, name, phone or e-mail.")
@click.option(
    "--filter", "filters", multiple=True, metavar="NAME=VALUE", help="A plugin's filter (see below)."
)
@click.option("--archived", "include_archived", is_flag=True, help="Include archived customers.")
@click.option(
    "--sort", default="code", show_default=True, help="Column to sort by (Chinese sorts by pinyin)."
)
@click.option("--desc", "descending", is_flag=True, help="Sort descending.")
@click.option(
    "--columns",
    help="Comma-separated columns to show (default: code,name,region,industry,size,owner and plugins').",
)
@click.option("--limit", type=row_count(1), default=None, help="Show at most N customers.")
@click.option("--offset", type=row_count(0), default=0, help="Skip the first N.")
@list_output_options
def list_(filters: tuple[str, ...], columns: str | None, as_json: bool, as_csv: bool, **query: Any) -> None:
    """List customers, filtered and sorted by any column.

    Installed plugins add columns (for example tier) and filters (--filter tier=A);
    those of the plugins available here are listed below.

    \b
    Example:
      kehu customer list --region 华东 --sort name --wide
      kehu customer list --filter tier=大客户 --columns code,name,owner
    """
    extra = {}
    for item in filters:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--filter")
        extra[name.strip()] = value.strip()
    cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    wanted = CustomerQuery(columns=cols, extra_filters=extra, **query)
    with transaction() as (app, session):
        if as_json or as_csv:
            # Streamed from the database to the output: a list of every customer holds a batch.
            names, rows = iter_customers(app, session, wanted)
            emit_rows(names, rows, names, as_json=as_json, as_csv=as_csv)
            return
        result = list_customers(app, session, wanted)
    emit_rows(result.columns, result.rows, result.columns, as_json=False, as_csv=False)
    shown = len(result.rows)
    click.echo(f"{shown} of {result.total} customer(s)" if shown != result.total else f"{shown} customer(s)")


list_.name = "list"


@customer.command("archive")
@click.argument("code")
@click.option("--restore", is_flag=True, help="Make an archived customer active again.")
def archive(code: str, restore: bool) -> None:
    """Archive customer CODE: hidden from lists, history kept. --restore undoes it.

    \b
    Example:
      kehu customer archive C001
      kehu customer archive C001 --restore
    """
    with transaction() as (app, session):
        record = archive_customer(app, session, code, restore=restore)
    click.echo(f"{'restored' if record.active else 'archived'} customer {record.code}")


@customer.command("forget")
@click.argument("code")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def forget(code: str, yes: bool) -> None:
    """Erase the personal data of customer CODE (PIPL / GDPR right to erasure).

    Name, phone, e-mail, dates, attributes, tags and interaction notes are erased; amounts,
    dates and products stay as anonymous aggregates. This cannot be undone.

    \b
    Example:
      kehu customer forget C001 --yes && kehu db vacuum
    """
    if not yes:
        click.confirm(f"Erase the personal data of customer {code}? This cannot be undone", abort=True)
    with transaction() as (app, session):
        forget_customer(app, session, code)
    click.echo(f"forgot customer {code}: personal data erased, aggregates kept")


@customer.command("export")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, default=True, help="JSON (the only format; the default).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to a file instead of standard output.",
)
def export(code: str, as_json: bool, output: str | None) -> None:
    """Everything kept about customer CODE, as JSON (a subject access request).

    \b
    Example:
      kehu customer export C001 -o C001.json
    """
    with transaction() as (app, session):
        data = export_customer(app, session, code)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            json.dump(to_jsonable(data), fh, ensure_ascii=False, indent=2)
        click.echo(f"wrote {output}", err=True)
    else:
        emit_json(data)


_PROFILE_SET_HELP = (
    "Record 6W1H1S answers of customer CODE: Who, How, Why, Sensitivity (客户分析).\n\n"
    "\b\nKeys (an empty VALUE removes the answer):\n"
    + "\n".join(f"  {k.key:<26} {k.help}" for k in ANALYSIS_KEYS)
    + "\n\n\b\nExample:\n"
    + "  kehu customer profile-set C001 how.decision_makers=店长、老板 sensitivity.price=high"
)


@customer.command("profile-set", help=_PROFILE_SET_HELP)
@click.argument("code")
@click.argument("answers", nargs=-1, required=True, metavar="KEY=VALUE...")
@json_option
def profile_set(code: str, answers: tuple[str, ...], as_json: bool) -> None:
    """Record 6W1H1S answers of customer CODE (help: ``_PROFILE_SET_HELP``)."""
    values: dict[str, str] = {}
    for item in answers:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="KEY=VALUE")
        values[key.strip()] = value
    with transaction() as (app, session):
        record = set_analysis(app, session, code, values)
    emit_result(record, as_json, f"recorded {len(values)} answer(s) for customer {record.code}")


@customer.command("profit")
@click.argument("code")
@click.option("--since", type=DAY, default=None, help="First day of the period (default: no limit).")
@click.option("--until", type=DAY, default=None, help="Last day of the period, included (default: no limit).")
@json_option
def profit(code: str, since: Any, until: Any, as_json: bool) -> None:
    """Customer CODE's profit: our gross profit, what we give, and the customer-profit
    statement 客户利润 = 经营利润 + 费用支持 - 费用支出.

    \b
    Example:
      kehu customer profit C001 --since 2026-01-01 --until 2026-06-30
    """
    with transaction() as (app, session):
        found = customer_profit(app, session, code, since, until)
    if as_json:
        emit_json(found)
        return
    period = f"{since or 'start'} to {until or 'today'}"
    emit_pairs(
        f"What {found.code} brings us, {period}",
        [
            ("Revenue 销售额", found.revenue),
            ("Revenue with cost 有成本的销售额", found.costed_revenue),
            ("Cost 成本", found.cost),
            ("Gross profit 毛利", found.gross_profit),
            ("Purchases without cost 无成本的购买", found.uncosted_purchases),
            ("Given: rebates, rewards, support 给予", found.given),
            ("Contribution 贡献利润", found.contribution),
        ],
    )
    click.echo()
    rows: list[tuple[str, Any]] = [
        (SECTION_LABELS[x.section] + ": " + label_of(x.section, x.item), f"{x.amount} ({x.source})")
        for x in found.lines
    ]
    rows += [
        ("经营利润 operating profit", found.operating_profit),
        ("费用支持 support", found.support),
        ("费用支出 outlay", found.outlay),
        ("客户利润 customer profit", found.customer_profit),
        ("Markup from 加价利润来源", found.markup_basis),
    ]
    emit_pairs(f"Customer-profit statement 客户利润表, {period}", rows)


@customer.command("profit-report")
@click.option("--since", type=DAY, default=None, help="First day of the period (default: no limit).")
@click.option("--until", type=DAY, default=None, help="Last day of the period, included (default: no limit).")
@list_output_options
def profit_report_(since: Any, until: Any, as_json: bool, as_csv: bool) -> None:
    """Customers ranked by the profit they bring us, with the 80/20 of profit (二八法则).

    Contribution = our gross profit − rebates, rewards and support we give; pareto marks
    the customers who together bring 80% of the total.

    \b
    Example:
      kehu customer profit-report --since 2026-01-01 --csv > profit.csv
    """
    with transaction() as (app, session):
        report = profit_report(app, session, since, until)
    keys = (
        "rank",
        "code",
        "name",
        "revenue",
        "gross_profit",
        "given",
        "contribution",
        "share",
        "cumulative_share",
        "pareto",
        "customer_profit",
    )
    rows = [
        {
            "rank": r.rank,
            "code": r.profit.code,
            "name": r.profit.name,
            "revenue": r.profit.revenue,
            "gross_profit": r.profit.gross_profit,
            "given": r.profit.given,
            "contribution": r.profit.contribution,
            "share": None if r.share is None else f"{r.share:.4f}",
            "cumulative_share": None if r.cumulative_share is None else f"{r.cumulative_share:.4f}",
            "pareto": r.pareto,
            "customer_profit": r.profit.customer_profit,
        }
        for r in report.rows
    ]
    extra = {
        "since": report.since,
        "until": report.until,
        "total_contribution": report.total_contribution,
        "total_gross_profit": report.total_gross_profit,
        "total_revenue": report.total_revenue,
        "pareto_customers": report.pareto_customers,
        "customers": len(report.rows),
    }
    emit_rows(keys, rows, keys, as_json=as_json, as_csv=as_csv, extra=extra if as_json else None)
    if not (as_json or as_csv):
        click.echo(
            f"{report.pareto_customers} of {len(report.rows)} customer(s) bring 80% of the contribution "
            f"{report.total_contribution}"
        )


profit_report_.name = "profit-report"

customer.add_command(customer_import)
