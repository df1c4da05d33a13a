"""``kehu tier report --plot FILE.png``: the Pareto curve and the customer pyramid (matplotlib, Agg).

Drawn on a :class:`~matplotlib.figure.Figure` of its own, not through ``pyplot``: no display,
no global figure state, and the Agg canvas needs no backend switch.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path

from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from kehu_core import i18n
from kehu_core.i18n import messages
from kehu_core.plotfonts import cjk_font, figure_style
from kehu_tiering.report import Report
from kehu_tiering.vocab import MEASURE, tier_label

_, ngettext = messages("kehu_tiering").functions()


def _measure(code: object) -> str:
    return MEASURE.label(code) if isinstance(code, str) and code in MEASURE else str(code)


def draw(report: Report, revenue_cents: Sequence[int], path: str | Path) -> Path:
    """Write a PNG with two panels: cumulative revenue share by customer share, and the pyramid."""
    # Without a CJK font Chinese would be drawn as boxes: the plot is then in English.
    language = nullcontext() if cjk_font() is not None else i18n.using("en")
    with figure_style(), language:
        return _draw(report, revenue_cents, Path(path))


def _draw(report: Report, revenue_cents: Sequence[int], out: Path) -> Path:
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
    left.plot(xs, ys, color="tab:blue", label=_("cumulative revenue share"))
    left.plot([0, 100], [0, 100], color="grey", linestyle=":", label=_("equal shares"))
    if report.pareto:
        left.axvline(20, color="tab:red", linestyle="--")
        left.annotate(
            _("top 20% -> {share}%").format(share=report.pareto.top20_share_pct),
            (20, float(report.pareto.top20_share_pct)),
            xytext=(30, max(5.0, float(report.pareto.top20_share_pct) - 25)),
            arrowprops={"arrowstyle": "->"},
        )
    left.set(
        title=_("Pareto curve (80/20), as of {as_of}").format(as_of=report.as_of),
        xlabel=_("% of customers (largest first)"),
        ylabel=_("% of revenue"),
        xlim=(0, 100),
        ylim=(0, 100),
    )
    left.legend(loc="lower right")
    pyramid = [t for t in report.tiers if t.method == "pyramid"]
    labels = [
        ngettext(
            "{tier}: {n} customer ({pct}%), {share}% of revenue",
            "{tier}: {n} customers ({pct}%), {share}% of revenue",
            t.customers,
        ).format(tier=tier_label(t.tier), n=t.customers, pct=t.customer_pct, share=t.revenue_share_pct)
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
        title=_("Customer pyramid, by {measure}").format(measure=_measure(report.settings.get("measure"))),
        xlim=(-55, 55),
        ylim=(-0.6, max(levels, 1) - 0.4),
    )
    right.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    return out
