"""ACME's part of ``kehu demo``: a few customers judged by their salesperson."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kehu_acme_rules.flags import add_demo_judgements
from kehu_core import DemoContext, Kehu


def load_demo(app: Kehu, session: Session, context: DemoContext) -> None:
    """Judge a few demo customers, so ``make demo`` shows the section and the column."""
    count = add_demo_judgements(session, context.rng)
    context.summary.append(f"acme_rules: {count} customers judged by their salesperson (key-account flags)")
