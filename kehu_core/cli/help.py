"""Command classes that show their help in the user's language.

A command's help stays English in the source (its docstring and each option's ``help=``),
where Babel's extraction finds it (:mod:`kehu_core.catalogs`); it is translated when the help
is shown, in the catalog of the package that defines the command and then the core's (shared
options such as ``--json`` are the core's). Help is split into paragraphs, so that a
translator sees one paragraph at a time and click's ``\\b`` (keep this paragraph's lines)
stays out of the messages.
"""

from __future__ import annotations

import gettext
import inspect
import os
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any

import click

from kehu_core.i18n import CLICK_DOMAIN, NO_REWRAP, language, locale_dir, messages

__all__ = ["TranslatedCommand", "TranslatedGroup", "click_messages", "domains_of", "translate_help"]


def translate_help(text: str, domains: tuple[str, ...]) -> str:
    """``text`` with each paragraph in the current language, from the first of ``domains``
    whose catalog has it; an untranslated paragraph stays as written."""
    shown = inspect.cleandoc(text).partition("\f")[0]
    out = []
    for paragraph in shown.split("\n\n"):
        marker = NO_REWRAP + "\n" if paragraph.startswith(NO_REWRAP) else ""
        body = paragraph.removeprefix(NO_REWRAP).strip("\n")
        for domain in domains:
            catalog = messages(domain)
            if catalog.has(body):
                body = catalog.gettext(body)
                break
        out.append(marker + body)
    return "\n\n".join(out)


def domains_of(command: click.Command) -> tuple[str, ...]:
    """The catalogs a command's help is looked up in: its own package's, then the core's."""
    module = getattr(command.callback, "__module__", None) or type(command).__module__
    package = module.partition(".")[0]
    return (package, "kehu_core") if package != "kehu_core" else ("kehu_core",)


@contextmanager
def _translated(param: click.Parameter, domains: tuple[str, ...]) -> Iterator[None]:
    """``param``'s help in the current language for the length of the block."""
    original = getattr(param, "help", None)
    if not original:
        yield
        return
    param.help = translate_help(original, domains)
    try:
        yield
    finally:
        param.help = original


class TranslatedCommand(click.Command):
    """A click command whose help, short help, epilog and options' help are translated when shown.

    ``help_values``: for a help text made from a template (one command built for several
    record kinds), the template's ``{placeholders}``, filled after translating the template;
    each value is translated too.
    """

    def __init__(self, *args: Any, help_values: Mapping[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.help_values = dict(help_values or {})

    def _text(self, text: str | None) -> str | None:
        if not text:
            return text
        domains = domains_of(self)
        translated = translate_help(text, domains)
        if self.help_values:
            values = {k: translate_help(v, domains) for k, v in self.help_values.items()}
            translated = translated.format(**values)
        return translated

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The help text, translated."""
        original = self.help
        self.help = self._text(original)
        try:
            super().format_help_text(ctx, formatter)
        finally:
            self.help = original

    def get_short_help_str(self, limit: int = 45) -> str:
        """The short help (given, or the first sentence of the help), translated."""
        original_short, original_help = self.short_help, self.help
        self.short_help, self.help = self._text(original_short), self._text(original_help)
        try:
            return super().get_short_help_str(limit)
        finally:
            self.short_help, self.help = original_short, original_help

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The epilog, translated."""
        original = self.epilog
        self.epilog = self._text(original)
        try:
            super().format_epilog(ctx, formatter)
        finally:
            self.epilog = original

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The options with their help translated."""
        domains = domains_of(self)
        with _all_translated(self.get_params(ctx), domains):
            super().format_options(ctx, formatter)


@contextmanager
def _all_translated(params: list[click.Parameter], domains: tuple[str, ...]) -> Iterator[None]:
    with ExitStack() as stack:
        for param in params:
            stack.enter_context(_translated(param, domains))
        yield


class TranslatedGroup(TranslatedCommand, click.Group):
    """A click group whose help is translated, and whose subcommands and subgroups are too."""

    command_class = TranslatedCommand
    group_class = type


@contextmanager
def click_messages() -> Iterator[None]:
    """click's own messages ("Usage:", "Error: Missing option") in the current language for
    the length of the block.

    click translates with :func:`gettext.gettext`, the process's default domain, in the
    language of ``$LANGUAGE`` or the locale; kehu's catalog of them is in the core's
    ``locale`` folder. Both are set for the block only and restored after it.
    """
    previous_domain = gettext.textdomain()
    previous_language = os.environ.get("LANGUAGE")
    gettext.bindtextdomain(CLICK_DOMAIN, str(locale_dir("kehu_core")))
    gettext.textdomain(CLICK_DOMAIN)
    os.environ["LANGUAGE"] = language()
    try:
        yield
    finally:
        gettext.textdomain(previous_domain)
        if previous_language is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = previous_language
