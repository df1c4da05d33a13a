"""``kehu roles``: every role and permission, who declared it, and the company's changes."""

from __future__ import annotations

import click

from kehu_core import roles as role_service
from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedGroup
from kehu_core.cli.output import emit_json, emit_rows, emit_table, json_option
from kehu_core.i18n import messages

_ = messages("kehu_core").gettext


@click.group(cls=TranslatedGroup, name="roles", invoke_without_command=True)
@json_option
@click.pass_context
def roles(ctx: click.Context, as_json: bool) -> None:
    """Roles and permissions: which plugin declared each, and which roles hold it now.

    \b
    Example:
      kehu roles
      kehu roles add auditor --description "reads the audit trail"
      kehu roles grant auditor audit.read
      kehu roles revoke sales customer.write
    """
    if ctx.invoked_subcommand is not None:
        return
    with transaction() as (app, session):
        found = role_service.role_table(app, session)
    if as_json:
        emit_json(found)
        return
    click.secho(_("Roles"), bold=True)
    emit_table(
        [_("role"), _("declared by"), _("implies"), _("description")],
        [(r.name, r.plugin, ", ".join(r.implies), r.description) for r in found.roles],
    )
    click.echo()
    click.secho(_("Permissions"), bold=True)
    keys = ["permission", "declared by", "roles", "description"]
    emit_rows(
        [_("permission"), _("declared by"), _("roles"), _("description")],
        (
            {
                "permission": p.name,
                "declared by": p.plugin,
                "roles": ", ".join(p.roles),
                "description": p.description,
            }
            for p in found.permissions
        ),
        keys,
        as_json=False,
        as_csv=False,
    )


@roles.command("add")
@click.argument("name")
@click.option("--description", default="", help="What the role is for.")
@json_option
def add(name: str, description: str, as_json: bool) -> None:
    """Add a company role NAME; give it permissions with `kehu roles grant`.

    \b
    Example:
      kehu roles add auditor --description "reads the audit trail"
    """
    with transaction() as (app, session):
        summary = role_service.add_role(app, session, name, description)
    if as_json:
        emit_json(summary)
    else:
        click.echo(_("added role {name}").format(name=summary.name))


@roles.command("grant")
@click.argument("role")
@click.argument("permission")
def grant(role: str, permission: str) -> None:
    """Let ROLE do what PERMISSION names.

    \b
    Example:
      kehu roles grant sales customer.import
    """
    with transaction() as (app, session):
        role_service.grant(app, session, role, permission)
    click.echo(_("{role} now holds {permission}").format(role=role, permission=permission))


@roles.command("revoke")
@click.argument("role")
@click.argument("permission")
def revoke(role: str, permission: str) -> None:
    """Take PERMISSION from ROLE, even one it holds by default.

    \b
    Example:
      kehu roles revoke service interaction.write
    """
    with transaction() as (app, session):
        role_service.revoke(app, session, role, permission)
    click.echo(_("{role} no longer holds {permission}").format(role=role, permission=permission))
