"""Messages in the user's language: gettext catalogs, one domain per package.

The core's domain is ``kehu_core``; each plugin has its own (``kehu_tiering``,
``kehu_loyalty`` ...), shipped as ``<package>/locale/<lang>/LC_MESSAGES/<package>.mo`` the
way an Odoo module ships ``i18n/zh_CN.po``. A module marks what people read::

    from kehu_core.i18n import N_, messages

    _, ngettext = messages("kehu_tiering").functions()

    raise NotFound(_("no tier run yet; run `kehu tier run` first"))
    LABELS = {"key_account": N_("key account")}   # marked here, translated where shown: _(LABELS[code])

The language is read when a message is shown, not when the module is imported:
``$KEHU_LANG``, else the locale (``$LC_ALL``, ``$LC_MESSAGES``, ``$LANG``), else English.
``--json`` and ``--csv`` keep English keys and codes whatever the language.

Only the standard library's :mod:`gettext` runs here; Babel extracts and compiles the
catalogs (``make i18n``), so ``kehu --help`` pays for no translation library.
"""

from __future__ import annotations

import gettext
import inspect
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from importlib.util import find_spec
from pathlib import Path

__all__ = [
    "CLICK_DOMAIN",
    "DEFAULT",
    "LANGUAGES",
    "Messages",
    "N_",
    "help_paragraphs",
    "language",
    "messages",
    "normalize",
    "using",
]

#: The languages kehu ships catalogs for, the first being the source language of every message.
LANGUAGES = ("en", "zh_CN")
DEFAULT = "en"

#: What a locale name may start with, and the catalog it means (``zh_CN.UTF-8`` → ``zh_CN``).
_PREFIXES = {"zh": "zh_CN", "en": "en", "c": "en", "posix": "en"}

#: The gettext domain of click's own messages ("Usage:", "Missing option"), kept in the core's catalogs.
CLICK_DOMAIN = "click"

#: click's marker for "do not rewrap this paragraph".
NO_REWRAP = "\b"


def help_paragraphs(text: str) -> list[str]:
    """The messages of a help text: its paragraphs as click shows them, without the ``\\b``
    markers, up to click's ``\\f`` (what follows it is for Python's documentation only)."""
    shown = inspect.cleandoc(text).partition("\f")[0]
    paragraphs = []
    for paragraph in shown.split("\n\n"):
        paragraph = paragraph.removeprefix(NO_REWRAP).strip("\n")
        if paragraph.strip():
            paragraphs.append(paragraph)
    return paragraphs


#: The types of ``_`` and ``ngettext``.
Gettext = Callable[[str], str]
Ngettext = Callable[[str, str, int], str]

#: Set by :func:`using` for the length of a block (a web request, a test); wins over the environment.
_forced: list[str] = []


def normalize(name: str | None) -> str | None:
    """The catalog a language or locale name means, or None when kehu has none for it.

    ``zh_CN.UTF-8``, ``zh_CN``, ``zh``, ``zh-Hans`` → ``zh_CN``; ``en_US.UTF-8``, ``C``,
    ``POSIX`` → ``en``. Traditional Chinese (``zh_TW``, ``zh_HK``, ``zh-Hant``) has no
    catalog yet and gives None.
    """
    if not name:
        return None
    base = name.split(".")[0].split("@")[0].replace("-", "_")
    lowered = base.lower()
    if lowered in ("zh_tw", "zh_hk", "zh_mo", "zh_hant") or lowered.startswith("zh_hant"):
        return None
    return _PREFIXES.get(lowered.split("_")[0])


def language() -> str:
    """The language messages are shown in now: ``$KEHU_LANG``, else the locale, else English.

    An unknown ``$KEHU_LANG`` is not an error: kehu falls back to the locale and then English,
    as gettext programs do.
    """
    if _forced:
        return _forced[-1]
    for variable in ("KEHU_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        found = normalize(os.environ.get(variable))
        if found:
            return found
    return DEFAULT


@contextmanager
def using(lang: str) -> Iterator[None]:
    """Show messages in ``lang`` inside the block, whatever the environment says."""
    found = normalize(lang)
    if found is None:
        raise ValueError(f"no catalog for language {lang!r}; kehu has {', '.join(LANGUAGES)}")
    _forced.append(found)
    try:
        yield
    finally:
        _forced.pop()


def locale_dir(domain: str) -> Path:
    """The ``locale`` folder of package ``domain``, found without importing the package."""
    spec = find_spec(domain)
    if spec is None or not spec.submodule_search_locations:
        raise LookupError(f"no package {domain!r} to read translations from")
    return Path(next(iter(spec.submodule_search_locations))) / "locale"


@cache
def _catalog(domain: str, lang: str) -> gettext.NullTranslations:
    if lang == DEFAULT:
        return gettext.NullTranslations()
    return gettext.translation(domain, locale_dir(domain), languages=[lang], fallback=True)


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name for "mark only"
    """Mark ``message`` for translation without translating it here (it is translated where
    it is shown, with ``_``): for labels in module-level tables and click's help texts."""
    return message


class Messages:
    """The translation functions of one gettext domain (a package's catalog)."""

    def __init__(self, domain: str):
        self.domain = domain

    def gettext(self, message: str) -> str:
        """``message`` in the current :func:`language` (itself when the catalog lacks it)."""
        return _catalog(self.domain, language()).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The singular or plural form for ``n``, in the current language."""
        return _catalog(self.domain, language()).ngettext(singular, plural, n)

    def translate_in(self, lang: str, message: str) -> str:
        """``message`` in ``lang`` whatever the current language (to accept input in any of them)."""
        return _catalog(self.domain, lang).gettext(message)

    def has(self, message: str, lang: str | None = None) -> bool:
        """Whether the catalog of ``lang`` (default: the current language) translates ``message``."""
        lang = lang or language()
        return lang == DEFAULT or _catalog(self.domain, lang).gettext(message) != message

    def functions(self) -> tuple[Gettext, Ngettext]:
        """``_`` and ``ngettext`` bound to this domain, for ``_, ngettext = messages(...).functions()``."""
        return self.gettext, self.ngettext


@cache
def messages(domain: str) -> Messages:
    """The :class:`Messages` of package ``domain`` (``"kehu_core"``, ``"kehu_tiering"`` ...)."""
    return Messages(domain)
