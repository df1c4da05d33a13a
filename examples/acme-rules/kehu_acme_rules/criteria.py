"""The key-account judgement flags (no SQLAlchemy here: the CLI imports this to build options)."""

from __future__ import annotations

from typing import Any

from attrs import frozen

from kehu_core.choices import Choice, Vocabulary
from kehu_core.i18n import N_


@frozen
class Flag:
    """One judgement flag: its column, its label (on the card and in ``--help``, in the user's
    language) and its short name in lists (ACME's own word, the same in every language)."""

    name: str
    label: str
    short: str


#: The course material's key-account criteria that are judgements rather than figures (大客户的内涵).
FLAGS: tuple[Flag, ...] = (
    Flag("strategic_project", N_("Strategic project"), "战略项目"),
    Flag("influence", N_("Influence on our business or image"), "影响力"),
    Flag("technical_strength", N_("Technical absorption and innovation"), "技术实力"),
    Flag("market_strength", N_("Market development strength"), "市场实力"),
)
FLAG_NAMES = tuple(f.name for f in FLAGS)


def _choice(code: str, label: str, *aliases: str) -> Choice:
    names: Any = aliases  # Choice's converter (tuple) is generic to mypy
    return Choice(code, label, aliases=names)


#: The flags as people name them: ``influence``, 影响力 or the label in either language.
FLAG = Vocabulary(
    "kehu_acme_rules", N_("key-account flag"), [_choice(f.name, f.label, f.short) for f in FLAGS]
)
#: The answers of the ``acme_key`` filter.
YES_NO = Vocabulary(
    "kehu_acme_rules", N_("answer"), [_choice("yes", N_("yes"), "是"), _choice("no", N_("no"), "否")]
)
