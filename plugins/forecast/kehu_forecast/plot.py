"""``--plot FILE.png``: matplotlib on the Agg backend, imported only when a plot is asked for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in CJK_FONTS if n in names), None)


def label(text: str) -> str:
    """A label that can be drawn: as is with a CJK font, else in pinyin (华东 -> HuaDong)."""
    if text.isascii() or _cjk_font() is not None:
        return text
    from pypinyin import lazy_pinyin

    return "".join(p.capitalize() if p != "/" else p for p in lazy_pinyin(text))


def _money_axis(ax: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))


def _pyplot() -> Any:
    import warnings

    import matplotlib

    # Machines without a CJK font draw Chinese labels as boxes; say nothing per glyph.
    warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = _cjk_font()
    plt.rcParams["font.sans-serif"] = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def plot_plan(plan: Plan, history: SalesHistory, path: str) -> None:
    """Company history, the forecast and its pessimistic-optimistic band."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.plot(history.periods, history.values.sum(axis=0), label="history", color="#333333")
    values = plan.value[0] / 100
    ax.plot(plan.periods, values, label=f"forecast ({plan.method})", color="#1f77b4")
    if plan.low is not None and plan.high is not None:
        ax.fill_between(
            plan.periods,
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
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_bars(title: str, labels: Sequence[str], series: dict[str, Sequence[float]], path: str) -> None:
    """Grouped bars, one group per label (top-down against bottom-up; target against actual)."""
    import numpy as np

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(labels) + 2), 4.5))
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
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
