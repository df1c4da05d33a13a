"""Tiering's part of ``kehu demo``: a few key accounts flagged by judgement, a run, a summary."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.app import Kehu
from kehu_core.hooktypes import DemoContext
from kehu_core.i18n import messages
from kehu_core.models import Customer
from kehu_tiering.engine import run
from kehu_tiering.report import build_report
from kehu_tiering.settings import PYRAMID_TIERS, make_settings
from kehu_tiering.vocab import tier_label

_ = messages("kehu_tiering").gettext

#: Demo customers a salesperson flagged as key accounts (by rank of their code, deterministic).
DEMO_FLAGS = (("strategic",), ("influence", "market"), ("technology",))


def add_demo(app: Kehu, session: Session, context: DemoContext) -> None:
    """Flag a few small customers as key accounts by judgement, tier everyone, summarise."""
    customers = list(
        session.scalars(select(Customer).where(Customer.active.is_(True)).order_by(Customer.code))
    )
    picks = context.rng.sample(
        customers[len(customers) // 2 :], k=min(len(DEMO_FLAGS), max(0, len(customers) // 2))
    )
    for customer, judgement in zip(picks, DEMO_FLAGS):
        customer.attributes = {**(customer.attributes or {}), "key_account_flags": list(judgement)}
    session.flush()
    result = run(app, session, make_settings(as_of=calendar.local_day(context.today)), source="demo")
    report = build_report(session, app.dialect)
    pyramid = result.counts.get("pyramid", {})
    flags = {m.split(":", 1)[1]: sum(v.values()) for m, v in result.counts.items() if m.startswith("flag:")}
    counts = _(", ").join(
        _("{tier} {n}").format(tier=tier_label(t), n=pyramid.get(t, 0)) for t in PYRAMID_TIERS
    )
    context.summary.append(_("tiers (pyramid): {counts}").format(counts=counts))
    flagged = _(", ").join(_("{tier} {n}").format(tier=tier_label(k), n=v) for k, v in sorted(flags.items()))
    context.summary.append(_("flags: {counts}  (kehu tier report)").format(counts=flagged))
    if report.pareto:
        context.summary.append(
            _("tiering 80/20 check: top 20% of customers bring {share}% of revenue").format(
                share=report.pareto.top20_share_pct
            )
        )
