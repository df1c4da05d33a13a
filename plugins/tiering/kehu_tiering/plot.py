"""``kehu tier report --plot FILE.png``: the Pareto curve and the customer pyramid (matplotlib, Agg)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kehu_tiering.report import Report


def draw(report: Report, revenue_cents: Sequence[int], path: str | Path) -> Path:
    """Write a PNG with two panels: cumulative revenue share by customer share, and the pyramid."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed; set before pyplot is imported
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    # A CJK font when the machine has one, so 主要客户 renders; fall back silently otherwise.
    for name in ("Noto Sans CJK SC", "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei", "PingFang SC"):
        if any(f.name == name for f in font_manager.fontManager.ttflist):
            plt.rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
            break
    total = sum(revenue_cents)
    n = len(revenue_cents)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
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
        left.annotate(f"top 20% -> {report.pareto.top20_share_pct}%", (20, float(report.pareto.top20_share_pct)),
                      xytext=(30, max(5.0, float(report.pareto.top20_share_pct) - 25)), arrowprops={"arrowstyle": "->"})
    left.set(title=f"Pareto curve (80/20), as of {report.as_of}", xlabel="% of customers (largest first)",
             ylabel="% of revenue", xlim=(0, 100), ylim=(0, 100))
    left.legend(loc="lower right")
    pyramid = [t for t in report.tiers if t.method == "pyramid"]
    labels = [f"{t.tier}: {t.customers} ({t.revenue_share_pct}% rev.)" for t in pyramid]
    widths = [max(t.customer_pct, 1) for t in pyramid]
    for i, (label, width) in enumerate(zip(labels, widths)):
        y = len(pyramid) - 1 - i
        right.barh(y, float(width), left=-float(width) / 2, color=plt.cm.viridis(i / max(1, len(pyramid))))
        right.text(0, y, label, ha="center", va="center", color="white" if i < len(pyramid) - 1 else "black")
    right.set(title="Customer pyramid (客户金字塔), width = % of customers", yticks=[], xlim=(-55, 55))
    right.axis("off") if not pyramid else None
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
