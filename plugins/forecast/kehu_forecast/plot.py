"""``--plot FILE.png``: matplotlib figures drawn with the Agg canvas (no pyplot, no global backend)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from kehu_core.i18n import messages
from kehu_core.plotfonts import drawable, figure_style
from kehu_forecast.history import SalesHistory
from kehu_forecast.methods import describe
from kehu_forecast.plan import Plan

_ = messages("kehu_forecast").gettext


def _money_axis(ax: Any) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))


def _days(days: Sequence[date]) -> np.ndarray:
    """Days as numpy dates, which matplotlib draws on a date axis."""
    return np.array(days, dtype="datetime64[D]")


def _save(fig: Figure, path: str) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def plot_plan(plan: Plan, history: SalesHistory, path: str) -> None:
    """Company history, the forecast and its pessimistic-optimistic band."""
    with figure_style():
        fig = Figure(figsize=(10, 4.5))
        ax = fig.subplots()
        ax.plot(_days(history.periods), history.values.sum(axis=0), label=_("history"), color="#333333")
        values = plan.value[0] / 100
        ax.plot(
            _days(plan.periods),
            values,
            label=_("forecast ({method})").format(method=describe(plan.kind, plan.method, plan.params)),
            color="#1f77b4",
        )
        if plan.low is not None and plan.high is not None:
            ax.fill_between(
                _days(plan.periods),
                plan.low[0] / 100,
                plan.high[0] / 100,
                alpha=0.25,
                color="#1f77b4",
                label=_("pessimistic - optimistic"),
            )
        ax.set_title(_("Sales: history and forecast (company)"))
        ax.set_ylabel(_("yuan"))
        _money_axis(ax)
        ax.legend(loc="upper left")
        fig.autofmt_xdate()
        _save(fig, path)


def plot_bars(
    title: str, labels: Sequence[str], series: dict[str, Sequence[float]], path: str, note: str = ""
) -> None:
    """Grouped bars, one group per label (top-down against bottom-up; target against actual).

    ``title`` and the series names are labels in the current language (the caller's ``_()``);
    ``labels`` are names from the data; ``note`` follows the title.
    """
    with figure_style():
        fig = Figure(figsize=(max(6, 1.2 * len(labels) + 2), 4.5))
        ax = fig.subplots()
        x = np.arange(len(labels))
        width = 0.8 / max(1, len(series))
        for k, (name, vals) in enumerate(series.items()):
            ax.bar(x + (k - (len(series) - 1) / 2) * width, vals, width, label=name)
        ax.set_xticks(x)
        ax.set_xticklabels([drawable(t) for t in labels], rotation=30, ha="right")
        ax.set_title(title + (f" ({note})" if note else ""))
        ax.set_ylabel(_("yuan"))
        _money_axis(ax)
        ax.legend()
        _save(fig, path)
