"""The ``kehu`` command line: a click group built by a factory, so tests and embedders get a fresh one.

Plugins add their commands through ``kehu_register_commands``. Heavy modules (SQLAlchemy,
the services) are imported inside commands, so ``kehu --help`` stays fast.
"""
from __future__ import annotations

import sys
import traceback
from typing import Any

import click

from kehu_core.cli.context import CliState, current_app, requires_plugin, state, transaction

__all__ = ["create_cli", "main", "requires_plugin", "current_app", "state", "transaction"]

REPORT_URL = "https://github.com/kehu-crm/kehu/issues"


class KehuGroup(click.Group):
    """The root group: turns kehu's user errors into one clear message and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        from kehu_core.errors import KehuError

        try:
            return super().invoke(ctx)
        except KehuError as exc:
            raise _UserError(str(exc), exc.exit_code) from exc
        except Exception as exc:
            message = _operational_message(exc)
            if message:
                raise _UserError(message, 1) from exc
            raise


class _UserError(click.ClickException):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def _operational_message(exc: Exception) -> str | None:
    """A clear message for database errors a user can fix (cannot connect, locked), else None."""
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OperationalError):
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if "locked" in detail:
            return f"the database stayed locked by another kehu process: {detail}. Try again when it has finished."
        return f"cannot use the database: {detail}"
    return None


def create_cli(plugins: Any = None) -> click.Group:
    """Build the ``kehu`` group with the core's commands and every loaded plugin's.

    Parameters:
        plugins: a :class:`~kehu_core.plugins.Plugins` facade (default: discovered now).
    """
    from kehu_core.cli import admin, plugins_cmd
    from kehu_core.cli.customer import customer
    from kehu_core.cli.imports import customer_import, interaction_import
    from kehu_core.cli.interaction import interaction
    from kehu_core.errors import KehuError
    from kehu_core.plugins import discover

    if plugins is None:
        try:
            plugins = discover()
        except KehuError as exc:  # strict mode: a broken plugin is fatal
            raise click.ClickException(str(exc)) from exc

    @click.group(cls=KehuGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
    @click.option("--db", "db_url", envvar="KEHU_DATABASE_URL", metavar="URL",
                  help="Database: a SQLite file path or a SQLAlchemy URL (postgresql://user@host/db). "
                       "Default: $KEHU_DATABASE_URL, then ./kehu.db.")
    @click.version_option(package_name="kehu-core", prog_name="kehu")
    @click.pass_context
    def cli(ctx: click.Context, db_url: str | None) -> None:
        """kehu (客户): customers, interactions, and the plugins you install.

        \b
        Start:  kehu init && kehu demo && kehu customer list
        Help:   kehu COMMAND --help
        """
        ctx.obj = CliState(plugins=plugins, db_url=db_url)
        ctx.call_on_close(ctx.obj.close)
        broken = [i for i in plugins.errors]
        if broken and not ctx.resilient_parsing:
            names = ", ".join(i.name for i in broken)
            click.echo(f"warning: plugin(s) {names} failed to load and were skipped; see `kehu plugins list`", err=True)

    customer.add_command(customer_import)
    interaction.add_command(interaction_import)
    for group in (customer, interaction):
        cli.add_command(group)
    admin.register(cli)
    plugins_cmd.register(cli)
    for impl in plugins.pm.hook.kehu_register_commands.get_hookimpls():
        try:
            impl.function(cli=cli)
        except Exception as exc:
            # A plugin whose registration raises must not take the CLI down.
            name = plugins.pm.get_name(impl.plugin)
            click.echo(f"warning: plugin {name} failed to register its commands: {type(exc).__name__}: {exc}", err=True)
    return cli


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI, and explain crashes instead of only dumping them."""
    cli = create_cli()
    try:
        cli.main(args=argv, prog_name="kehu", standalone_mode=True)
    except SystemExit:
        raise
    except Exception:
        traceback.print_exc()
        click.echo(
            "\nkehu crashed: this is a bug, and nothing of this command was saved. "
            f"Please report it with the traceback above at {REPORT_URL}",
            err=True,
        )
        sys.exit(70)
