"""``kehu interaction``: contacts, purchases, payments, and the visit plan."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

import click
from attrs import asdict

from kehu_core import calendar
from kehu_core.choices import Vocabulary
from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedGroup
from kehu_core.cli.imports import interaction_import
from kehu_core.cli.output import (
    emit_result,
    emit_rows,
    json_option,
    list_output_options,
    refusing_duplicates,
    row_count,
)
from kehu_core.cli.params import VocabularyType, given, value_options
from kehu_core.i18n import N_, messages
from kehu_core.interactions import (
    InteractionQuery,
    due_interactions,
    iter_interactions,
    log_interaction,
    plan_interaction,
)
from kehu_core.types import utcnow
from kehu_core.validation import FieldError, day_or_time
from kehu_core.vocab import INTERACTION_KIND, INTERACTION_STATUS

_ = messages("kehu_core").gettext

#: The columns of the interaction lists: (key in --json and --csv, header people read).
LIST_COLUMNS = (
    ("id", N_("id")),
    ("occurred_at", N_("when")),
    ("customer_code", N_("customer")),
    ("kind", N_("kind")),
    ("status", N_("status")),
    ("channel", N_("channel")),
    ("amount", N_("amount")),
    ("product", N_("product")),
    ("salesperson", N_("salesperson")),
    ("satisfaction", N_("sat.")),
    ("note", N_("note")),
)
LIST_KEYS = tuple(key for key, _header in LIST_COLUMNS)


def _headers() -> list[str]:
    """The headers of the interaction lists in the user's language."""
    return [_(header) for _key, header in LIST_COLUMNS]


def _shown(rows: Iterable[dict[str, Any]], kinds: Vocabulary) -> Iterator[dict[str, Any]]:
    """Rows with their kind and status as people read them (拜访, 已完成), for a table."""
    for row in rows:
        yield {**row, "kind": kinds.label(row["kind"]), "status": INTERACTION_STATUS.label(row["status"])}


def _detail_options(func: Any) -> Any:
    return value_options(
        func,
        (
            ("channel", N_("channel, e.g. 门店, online, distributor")),
            ("amount", N_("amount; a negative purchase is a refund")),
            ("cost", N_("cost, for margins")),
            ("quantity", N_("quantity")),
            ("product", N_("product")),
            ("category", N_("product category")),
            ("salesperson", N_("salesperson")),
            ("satisfaction", N_("satisfaction 1-5")),
            ("note", N_("free text")),
            ("external_ref", N_("your unique reference (makes repeating the command harmless)")),
            ("due_at", N_("payments: when payment is due")),
            ("paid_at", N_("payments: when it was paid")),
        ),
    )


@click.group(cls=TranslatedGroup)
def interaction() -> None:
    """Interactions: visits, calls, purchases, payments, feedback; and the visit plan (访问计划).

    \b
    Example:
      kehu interaction log C001 拜访 --note 介绍新品
      kehu interaction due --owner li
    """


@interaction.command("log")
@click.argument("customer_code")
@click.argument("kind")
@click.option(
    "--at", "occurred_at", default=None, help="When (default: now). 2024-03-01 or 2024-03-01T09:30+08:00."
)
@click.option(
    "--status",
    type=VocabularyType(INTERACTION_STATUS),
    default=None,
    help="done (default), planned or cancelled.",
)
@_detail_options
@json_option
def log(customer_code: str, kind: str, occurred_at: str | None, as_json: bool, **details: Any) -> None:
    """Record an interaction of KIND with customer CUSTOMER_CODE.

    KIND is visit, call, letter, email, meeting, demo, purchase, payment, feedback,
    complaint, other, or a kind an installed plugin adds.

    \b
    Example:
      kehu interaction log C001 purchase --amount 1200.50 --product 手机 --channel 门店
    """
    values = {
        "customer_code": customer_code,
        "kind": kind,
        "occurred_at": occurred_at or utcnow(),
        **given(details),
    }
    if details.get("status") is None:
        values.pop("status", None)
    ref = details.get("external_ref")
    duplicate = (
        _("an interaction with reference {ref} is already recorded").format(ref=ref)
        if ref
        else _("this interaction is already recorded")
    )
    with refusing_duplicates(duplicate), transaction() as (app, session):
        record = log_interaction(app, session, values)
        kind = app.interaction_kind_vocabulary().label(record.kind)
    emit_result(
        record,
        as_json,
        _("recorded {kind} #{id} for {customer}").format(
            kind=kind, id=record.id, customer=record.customer_code
        ),
    )


