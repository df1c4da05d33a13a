"""Hook specs the tiering plugin offers to other plugins (added through ``kehu_add_hookspecs``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kehu_core.hookspecs import hookspec

if TYPE_CHECKING:
    from kehu_tiering.rules import TierRule


@hookspec
def kehu_tier_rules() -> Sequence[TierRule]:
    """Contribute tiering rules: a company's own key-account criteria, overrides, flags.

    Returns: :class:`kehu_tiering.rules.TierRule` values. A rule either sets a **flag**
    (``flag="key_account"``) or overrides the **tier** of one classification
    (``tier="VIP", method="pyramid"``). Its ``when`` is a SQLAlchemy boolean expression over
    the columns of :data:`kehu_tiering.stats.STATS` (the documented statistics relation), so
    it runs set-based in the database; ``predicate`` (a Python callable on one customer's
    statistics) is the slow path. Rules are applied by ``priority`` (lower first), then name;
    for a tier the first matching rule wins, for a flag any matching rule sets it and the
    first one is recorded as the reason.

    Example::

        from kehu_core import hookimpl
        from kehu_tiering.rules import TierRule
        from kehu_tiering.stats import STATS as s, has_tag

        @hookimpl
        def kehu_tier_rules():
            return [TierRule(name="acme.big_contract", flag="key_account", priority=50,
                             when=(s.c.revenue_total >= 2_000_000) | has_tag("战略客户"))]
    """
