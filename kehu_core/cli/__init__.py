"""The ``kehu`` command line: a click group built by a factory, so tests and embedders get a fresh one.

This is kehu's one lazy boundary. The core's commands and those a plugin's manifest declares
are registered by import path and imported only when they run or show their own help, so
``kehu --help`` imports no command module, no service and no SQLAlchemy. Everything below
this module imports at its top.
"""

from __future__ import annotations

import errno
import gc
import sys
import traceback
from collections.abc import Iterable
from typing import Any

import click

from kehu_core.cli.help import click_messages
from kehu_core.cli.lazy import LazyGroup
from kehu_core.errors import KehuError
from kehu_core.i18n import N_, messages
from kehu_core.plugins import Plugins, discover

__all__ = ["CliState", "KehuGroup", "create_cli", "main", "script"]

_ = messages("kehu_core").gettext

REPORT_URL = "https://github.com/kehu-crm/kehu/issues"


#: Core commands, imported only when used, so that ``kehu --help`` loads none of them. The
#: short helps are marked for the catalog and translated when ``kehu --help`` shows them.
CORE_COMMANDS = {
    "customer": ("kehu_core.cli.customer:customer", N_("Customers and their profile cards (客户资料卡).")),
    "interaction": (
        "kehu_core.cli.interaction:interaction",
        N_("Interactions: visits, calls, purchases, payments, the visit plan."),
    ),
    "init": ("kehu_core.cli.admin:init", N_("Create the database schema, or bring it up to date.")),
    "db": ("kehu_core.cli.admin:db", N_("The database schema: status and upgrades.")),
    "demo": ("kehu_core.cli.admin:demo", N_("Load a generated, realistic demo data set.")),
    "plugins": (
        "kehu_core.cli.plugins_cmd:plugins",
        N_("Plugins: available (pip-installed) and installed (in this database)."),
    ),
    "hooks": (
        "kehu_core.cli.plugins_cmd:hooks",
        N_("Every hook spec: signature, documentation, implementers."),
    ),
    "jobs": (
        "kehu_core.cli.plugins_cmd:jobs",
        N_("Scheduled jobs (like Odoo's ir.cron); run `kehu jobs run-due` from cron."),
    ),
    "user": ("kehu_core.cli.users:user", N_("Users: add, list, roles, passwords, API tokens.")),
    "roles": ("kehu_core.cli.roles:roles", N_("Roles and permissions, with the plugin that declared each.")),
    "audit": (
        "kehu_core.cli.audit:audit",
        N_("Who changed what and when: a customer's audit trail, or settings'."),
    ),
    "settings": ("kehu_core.cli.settings:settings", N_("The core's settings (sales_scope ...).")),
    "plugin": (
        "kehu_core.cli.scaffold_cmd:plugin",
        N_("Write your own plugin: `kehu plugin new NAME` scaffolds a pip-installable one."),
    ),
}

#: The start of every message about a change saved before an error (never said twice).
_SAVED_PREFIX = N_("the change was saved")


class CliState:
    """Per-invocation state stored in ``click.Context.obj``: the plugins, the database URL, and
    the app, which :func:`kehu_core.cli.context.current_app` opens on first use."""

    def __init__(
        self,
        plugins: Plugins,
        db_url: str | None = None,
        without: Iterable[str] = (),
        as_user: str | None = None,
        wide: bool = False,
    ):
        self.plugins = plugins
        self.db_url = db_url
        #: ``--as`` (or ``$KEHU_USER``): the user this invocation acts as.
        self.as_user = as_user
        self.app: Any = None
        #: Plugins whose load error was already reported in this invocation.
        self.warned: set[str] = set()
        #: ``--without-plugin``: installed plugins this invocation may write without.
        self.without: set[str] = set(without)
        #: ``--wide`` (or ``$KEHU_WIDE=1``): tables show whole cells instead of cutting them.
        self.wide = wide

    @property
    def saved(self) -> bool:
        """True when a transaction of this invocation wrote to the database and committed."""
        return self.app is not None and self.app.committed_writes > 0

    def close(self) -> None:
        """Release the database connections."""
        if self.app is not None:
            self.app.dispose()


