"""ACME's part of ``kehu demo``: a few customers judged by their salesperson."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kehu_acme_rules.flags import add_demo_judgements
from kehu_core import DemoContext, Kehu
from kehu_core.i18n import messages

_ = messages("kehu_acme_rules").gettext


def load_demo(app: Kehu, session: Session, context: DemoContext) -> None:
    """Judge a few demo customers, so ``make demo`` shows the section and the column."""
    count = add_demo_judgements(session, context.rng)
    context.summary.append(
        _("acme_rules: {n} customers judged by their salesperson (key-account flags)").format(n=count)
    )
