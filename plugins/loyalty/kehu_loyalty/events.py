"""Firing loyalty's domain events (the hook specs in :mod:`kehu_loyalty.hookspecs`).

Each fires inside the transaction of the change it reports, after the change is written, so a
listener that raises rolls the change back. Records are built only when some installed plugin
listens: an import of a million purchases pays one check per earning group for an event
nobody receives.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from kehu_core.app import Kehu
from kehu_loyalty.records import LevelChange, Redemption, entries_by_id

EARNED = "kehu_points_earned"
REDEEMED = "kehu_points_redeemed"
EXPIRED = "kehu_points_expired"
LEVEL_CHANGED = "kehu_level_changed"


def listened(app: Kehu | None, hook: str) -> bool:
    """True when an installed plugin implements ``hook``."""
    return app is not None and bool(app.hook_caller(hook).get_hookimpls())


def earned(app: Kehu, session: Session, entry_ids: Sequence[int]) -> None:
    """Fire ``kehu_points_earned`` once with the entries ``entry_ids`` (when there are any)."""
    if entry_ids and listened(app, EARNED):
        app.hook.kehu_points_earned(session=session, entries=entries_by_id(session, entry_ids))


def expired(app: Kehu, session: Session, entry_ids: Sequence[int]) -> None:
    """Fire ``kehu_points_expired`` once with the ``expire`` entries ``entry_ids`` (when there are any)."""
    if entry_ids and listened(app, EXPIRED):
        app.hook.kehu_points_expired(session=session, entries=entries_by_id(session, entry_ids))


def redeemed(app: Kehu, session: Session, redemption: Redemption) -> None:
    """Fire ``kehu_points_redeemed`` for one redemption."""
    if listened(app, REDEEMED):
        app.hook.kehu_points_redeemed(session=session, redemption=redemption)


def level_changed(app: Kehu, session: Session, changes: Sequence[LevelChange]) -> None:
    """Fire ``kehu_level_changed`` once with every level that moved (when any did)."""
    if changes and listened(app, LEVEL_CHANGED):
        app.hook.kehu_level_changed(session=session, changes=list(changes))
