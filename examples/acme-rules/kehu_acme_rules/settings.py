"""ACME's settings: one row per key in ``acme_rules_settings``.

The one setting today is ``key_account_manager``: the manager who takes every complaint of a
key account (see :mod:`kehu_acme_rules.routing`). Unset, complaints stay with the handler the
complaints plugin gave them.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kehu_acme_rules.models import settings
from kehu_core import audit, sql
from kehu_core.access import require
from kehu_core.app import Kehu
from kehu_core.errors import Problem, ValidationError
from kehu_core.i18n import messages
from kehu_core.types import utcnow

_ = messages("kehu_acme_rules").gettext

KEY_ACCOUNT_MANAGER = "key_account_manager"
#: As long as a complaint's handler may be (the complaints plugin refuses longer names).
MAX_NAME = 100


def setting(session: Session, key: str) -> str | None:
    """The value of setting ``key``, or ``None`` when it is not set."""
    return session.scalar(select(settings.c.value).where(settings.c.key == key))


def key_account_manager(session: Session) -> str | None:
    """The manager who takes key accounts' complaints, or ``None`` (no routing)."""
    return setting(session, KEY_ACCOUNT_MANAGER)


def set_key_account_manager(app: Kehu, session: Session, name: str | None) -> str | None:
    """Name the manager of key accounts' complaints (``None`` clears it); returns the new value.

    A setting like the core's: needs permission ``settings.manage``; audited as setting
    ``acme_rules.key_account_manager``."""
    require(session, "settings.manage", _("change ACME's settings"))
    old = key_account_manager(session)
    if name is None:
        session.execute(delete(settings).where(settings.c.key == KEY_ACCOUNT_MANAGER))
        _audit(session, old, None)
        return None
    clean = name.strip()
    if not 0 < len(clean) <= MAX_NAME or not clean.isprintable():
        shown = name if len(name) <= 40 else name[:37] + "..."
        reason = (
            _("must be 1 to {n} characters").format(n=MAX_NAME)
            if clean.isprintable()
            else _("must be 1 to {n} printable characters").format(n=MAX_NAME)
        )
        refused = ValidationError([Problem("key_account_manager", reason, value=name)])
        refused.args = (
            _("key_account_manager: {reason} (got {value!r}); setting refused, nothing was changed").format(
                reason=reason, value=shown
            ),
        )
        raise refused
    now = utcnow()
    stmt = sql.insert(settings, app.dialect).values(key=KEY_ACCOUNT_MANAGER, value=clean, updated_at=now)
    session.execute(
        stmt.on_conflict_do_update(index_elements=["key"], set_={"value": clean, "updated_at": now})
    )
    _audit(session, old, clean)
    return clean


def _audit(session: Session, old: str | None, new: str | None) -> None:
    if old != new:
        key = KEY_ACCOUNT_MANAGER
        audit.record(session, "setting", f"acme_rules.{key}", "set", {key: [old, new]})
