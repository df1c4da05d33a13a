"""``--plot FILE.png``: matplotlib on the Agg backend, imported only when a plot is asked for."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kehu_forecast.history import SalesHistory
    from kehu_forecast.plan import Plan


def _pyplot() -> Any:
    import warnings

    import matplotlib

    # Machines without a CJK font draw Chinese labels as boxes; say nothing per glyph.
    warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.sans-serif"] = ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "SimHei", "DejaVu Sans"]
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
        ax.fill_between(plan.periods, plan.low[0] / 100, plan.high[0] / 100, alpha=0.25, color="#1f77b4",
                        label="pessimistic - optimistic")
    ax.set_title("Sales: history and forecast (company)")
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
    ax.set_xticklabels(labels, rotation=30, ha="right")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
