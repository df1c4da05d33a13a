"""``kehu user``: users, their roles, passwords and API tokens."""

from __future__ import annotations

import click

from kehu_core import users
from kehu_core.cli.context import transaction
from kehu_core.cli.help import TranslatedGroup
from kehu_core.cli.output import emit_json, emit_result, emit_rows, json_option, list_output_options
from kehu_core.i18n import N_, messages
from kehu_core.users import UserRecord

_ = messages("kehu_core").gettext

#: The columns of ``user list``: (key in --json and --csv, header people read).
USER_COLUMNS = (
    ("login", N_("login")),
    ("name", N_("name")),
    ("roles", N_("roles")),
    ("team", N_("team")),
    ("region", N_("region")),
    ("active", N_("active")),
    ("password", N_("password")),
)
#: The columns of ``user token list``.
TOKEN_COLUMNS = (
    ("prefix", N_("prefix")),
    ("login", N_("login")),
    ("name", N_("name")),
    ("created_at", N_("created at")),
    ("last_used_at", N_("last used at")),
    ("revoked_at", N_("revoked at")),
)

_ROLE = click.option(
    "--role",
    "roles",
    multiple=True,
    metavar="ROLE",
    help="A role to hold (repeatable): admin, manager, sales, service...",
)


def _describe(user: UserRecord) -> str:
    roles = ", ".join(user.roles) or _("no role")
    if user.team and user.active:
        text = _("{login} ({name}): {roles}, team {team}")
    elif user.team:
        text = _("{login} ({name}): {roles}, team {team} (deactivated)")
    elif user.active:
        text = _("{login} ({name}): {roles}")
    else:
        text = _("{login} ({name}): {roles} (deactivated)")
    return text.format(login=user.login, name=user.name, roles=roles, team=user.team)


def _read_password(prompt: bool) -> str | None:
    if not prompt:
        return None
    value: str = click.prompt(_("Password"), hide_input=True, confirmation_prompt=True)
    return value


@click.group(cls=TranslatedGroup, name="user")
def user() -> None:
    """Users: who may use kehu, with which roles (see `kehu roles`).

    \b
    Once a database has a user, every command acts as one: `kehu --as LOGIN ...`,
    or KEHU_USER=LOGIN, or your OS login when it is a user's. The first user must be an admin.

    \b
    Example:
      kehu user add boss --name 张总 --role admin
      kehu --as boss user add li --name 李明 --role sales --team 华东
    """


@user.command("add")
@click.argument("login")
@click.option("--name", help="Display name (default: the login).")
@_ROLE
@click.option("--team", help="Team, for 'my team's customers' and complaints.")
@click.option("--region", help="Region.")
@click.option("--password", "ask_password", is_flag=True, help="Ask for a password (for the web client).")
@json_option
def add(
    login: str,
    name: str | None,
    roles: tuple[str, ...],
    team: str | None,
    region: str | None,
    ask_password: bool,
    as_json: bool,
) -> None:
    """Add user LOGIN. Needs users.manage; the first user of a database must be an admin.

    \b
    Example:
      kehu user add li --name 李明 --role sales --team 华东 --password
    """
    password = _read_password(ask_password)
    with transaction() as (app, session):
        record = users.add_user(
            app, session, login, name, roles=roles, team=team, region=region, password=password
        )
    emit_result(record, as_json, _("added user {user}").format(user=_describe(record)))


@user.command("list")
@click.option("--all", "include_inactive", is_flag=True, help="Include deactivated users.")
@list_output_options
def list_(include_inactive: bool, as_json: bool, as_csv: bool) -> None:
    """List the users (never their passwords).

    \b
    Example:
      kehu user list --all --json
    """
    with transaction() as (_app, session):
        found = users.list_users(session, include_inactive=include_inactive)
    rows = [
        {
            "login": u.login,
            "name": u.name,
            "roles": ",".join(u.roles),
            "team": u.team,
            "region": u.region,
            "active": u.active,
            "password": u.has_password,
        }
        for u in found
    ]
    keys = [key for key, _header in USER_COLUMNS]
    emit_rows([_(h) for _k, h in USER_COLUMNS], rows, keys, as_json=as_json, as_csv=as_csv)


@user.command("edit")
@click.argument("login")
@click.option("--name", help="New display name.")
@click.option("--team", help="New team ('' clears it).")
@click.option("--region", help="New region ('' clears it).")
@json_option
def edit(login: str, name: str | None, team: str | None, region: str | None, as_json: bool) -> None:
    """Change user LOGIN's name, team or region.

    \b
    Example:
      kehu user edit li --team 华南
    """
    with transaction() as (_app, session):
        record = users.edit_user(session, login, name=name, team=team, region=region)
    emit_result(record, as_json, _("changed user {user}").format(user=_describe(record)))


