"""``kehu customer``: the profile cards."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
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
from kehu_core.cli.params import DAY, VocabularyType, given, value_options
from kehu_core.customers import (
    CustomerQuery,
    add_customer,
    archive_customer,
    edit_customer,
    iter_customers,
    list_columns,
    list_customers,
)
from kehu_core.fields import CUSTOMER_FIELDS, CUSTOMER_LABELS
from kehu_core.i18n import N_, messages
from kehu_core.privacy import export_customer, forget_customer
from kehu_core.profile import profile_card, set_analysis
from kehu_core.profit import SECTION_LABELS, customer_profit, label_of, profit_report
from kehu_core.validation import FieldError
from kehu_core.vocab import CUSTOMER_KIND, CUSTOMER_SOURCE

_, ngettext = messages("kehu_core").functions()

#: Fields given by enumerated values: their options take a code or any of its names (朋友介绍).
VOCABULARIES = {"kind": CUSTOMER_KIND, "source": CUSTOMER_SOURCE}
_OPTIONAL = [f for f in CUSTOMER_FIELDS if f.name not in ("code", "name", *VOCABULARIES)]

#: Headers of the core's columns of ``customer list`` (the keys stay in --json and --csv).
HEADERS = CUSTOMER_LABELS

#: Where the markup line of the customer-profit statement comes from (see kehu_core.profit).
MARKUP_BASES = {
    "recorded": N_("recorded resale figures"),
    "markup rate": N_("markup rate"),
    "none": N_("none"),
}

#: The columns of ``customer profit-report``: (key in --json and --csv, header people read).
PROFIT_COLUMNS = (
    ("rank", N_("rank")),
    ("code", N_("code")),
    ("name", N_("name")),
    ("revenue", N_("revenue")),
    ("gross_profit", N_("gross profit")),
    ("given", N_("given")),
    ("contribution", N_("contribution")),
    ("share", N_("share")),
    ("cumulative_share", N_("cumulative share")),
    ("pareto", N_("pareto")),
    ("customer_profit", N_("customer profit")),
)


class _ClearableVocabulary(VocabularyType):
    """A value of a vocabulary, or ``""`` to clear the field (``customer edit --source ""``)."""

    def parse(self, value: Any) -> str:
        return "" if str(value).strip() == "" else super().parse(value)


def _field_options(func: Any) -> Any:
    """One ``--field`` option per customer field, generated from the field table; the
    enumerated ones (``--kind``, ``--source``) accept their codes and Chinese names."""
    func = value_options(func, ((spec.name, spec.help) for spec in _OPTIONAL))
    for spec in reversed([f for f in CUSTOMER_FIELDS if f.name in VOCABULARIES]):
        func = click.option(
            f"--{spec.name}", spec.name, type=_ClearableVocabulary(VOCABULARIES[spec.name]), help=spec.help
        )(func)
    return func


def _vocabulary_cells(row: dict[str, Any], labels: Mapping[str, Callable[[Any], str]]) -> dict[str, Any]:
    """``row`` with its enumerated values as people read them (转介绍 for ``referral``), the
    plugin columns' by their ``ListColumn.label`` (大客户 for ``key_account``)."""
    shown = {}
    for key, value in row.items():
        if key in VOCABULARIES and value:
            value = VOCABULARIES[key].label(value)
        elif key in labels and value is not None and value != "":
            value = labels[key](value)
        shown[key] = value
    return shown


