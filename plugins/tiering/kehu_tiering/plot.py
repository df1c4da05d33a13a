"""``kehu tier report --plot FILE.png``: the Pareto curve and the customer pyramid (matplotlib, Agg).

Drawn on a :class:`~matplotlib.figure.Figure` of its own, not through ``pyplot``: no display,
no global figure state, and the Agg canvas needs no backend switch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from kehu_core.plotfonts import cjk_font, figure_style
from kehu_tiering.report import Report
from kehu_tiering.settings import PYRAMID_ALIASES


def draw(report: Report, revenue_cents: Sequence[int], path: str | Path) -> Path:
    """Write a PNG with two panels: cumulative revenue share by customer share, and the pyramid."""
    with figure_style():
        return _draw(report, revenue_cents, Path(path))


def _draw(report: Report, revenue_cents: Sequence[int], out: Path) -> Path:
    # Tier names are Chinese (主要客户): drawn as such with a CJK font, in English otherwise.
    cjk = cjk_font() is not None
    english = {**{v: k for k, v in PYRAMID_ALIASES.items()}, "VIP": "VIP"}
    total = sum(revenue_cents)
    n = len(revenue_cents)
    fig = Figure(figsize=(12, 5))
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    xs, ys, running = [0.0], [0.0], 0
    step = max(1, n // 1000)
    for i, cents in enumerate(revenue_cents, start=1):
        running += cents
        if i % step == 0 or i == n:
            xs.append(100 * i / n)
            ys.append(100 * running / total if total else 0)
    left.plot(xs, ys, color="tab:blue", label="cumulative revenue share")
    left.plot([0, 100], [0, 100], color="grey", linestyle=":", label="equal shares")
    if report.pareto:
        left.axvline(20, color="tab:red", linestyle="--")
        left.annotate(
            f"top 20% -> {report.pareto.top20_share_pct}%",
            (20, float(report.pareto.top20_share_pct)),
            xytext=(30, max(5.0, float(report.pareto.top20_share_pct) - 25)),
            arrowprops={"arrowstyle": "->"},
        )
    left.set(
        title=f"Pareto curve (80/20), as of {report.as_of}",
        xlabel="% of customers (largest first)",
        ylabel="% of revenue",
        xlim=(0, 100),
        ylim=(0, 100),
    )
    left.legend(loc="lower right")
    pyramid = [t for t in report.tiers if t.method == "pyramid"]
    labels = [
        f"{t.tier if cjk else english.get(t.tier, t.tier)}: {t.customers} customers ({t.customer_pct}%), "
        f"{t.revenue_share_pct}% of revenue"
        for t in pyramid
    ]
    levels = len(pyramid)
    for i, label in enumerate(labels):  # a drawn pyramid: the top level narrowest
        y = levels - 1 - i
        width = 30 + 70 * i / max(1, levels - 1)
        right.barh(
            y,
            width,
            left=-width / 2,
            height=0.9,
            color=colormaps["YlOrRd"](0.85 - 0.6 * i / max(1, levels - 1)),
        )
        right.text(0, y, label, ha="center", va="center", fontsize=9)
    right.set(
        title=("Customer pyramid (客户金字塔)" if cjk else "Customer pyramid")
        + f", by {report.settings.get('measure')}",
        xlim=(-55, 55),
        ylim=(-0.6, max(levels, 1) - 0.4),
    )
    right.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    return out
