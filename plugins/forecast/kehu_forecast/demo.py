"""Demo data: a pipeline of opportunities, market potential per region, and forecast runs whose
top-down total sits visibly above the bottom-up one, so ``kehu forecast gap`` has something to say."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.app import Kehu
from kehu_core.hooktypes import DemoContext
from kehu_core.i18n import messages
from kehu_core.models import Customer
from kehu_forecast.bottomup import Options, bottom_up
from kehu_forecast.gap import gap_rows
from kehu_forecast.pipeline import add_opportunities
from kehu_forecast.plan import store
from kehu_forecast.topdown import set_market_inputs, top_down

_ = messages("kehu_forecast").gettext

STAGES = (
    ("线索", "0.10"),
    ("需求确认", "0.25"),
    ("方案报价", "0.50"),
    ("商务谈判", "0.75"),
    ("签约中", "0.90"),
)
#: The market grows faster than our customers buy: top-down lands this much above bottom-up.
AMBITION = {"华东": 1.35, "华南": 1.10, "华北": 1.25, "华中": 0.95, "西南": 1.20, "西北": 1.05, "东北": 1.15}
SHARE = Decimal("0.08")


def load_demo(app: Kehu, session: Session, context: DemoContext) -> None:
    """Add opportunities, twelve months of market inputs per region, and the bottom-up and top-down runs."""
    rng = context.rng
    today = calendar.today(context.today)
    customers = (
        session.execute(select(Customer.code).where(Customer.active.is_(True)).order_by(Customer.code))
        .scalars()
        .all()
    )
    rows = []
    for code in rng.sample(customers, min(len(customers), max(5, len(customers) // 6))):
        stage, probability = rng.choice(STAGES)
        status = rng.choices(("open", "won", "lost"), weights=(8, 1, 1))[0]
        rows.append(
            {
                "customer": code,
                "amount": str(rng.choice((20, 50, 80, 120, 300)) * 1000),
                "stage": stage,
                "probability": probability,
                "status": status,
                "close_date": (today + timedelta(days=rng.randint(-10, 240))).isoformat(),
            }
        )
    if rows:
        add_opportunities(session, rows)
    bu = bottom_up(session, Options(as_of=today))
    store(app, session, bu, source="demo")
    inputs = []
    for region, total in bu.totals("region"):
        months = len(bu.periods)
        monthly = Decimal(total) / 100 / months * Decimal(str(AMBITION.get(region, 1.1)))
        potential = (monthly / SHARE).quantize(Decimal("1000"))
        for period in bu.periods:
            inputs.append(
                {
                    "period": period.isoformat(),
                    "dimension": "region",
                    "key": region,
                    "potential": str(potential),
                    "share": str(SHARE),
                }
            )
    set_market_inputs(session, inputs)
    td = top_down(session, dimension="region", as_of=today, horizon=len(bu.periods))
    store(app, session, td, source="demo")
    company = gap_rows(bu, td, levels=("company",))[0]
    flagged = sum(1 for r in gap_rows(bu, td, levels=("region",)) if r.flagged)
    context.summary.append(
        _(
            "forecast: next {months} months bottom-up ¥{bottom_up}, top-down ¥{top_down} "
            "(gap {gap}%, {flagged} region(s) flagged; see `kehu forecast gap`)"
        ).format(
            months=len(bu.periods),
            bottom_up=f"{company.bottom_up:,}",
            top_down=f"{company.top_down:,}",
            gap=f"{company.percent:+.1f}",
            flagged=flagged,
        )
    )
