"""ACME's own security, shipped with its plugin the way an Odoo module ships ``security/``.

The manifest names this module (``security="kehu_acme_rules.security"``); kehu reads it when
ACME is installed, and ``kehu roles`` lists what it declares under ``acme_rules``:

* a role, ``key_account_manager`` (大客户经理): sees the key accounts, whoever owns them;
* two permissions: ``acme_rules.judge`` (record the key-account judgement, ``kehu acme set``)
  and ``acme_rules.review`` (read the weekly review, ``kehu acme reviews``);
* a record rule on ``customers`` for that role: the key accounts (:func:`key_account_domain`).

The role implies ``sales`` (Odoo's implied groups): a key-account manager reads and writes
customers as a salesperson does, and sees their own customers and every key account, the
union of the two roles' record rules.

ACME's one setting (``kehu acme manager NAME``) is a setting like the core's: it needs the
core's ``settings.manage`` and is audited as ``acme_rules.key_account_manager``.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import Session

from kehu_acme_rules.accounts import KEY_ACCOUNT_FLAG, KEY_TIER
from kehu_acme_rules.flags import JUDGE, is_judged_key_account
from kehu_acme_rules.review import REVIEW
from kehu_core.access import Actor
from kehu_core.i18n import N_
from kehu_core.models import Customer
from kehu_core.security import Permission, RecordRule, RoleDeclaration
from kehu_tiering.api import has_tier

KEY_ACCOUNT_MANAGER = "key_account_manager"
__all__ = ["JUDGE", "KEY_ACCOUNT_MANAGER", "PERMISSIONS", "REVIEW", "ROLES", "RULES", "key_account_domain"]


def key_account_domain(_session: Session, _actor: Actor) -> ColumnElement[bool]:
    """The key accounts (see :mod:`kehu_acme_rules.accounts`), as SQL over ``customers``:
    THE tier is VIP, tiering flagged it ``key_account``, or a salesperson judged it one."""
    customer_id = Customer.__table__.c.id
    return or_(
        is_judged_key_account(customer_id),
        has_tier(customer_id, KEY_ACCOUNT_FLAG.removeprefix("flag:"), method=KEY_ACCOUNT_FLAG),
        has_tier(customer_id, KEY_TIER),
    )


ROLES = (
    RoleDeclaration(
        KEY_ACCOUNT_MANAGER,
        N_("ACME key-account manager (大客户经理): a salesperson who also sees every key account"),
        implies=("sales",),
    ),
)

PERMISSIONS = (
    Permission(
        JUDGE,
        N_("record a customer's key-account judgement (`kehu acme set`)"),
        ("manager", "sales", KEY_ACCOUNT_MANAGER),
    ),
    Permission(
        REVIEW, N_("read ACME's weekly review (`kehu acme reviews`)"), ("manager", KEY_ACCOUNT_MANAGER)
    ),
)

RULES = (
    RecordRule(
        "customers",
        KEY_ACCOUNT_MANAGER,
        N_("the key accounts: VIP tier, tiering's key_account flag, or ACME's judgement"),
        key_account_domain,
    ),
)
