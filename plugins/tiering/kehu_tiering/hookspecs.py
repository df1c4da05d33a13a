"""Hook specs the tiering plugin offers to other plugins (declared by its manifest).

Everything they name is importable from :mod:`kehu_tiering.api`: ``TierRule``,
``RuleContext``, ``StatColumn``, ``STATS``, ``RunResult`` and the rule functions. A plugin
that may be installed without tiering declares its implementations
``@hookimpl(optionalhook=True)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from kehu_core.app import Kehu
from kehu_core.hookspecs import hookspec
from kehu_core.hooktypes import TierChange
from kehu_tiering.engine import RunResult
from kehu_tiering.rules import TierRule
from kehu_tiering.settings import RuleContext
from kehu_tiering.stats import StatColumn


@hookspec
def kehu_tier_rules(app: Kehu, context: RuleContext) -> Sequence[TierRule]:  # a spec: never called
    """Contribute tiering rules: a company's own key-account criteria, overrides, flags.

    Parameters:
        app: the application (leave it out of your implementation when you don't use it).
        context: the run's :class:`~kehu_tiering.api.RuleContext`: ``as_of`` (the local day
            it classifies as of), ``window_start`` and ``window_end`` (the window's first and
            last local days; ``window_start`` is ``None`` for all history) and ``settings``.
            ``kehu tier rules`` passes the context of the next run (the last run's settings
            as of today). Leave it out when your rules do not depend on the date.

    Returns: :class:`~kehu_tiering.api.TierRule` values. A rule either sets a **flag**
    (``flag="key_account"``) or overrides the **tier** of one classification
    (``tier="VIP", method="pyramid"``). Its ``when`` is a SQLAlchemy boolean expression over
    the columns of :data:`~kehu_tiering.api.STATS` (the documented statistics relation,
    :data:`~kehu_tiering.api.COLUMNS`) and plugins' columns (``StatColumn.column``), using
    only the functions :func:`~kehu_tiering.api.days_between`, ``coalesce``, ``least`` and
    ``greatest``, so it runs set-based on SQLite and PostgreSQL alike; ``predicate`` (a
    Python callable on one customer's statistics) is the slow path. Rules are applied by
    ``priority`` (lower first), then name; for a tier the first matching rule wins, for a
    flag any matching rule sets it and the first one is recorded as the reason. A condition
    the database cannot run is refused before the run with one line naming the rule.

    Example (``TierRule``, ``days_between`` and ``STATS as s`` from :mod:`kehu_tiering.api`)::

        @hookimpl(optionalhook=True)
        def kehu_tier_rules(context):
            return [TierRule(name="acme.recent_buyer", flag="recent_buyer",
                             when=days_between(s.c.last_purchase_at, context.as_of) <= 30)]
    """


@hookspec
def kehu_tier_statistics(app: Kehu, context: RuleContext) -> Sequence[StatColumn]:  # a spec: never called
    """Contribute columns to the statistics relation that rules read.

    Parameters:
        app: the application.
        context: the run's :class:`~kehu_tiering.api.RuleContext` (as-of day, window), as
            ``kehu_tier_rules`` gets it: count "visits in the 30 days before the as-of day".

    Returns: :class:`~kehu_tiering.api.StatColumn` values ``(name, expression, description)``:
    ``expression`` receives the ``customers.id`` column and returns one customer's value,
    typically a correlated scalar subquery over your own tables. A run computes a column only
    when a rule reads it (``stat_column.column`` or ``api.stat("name")``); ``kehu tier stats``
    shows them all. A name already taken is refused, naming your plugin.
    """


@hookspec
def kehu_tier_run_finished(
    app: Kehu, session: Session, run: RunResult, changes: Sequence[TierChange]
) -> None:  # a spec: never called
    """A tiering run has written its outcome (``kehu tier run``, the daily job, ``api.run_tiers``).

    Fired once per run, inside the run's transaction, after its history is written and after
    ``kehu_tier_changed``. Raising rolls the whole run back and names your plugin.

    Parameters:
        app: the application.
        session: the run's session; write your rows through it, never commit.
        run: the run's summary, a :class:`~kehu_tiering.api.RunResult` (``run_id``, ``as_of``,
            ``customers``, ``written``, ``moved``, ``counts`` per method and tier, ``settings``).
        changes: one :class:`~kehu_core.hooktypes.TierChange` per customer and method whose
            tier moved (``is_tier`` for the tier method), ordered by customer and method; an
            empty list when nothing moved (a re-run on unchanged data).
    """
