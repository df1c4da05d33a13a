"""``kehu customer``: the profile cards."""

from __future__ import annotations

import json
from typing import Any

import click

from kehu_core.cli.context import state, transaction
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
from kehu_core.cli.params import given, value_options
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
from kehu_core.profile import profile_card

_OPTIONAL = [f for f in CUSTOMER_FIELDS if f.name not in ("code", "name")]


def _field_options(func: Any, include_identity: bool = False) -> Any:
    """One ``--field`` option per customer field, generated from the field table."""
    fields = CUSTOMER_FIELDS if include_identity else _OPTIONAL
    return value_options(func, ((spec.name, spec.help) for spec in fields))


@click.group()
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
    """Change fields of customer CODE. An empty value (--region "") clears a field."""
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
    """Print the profile card of customer CODE: fields, 6W1H1S summary, visit history, plugins' sections."""
    with transaction() as (app, session):
        card = profile_card(app, session, code)
        if as_json:
            emit_json({s.key: s.data for s in card.sections})
            return
        for section in card.sections:
            emit_pairs(section.title, section.rows)
            click.echo()


class _ListCommand(click.Command):
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
    """Archive customer CODE: hidden from lists, history kept. --restore undoes it."""
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
    """Everything kept about customer CODE, as JSON (a subject access request)."""
    with transaction() as (app, session):
        data = export_customer(app, session, code)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            json.dump(to_jsonable(data), fh, ensure_ascii=False, indent=2)
        click.echo(f"wrote {output}", err=True)
    else:
        emit_json(data)


customer.add_command(customer_import)
