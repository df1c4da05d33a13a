"""``kehu audit``: who changed what, and when."""

from __future__ import annotations

import click

from kehu_core import audit as audit_service
from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import emit_rows, list_output_options, row_count
from kehu_core.fields import CUSTOMER_LABELS
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
#: What the core's entries are about, as people read them (plugins' entities show as written).
ENTITIES = {
    "customer": N_("customer"),
    "role": N_("role"),
    "setting": N_("setting"),
    "user": N_("user"),
    "import": N_("import"),
}
#: The core's actions, as people read them (a plugin's show as written).
ACTIONS = {
    "created": N_("created"),
    "edited": N_("edited"),
    "archived": N_("archived"),
    "restored": N_("restored"),
    "forgotten": N_("forgotten"),
    "granted": N_("granted"),
    "revoked": N_("revoked"),
    "set": N_("set"),
    "activated": N_("activated"),
    "deactivated": N_("deactivated"),
    "roles": N_("roles changed"),
    "password set": N_("password set"),
    "password removed": N_("password removed"),
    "token created": N_("token created"),
    "token revoked": N_("token revoked"),
    "imported customers": N_("imported customers"),
    "imported interactions": N_("imported interactions"),
}
#: Fields named in the core's changes, as people read them (others show as written).
FIELDS = {
    **CUSTOMER_LABELS,
    "description": N_("description"),
    "permission": N_("permission"),
    "roles": N_("roles"),
    "team": N_("team"),
    "token": N_("token"),
    "added": N_("added"),
    "updated": N_("updated"),
}
#: The value the trail keeps for a personal field instead of the value (see kehu_core.audit).
CHANGED = "changed"


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
            "entity": e.entity if as_json or as_csv else _label(ENTITIES, e.entity),
            "key": e.key,
            "action": e.action if as_json or as_csv else _label(ACTIONS, e.action),
            "changes": e.changes if as_json else _raw_summary(e.changes) if as_csv else _summary(e.changes),
        }
        for e in entries
    )
    emit_rows([_(header) for _key, header in COLUMNS], rows, keys, as_json=as_json, as_csv=as_csv)


def _label(labels: dict[str, str], code: str) -> str:
    """``code`` as people read it, when the core knows it."""
    return _(labels[code]) if code in labels else code


def _value(value: object) -> str:
    if value is None or value == "":
        return "-"
    if value == CHANGED:
        return _("changed")
    return str(value)


def _raw_summary(changes: dict[str, object]) -> str:
    """``field: old -> new; ...`` as stored, for CSV: field codes and values, whatever the language."""
    parts = []
    for field, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            parts.append(f"{field}: {value[0]} -> {value[1]}")
        else:
            parts.append(f"{field}: {value}")
    return "; ".join(parts)


def _summary(changes: dict[str, object]) -> str:
    """``field: old -> new; ...`` with the core's field names in the user's language."""
    parts = []
    for field, value in changes.items():
        name = _label(FIELDS, field)
        if isinstance(value, list) and len(value) == 2:
            parts.append(
                _("{field}: {old} -> {new}").format(field=name, old=_value(value[0]), new=_value(value[1]))
            )
        else:
            parts.append(_("{field}: {value}").format(field=name, value=_value(value)))
    return _("; ").join(parts)
