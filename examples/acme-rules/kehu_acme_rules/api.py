"""ACME's public API: what scripts, the CLI and other company code call.

Everything else in this package is private to ACME's plugin.
"""

from __future__ import annotations

from kehu_acme_rules.accounts import key_accounts
from kehu_acme_rules.criteria import FLAGS, Flag
from kehu_acme_rules.flags import Judgement, judgement_of, set_judgement
from kehu_acme_rules.review import Review, count_review, list_reviews
from kehu_acme_rules.settings import key_account_manager, set_key_account_manager

__all__ = [
    "FLAGS",
    "Flag",
    "Judgement",
    "Review",
    "count_review",
    "judgement_of",
    "key_account_manager",
    "key_accounts",
    "list_reviews",
    "set_judgement",
    "set_key_account_manager",
]
