"""Fonts for the plugins' plots: a font that draws Chinese when the machine has one.

Used by the modules that draw (``kehu tier report --plot``, ``kehu forecast ... --plot``);
nothing else imports it, so matplotlib loads only with a plot. Every figure is drawn inside
:func:`figure_style`, which sets the fonts for that figure alone (no global ``rcParams``).
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from pypinyin import lazy_pinyin

from kehu_core.i18n import messages

__all__ = ["CJK_FONTS", "cjk_font", "drawable", "figure_style", "missing_font_advice"]

_ = messages("kehu_core").gettext

#: Font families that draw Simplified Chinese, best first.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
)
#: Font files that draw Chinese, by the start of their lower-case file name.
CJK_FILES = ("notosanscjk", "notoserifcjk", "notosanssc", "sourcehansans", "wqy-zenhei", "wqy-microhei")


@functools.cache
def cjk_font() -> str | None:
    """The family of an installed font that draws Chinese, if any (looked up once a process).

    matplotlib's font list is cached on disk; a CJK font installed after that cache was
    written is not in it. Then the system's font files are looked at (a directory listing,
    no rebuild of the cache), and a CJK one is added to this process's font list.
    """
    names = {f.name for f in font_manager.fontManager.ttflist}
    found = next((n for n in CJK_FONTS if n in names), None)
    if found is not None:
        return found
    for path in sorted(font_manager.findSystemFonts()):
        if Path(path).name.lower().startswith(CJK_FILES):
            try:
                font_manager.fontManager.addfont(path)
                return str(font_manager.FontProperties(fname=path).get_name())
            except (OSError, RuntimeError, ValueError):
                continue
    return None


def drawable(text: str) -> str:
    """A name from the data as it can be drawn: as is with a CJK font, else in pinyin
    (华东 -> HuaDong), never as empty boxes."""
    if text.isascii() or cjk_font() is not None:
        return text
    return "".join(p.capitalize() if p != "/" else p for p in lazy_pinyin(text))


@contextmanager
def figure_style() -> Iterator[None]:
    """Draw the figures of the block with a CJK font first where there is one, a plain minus
    (CJK fonts lack U+2212), and no per-glyph or font-weight messages."""
    font = cjk_font()
    fonts = logging.getLogger("matplotlib.font_manager")
    level = fonts.level
    with (
        matplotlib.rc_context(
            {
                "font.sans-serif": [font, "DejaVu Sans"] if font else ["DejaVu Sans"],
                "axes.unicode_minus": False,
            }
        ),
        warnings.catch_warnings(),
    ):
        # Machines without a CJK font draw Chinese as boxes; say it once (missing_font_advice), not per glyph.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        # A CJK font with only a medium weight (WenQuanYi Zen Hei) is used as is, silently.
        fonts.setLevel(logging.ERROR)
        try:
            yield
        finally:
            fonts.setLevel(level)


def missing_font_advice() -> str | None:
    """One sentence on installing a font that draws Chinese, when the machine has none."""
    if cjk_font() is not None:
        return None
    return _(
        "no font that draws Chinese was found, so Chinese names are drawn in pinyin; install one "
        "(Debian/Ubuntu: apt install fonts-noto-cjk, or fonts-wqy-zenhei) for Chinese labels"
    )
