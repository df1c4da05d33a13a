"""ACME's loyalty promotion: double points on 11-11 (双十一), every year.

Used only where the loyalty plugin is installed: ACME does not depend on loyalty (its manifest
names it in ``after``), and implements ``kehu_loyalty_earn_rules`` as an optional hook. The day
is the company-local one: a purchase at 23:59 on 11-10 earns the usual points, one at 00:00 on
11-11 earns double.
"""

from __future__ import annotations

from kehu_core.i18n import messages
from kehu_loyalty.api import EarnRule

_ = messages("kehu_acme_rules").gettext


def acme_earn_rules() -> list[EarnRule]:
    """The rules, built on loyalty's public API (``EarnRule`` with ``every_year`` and ``multiplier``)."""
    return [
        EarnRule(
            name="acme.double_11",
            multiplier=2,
            every_year="11-11",
            description=_("ACME: double points on 11-11 (双十一), every year, by the company's local day"),
        )
    ]
