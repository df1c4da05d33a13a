"""acme: double points on 11-11 every year, and a note of what members earn that day."""

from kehu_core import hookimpl
from kehu_loyalty.api import EarnRule

DOUBLE_11 = EarnRule(
    "acme.double_11",
    multiplier=2,
    every_year="11-11",
    description="双十一: double points on 11-11",
)

#: What acme heard: (customer code, points, rule) of entries earned under the promotion.
HEARD: list[tuple[str, int, str | None]] = []


@hookimpl(optionalhook=True)
def kehu_loyalty_earn_rules():
    """The promotion, in force every year: one rule, not one per year."""
    return [DOUBLE_11]


@hookimpl(optionalhook=True)
def kehu_points_earned(session, entries):
    """Inside the earning transaction: note the entries the promotion doubled."""
    HEARD.extend((e.customer, e.points, e.rule) for e in entries if "acme.double_11" in (e.rule or ""))
