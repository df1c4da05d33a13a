"""Command groups whose commands are registered by import path and imported on first use.

This is kehu's one lazy boundary: a command module (and what it imports: SQLAlchemy, the
services, pandas, matplotlib) loads only when the command runs or shows its own help, so
``kehu --help``, and every command that does not need it, stays fast. It is click's
lazy-group pattern; everywhere else imports sit at the top of the module.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

import click

from kehu_core.cli.help import TranslatedGroup, translate_help
from kehu_core.i18n import messages

_ = messages("kehu_core").gettext


def load_command(path: str) -> click.Command:
    """The command at ``"package.module:attribute"``."""
    module, _, attr = path.partition(":")
    command = getattr(import_module(module), attr)
    if not isinstance(command, click.Command):
        raise TypeError(f"{path} is not a click command")
    return command


class LazyGroup(TranslatedGroup):
    """A click group that also holds commands by reference: :meth:`add_lazy_command`; its help
    and its commands' are shown in the user's language (:mod:`kehu_core.cli.help`)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, tuple[str, str]] = {}

    def add_lazy_command(self, name: str, import_path: str, short_help: str) -> None:
        """Register command ``name`` found at ``"package.module:attribute"``, imported on first use."""
        self.lazy[name] = (import_path, short_help)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy:
            self.add_command(load_command(self.lazy[name][0]), name)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their short help, without importing the lazy ones."""
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                command = self.commands[name]
                if command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(limit=formatter.width - 6 - len(name))))
            else:
                path, short_help = self.lazy[name]
                package = path.partition(".")[0]
                rows.append((name, translate_help(short_help, (package, "kehu_core"))))
        if rows:
            with formatter.section(_("Commands")):
                formatter.write_dl(rows)