@click.group(cls=TranslatedGroup)
def customer() -> None:
    """Customers and their profile cards (客户资料卡).

    \b
    Example:
      kehu customer add C001 华为技术 --region 华南 --source 转介绍
      kehu customer show C001
    """


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
    with (
        refusing_duplicates(_("customer {code} already exists").format(code=code)),
        transaction() as (app, session),
    ):
        record = add_customer(app, session, {"code": code, "name": name, **given(fields)})
    emit_result(record, as_json, _("added customer {code} {name}").format(code=record.code, name=record.name))


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
        raise click.UsageError(_("nothing to change: give at least one --field"))
    with (
        refusing_duplicates(_("customer {code} already exists").format(code=new_code)),
        transaction() as (app, session),
    ):
        record = edit_customer(app, session, code, values)
    emit_result(record, as_json, _("updated customer {code}").format(code=record.code))


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
            with formatter.section(_("Columns from plugins")):
                formatter.write_dl([(c.name, c.header) for c in columns])
        if filters:
            with formatter.section(_("Filters from plugins (--filter NAME=VALUE)")):
                formatter.write_dl([(f"{f.name}={f.metavar}", f.help) for f in filters])


@customer.command("list", cls=_ListCommand)
@click.option("--region", help="Only this region.")
@click.option("--industry", help="Only this industry.")
@click.option("--size", help="Only this company size.")
@click.option("--owner", help="Only customers of this salesperson.")
@click.option(
    "--kind", type=VocabularyType(CUSTOMER_KIND), help="Only persons or only companies (个人, 企业)."
)
@click.option(
    "--source", type=VocabularyType(CUSTOMER_SOURCE), help="Only customers found this way (转介绍 ...)."
)
@click.option("--tag", help="Only customers with this tag.")
@click.option("--search", "text", help="Text in code, name, phone or e-mail.")
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="NAME=VALUE",
    help="A plugin's filter (see below), or kind=VALUE, source=VALUE.",
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
            raise click.BadParameter(_("{item!r} is not NAME=VALUE").format(item=item), param_hint="--filter")
        name, value = name.strip(), value.strip()
        if name in VOCABULARIES:  # the core's own: --filter source=朋友介绍 is --source 朋友介绍
            try:
                query[name] = VOCABULARIES[name].parse(value)
            except FieldError as exc:
                raise click.BadParameter(str(exc), param_hint="--filter") from None
        else:
            extra[name] = value
    cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    wanted = CustomerQuery(columns=cols, extra_filters=extra, **query)
    with transaction() as (app, session):
        if as_json or as_csv:
            # Streamed from the database to the output: a list of every customer holds a batch.
            names, rows = iter_customers(app, session, wanted)
            emit_rows(names, rows, names, as_json=as_json, as_csv=as_csv)
            return
        result = list_customers(app, session, wanted)
        plugin_columns = list_columns(app, session)
    plugin_headers = {name: c.header for name, c in plugin_columns.items()}
    headers = [_(HEADERS[c]) if c in HEADERS else plugin_headers.get(c, c) for c in result.columns]
    labels = {name: c.label for name, c in plugin_columns.items() if c.label is not None}
    shown_rows = [_vocabulary_cells(r, labels) for r in result.rows]
    emit_rows(headers, shown_rows, result.columns, as_json=False, as_csv=False)
    shown = len(result.rows)
    if shown != result.total:
        text = ngettext("{shown} of {n} customer(s)", "{shown} of {n} customer(s)", result.total)
    else:
        text = ngettext("{shown} customer(s)", "{shown} customer(s)", shown)
    click.echo(text.format(shown=shown, n=result.total))


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
    click.echo(
        (_("restored customer {code}") if record.active else _("archived customer {code}")).format(
            code=record.code
        )
    )


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
        click.confirm(
            _("Erase the personal data of customer {code}? This cannot be undone").format(code=code),
            abort=True,
        )
    with transaction() as (app, session):
        forget_customer(app, session, code)
    click.echo(_("forgot customer {code}: personal data erased, aggregates kept").format(code=code))


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
        click.echo(_("wrote {file}").format(file=output), err=True)
    else:
        emit_json(data)


