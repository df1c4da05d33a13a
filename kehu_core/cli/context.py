"""The CLI's shared state: which database, the app opened on first use, and error handling."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kehu_core.app import Kehu
    from kehu_core.plugins import Plugins


class CliState:
    """Per-invocation state stored in ``click.Context.obj``."""

    def __init__(self, plugins: Plugins, db_url: str | None = None):
        self.plugins = plugins
        self.db_url = db_url
        self._app: Kehu | None = None

    @property
    def app(self) -> Kehu:
        """The app on the chosen database, opened on first use."""
        if self._app is None:
            from kehu_core.app import Kehu

            self._app = Kehu(self.db_url, plugins=self.plugins)
        return self._app

    def close(self) -> None:
        """Release the database connections."""
        if self._app is not None:
            self._app.dispose()


def state() -> CliState:
    """The current invocation's :class:`CliState`."""
    return click.get_current_context().find_object(CliState)  # type: ignore[return-value]


def current_app() -> Kehu:
    """The app of the current invocation."""
    return state().app


@contextmanager
def transaction() -> Iterator[tuple[Kehu, Session]]:
    """The app and a session for one command: all of it commits, or none of it.

    Checks first that the schema exists, so a fresh database gets "run kehu init", not SQL.
    """
    app = current_app()
    ensure_schema(app)
    with app.session() as session:
        yield app, session


def ensure_schema(app: Kehu) -> None:
    """Refuse with \"run kehu init\" when the database has no kehu schema yet."""
    from sqlalchemy import inspect

    from kehu_core.db import describe
    from kehu_core.errors import KehuError

    with app.engine.connect() as conn:
        if not inspect(conn).has_table("customers"):
            raise KehuError(
                f"the database {describe(app.engine)} has no kehu schema yet: run `kehu init` first"
            )


def requires_plugin(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a plugin's command: refuse with install instructions where ``name`` is not installed."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            app = current_app()
            ensure_schema(app)
            app.require_installed(name)
            return func(*args, **kwargs)

        return wrapper

    return decorate
