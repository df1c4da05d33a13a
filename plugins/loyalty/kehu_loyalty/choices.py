"""One value of a loyalty vocabulary (:class:`kehu_core.choices.Choice`) with its other names."""

from __future__ import annotations

from typing import Any

from kehu_core.choices import Choice


def choice(code: str, label: str, *aliases: str) -> Choice:
    """``Choice(code, label, aliases=aliases)``; the aliases typed loosely, as mypy reads
    the converter of ``Choice.aliases`` (``tuple``) as a generic it cannot solve."""
    names: Any = aliases
    return Choice(code, label, aliases=names)
