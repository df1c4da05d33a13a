"""Loyalty's permissions, and the checks its services make before they change anything.

* ``loyalty.redeem`` (sales, service, manager): spend a member's points on a reward
  (``kehu loyalty redeem``).
* ``loyalty.adjust`` (manager): give a member points by hand (``kehu loyalty earn``, the API's
  ``earn_points``): the one way to change a balance other than purchases and redemptions.
* ``loyalty.enroll`` (sales, service, manager): enrol customers in the points programme and
  record who referred whom (``kehu loyalty enroll``, ``kehu loyalty refer``).
* ``loyalty.manage`` (manager): the programme itself: the rewards catalogue (``rewards add``,
  ``restock``), member levels (``levels set``, ``levels review``), rebate programmes and their
  settlement (``rebate programme add``, ``rebate settle``) and writing off expired points by
  hand (``kehu loyalty expire``, its dry run too). Expiry, the level review and settlement act
  on every member, so a user whose record rules hide some customers is refused them even when
  granted the permission.
* The programme's settings (``kehu loyalty settings set``) need the core's ``settings.manage``;
  each change is audited as setting ``loyalty.<key>``.

Reading needs no permission of loyalty (the core's ``customer.read`` for customer data): a
balance, a statement, the ladder, the satisfaction report and rebate accruals and statements
show only the customers the acting user sees; a customer outside their record rules is "no
customer with code ...". The scheduled jobs (expiry, level review, rebate settlement) run as
kehu itself.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from kehu_core.access import Actor, Forbidden, customer_condition, require
from kehu_core.i18n import N_, messages
from kehu_core.security import Permission

_ = messages("kehu_loyalty").gettext

REDEEM = "loyalty.redeem"
ADJUST = "loyalty.adjust"
ENROLL = "loyalty.enroll"
MANAGE = "loyalty.manage"
#: The core's permission for every setting, the plugins' included.
SETTINGS = "settings.manage"

PERMISSIONS = (
    Permission(REDEEM, N_("redeem a member's points for rewards"), ("manager", "sales", "service")),
    Permission(ADJUST, N_("give a member points by hand (`kehu loyalty earn`)"), ("manager",)),
    Permission(
        ENROLL,
        N_("enrol customers in the points programme and record referrals"),
        ("manager", "sales", "service"),
    ),
    Permission(
        MANAGE,
        N_("manage the rewards catalogue, member levels, rebate programmes and settlement, expire points"),
        ("manager",),
    ),
)


def require_programme(session: Session, doing: str) -> Actor:
    """The acting user, when they hold ``loyalty.manage`` and see every customer (``doing``
    acts on every member); otherwise :class:`~kehu_core.access.Forbidden`, nothing done."""
    actor = require(session, MANAGE, doing)
    if customer_condition(session) is not None:
        roles = ", ".join(sorted(actor.roles)) or _("no role")
        raise Forbidden(
            _(
                "{login} ({roles}) may not {doing}: it acts on every member and {login}'s record rules "
                "hide some customers; ask a manager; nothing was done"
            ).format(login=actor.login, roles=roles, doing=doing)
        )
    return actor
