"""``kehu loyalty settings``: the programme's settings."""

from __future__ import annotations

import click

from kehu_core.cli.context import PluginGroup, transaction
from kehu_core.cli.output import emit_result, emit_rows, json_option, list_output_options
from kehu_core.cli.params import NEGATIVE_VALUES
from kehu_core.i18n import messages
from kehu_loyalty import api
from kehu_loyalty.settings import LADDER_MODE

_ = messages("kehu_loyalty").gettext


@click.group("settings", cls=PluginGroup, plugin="loyalty")
def settings_group() -> None:
    """Programme settings: earn rate, bonuses, expiry, tier multipliers."""


@settings_group.command("list")
@list_output_options
def settings_list(as_json: bool, as_csv: bool) -> None:
    """Every setting with its value and meaning.

    \b
    Example:
      kehu loyalty settings list
    """
    with transaction() as (_app, session):
        rows = api.list_settings(session)
    if not (as_json or as_csv):  # a choice by its label in text; scripts read the code
        rows = [
            {**r, "value": LADDER_MODE.label(r["value"])} if r["key"] == "ladder_mode" else r for r in rows
        ]
    emit_rows(
        (_("setting"), _("value"), _("meaning")),
        rows,
        ("key", "value", "help"),
        as_json=as_json,
        as_csv=as_csv,
    )


@settings_group.command("set", context_settings=NEGATIVE_VALUES)
@click.argument("key")
@click.argument("value")
@json_option
def settings_set(key: str, value: str, as_json: bool) -> None:
    """Change a setting (``tier_multiplier.VIP 2`` adds or changes a tier multiplier).

    \b
    Example:
      kehu loyalty settings set expiry_months 24
    """
    with transaction() as (app, session):
        result = api.set_setting(session, key, value, app=app)
    emit_result(result, as_json, f"{result['key']} = {result['value']}")
