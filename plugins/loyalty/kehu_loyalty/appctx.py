"""Find the :class:`~kehu_core.Kehu` app that is calling one of our hooks.

Hooks such as ``kehu_interactions_recorded`` receive a session but not the app, and loyalty
needs the app to ask other *installed* plugins for tiers (``app.hook.kehu_customer_tiers``).
Every hook call goes through ``app.hook`` (the core's ``_HookRelay``), so the app is found on
the call stack. ``session.info["kehu_app"]`` is honoured first, should the core set it.
"""
from __future__ import annotations

import sys
from typing import Any

from sqlalchemy.orm import Session


def calling_app(session: Session) -> Any | None:
    """The app whose hook relay is on the stack (or in ``session.info``), else ``None``."""
    app = session.info.get("kehu_app")
    if app is not None:
        return app
    from kehu_core.app import Kehu

    frame = sys._getframe(1)
    while frame is not None:
        for value in frame.f_locals.values():
            if isinstance(value, Kehu):
                return value
            inner = getattr(value, "_app", None)
            if isinstance(inner, Kehu):
                return inner
        frame = frame.f_back  # type: ignore[assignment]
    return None


def customer_tiers(session: Session, customer_ids: list[int], app: Any | None = None) -> dict[int, str]:
    """Tiers of these customers from whichever installed plugin classifies them (none: ``{}``)."""
    app = app or calling_app(session)
    if app is None or not customer_ids:
        return {}
    return dict(app.hook.kehu_customer_tiers(session=session, customer_ids=customer_ids) or {})
