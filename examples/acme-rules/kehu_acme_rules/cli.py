"""``kehu acme``: the key-account judgement and ACME's key-account manager. Only parsing and printing here."""

from __future__ import annotations

from typing import Any

import click

from kehu_acme_rules.api import (
    FLAGS,
    key_account_manager,
    list_reviews,
    set_judgement,
    set_key_account_manager,
)
from kehu_acme_rules.views import profile_section
from kehu_core.cli.context import PluginGroup, transaction
from kehu_core.cli.output import emit_json, emit_pairs, emit_result, emit_table, json_option
from kehu_core.customers import get_customer
from kehu_core.i18n import messages

_ = messages("kehu_acme_rules").gettext


@click.group("acme", cls=PluginGroup, plugin="acme_rules")
def acme() -> None:
    """ACME's own rules: key-account judgement flags (大客户判定)."""


def _flag_options(func: Any) -> Any:
    for flag in reversed(FLAGS):
        option = flag.name.replace("_", "-")
        func = click.option(f"--{option}/--no-{option}", flag.name, default=None, help=flag.label)(func)
    return func


@acme.command("set")
@click.argument("code")
@_flag_options
@click.option("--note", default=None, help="Why, in a sentence.")
@json_option
def set_(code: str, note: str | None, as_json: bool, **flags: bool | None) -> None:
    """Record the key-account judgement of customer CODE; flags not given keep their value.

    Who judged is who acts (`kehu --as LOGIN`); it needs permission acme_rules.judge.

    \b
    Example:
      kehu --as wangfang acme set C001 --strategic-project --influence --note "省级示范项目"
      kehu acme set C001 --no-influence
    """

    changes = {name: value for name, value in flags.items() if value is not None}
    with transaction() as (app, session):
        judgement = set_judgement(app, session, code, changes, note=note)
    if as_json:
        emit_json(judgement.as_dict())
    else:
        shown = ", ".join(_(f.label) for f in FLAGS if judgement.flags[f.name]) or _("no flag")
        line = _("{code}: {flags} (key account)") if judgement.key_account else _("{code}: {flags}")
        click.echo(line.format(code=judgement.code, flags=shown))


@acme.command("show")
@click.argument("code")
@json_option
def show(code: str, as_json: bool) -> None:
    """Show the key-account judgement of customer CODE.

    \b
    Example:
      kehu acme show C001 --json
    """

    with transaction() as (app, session):
        section = profile_section(session, get_customer(session, code).id)
    if as_json:
        emit_json(section.data)
    else:
        emit_pairs(section.title, section.rows)


@acme.command("manager")
@click.argument("name", required=False)
@click.option("--clear", is_flag=True, help="Nobody: complaints stay with the handler they were given.")
@json_option
def manager(name: str | None, clear: bool, as_json: bool) -> None:
    """Show or name the manager who takes every complaint of a key account (大客户经理).

    \b
    Example:
      kehu acme manager 赵敏          # from now on, key accounts' complaints go to 赵敏
      kehu acme manager               # who it is
      kehu acme manager --clear
    """
    if name is not None and clear:
        raise click.UsageError(_("give a NAME or --clear, not both"))
    with transaction() as (app, session):
        if name is None and not clear:
            current = key_account_manager(session)
        else:
            current = set_key_account_manager(app, session, name)
    emit_result(
        {"key_account_manager": current},
        as_json,
        _("key-account manager: {name}").format(name=current or "-"),
    )


@acme.command("reviews")
@json_option
def reviews(as_json: bool) -> None:
    """The weekly reviews (the job acme_rules.weekly_review), oldest first.

    \b
    Example:
      kehu --as zhaomin acme reviews --json
    """
    with transaction() as (app, session):
        found = list_reviews(session)
    if as_json:
        emit_json(found)
    else:
        emit_table(
            [_("week"), _("key accounts"), _("late payers"), _("open key complaints")],
            [(r.week, r.key_accounts, r.late_payers, r.open_key_complaints) for r in found],
        )
