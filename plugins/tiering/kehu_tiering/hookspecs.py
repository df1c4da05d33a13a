"""Hook specs the tiering plugin offers to other plugins (declared by its manifest)."""

from __future__ import annotations

from collections.abc import Sequence

from kehu_core.app import Kehu
from kehu_core.hookspecs import hookspec
from kehu_tiering.rules import TierRule


@hookspec
def kehu_tier_rules(app: Kehu) -> Sequence[TierRule]:  # a spec: never called
    """Contribute tiering rules: a company's own key-account criteria, overrides, flags.

    Parameters:
        app: the application (leave it out of your implementation when you don't use it).

    Returns: :class:`kehu_tiering.rules.TierRule` values. A rule either sets a **flag**
    (``flag="key_account"``) or overrides the **tier** of one classification
    (``tier="VIP", method="pyramid"``). Its ``when`` is a SQLAlchemy boolean expression over
    the columns of :data:`kehu_tiering.stats.STATS` (the documented statistics relation), so
    it runs set-based in the database; ``predicate`` (a Python callable on one customer's
    statistics) is the slow path. Rules are applied by ``priority`` (lower first), then name;
    for a tier the first matching rule wins, for a flag any matching rule sets it and the
    first one is recorded as the reason.

    A plugin that may be installed without tiering declares its implementation
    ``@hookimpl(optionalhook=True)``.

    Example (``TierRule``, ``has_tag`` and ``STATS as s`` imported from :mod:`kehu_tiering.api`)::

        @hookimpl(optionalhook=True)
        def kehu_tier_rules():
            return [TierRule(name="acme.big_contract", flag="key_account", priority=50,
                             when=(s.c.revenue_total >= 2_000_000) | has_tag("战略客户"))]
    """