class KehuGroup(LazyGroup):
    """The root group.

    Turns kehu's user errors into one clear message and a non-zero exit, and holds the core's
    and the plugins' commands by reference (:class:`~kehu_core.cli.lazy.LazyGroup`).
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line, click's own messages in the user's language too."""
        with click_messages():
            return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KehuError as exc:
            raise _UserError(_after_save(ctx, str(exc)), exc.exit_code) from exc
        except Exception as exc:
            message = _operational_message(exc) or _output_message(exc, _saved(ctx))
            if message:
                raise _UserError(_after_save(ctx, message), 1) from exc
            self.saved_before_crash = _saved(ctx)
            raise


def _saved(ctx: click.Context) -> bool:
    state = ctx.obj
    return isinstance(state, CliState) and state.saved


def _after_save(ctx: click.Context, message: str) -> str:
    """``message``, saying first that this command's changes were saved when they were: an
    error after the commit must not read as if nothing happened."""
    if not _saved(ctx) or message.startswith((_SAVED_PREFIX, _(_SAVED_PREFIX))):
        return message
    return _("the change was saved before this error and stays saved; then: {message}").format(
        message=message
    )


#: Errors writing output that are the machine's, not a bug: disk full, pipe closed, no permission.
_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EPIPE, errno.EACCES, errno.EROFS, errno.EIO, errno.EDQUOT, errno.EFBIG}


def _output_message(exc: Exception, saved: bool) -> str | None:
    """One line for an output file or standard output that could not be written, else None."""
    if not isinstance(exc, OSError) or exc.errno not in _OUTPUT_ERRNOS:
        return None
    where = (
        _("cannot write {file}").format(file=exc.filename) if exc.filename else _("cannot write the output")
    )
    reason = exc.strerror or str(exc)
    if saved:
        return _("the change was saved; only writing the result failed: {where}: {reason}").format(
            where=where, reason=reason
        )
    return _("{where}: {reason}; nothing of this command was saved").format(where=where, reason=reason)


