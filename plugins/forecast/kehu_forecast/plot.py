"""``--plot FILE.png``: matplotlib figures drawn with the Agg canvas (no pyplot, no global backend)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import date
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
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
)


def _cjk_font() -> str | None:
    """The first installed font that can draw Chinese, if any."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in CJK_FONTS if n in names), None)


def label(text: str) -> str:
    """A label that can be drawn: as is with a CJK font, else in pinyin (华东 -> HuaDong)."""
    if text.isascii() or _cjk_font() is not None:
        return text
    return "".join(p.capitalize() if p != "/" else p for p in lazy_pinyin(text))


def _money_axis(ax: Any) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))


def _fonts() -> list[str]:
    """The sans-serif fonts for a figure: a CJK font first where there is one."""
    font = _cjk_font()
    return [font, "DejaVu Sans"] if font else ["DejaVu Sans"]


def _days(days: Sequence[date]) -> np.ndarray:
    """Days as numpy dates, which matplotlib draws on a date axis."""
    return np.array(days, dtype="datetime64[D]")


def _save(fig: Figure, path: str) -> None:
    with warnings.catch_warnings():
        # Machines without a CJK font draw Chinese labels as boxes; say nothing per glyph.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        fig.tight_layout()
        fig.savefig(path, dpi=100)


def plot_plan(plan: Plan, history: SalesHistory, path: str) -> None:
    """Company history, the forecast and its pessimistic-optimistic band."""
    with matplotlib.rc_context({"font.sans-serif": _fonts(), "axes.unicode_minus": False}):
        fig = Figure(figsize=(10, 4.5))
        ax = fig.subplots()
        ax.plot(_days(history.periods), history.values.sum(axis=0), label="history", color="#333333")
        values = plan.value[0] / 100
        ax.plot(_days(plan.periods), values, label=f"forecast ({plan.method})", color="#1f77b4")
        if plan.low is not None and plan.high is not None:
            ax.fill_between(
                _days(plan.periods),
                plan.low[0] / 100,
                plan.high[0] / 100,
                alpha=0.25,
                color="#1f77b4",
                label="pessimistic - optimistic",
            )
        ax.set_title("Sales: history and forecast (company)")
        ax.set_ylabel("yuan")
        _money_axis(ax)
        ax.legend(loc="upper left")
        fig.autofmt_xdate()
        _save(fig, path)


def plot_bars(title: str, labels: Sequence[str], series: dict[str, Sequence[float]], path: str) -> None:
    """Grouped bars, one group per label (top-down against bottom-up; target against actual)."""
    with matplotlib.rc_context({"font.sans-serif": _fonts(), "axes.unicode_minus": False}):
        fig = Figure(figsize=(max(6, 1.2 * len(labels) + 2), 4.5))
        ax = fig.subplots()
        x = np.arange(len(labels))
        width = 0.8 / max(1, len(series))
        for k, (name, vals) in enumerate(series.items()):
            ax.bar(x + (k - (len(series) - 1) / 2) * width, vals, width, label=name)
        ax.set_xticks(x)
        ax.set_xticklabels([label(t) for t in labels], rotation=30, ha="right")
        ax.set_title(label(title))
        ax.set_ylabel("yuan")
        _money_axis(ax)
        ax.legend()
        _save(fig, path)
