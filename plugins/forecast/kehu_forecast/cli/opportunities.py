"""``kehu forecast opportunity add | move | list | import``: the sales pipeline (销售漏斗)."""

from __future__ import annotations

from typing import Any

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
from kehu_core.cli.params import DAY, MONEY, VocabularyType, given
from kehu_core.i18n import N_, messages
from kehu_forecast import pipeline
from kehu_forecast.pipeline import Opportunity

OPP_KEYS = [
    "ref",
    "customer",
    "customer_name",
    "salesperson",
    "amount",
    "stage",
    "probability",
    "weighted",
    "close_date",
    "status",
]
#: What people read for each field of an opportunity.
LABELS = {
    "customer": N_("customer"),
    "customer_name": N_("customer name"),
    "salesperson": N_("salesperson"),
    "amount": N_("amount"),
    "stage": N_("stage"),
    "probability": N_("probability"),
    "weighted": N_("weighted"),
    "close_date": N_("close date"),
    "status": N_("status"),
    "note": N_("note"),
    "ref": N_("ref"),
}

_, ngettext = messages("kehu_forecast").functions()


def _emit_opp(opp: Opportunity, as_json: bool) -> None:
    if as_json:
        emit_json(asdict(opp))
    else:
        emit_pairs(
            _("opportunity {ref}").format(ref=opp.ref),
            [(_(LABELS[k]), _shown(k, v)) for k, v in asdict(opp).items() if k != "ref"],
        )


def _shown(key: str, value: Any) -> Any:
    """A field as people read it: the status's label in their language."""
    return pipeline.STATUS_NAMES.label(value) if key == "status" and value else value


@click.group("opportunity", cls=PluginGroup, plugin="forecast")
def opportunity() -> None:
    """The sales pipeline: opportunities with stage, probability and close date.

    \b
    kehu forecast opportunity add C0001 120000 --probability 60% --close 2026-12-20
    kehu forecast opportunity move OPP-00001 --stage 商务谈判 --probability 0.75
    kehu forecast opportunity move OPP-00001 --status won
    """


@opportunity.command("add")
@click.argument("customer")
@click.argument("amount", type=MONEY)
@click.option("--close", "close_date", required=True, type=DAY, help="Expected close date.")
@click.option("--probability", help="0.6 or 60% (default: the stage's).")
@click.option("--stage", help="Stage name (线索, 需求确认, 方案报价, 商务谈判, 签约中, or your own).")
@click.option("--salesperson", help="Default: the customer's owner.")
@click.option("--ref", help="Your reference (default OPP-nnnnn).")
@click.option("--note")
@json_option
def opp_add(as_json: bool, **values: Any) -> None:
    """Add an open opportunity for CUSTOMER (code) worth AMOUNT.

    \b
    Example:
      kehu forecast opportunity add C0001 120000 --probability 60% --close 2026-12-20
    """
    with transaction() as (_app, session):
        opp = pipeline.add_opportunity(session, given(values))
    _emit_opp(opp, as_json)


@opportunity.command("move")
@click.argument("ref")
@click.option("--stage")
@click.option("--probability", help="0.6 or 60%.")
@click.option("--status", type=VocabularyType(pipeline.STATUS_NAMES), help="Only this says won or lost.")
@click.option("--close", "close_date", type=DAY)
@click.option("--amount", type=MONEY)
@click.option("--salesperson")
@json_option
def opp_move(ref: str, as_json: bool, **values: Any) -> None:
    """Move opportunity REF to another stage, probability, close date or status.

    \b
    Example:
      kehu forecast opportunity move OPP-00001 --stage 商务谈判 --probability 0.75
    """
    with transaction() as (_app, session):
        opp = pipeline.move_opportunity(session, ref, given(values))
    _emit_opp(opp, as_json)


@opportunity.command("list")
@click.option("--status", type=VocabularyType(pipeline.STATUS_NAMES))
@click.option("--salesperson")
@click.option("--customer", metavar="CODE")
@list_output_options
def opp_list(
    status: str | None, salesperson: str | None, customer: str | None, as_json: bool, as_csv: bool
) -> None:
    """Opportunities by close date; ``weighted`` is amount × probability for open ones.

    \b
    Example:
      kehu forecast opportunity list --status open --salesperson 张伟
    """
    with transaction() as (_app, session):
        opps = pipeline.list_opportunities(session, status=status, salesperson=salesperson, customer=customer)
    rows = [asdict(o) for o in opps]
    if not as_json and not as_csv:
        rows = [{**r, "status": pipeline.STATUS_NAMES.label(r["status"])} for r in rows]
    emit_rows([_(LABELS[k]) for k in OPP_KEYS], rows, OPP_KEYS, as_json=as_json, as_csv=as_csv)


@opportunity.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--encoding", default="utf-8-sig", show_default=True, help="gbk for files from Chinese Excel.")
@json_option
def opp_import(file: str, encoding: str, as_json: bool) -> None:
    """Import opportunities from CSV (ref, customer, salesperson, amount, stage, probability,
    close_date, status, note). Any bad row: nothing is written, and every problem is named.

    \b
    Example:
      kehu forecast opportunity import opportunities.csv --encoding gbk
    """
    with transaction() as (_app, session):
        count = pipeline.import_opportunities(session, file, encoding)
    emit_result(
        {"imported": count},
        as_json,
        ngettext("imported {count} opportunity", "imported {count} opportunities", count).format(count=count),
    )
