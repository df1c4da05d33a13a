"""``kehu audit``: who changed what, and when."""

from __future__ import annotations

import click

from kehu_core import audit as audit_service
from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import emit_rows, list_output_options, row_count
from kehu_core.i18n import N_, messages

_ = messages("kehu_core").gettext

#: The columns: (key in --json and --csv, header people read).
COLUMNS = (
    ("at", N_("at")),
    ("actor", N_("actor")),
    ("entity", N_("entity")),
    ("key", N_("key")),
    ("action", N_("action")),
    ("changes", N_("changes")),
)


@click.command(cls=TranslatedCommand, name="audit")
@click.argument("code", required=False)
@click.option(
    "--entity",
    metavar="ENTITY",
    help="Only entries about this kind of thing: customer, complaint, points, setting, user, role, "
    "import, or a plugin's (forecast.target ...). Without CODE: all of them.",
)
@click.option(
    "--key",
    help="Only entries about this one (a setting like core.sales_scope, a login, a complaint number).",
)
@click.option("--limit", type=row_count(1), help="At most this many entries.")
@list_output_options
def audit(
    code: str | None, entity: str | None, key: str | None, limit: int | None, as_json: bool, as_csv: bool
) -> None:
    """The audit trail of customer CODE (its record, complaints, points), or of settings, users
    and roles with --entity. Oldest first; personal data shows only as "changed". Needs audit.read.

    \b
    Example:
      kehu audit C0001
      kehu audit --entity setting
      kehu audit --entity user --key li --json
    """
    if code is None and entity is None:
        raise click.UsageError(_("name a customer CODE, or --entity (setting, user, role, ...)"))
    with transaction() as (_app, session):
        if code is not None:
            entries = audit_service.customer_trail(session, code, entity=entity, key=key, limit=limit)
        else:
            entries = audit_service.trail(session, entity=entity, key=key, limit=limit)
    keys = [key for key, _header in COLUMNS]
    rows = (
        {
            "at": e.at,
            "actor": e.actor,
            "entity": e.entity,
            "key": e.key,
            "action": e.action,
            "changes": e.changes if as_json else _summary(e.changes),
        }
        for e in entries
    )
    emit_rows([_(header) for _key, header in COLUMNS], rows, keys, as_json=as_json, as_csv=as_csv)


def _summary(changes: dict[str, object]) -> str:
    parts = []
    for field, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            parts.append(f"{field}: {value[0]} -> {value[1]}")
        else:
            parts.append(f"{field}: {value}")
    return "; ".join(parts)
