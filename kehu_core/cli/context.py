"""The CLI's shared state: which database, the app opened on first use, and error handling."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from kehu_core.access import ENV_USER, Actor, act_as, cli_login, require
from kehu_core.app import Kehu
from kehu_core.cli import CliState
from kehu_core.cli.lazy import LazyGroup
from kehu_core.db import create_db_engine, describe
from kehu_core.errors import KehuError
from kehu_core.i18n import messages
from kehu_core.models import User
from kehu_core.schemacheck import missing_table, require_up_to_date

_ = messages("kehu_core").gettext


def state() -> CliState:
    """The current invocation's :class:`~kehu_core.cli.CliState`."""
    return click.get_current_context().find_object(CliState)  # type: ignore[return-value]


def current_app(create: bool = False) -> Kehu:
    """The app of the current invocation, opened on the chosen database on first use.

    Only the commands that build a schema (``kehu init``, ``kehu db upgrade``) pass
    ``create=True``: every other command refuses a SQLite path with no database ("run
    ``kehu init``") instead of leaving an empty file behind.
    """
    cli_state = state()
    if cli_state.app is None:
        engine = create_db_engine(cli_state.db_url, create=create)
        cli_state.app = Kehu(cli_state.db_url, plugins=cli_state.plugins, engine=engine)
        cli_state.app.allow_missing |= cli_state.without
        broken = [info.name for info in cli_state.plugins.errors if info.name not in cli_state.warned]
        if broken:
            cli_state.warned.update(broken)
            names = ", ".join(broken)
            click.echo(
                _(
                    "warning: plugin(s) {names} failed to load and were skipped; see `kehu plugins list -v`"
                ).format(names=names),
                err=True,
            )
    return cli_state.app


@contextmanager
def transaction() -> Iterator[tuple[Kehu, Session]]:
    """The app and a session for one command: all of it commits, or none of it.

    Checks first that the schema exists, so a fresh database gets "run kehu init", not SQL.
    Writing customers or interactions while an installed plugin is not loaded is refused by
    the app (:meth:`~kehu_core.app.Kehu.missing_plugins`; ``kehu --without-plugin NAME``
    allows it); reading is not. Whether the transaction wrote and committed is counted in
    ``app.committed_writes``, so a later error can say the change was saved.
    """
    app = current_app()
    ensure_schema(app)
    try:
        with app.session() as session:
            act(app, session)
            yield app, session
    except (OperationalError, ProgrammingError) as exc:
        if missing_table(exc):
            require_up_to_date(app)  # code newer than the schema: say "run kehu db upgrade"
        raise


def act(app: Kehu, session: Session) -> Actor:
    """Make the invocation's user (``--as``, ``$KEHU_USER``, the OS login) the acting user of
    ``session``; refused with a clear message when the database has users and that is not one."""
    login, source = cli_login(state().as_user)
    if state().as_user and source == "--as" and os.environ.get(ENV_USER) == login:
        source = ENV_USER  # click read it from the environment
    return act_as(app, session, login, source)


def require_permission(app: Kehu, permission: str, doing: str) -> None:
    """For commands that work outside a transaction (``kehu init``, ``kehu db upgrade``):
    refuse unless the invocation's user holds ``permission``. A database without the users
    table yet (new, or older than users) has nobody to ask."""
    with app.engine.connect() as conn:
        if not inspect(conn).has_table(User.__tablename__):
            return
    with app.session() as session:
        act(app, session)
        require(session, permission, doing)


def ensure_schema(app: Kehu) -> None:
    """Refuse with \"run kehu init\" when the database has no kehu schema yet."""
    with app.engine.connect() as conn:
        if not inspect(conn).has_table("customers"):
            raise KehuError(
                _("the database {database} has no kehu schema yet: run `kehu init` first").format(
                    database=describe(app.engine)
                )
            )


def requires_plugin(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate one command: refuse with install instructions where plugin ``name`` is not installed.

    A plugin's commands get this from :class:`PluginGroup`; use it directly only for a
    command that lives outside the plugin's group.
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            app = current_app()
            ensure_schema(app)
            app.require_installed(name)
            return func(*args, **kwargs)

        return wrapper

    return decorate


class PluginGroup(LazyGroup):
    """A plugin's command group: each of its commands, in nested groups too, first checks that
    the plugin is installed in the database and otherwise says how to install it.

    ``@click.group(cls=PluginGroup, plugin="loyalty")``; subgroups made with
    ``@group.group()`` are PluginGroups of the same plugin.
    """

    group_class = type

    def __init__(self, *args: Any, plugin: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.plugin = plugin

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Add ``cmd``; its callback checks the plugin's installation before it runs."""
        super().add_command(cmd, name)
        if isinstance(cmd, PluginGroup):
            cmd.adopt(self.plugin)
        elif cmd.callback is not None and not isinstance(cmd, click.Group):
            cmd.callback = self._guarded(cmd.callback)

    def adopt(self, plugin: str | None) -> None:
        """Belong to ``plugin`` unless named already, and so do the groups nested in this one,
        however deep, whichever was built first."""
        self.plugin = self.plugin or plugin
        for command in self.commands.values():
            if isinstance(command, PluginGroup):
                command.adopt(self.plugin)

    def _guarded(self, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if self.plugin is not None:
                app = current_app()
                ensure_schema(app)
                app.require_installed(self.plugin)
            return func(*args, **kwargs)

        return wrapper
