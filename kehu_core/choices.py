"""Enumerated values: the code stored and printed by ``--json``, the label people read in their
language, and every name accepted on input.

A source, a tier, a complaint stage or a rebate period is stored as its code
(``referral``, ``key_account``, ``accepted``, ``quarter``). People may type the code, its
English label or its Chinese name (转介绍, 大客户, 受理, 季返) and any other name the domain
uses (朋友介绍), in any language of the interface; tables show the label in the current
language. An unknown value is refused with the accepted ones listed, never read as an empty
filter::

    SOURCES = Vocabulary("kehu_core", N_("source"), [
        Choice("referral", N_("referral"), aliases=("转介绍", "朋友介绍")),
        ...
    ])
    SOURCES.parse("朋友介绍")  # "referral"
    SOURCES.label("referral")  # "转介绍" under KEHU_LANG=zh_CN

Labels are marked with ``N_`` where they are declared and translated in the declaring
package's catalog (its gettext domain) when shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from attrs import field, frozen

from kehu_core.i18n import LANGUAGES, messages
from kehu_core.validation import FieldError

__all__ = ["Choice", "Vocabulary"]

_ = messages("kehu_core").gettext


def _names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(names)


@frozen
class Choice:
    """One value: its ``code``, its English ``label`` (marked ``N_``) and other accepted names."""

    code: str
    label: str
    aliases: tuple[str, ...] = field(default=(), converter=_names)


def _key(name: str) -> str:
    """Names compare without case, surrounding spaces, or ``-`` against ``_``."""
    return name.strip().casefold().replace("-", "_").replace(" ", "_")


class Vocabulary:
    """The values of one enumerated field, in the gettext ``domain`` that declares them."""

    def __init__(self, domain: str, what: str, choices: Iterable[Choice]):
        self.domain = domain
        self.what = what
        self.choices = tuple(choices)
        self._by_code = {c.code: c for c in self.choices}
        if len(self._by_code) != len(self.choices):
            raise ValueError(f"{what}: a code is listed twice")
        self._names: dict[str, str] | None = None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self.choices)

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes, in declaration order."""
        return tuple(self._by_code)

    def label(self, code: str) -> str:
        """What people read for ``code`` in the current language (the code itself if unknown)."""
        choice = self._by_code.get(code)
        return messages(self.domain).gettext(choice.label) if choice else code

    def names(self) -> dict[str, str]:
        """Every accepted name (normalised) → its code: codes, labels in every language, aliases."""
        if self._names is None:
            names: dict[str, str] = {}
            catalog = messages(self.domain)
            for choice in self.choices:
                spelled = [choice.code, choice.label, *choice.aliases]
                spelled += [catalog.translate_in(lang, choice.label) for lang in LANGUAGES]
                for name in spelled:
                    owner = names.setdefault(_key(name), choice.code)
                    if owner != choice.code:
                        raise ValueError(f"{self.what}: {name!r} names both {owner} and {choice.code}")
            self._names = names
        return self._names

    def parse(self, value: str) -> str:
        """The code ``value`` names; :class:`~kehu_core.validation.FieldError` listing the
        accepted values when it names none."""
        code = self.names().get(_key(str(value)))
        if code is None:
            raise FieldError(
                _("unknown {what} {value!r}; use one of: {accepted}").format(
                    what=messages(self.domain).gettext(self.what), value=value, accepted=self.accepted()
                )
            )
        return code

    def accepted(self) -> str:
        """The values as people may type them: ``referral (转介绍), ...`` in the current language."""
        shown = []
        for choice in self.choices:
            label = self.label(choice.code)
            shown.append(choice.code if _key(label) == _key(choice.code) else f"{choice.code} ({label})")
        return ", ".join(shown)

    def parse_many(self, values: Sequence[str]) -> list[str]:
        """Each of ``values`` as its code, in order."""
        return [self.parse(v) for v in values]
