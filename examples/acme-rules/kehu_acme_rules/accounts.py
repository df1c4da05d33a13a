"""Who is a key account (大客户) for ACME, asked of a batch of customers at once.

A customer is a key account when any of these holds:

* THE tier (``kehu_customer_tiers(method=None)``, the tier method tiering names) is ``VIP``;
* tiering set its ``key_account`` flag (its built-in rules, or ACME's own in
  :mod:`kehu_acme_rules.tier_rules`), read as the segment ``flag:key_account``;
* a salesperson judged it one with ``kehu acme set`` (ACME's own table), which counts at once,
  before the next tiering run.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.orm import Session

from kehu_acme_rules.flags import key_account_customers
from kehu_core.app import Kehu

#: THE tier that makes a key account (the pyramid's top; under the ABC tier method there is
#: none, and only the flag and the judgement count).
KEY_TIER = "VIP"
KEY_ACCOUNT_FLAG = "flag:key_account"


def key_accounts(app: Kehu, session: Session, customer_ids: Collection[int]) -> set[int]:
    """The ids among ``customer_ids`` that are key accounts (see the module docstring)."""
    ids = list(customer_ids)
    if not ids:
        return set()
    tiers = app.hook.kehu_customer_tiers(session=session, customer_ids=ids, method=None) or {}
    flagged = app.hook.kehu_customer_tiers(session=session, customer_ids=ids, method=KEY_ACCOUNT_FLAG) or {}
    judged = set(session.scalars(key_account_customers())).intersection(ids)
    return {cid for cid, tier in tiers.items() if tier == KEY_TIER} | set(flagged) | judged


def segment(app: Kehu, session: Session, customer_ids: Collection[int], method: str) -> set[int]:
    """The ids among ``customer_ids`` that have a class by ``method`` (``"flag:late_payer"``)."""
    ids = list(customer_ids)
    if not ids:
        return set()
    return set(app.hook.kehu_customer_tiers(session=session, customer_ids=ids, method=method) or {})
