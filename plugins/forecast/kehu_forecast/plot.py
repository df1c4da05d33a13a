"""``--plot FILE.png``: matplotlib figures drawn with the Agg canvas (no pyplot, no global backend)."""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from pypinyin import lazy_pinyin

from kehu_forecast.history import SalesHistory
from kehu_forecast.plan import Plan

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

#: The Chinese label of each English one: drawn when a CJK font is present.
CHINESE = {
    "Sales: history and forecast (company)": "销售：历史与预测（公司）",
    "history": "历史",
    "forecast": "预测",
    "pessimistic - optimistic": "悲观 - 乐观",
    "yuan": "元",
    "Top-down vs bottom-up by region": "由上而下与由下而上（按地区）",
    "top-down": "由上而下",
    "bottom-up": "由下而上",
    "Targets against actuals": "目标与实际",
    "target": "目标",
    "expected by now": "至今应达",
    "actual": "实际",
}


@functools.cache
def cjk_font() -> str | None:
    """The family of an installed font that can draw Chinese, if any (looked up once a process).

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


def say(english: str) -> str:
    """A fixed label: Chinese when a CJK font is present, else the English one."""
    return CHINESE.get(english, english) if cjk_font() is not None else english


def label(text: str) -> str:
    """A name from the data that can be drawn: as is with a CJK font, else in pinyin (华东 -> HuaDong)."""
    if text.isascii() or cjk_font() is not None:
        return text
    return "".join(p.capitalize() if p != "/" else p for p in lazy_pinyin(text))


def _money_axis(ax: Any) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))


def _fonts() -> list[str]:
    """The sans-serif fonts for a figure: a CJK font first where there is one."""
    font = cjk_font()
    return [font, "DejaVu Sans"] if font else ["DejaVu Sans"]


def _days(days: Sequence[date]) -> np.ndarray:
    """Days as numpy dates, which matplotlib draws on a date axis."""
    return np.array(days, dtype="datetime64[D]")


@contextmanager
def _drawing() -> Iterator[None]:
    """The fonts of a figure (a CJK one first where there is one), and quiet font messages."""
    fonts = logging.getLogger("matplotlib.font_manager")
    level = fonts.level
    with (
        matplotlib.rc_context({"font.sans-serif": _fonts(), "axes.unicode_minus": False}),
        warnings.catch_warnings(),
    ):
        # Machines without a CJK font draw Chinese labels as boxes; say nothing per glyph.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        # A CJK font with only a medium weight (WenQuanYi Zen Hei) is used as is, silently.
        fonts.setLevel(logging.ERROR)
        try:
            yield
        finally:
            fonts.setLevel(level)


def _save(fig: Figure, path: str) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def plot_plan(plan: Plan, history: SalesHistory, path: str) -> None:
    """Company history, the forecast and its pessimistic-optimistic band."""
    with _drawing():
        fig = Figure(figsize=(10, 4.5))
        ax = fig.subplots()
        ax.plot(_days(history.periods), history.values.sum(axis=0), label=say("history"), color="#333333")
        values = plan.value[0] / 100
        ax.plot(_days(plan.periods), values, label=f"{say('forecast')} ({plan.method})", color="#1f77b4")
        if plan.low is not None and plan.high is not None:
            ax.fill_between(
                _days(plan.periods),
                plan.low[0] / 100,
                plan.high[0] / 100,
                alpha=0.25,
                color="#1f77b4",
                label=say("pessimistic - optimistic"),
            )
        ax.set_title(say("Sales: history and forecast (company)"))
        ax.set_ylabel(say("yuan"))
        _money_axis(ax)
        ax.legend(loc="upper left")
        fig.autofmt_xdate()
        _save(fig, path)


def plot_bars(
    title: str, labels: Sequence[str], series: dict[str, Sequence[float]], path: str, note: str = ""
) -> None:
    """Grouped bars, one group per label (top-down against bottom-up; target against actual).

    ``title`` and the series names are fixed English labels (:func:`say` draws them in
    Chinese with a CJK font); ``labels`` are names from the data; ``note`` follows the title.
    """
    with _drawing():
        fig = Figure(figsize=(max(6, 1.2 * len(labels) + 2), 4.5))
        ax = fig.subplots()
        x = np.arange(len(labels))
        width = 0.8 / max(1, len(series))
        for k, (name, vals) in enumerate(series.items()):
            ax.bar(x + (k - (len(series) - 1) / 2) * width, vals, width, label=say(name))
        ax.set_xticks(x)
        ax.set_xticklabels([label(t) for t in labels], rotation=30, ha="right")
        ax.set_title(say(title) + (f" ({note})" if note else ""))
        ax.set_ylabel(say("yuan"))
        _money_axis(ax)
        ax.legend()
        _save(fig, path)
