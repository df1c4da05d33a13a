"""Translation catalogs of a package, with Babel: extract the messages, update each language's
``.po``, compile the ``.mo`` that ships in the wheel, and check that nothing is missing.

A package's messages are what it marks with ``_``, ``ngettext`` and ``N_``, plus its click
help: the docstrings of its commands and the ``help=``, ``short_help=`` and ``epilog=`` texts
(:mod:`kehu_core.cli.help` translates those where they are shown, paragraph by paragraph).
Files are ``<package>/locale/<lang>/LC_MESSAGES/<package>.po`` and ``.mo``; tests and
migrations are not extracted. ``kehu plugin catalog`` runs this for a plugin's author.
"""

from __future__ import annotations

import ast
import fcntl
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click
from attrs import frozen
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_python
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from kehu_core.i18n import CLICK_DOMAIN, DEFAULT, LANGUAGES, help_paragraphs

__all__ = [
    "CatalogState",
    "check",
    "compile_catalog",
    "extract",
    "extract_help",
    "extract_library",
    "po_path",
    "refresh",
    "update",
]

#: Keyword arguments of click's decorators and classes that hold help shown to people.
HELP_KEYWORDS = ("help", "short_help", "epilog")
#: Decorators whose function's docstring is a click command's help (``@group.command(...)``).
COMMAND_DECORATORS = ("command", "group")

_METHOD_MAP = [
    ("**/tests/**", "ignore"),
    ("**/migrations/**", "ignore"),
    ("**/scaffold/templates/**", "ignore"),
    ("**.py", "kehu_core.catalogs:extract_help"),
]