class _UserError(click.ClickException):
    """A kehu error shown as click shows its own, with the error's exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self._code = exit_code

    @property
    def exit_code(self) -> int:  # type: ignore[override]  # click's is class-wide; kehu's errors differ
        return self._code


def _operational_message(exc: Exception) -> str | None:
    """A clear message for database errors a user can fix (cannot connect, locked), else None."""
    if "sqlalchemy" not in sys.modules:
        return None
    # The one import inside a function: this module is the root group, which must not import
    # SQLAlchemy (`kehu --help`). This runs only after a command failed, and a database error
    # means SQLAlchemy is loaded already, so the import costs nothing.
    from sqlalchemy.exc import DatabaseError, OperationalError  # noqa: PLC0415

    if not isinstance(exc, DatabaseError):
        return None
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    lowered = detail.lower()
    if not isinstance(exc, OperationalError):
        # SQLite's words for a file that is not a database, or a damaged one.
        if any(words in lowered for words in ("file is not a database", "malformed")):
            return _(
                "the database file is not a SQLite database, or it is damaged ({detail}); nothing "
                "was changed. Check --db or KEHU_DATABASE_URL, or restore the file from a backup."
            ).format(detail=detail)
        return None
    if any(full in lowered for full in ("disk is full", "no space left", "could not extend file")):
        return _(
            "the disk holding the database is full: {detail}. This command's transaction was "
            "rolled back; free some space and run it again."
        ).format(detail=detail)
    if "locked" in detail:
        return _(
            "the database stayed locked by another kehu process: {detail}. Try again when it has finished."
        ).format(detail=detail)
    return _("cannot use the database: {detail}").format(detail=detail)


def create_cli(plugins: Plugins | None = None) -> KehuGroup:
    """Build the ``kehu`` group with the core's commands and every loaded plugin's.

    Parameters:
        plugins: a :class:`~kehu_core.plugins.Plugins` facade (default: discovered now).
    """
    if plugins is None:
        try:
            plugins = discover()
        except KehuError as exc:  # strict mode: a broken plugin is fatal
            raise click.ClickException(str(exc)) from exc

    @click.group(
        cls=KehuGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
    )
    @click.option(
        "--db",
        "db_url",
        envvar="KEHU_DATABASE_URL",
        metavar="URL",
        help="Database: a SQLite file path or a SQLAlchemy URL (postgresql://user@host/db). "
        "Default: $KEHU_DATABASE_URL, then ./kehu.db.",
    )
    @click.option(
        "--without-plugin",
        "without",
        multiple=True,
        metavar="NAME",
        help="Write although installed plugin NAME is not loaded here (its hooks miss this change; "
        "catch up afterwards: kehu loyalty backfill, kehu complaint backfill, kehu tier rebuild). "
        "Repeatable; also $KEHU_ALLOW_MISSING_PLUGINS=NAME,NAME.",
    )
    @click.option(
        "--as",
        "as_user",
        envvar="KEHU_USER",
        metavar="LOGIN",
        help="Act as user LOGIN (default: $KEHU_USER, then your OS login). Needed once the "
        "database has users; without users, whoever runs kehu is its administrator.",
    )
    @click.option(
        "--wide",
        is_flag=True,
        envvar="KEHU_WIDE",
        help="Show whole cells in tables (they are cut at 40 columns otherwise). Also $KEHU_WIDE=1.",
    )
    # The help is given here so that it is kehu's message, translated when shown (click's own
    # default is translated when this module is imported, before the language is known).
    @click.version_option(package_name="kehu-core", prog_name="kehu", help="Show the version and exit.")
    @click.pass_context
    def cli(
        ctx: click.Context, db_url: str | None, without: tuple[str, ...], as_user: str | None, wide: bool
    ) -> None:
        """kehu (客户): customers, interactions, and the plugins you install.

        \b
        Start:  kehu init && kehu demo && kehu customer list
        Help:   kehu COMMAND --help
        """
        ctx.obj = CliState(plugins=plugins, db_url=db_url, without=without, as_user=as_user, wide=wide)
        ctx.call_on_close(ctx.obj.close)
        # Errors found reading the manifests; reading `plugins.errors` would import every
        # plugin's hooks, which waits until a command opens the app (see current_app).
        broken = [i for i in plugins.infos.values() if i.error]
        if broken and not ctx.resilient_parsing:
            ctx.obj.warned.update(i.name for i in broken)
            names = ", ".join(i.name for i in broken)
            click.echo(
                _(
                    "warning: plugin(s) {names} failed to load and were skipped; see `kehu plugins list`"
                ).format(names=names),
                err=True,
            )

    for name, (path, short_help) in CORE_COMMANDS.items():
        cli.add_lazy_command(name, path, short_help)
    for plugin_name, info in sorted(plugins.available.items()):
        for name, (path, short_help) in (info.manifest.commands if info.manifest else {}).items():
            if name in cli.lazy:
                click.echo(
                    _("warning: plugin {plugin}'s command {name!r} clashes with another; skipped").format(
                        plugin=plugin_name, name=name
                    ),
                    err=True,
                )
                continue
            cli.add_lazy_command(name, path, short_help)
    return cli


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI, and explain crashes instead of only dumping them."""
    try:
        cli = create_cli()
    except click.ClickException as exc:  # KEHU_STRICT_PLUGINS and a broken plugin
        exc.show()
        sys.exit(exc.exit_code)
    try:
        cli.main(args=argv, prog_name="kehu", standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:
        traceback.print_exc()
        if cli.saved_before_crash:
            message = _(
                "kehu crashed: this is a bug, and the change was saved (its transaction had committed); "
                "only what came after it failed: {error}. Please report it with the traceback above at {url}"
            )
        else:
            message = _(
                "kehu crashed: this is a bug, and nothing of this command was saved. "
                "Please report it with the traceback above at {url}"
            )
        click.echo("\n" + message.format(error=f"{type(exc).__name__}: {exc}", url=REPORT_URL), err=True)
        sys.exit(70)


def script() -> None:
    """The ``kehu`` script: :func:`main`, and then an exit that skips needless garbage collection.

    What the command created is freed when the process exits; frozen, it is left out of the
    interpreter's last garbage collections, which walk every object the imported libraries
    made (about a second once a forecast command has imported its models). Exit hooks,
    ``finally`` blocks and file flushing run as usual. Not for embedders: they call :func:`main`.
    """
    try:
        main()
    finally:
        gc.freeze()
