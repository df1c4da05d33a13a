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
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any

import click
import wcwidth

from kehu_core.i18n import CLICK_DOMAIN, NO_REWRAP, language, locale_dir, messages

__all__ = [
    "HelpFormatter",
    "TranslatedCommand",
    "TranslatedGroup",
    "click_messages",
    "domains_of",
    "translate_help",
]


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


#: A wide (CJK) character with the closing punctuation that must not start a line, or a run of others.
_PIECE = re.compile(
    r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u3000-\u303f]"
    r"[，。；：、）」』！？》\u3001\u3002\uff09\uff0c\uff1a\uff1b]*"
    r"|[^\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u3000-\u303f]+"
)


class _Wrapper(wcwidth.SequenceTextWrapper):
    """wcwidth's wrapper (display width), breaking Chinese text between characters, as Chinese
    typesetting does, never before closing punctuation."""

    def _split(self, text: str) -> list[str]:
        return [piece for chunk in super()._split(text) for piece in _PIECE.findall(chunk)]


def _joined(lines: list[str]) -> str:
    """A paragraph's lines as one line: a space between words, none between Chinese characters."""
    text = lines[0]
    for line in lines[1:]:
        wide = wcwidth.width(text[-1:]) == 2 or wcwidth.width(line[:1]) == 2
        text += line if wide else " " + line
    return text


def wrap_text(text: str, width: int, indent: str = "") -> str:
    """click's paragraph-preserving wrap (a ``\\b`` paragraph keeps its lines), measuring what a
    terminal shows: a Chinese character takes two columns, and Chinese text breaks between
    characters; an option such as ``--dry-run`` is never split at its hyphen."""
    paragraphs: list[tuple[int, bool, list[str]]] = []
    for block in text.expandtabs().split("\n\n"):
        lines = [line for line in block.split("\n") if line]
        if not lines:
            continue
        raw = lines[0].strip() == NO_REWRAP
        lines = lines[1:] if raw else lines
        own = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
        paragraphs.append((own, raw, lines if raw else [line.strip() for line in lines]))
    out = []
    for own, raw, lines in paragraphs:
        prefix = indent + " " * own
        if raw:
            out.append("\n".join(indent + line for line in lines))
        else:
            wrapper = _Wrapper(width=max(width - wcwidth.width(prefix), 10), break_on_hyphens=False)
            wrapped = wrapper.wrap(_joined(lines))
            out.append("\n".join(prefix + line for line in wrapped))
    return "\n\n".join(out)


class HelpFormatter(click.HelpFormatter):
    """click's help formatter measuring display width, so Chinese help wraps at the terminal's
    width and the option column stays aligned when a metavar is Chinese."""

    def write_text(self, text: str) -> None:
        """Text wrapped to the width, paragraphs kept."""
        self.write(wrap_text(text, self.width, " " * self.current_indent))
        self.write("\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        """A definition list (options, commands), its first column measured in display width."""
        rows = list(rows)
        first_col = min(max((wcwidth.width(first) for first, _ in rows), default=0), col_max) + col_spacing
        margin = " " * self.current_indent
        for first, second in rows:
            self.write(margin + first)
            if not second:
                self.write("\n")
                continue
            shown = wcwidth.width(first)
            if shown <= first_col - col_spacing:
                self.write(" " * (first_col - shown))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap_text(second, max(self.width - first_col - 2, 10)).splitlines() or [""]
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(" " * (first_col + self.current_indent) + line + "\n")


class KehuContext(click.Context):
    """The context of kehu's commands: help written with :class:`HelpFormatter`."""

    formatter_class = HelpFormatter


class TranslatedCommand(click.Command):
    """A click command whose help, short help, epilog and options' help are translated when shown.

    ``help_values``: for a help text made from a template (one command built for several
    record kinds), the template's ``{placeholders}``, filled after translating the template;
    each value is translated too.
    """

    context_class = KehuContext

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

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        """A new invocation: click's own ``--help`` option is made again, so that its help
        ("Show this message and exit.") is in this invocation's language, not the first one's
        (click keeps the option on the command object, which outlives an invocation)."""
        self._help_option = None
        return super().make_context(info_name, args, parent, **extra)

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
