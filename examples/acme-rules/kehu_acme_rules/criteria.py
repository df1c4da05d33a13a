"""The key-account judgement flags (no SQLAlchemy here: the CLI imports this to build options)."""

from __future__ import annotations

from attrs import frozen


@frozen
class Flag:
    """One judgement flag: its column, its label on the card, its short name in lists."""

    name: str
    label: str
    short: str


#: The course material's key-account criteria that are judgements rather than figures (大客户的内涵).
FLAGS: tuple[Flag, ...] = (
    Flag("strategic_project", "Strategic project 具有战略性意义的项目", "战略项目"),
    Flag("influence", "Influence on our business or image 重要影响", "影响力"),
    Flag("technical_strength", "Technical absorption and innovation 技术吸收和创新能力", "技术实力"),
    Flag("market_strength", "Market development strength 市场发展实力", "市场实力"),
)
FLAG_NAMES = tuple(f.name for f in FLAGS)
