"""ACME's rules for the tiering plugin: key accounts and late payers.

ACME counts a customer as a key account (大客户) when a salesperson judged it one (any of the
course material's judgement criteria, recorded with ``kehu acme set``), or when it has bought
at least 1,000,000 yuan over a relationship of two years or more — ACME's own, stricter
reading of "large orders and a continuous contract of a year or more". Both conditions are SQL over
the tiering statistics relation, so they run set-based for every customer at once.

A late payer (``late_payer``) is a customer with any payment, or purchase on credit, more than
30 days late in the window: paid 30 local days after its due day is still on ACME's side of
the line, 31 is not (``STATS.c.max_days_late`` counts the local days, and an unpaid one to
the as-of day).
"""

from __future__ import annotations

from kehu_acme_rules.flags import is_judged_key_account
from kehu_core.i18n import messages
from kehu_tiering.api import STATS, TierRule

_ = messages("kehu_acme_rules").gettext

#: ACME's revenue bar for a key account, in yuan, and the relationship it must have lasted.
BIG_ACCOUNT_REVENUE = 1_000_000
BIG_ACCOUNT_TENURE_MONTHS = 24
#: More days late than this on any one payment makes a late payer.
LATE_PAYER_DAYS = 30


def acme_tier_rules() -> list[TierRule]:
    """The rules, built on tiering's public rule API."""
    s = STATS
    return [
        TierRule(
            name="acme.judged_key_account",
            flag="key_account",
            priority=50,
            when=is_judged_key_account(s.c.customer_id),
            description=_("ACME: a salesperson judged the customer a key account (`kehu acme set`)"),
        ),
        TierRule(
            name="acme.big_and_long",
            flag="key_account",
            priority=60,
            when=(s.c.revenue_total >= BIG_ACCOUNT_REVENUE)
            & (s.c.tenure_months >= BIG_ACCOUNT_TENURE_MONTHS),
            description=_(
                "ACME: {revenue} yuan or more over a relationship of {months} months or more"
            ).format(revenue=f"{BIG_ACCOUNT_REVENUE:,}", months=BIG_ACCOUNT_TENURE_MONTHS),
        ),
        TierRule(
            name="acme.late_payer",
            flag="late_payer",
            # NULL (no payment late) is not > 30, so customers who always paid on time stay out.
            when=s.c.max_days_late > LATE_PAYER_DAYS,
            description=_("ACME: a payment more than {days} days late in the window").format(
                days=LATE_PAYER_DAYS
            ),
        ),
    ]
