"""Find the :class:`~kehu_core.Kehu` app that is calling one of our hooks.

Hooks such as ``kehu_interactions_recorded`` receive a session but not the app, and loyalty
needs the app to ask other *installed* plugins for tiers (``app.hook.kehu_customer_tiers``).
``Kehu.session()`` records its app in ``session.info``; the core's ``app_of`` reads it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def calling_app(session: Session) -> Any:
    """The app whose :meth:`Kehu.session` opened ``session``.

    Raises :class:`~kehu_core.errors.KehuError` when the session was opened some other way
    (loyalty could not ask the installed plugins for tiers or earn rules then).
    """
    from kehu_core.app import app_of
    from kehu_core.errors import KehuError

    try:
        return app_of(session)
    except RuntimeError as exc:
        raise KehuError(f"loyalty needs a session opened by Kehu.session(): {exc}") from exc


def customer_tiers(session: Session, customer_ids: list[int], app: Any | None = None) -> dict[int, str]:
    """Tiers of these customers from whichever installed plugin classifies them (none: ``{}``)."""
    if not customer_ids:
        return {}
    app = app or calling_app(session)
    return dict(app.hook.kehu_customer_tiers(session=session, customer_ids=customer_ids) or {})