def _is_command(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
    return name in COMMAND_DECORATORS


def _help_messages(source: str, filename: str) -> Iterator[tuple[int, str]]:
    """(line, message) of every click help text in ``source``, one message per paragraph."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and any(_is_command(d) for d in node.decorator_list):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                for paragraph in help_paragraphs(doc):
                    yield node.body[0].lineno, paragraph
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                value = keyword.value
                if (
                    keyword.arg in HELP_KEYWORDS
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    for paragraph in help_paragraphs(value.value):
                        yield value.lineno, paragraph
                elif keyword.arg in HELP_KEYWORDS and isinstance(value, ast.JoinedStr):
                    raise ValueError(
                        f"{filename}, line {value.lineno}: a help text is translated, so it cannot be an "
                        "f-string; write the text out, or format the translated text in the command"
                    )


def extract_help(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Iterator[Any]:
    """Babel extraction method: what Babel's Python extractor finds, plus click help texts."""
    data = fileobj.read()
    yield from extract_python(io.BytesIO(data), keywords, comment_tags, options)
    for line, message in _help_messages(data.decode("utf-8"), getattr(fileobj, "name", "?")):
        yield line, None, message, []


def extract(package_dir: Path) -> Catalog:
    """Every message of the package in ``package_dir`` (a folder holding ``__init__.py``)."""
    domain = package_dir.name
    template = Catalog(domain=domain, project=domain, charset="utf-8")
    keywords = dict(DEFAULT_KEYWORDS)
    for filename, lineno, message, comments, context in extract_from_dir(
        package_dir, method_map=_METHOD_MAP, keywords=keywords
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


#: Messages a library translates from a variable, which extraction cannot see.
LIBRARY_EXTRA: dict[str, tuple[str, ...]] = {CLICK_DOMAIN: ("required",)}


def extract_library(package_dir: Path, domain: str) -> Catalog:
    """The messages a library marks with gettext's functions (click's "Usage:" ...), for a
    catalog kehu keeps of them."""
    template = Catalog(domain=domain, project=domain, charset="utf-8")
    for extra in LIBRARY_EXTRA.get(domain, ()):
        template.add(extra, None)
    for filename, lineno, message, comments, context in extract_from_dir(
        package_dir, method_map=[("**.py", "python")], keywords=dict(DEFAULT_KEYWORDS)
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def po_path(package_dir: Path, lang: str, domain: str | None = None) -> Path:
    """Where the ``.po`` of ``lang`` lives in the package (the ``.mo`` sits beside it)."""
    return package_dir / "locale" / lang / "LC_MESSAGES" / f"{domain or package_dir.name}.po"


def _read(path: Path, lang: str, domain: str) -> Catalog:
    if not path.exists():
        catalog = Catalog(
            locale=lang,
            domain=domain,
            project=domain,
            charset="utf-8",
            fuzzy=False,
            header_comment=f"# Translations of {domain} into {lang}; update with `kehu plugin catalog`.",
        )
        return catalog
    with path.open("rb") as handle:
        return read_po(handle, locale=lang, domain=domain)


def update(package_dir: Path, template: Catalog, lang: str, domain: str | None = None) -> Catalog:
    """Bring the ``.po`` of ``lang`` in line with ``template``: new messages are added
    untranslated, messages gone from the source are dropped (no fuzzy guesses), and the
    ``.mo`` is compiled. Returns the updated catalog."""
    domain = domain or package_dir.name
    path = po_path(package_dir, lang, domain)
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked(path):
        catalog = _read(path, lang, domain)
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        catalog.obsolete.clear()
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, no_location=True, include_previous=False)
        compile_catalog(path, lang, domain)
    return catalog


@contextmanager
def locked(po: Path) -> Iterator[None]:
    """Hold the ``.po``'s lock (a ``.lock`` file beside it): two translators, or a translator
    and ``kehu plugin catalog``, write the same catalog in turn, never over each other."""
    with po.with_suffix(".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def compile_catalog(po: Path, lang: str, domain: str) -> Path:
    """Write the ``.mo`` beside ``po`` (untranslated and fuzzy messages left out)."""
    catalog = _read(po, lang, domain)
    mo = po.with_suffix(".mo")
    with mo.open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)
    return mo


@frozen
class CatalogState:
    """What a language's catalog lacks against the source."""

    domain: str
    lang: str
    missing: tuple[str, ...]
    untranslated: tuple[str, ...]
    fuzzy: tuple[str, ...]
    stale_mo: bool

    @property
    def complete(self) -> bool:
        """Whether every message is translated, none fuzzy, and the ``.mo`` matches the ``.po``."""
        return not (self.missing or self.untranslated or self.fuzzy or self.stale_mo)


def check(
    package_dir: Path, lang: str, template: Catalog | None = None, domain: str | None = None
) -> CatalogState:
    """Compare the ``.po`` of ``lang`` with the messages of the source (or ``template``)."""
    domain = domain or package_dir.name
    template = template if template is not None else extract(package_dir)
    path = po_path(package_dir, lang, domain)
    catalog = _read(path, lang, domain)
    ids = [m.id for m in template if m.id]
    missing = tuple(str(i) for i in ids if i not in catalog)
    present = [catalog[i] for i in ids if i in catalog]
    untranslated = tuple(
        str(m.id) for m in present if not m.string or (isinstance(m.string, tuple) and not all(m.string))
    )
    fuzzy = tuple(str(m.id) for m in present if m.fuzzy)
    expected = io.BytesIO()
    write_mo(expected, catalog, use_fuzzy=False)
    mo = path.with_suffix(".mo")
    stale = not mo.exists() or mo.read_bytes() != expected.getvalue()
    return CatalogState(domain, lang, missing, untranslated, fuzzy, stale)


def refresh(
    package_dir: Path, langs: tuple[str, ...] | None = None, *, write: bool = True
) -> list[CatalogState]:
    """Extract the package's messages and, with ``write``, update and compile each language's
    catalog; return what each still lacks. The core's folder also holds kehu's catalog of
    click's own messages, refreshed with it from the installed click."""
    if not (package_dir / "__init__.py").exists():
        raise ValueError(f"{package_dir}: not a Python package (no __init__.py)")
    langs = langs or languages()
    domains = [(package_dir.name, extract(package_dir))]
    if package_dir.name == "kehu_core":
        domains.append((CLICK_DOMAIN, extract_library(Path(click.__file__).parent, CLICK_DOMAIN)))
    states = []
    for domain, template in domains:
        for lang in langs:
            if write:
                update(package_dir, template, lang, domain)
            states.append(check(package_dir, lang, template, domain))
    return states


def languages() -> tuple[str, ...]:
    """The languages with a catalog (all but English, the language of the source)."""
    return tuple(lang for lang in LANGUAGES if lang != DEFAULT)
