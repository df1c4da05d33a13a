"""ACME's part of ``kehu demo``: a few customers judged by their salesperson."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kehu_acme_rules.flags import add_demo_judgements
from kehu_core import DemoContext, Kehu, calendar
from kehu_core.i18n import messages
from kehu_tiering.api import run_tiers

_ = messages("kehu_acme_rules").gettext


def load_demo(app: Kehu, session: Session, context: DemoContext) -> None:
    """Judge a few demo customers, so ``make demo`` shows the section and the column.

    Tiering's demo has already run (this plugin depends on it): the customers are tiered again
    so that the judgements' key accounts are in the demo, not only in the next ``kehu tier run``.
    """
    count = add_demo_judgements(session, context.rng)
    result = run_tiers(app, session, calendar.local_day(context.today), source="demo")
    key_accounts = sum(result.counts.get("flag:key_account", {}).values())
    context.summary.append(
        _(
            "acme_rules: {n} customers judged by their salesperson (key-account flags); "
            "tiered again with them: key account {key_accounts}"
        ).format(n=count, key_accounts=key_accounts)
    )
