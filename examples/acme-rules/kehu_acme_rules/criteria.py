"""The key-account judgement flags (no SQLAlchemy here: the CLI imports this to build options)."""

from __future__ import annotations

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


#: The flags as people name them: ``influence``, 影响力 or the label in either language.
FLAG = Vocabulary(
    "kehu_acme_rules", N_("key-account flag"), [Choice(f.name, f.label, aliases=(f.short,)) for f in FLAGS]
)
#: The answers of the ``acme_key`` filter.
YES_NO = Vocabulary(
    "kehu_acme_rules",
    N_("answer"),
    [Choice("yes", N_("yes"), aliases=("是",)), Choice("no", N_("no"), aliases=("否",))],
)
