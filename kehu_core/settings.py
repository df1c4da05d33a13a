"""The core's settings (``kehu settings``): each typed and checked when set, each change audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from attrs import frozen
from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core import audit
from kehu_core.access import require
from kehu_core.errors import KehuError
from kehu_core.i18n import N_, messages
from kehu_core.models import Setting
from kehu_core.security import SALES_SCOPE, SALES_SCOPES
from kehu_core.types import utcnow

_ = messages("kehu_core").gettext


@frozen
class SettingSpec:
    """A core setting: its default, what it means, and the check of a new value."""

    key: str
    default: str
    meaning: str
    check: Callable[[str], str]


@frozen
class SettingValue:
    """A setting as listed: its value now, its default, and when it last changed."""

    key: str
    value: str
    default: str
    meaning: str
    updated_at: datetime | None


def _one_of(*choices: str) -> Callable[[str], str]:
    def check(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise KehuError(
                _("must be one of {accepted}, not {value!r}").format(accepted=", ".join(choices), value=raw)
            )
        return value

    return check


SPECS = {
    spec.key: spec
    for spec in (
        SettingSpec(
            SALES_SCOPE,
            "own",
            N_("which customers a sales user sees and edits: own (those they own) or team (their team's)"),
            _one_of(*SALES_SCOPES),
        ),
    )
}


def list_settings(session: Session) -> list[SettingValue]:
    """Every core setting with its value (the default where none was set); anyone may read them."""
    stored = {s.key: s for s in session.scalars(select(Setting))}
    return [
        SettingValue(
            key,
            stored[key].value if key in stored else spec.default,
            spec.default,
            _(spec.meaning),
            stored[key].updated_at if key in stored else None,
        )
        for key, spec in SPECS.items()
    ]


def set_setting(session: Session, key: str, raw: str) -> SettingValue:
    """Set a core setting after checking the value; needs ``settings.manage``; audited."""
    require(session, "settings.manage", N_("change settings"))
    spec = SPECS.get(key)
    if spec is None:
        raise KehuError(
            _("no setting {key!r}; settings: {keys}; nothing was saved").format(
                key=key, keys=", ".join(SPECS)
            )
        )
    try:
        value = spec.check(raw)
    except KehuError as exc:
        raise KehuError(_("setting {key}: {reason}; nothing was saved").format(key=key, reason=exc)) from None
    row = session.get(Setting, key)
    old = row.value if row is not None else spec.default
    if row is None:
        row = Setting(key=key, value=value, updated_at=utcnow())
        session.add(row)
    else:
        row.value, row.updated_at = value, utcnow()
    if old != value:
        audit.record(session, "setting", f"core.{key}", "set", {key: [old, value]})
    session.flush()
    return SettingValue(key, value, spec.default, _(spec.meaning), row.updated_at)