@user.command("deactivate")
@click.argument("login")
@json_option
def deactivate(login: str, as_json: bool) -> None:
    """Deactivate user LOGIN: they can no longer act, their tokens stop working, their history stays.

    \b
    Example:
      kehu user deactivate li
    """
    with transaction() as (_app, session):
        record = users.set_active(session, login, False)
    emit_result(record, as_json, _("deactivated {user}").format(user=_describe(record)))


@user.command("activate")
@click.argument("login")
@json_option
def activate(login: str, as_json: bool) -> None:
    """Reactivate user LOGIN (their old tokens stay revoked).

    \b
    Example:
      kehu user activate li
    """
    with transaction() as (_app, session):
        record = users.set_active(session, login, True)
    emit_result(record, as_json, _("reactivated {user}").format(user=_describe(record)))


@user.command("roles")
@click.argument("login")
@click.option("--add", "add_roles", multiple=True, metavar="ROLE", help="Give this role (repeatable).")
@click.option(
    "--remove", "remove_roles", multiple=True, metavar="ROLE", help="Take this role away (repeatable)."
)
@json_option
def roles_(login: str, add_roles: tuple[str, ...], remove_roles: tuple[str, ...], as_json: bool) -> None:
    """Show user LOGIN's roles, or change them with --add and --remove.

    \b
    Example:
      kehu user roles li --add manager --remove sales
    """
    with transaction() as (app, session):
        record = users.change_roles(app, session, login, add=add_roles, remove=remove_roles)
    emit_result(record, as_json, _describe(record))


@user.command("password")
@click.argument("login")
@click.option("--remove", is_flag=True, help="Remove the password (no password login).")
def password(login: str, remove: bool) -> None:
    """Set user LOGIN's password (asked twice, never shown). Your own, or anyone's with users.manage.

    \b
    Example:
      kehu --as li user password li
    """
    secret = None if remove else _read_password(True)
    with transaction() as (_app, session):
        users.set_password(session, login, secret)
    click.echo(
        (_("password of {login} removed") if remove else _("password of {login} set")).format(login=login)
    )


@user.group("token", cls=TranslatedGroup)
def token() -> None:
    """API tokens: for scripts and the web API, one per use, revocable.

    \b
    Example:
      kehu --as li user token create li --name nightly-export
      kehu --as li user token revoke 3f9a1c2b7d10
    """


@token.command("create")
@click.argument("login")
@click.option("--name", default="token", show_default=True, help="What the token is for.")
@json_option
def token_create(login: str, name: str, as_json: bool) -> None:
    """Create an API token for LOGIN and print it once: it is not stored, only its digest.

    \b
    Example:
      kehu --as li user token create li --name nightly-export
    """
    with transaction() as (_app, session):
        record, secret = users.create_token(session, login, name)
    if as_json:
        emit_json({"prefix": record.prefix, "login": record.login, "name": record.name, "token": secret})
        return
    click.echo(
        _("token {prefix} for {login} ({name}); copy it now, it is not shown again:").format(
            prefix=record.prefix, login=record.login, name=record.name
        )
    )
    click.echo(secret)


@token.command("revoke")
@click.argument("prefix")
@json_option
def token_revoke(prefix: str, as_json: bool) -> None:
    """Revoke the token PREFIX (as `kehu user token list` shows it); it stops working at once.

    \b
    Example:
      kehu user token revoke 3f9a1c2b7d10
    """
    with transaction() as (_app, session):
        record = users.revoke_token(session, prefix)
    emit_result(
        record,
        as_json,
        _("revoked token {prefix} of {login}").format(prefix=record.prefix, login=record.login),
    )


@token.command("list")
@click.argument("login", required=False)
@list_output_options
def token_list(login: str | None, as_json: bool, as_csv: bool) -> None:
    """List LOGIN's tokens (default: yours): prefix, name, created, last used, revoked.

    \b
    Example:
      kehu --as li user token list
    """
    with transaction() as (_app, session):
        found = users.list_tokens(session, login)
    keys = [key for key, _header in TOKEN_COLUMNS]
    headers = [_(h) for _k, h in TOKEN_COLUMNS]
    emit_rows(
        headers, ({k: getattr(t, k) for k in keys} for t in found), keys, as_json=as_json, as_csv=as_csv
    )
