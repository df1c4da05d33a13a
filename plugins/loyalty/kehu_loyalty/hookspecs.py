"""Hook specs the loyalty plugin offers to other plugins."""

from __future__ import annotations

from collections.abc import Sequence

import pluggy

from kehu_core.app import Kehu
from kehu_loyalty.rules import EarnRule

hookspec = pluggy.HookspecMarker("kehu")


@hookspec
def kehu_loyalty_earn_rules(app: Kehu) -> Sequence[EarnRule]:
    """Add earn rules to the points programme (a company's own promotions).

    Parameters:
        app: the application.

    Returns: :class:`kehu_loyalty.rules.EarnRule` values. They are declarative (attrs):
    which interaction kinds, categories, channels or products they match, points per yuan or
    fixed points, how often they may award (``once_per``) and to whom. They are evaluated
    per batch of recorded interactions, never once per row through a hook. Names must be
    unique across all rules; the built-in ones are ``base``, ``birthday``, ``first_purchase``,
    ``referral`` and ``feedback``.
    """