class _ProfileSetCommand(TranslatedCommand):
    """``customer profile-set``, whose help ends with the keys it takes, in the user's language."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        with formatter.section(_("Keys (an empty VALUE removes the answer)")):
            formatter.write_dl([(k.key, _(k.help)) for k in ANALYSIS_KEYS])


@customer.command("profile-set", cls=_ProfileSetCommand)
@click.argument("code")
@click.argument("answers", nargs=-1, required=True, metavar="KEY=VALUE...")
@json_option
def profile_set(code: str, answers: tuple[str, ...], as_json: bool) -> None:
    """Record 6W1H1S answers of customer CODE: Who, How, Why, Sensitivity (客户分析); the keys
    are listed below.

    \b
    Example:
      kehu customer profile-set C001 how.decision_makers=店长、老板 sensitivity.price=high
    """
    values: dict[str, str] = {}
    for item in answers:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(_("{item!r} is not KEY=VALUE").format(item=item), param_hint="KEY=VALUE")
        values[key.strip()] = value
    with transaction() as (app, session):
        record = set_analysis(app, session, code, values)
    message = ngettext(
        "recorded {n} answer(s) for customer {code}",
        "recorded {n} answer(s) for customer {code}",
        len(values),
    ).format(n=len(values), code=record.code)
    emit_result(record, as_json, message)


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
    period = _period(since, until)
    emit_pairs(
        _("What {code} brings us, {period}").format(code=found.code, period=period),
        [
            (_("Revenue 销售额"), found.revenue),
            (_("Revenue with cost 有成本的销售额"), found.costed_revenue),
            (_("Cost 成本"), found.cost),
            (_("Gross profit 毛利"), found.gross_profit),
            (_("Purchases without cost 无成本的购买"), found.uncosted_purchases),
            (_("Given: rebates, rewards, support 给予"), found.given),
            (_("Contribution 贡献利润"), found.contribution),
        ],
    )
    click.echo()
    rows: list[tuple[str, Any]] = [
        (
            _("{section}: {item}").format(
                section=_(SECTION_LABELS[x.section]), item=label_of(x.section, x.item)
            ),
            _("{amount} ({source})").format(amount=x.amount, source=x.source),
        )
        for x in found.lines
    ]
    rows += [
        (_("经营利润 operating profit"), found.operating_profit),
        (_("费用支持 support"), found.support),
        (_("费用支出 outlay"), found.outlay),
        (_("客户利润 customer profit"), found.customer_profit),
        (_("Markup from 加价利润来源"), _(MARKUP_BASES.get(found.markup_basis, found.markup_basis))),
    ]
    emit_pairs(_("Customer-profit statement 客户利润表, {period}").format(period=period), rows)


def _period(since: Any, until: Any) -> str:
    """The period as people read it: ``2026-01-01 to today``."""
    if since and until:
        return _("{since} to {until}").format(since=since, until=until)
    if since:
        return _("{since} to today").format(since=since)
    if until:
        return _("start to {until}").format(until=until)
    return _("start to today")


@customer.command("profit-report")
@click.option("--since", type=DAY, default=None, help="First day of the period (default: no limit).")
@click.option("--until", type=DAY, default=None, help="Last day of the period, included (default: no limit).")
@list_output_options
def profit_report_(since: Any, until: Any, as_json: bool, as_csv: bool) -> None:
    """Customers ranked by the profit they bring us, with the 80/20 of profit (二八法则).

    Contribution = our gross profit - rebates, rewards and support we give; pareto marks
    the customers who together bring 80% of the total.

    \b
    Example:
      kehu customer profit-report --since 2026-01-01 --csv > profit.csv
    """
    with transaction() as (app, session):
        report = profit_report(app, session, since, until)
    keys = tuple(key for key, _header in PROFIT_COLUMNS)
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
    headers = [_(header) for _key, header in PROFIT_COLUMNS]
    emit_rows(headers, rows, keys, as_json=as_json, as_csv=as_csv, extra=extra if as_json else None)
    if not (as_json or as_csv):
        click.echo(
            ngettext(
                "{pareto} of {n} customer(s) bring 80% of the contribution {total}",
                "{pareto} of {n} customer(s) bring 80% of the contribution {total}",
                len(report.rows),
            ).format(pareto=report.pareto_customers, n=len(report.rows), total=report.total_contribution)
        )


profit_report_.name = "profit-report"

customer.add_command(customer_import)