@interaction.command("plan")
@click.argument("customer_code")
@click.option("--at", "occurred_at", required=True, help="When the contact is planned.")
@click.option(
    "--kind",
    type=VocabularyType(INTERACTION_KIND),
    default="visit",
    show_default=True,
    help="visit, call, meeting, demo, email or letter (拜访, 电话 ...).",
)
@click.option(
    "--salesperson", default=None, help="Who will make the contact (default: the customer's owner)."
)
@click.option("--note", default=None, help="Purpose of the contact.")
@json_option
def plan(
    customer_code: str, occurred_at: str, kind: str, salesperson: str | None, note: str | None, as_json: bool
) -> None:
    """Schedule a visit or call with CUSTOMER_CODE (the visit plan 访问计划).

    \b
    Example:
      kehu interaction plan C001 --at "2026-03-02 10:00" --kind visit --note 介绍新品
    """
    values = given(
        {
            "customer_code": customer_code,
            "occurred_at": occurred_at,
            "kind": kind,
            "salesperson": salesperson,
            "note": note,
        }
    )
    with transaction() as (app, session):
        record = plan_interaction(app, session, values)
        kind = app.interaction_kind_vocabulary().label(record.kind)
    when = calendar.format_time(record.occurred_at)
    emit_result(
        record,
        as_json,
        _("planned {kind} #{id} with {customer} at {when}").format(
            kind=kind, id=record.id, customer=record.customer_code, when=when
        ),
    )


@interaction.command("due")
@click.option(
    "--as-of", default=None, help="Due by this time, or by the end of this day (2024-03-01) (default: now)."
)
@click.option("--owner", default=None, help="Only this salesperson's plans.")
@list_output_options
def due(as_of: str | None, owner: str | None, as_json: bool, as_csv: bool) -> None:
    """Planned interactions that are due or overdue, oldest first.

    \b
    Example:
      kehu interaction due --owner li --as-of 2026-03-06
    """
    moment = _moment("--as-of", as_of) if as_of else utcnow()
    with transaction() as (app, session):
        records = due_interactions(session, moment, owner)
        kinds = app.interaction_kind_vocabulary()
    rows = [asdict(r) for r in records]
    shown = rows if as_json or as_csv else list(_shown(rows, kinds))
    emit_rows(_headers(), shown, LIST_KEYS, as_json=as_json, as_csv=as_csv)


@interaction.command("list")
@click.option("--customer", "customer_code", help="Only this customer's interactions.")
@click.option("--kind", help="Only this kind (a code or its name: visit, 拜访 ...).")
@click.option("--status", type=VocabularyType(INTERACTION_STATUS), help="planned, done or cancelled.")
@click.option("--salesperson", help="Only this salesperson's.")
@click.option("--since", help="From this time, or from the start of this day (2024-03-01).")
@click.option(
    "--until", help="Before this time, or up to the end of this day (2024-03-01 includes all of it)."
)
@click.option("--limit", type=row_count(0), default=100, show_default=True, help="At most N (0: all).")
@click.option("--oldest-first", is_flag=True, help="Oldest first (default newest first).")
@list_output_options
def list_(
    customer_code: str | None,
    kind: str | None,
    status: str | None,
    salesperson: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    oldest_first: bool,
    as_json: bool,
    as_csv: bool,
) -> None:
    """List interactions, newest first.

    \b
    Example:
      kehu interaction list --customer C001 --kind purchase --since 2026-01-01 --wide
    """
    with transaction() as (app, session):
        kinds = app.interaction_kind_vocabulary()
        if kind is not None:
            try:
                kind = kinds.parse(kind)  # the installed plugins' kinds too; unknown: the accepted ones
            except FieldError as exc:
                raise click.BadParameter(str(exc), param_hint="--kind") from None
        query = InteractionQuery(
            customer_code=customer_code,
            kind=kind,
            status=status,
            salesperson=salesperson,
            since=_moment("--since", since) if since else None,
            until=_moment("--until", until) if until else None,
            limit=limit or None,
            newest_first=not oldest_first,
        )
        # JSON and CSV are written as the rows come, inside the transaction, so that a list
        # of every interaction never needs to sit in memory at once.
        rows = (asdict(r) for r in iter_interactions(session, query))
        shown = rows if as_json or as_csv else _shown(rows, kinds)
        emit_rows(_headers(), shown, LIST_KEYS, as_json=as_json, as_csv=as_csv)


list_.name = "list"


def _moment(option: str, value: str) -> date | datetime:
    """A time, or a date alone meaning that whole local day; a refusal repeats the value as given."""
    try:
        return day_or_time(value)
    except FieldError as exc:
        raise click.BadParameter(
            _("{reason} (got {value!r})").format(reason=exc, value=value), param_hint=option
        ) from None


interaction.add_command(interaction_import)
