"""``kehu settings``: the core's settings, checked when set and audited."""

from __future__ import annotations

import click

from kehu_core import settings as setting_service
from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedGroup
from kehu_core.cli.output import emit_result, emit_rows, json_option, list_output_options
from kehu_core.cli.params import NEGATIVE_VALUES
from kehu_core.i18n import N_, messages

_ = messages("kehu_core").gettext

#: The columns: (key in --json and --csv, header people read).
COLUMNS = (("key", N_("key")), ("value", N_("value")), ("default", N_("default")), ("meaning", N_("meaning")))


@click.group(cls=TranslatedGroup, name="settings")
def settings() -> None:
    """The core's settings (plugins have their own, e.g. `kehu complaint settings`).

    \b
    Example:
      kehu settings list
      kehu settings set sales_scope team
    """


@settings.command("list")
@list_output_options
def list_(as_json: bool, as_csv: bool) -> None:
    """Every core setting: value, default, meaning.

    \b
    Example:
      kehu settings list --json
    """
    with transaction() as (_app, session):
        found = setting_service.list_settings(session)
    keys = [key for key, _header in COLUMNS]
    headers = [_(header) for _key, header in COLUMNS]
    emit_rows(
        headers, ({k: getattr(s, k) for k in keys} for s in found), keys, as_json=as_json, as_csv=as_csv
    )


@settings.command("set", context_settings=NEGATIVE_VALUES)
@click.argument("key")
@click.argument("value")
@json_option
def set_(key: str, value: str, as_json: bool) -> None:
    """Set core setting KEY to VALUE (checked first; needs settings.manage).

    \b
    Example:
      kehu settings set sales_scope team
    """
    with transaction() as (_app, session):
        found = setting_service.set_setting(session, key, value)
    emit_result(found, as_json, _("{key} = {value}").format(key=found.key, value=found.value))
