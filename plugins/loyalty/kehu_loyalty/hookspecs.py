"""Hook specs the loyalty plugin offers to other plugins (declared by its manifest).

Every spec takes ``app`` first; like any argument, leave it out of an implementation that does
not use it. Implement one that may run without this plugin as ``@hookimpl(optionalhook=True)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pluggy
from sqlalchemy.orm import Session

from kehu_core.app import Kehu
from kehu_loyalty.records import LevelChange, PointsEntry, Redemption
from kehu_loyalty.rules import EarnRule

hookspec = pluggy.HookspecMarker("kehu")


@hookspec
def kehu_loyalty_earn_rules(app: Kehu) -> Sequence[EarnRule]:
    """Add earn rules to the points programme (a company's own promotions).

    Parameters:
        app: the application.

    Returns: :class:`kehu_loyalty.api.EarnRule` values (built in Python, or read from a TOML
    rule file with :func:`kehu_loyalty.api.load_rule_file`). They are declarative (attrs):
    which interaction kinds, categories, channels or products they match, on which local days
    of every year (``every_year``), points per yuan, fixed points or a multiplier of the points
    per yuan, how often they may award (``once_per``) and to whom. They are evaluated per batch
    of recorded interactions, never once per row through a hook. Names (dots allowed:
    ``acme.double_11``) must be unique across all rules; the built-in ones are ``base``,
    ``birthday``, ``first_purchase``, ``referral`` and ``feedback``. A bad rule raises
    :class:`kehu_loyalty.api.EarnRuleError`: one line naming the plugin, the rule and the field.
    """


# -- domain events ------------------------------------------------------------------------------
# Each fires inside the transaction of the change it reports, after the change is written.
# Raising rolls the whole change back (an import, a redemption, an expiry run), so an
# implementation that only observes (notify, export) should not raise for a failure of its own.


@hookspec
def kehu_points_earned(app: Kehu, session: Session, entries: Sequence[PointsEntry]) -> None:
    """Members earned points: purchases and other interactions under the earn rules, a
    tier-upgrade bonus, or points given by hand.

    Fires inside the transaction that wrote the entries, after they are written: once per
    earning group (an import earns up to 50,000 interactions at a time, so a big import fires
    it a few times, each with the whole group), once per tier run's upgrades, once per award by
    hand. Raising rolls the earning back, and with it the write that recorded the interactions.
    When no plugin implements it, earning builds nothing for it.

    Parameters:
        app: the application.
        session: the session that wrote them; write your rows through it.
        entries: the new ledger entries, as :class:`kehu_loyalty.api.PointsEntry` (customer,
            points, rule, interaction ...), by customer; ``kind`` is ``earn``, ``bonus`` or
            ``adjust``.
    """


@hookspec
def kehu_points_redeemed(app: Kehu, session: Session, redemption: Redemption) -> None:
    """A member spent points on a reward.

    Fires inside the redemption's transaction, after the ``redeem`` entry, its allocations and
    the reward's stock are written. Raising rolls the redemption back (the points, the stock,
    and the member's expired points written off just before it).

    Parameters:
        redemption: the :class:`kehu_loyalty.api.Redemption` (customer, reward, quantity,
            points, the balance after it, the entry and the lots it drew from).
    """


@hookspec
def kehu_points_expired(app: Kehu, session: Session, entries: Sequence[PointsEntry]) -> None:
    """Points left in expired lots were written off.

    Fires once per expiry run (the daily job, ``kehu loyalty expire``, or the write-off a
    redemption does first) with every entry it wrote, inside that transaction, after they are
    written; never for a dry run or a run that wrote nothing. Raising rolls the run back.

    Parameters:
        entries: the ``expire`` entries (:class:`kehu_loyalty.api.PointsEntry`, negative
            points, ``occurred_at`` the lot's expiry).
    """


@hookspec
def kehu_level_changed(app: Kehu, session: Session, changes: Sequence[LevelChange]) -> None:
    """Members moved up or down a member level (银卡, 金卡 ...).

    Fires once per level review (the daily job, ``kehu loyalty levels review``) with every
    upgrade and downgrade, inside the review's transaction, after the levels are written. A
    level confirmed, or kept in its grace period, is no change. Raising rolls the review back.

    Parameters:
        changes: one :class:`kehu_loyalty.api.LevelChange` per member that moved.
    """
