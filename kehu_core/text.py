"""Chinese-aware text helpers: pinyin collation for sorting and display width for tables."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import cast

from pypinyin import Style, lazy_pinyin
from wcwidth import wcswidth, wcwidth

#: Name of the collation kehu registers on SQLite connections; PostgreSQL uses ICU's.
SQLITE_COLLATION = "kehu_zh"
POSTGRES_COLLATION = "zh-x-icu"


@lru_cache(maxsize=65536)
def sort_key(text: str) -> tuple[str, ...]:
    """A key that orders Chinese text by pinyin (with tone), and other text case-insensitively.

    ``北京 < 广州 < 上海`` (bei, guang, shang), as a Chinese reader expects, rather than by
    code point. Each character maps to its pinyin syllable, so mixed text sorts sensibly.
    """
    return tuple(
        syllable.casefold() for syllable in lazy_pinyin(text, style=Style.TONE3, errors=_each_character)
    )


# pypinyin takes a list back (one syllable per character), though its annotation says str.
_each_character = cast(Callable[[str], str], list)


def collate(left: str, right: str) -> int:
    """SQLite collation callback comparing two strings by :func:`sort_key`."""
    a, b = sort_key(left), sort_key(right)
    if a == b:
        return (left > right) - (left < right)
    return -1 if a < b else 1


def display_width(text: str) -> int:
    """Columns a string takes in a terminal: 2 for each CJK character, 0 for combining marks."""
    width = wcswidth(text)
    if width >= 0:
        return width
    # Control characters make wcswidth give up; count them as the escaped form we print.
    return sum(max(wcwidth(ch), 0) if ch.isprintable() else len(repr(ch)) - 2 for ch in text)


def printable(text: str) -> str:
    """Show control characters escaped, so hostile text cannot move the cursor or ring bells."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal columns, counting wide characters twice."""
    return text + " " * max(width - display_width(text), 0)


def truncate(text: str, width: int) -> str:
    """Cut ``text`` to at most ``width`` terminal columns, ending with an ellipsis if cut."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = max(wcwidth(ch), 0)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"
