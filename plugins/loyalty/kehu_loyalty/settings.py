"""Programme settings: the earn rate, bonuses, expiry, tier multipliers and level review.

Stored as text rows in ``loyalty_settings`` (loaded as default data at install, so a value
the user changed survives upgrades) and read into one typed :class:`Settings` value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from attrs import frozen
from sqlalchemy import select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from kehu_core import audit
from kehu_core.access import require
from kehu_core.errors import NotFound, Problem, ValidationError
from kehu_loyalty.models import SETTINGS
from kehu_loyalty.security import SETTINGS as MANAGE_SETTINGS

TIER_PREFIX = "tier_multiplier."


def _decimal(low: Decimal) -> Callable[[str], Decimal]:
    def parse(raw: str) -> Decimal:
        try:
            value = Decimal(raw.strip())
        except InvalidOperation as exc:
            raise ValueError("must be a number") from exc
        if not value.is_finite() or value < low:
            raise ValueError(f"must be a number >= {low}")
        return value

    return parse


def _integer(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError as exc:
            raise ValueError("must be a whole number") from exc
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return parse


#: key -> (default, parser, help). Tier multipliers are ``tier_multiplier.<TIER>`` keys.
KNOWN: dict[str, tuple[str, Callable[[str], Any], str]] = {
    "points_per_yuan": ("1", _decimal(Decimal(0)), "points earned per 1 yuan spent (before multipliers)"),
    "expiry_months": ("12", _integer(1, 120), "points expire this many months after they were earned"),
    "first_purchase_bonus": ("100", _integer(0, 10**6), "bonus points on a member's first purchase"),
    "birthday_multiplier": (
        "2",
        _decimal(Decimal(1)),
        "points on purchases in the birthday month are multiplied by this",
    ),
    "referral_bonus": (
        "200",
        _integer(0, 10**6),
        "bonus to the referrer when a referred customer first buys",
    ),
    "feedback_bonus": ("20", _integer(0, 10**6), "bonus for giving feedback, at most once a month"),
    "tier_upgrade_bonus": (
        "200",
        _integer(0, 10**6),
        "bonus when a member's tier moves up to a higher multiplier than any tier before (once per tier)",
    ),
    "level_window_months": ("12", _integer(1, 60), "member levels count points/spend over this many months"),
    "level_grace_months": ("12", _integer(0, 60), "a level is kept at least this long before a downgrade"),
    "expiring_soon_days": (
        "30",
        _integer(1, 366),
        "the profile card warns of points expiring within this many days",
    ),
}
DEFAULT_TIER_MULTIPLIERS = {"VIP": "1.5", "major": "1.2", "主要客户": "1.2", "A": "1.5", "B": "1.2"}


@frozen
class Settings:
    """The programme's settings, parsed."""

    points_per_yuan: Decimal
    expiry_months: int
    first_purchase_bonus: int
    birthday_multiplier: Decimal
    referral_bonus: int
    feedback_bonus: int
    tier_upgrade_bonus: int
    level_window_months: int
    level_grace_months: int
    expiring_soon_days: int
    tier_multipliers: Mapping[str, Decimal]


def defaults() -> dict[str, str]:
    """Every default setting as text, tier multipliers included."""
    values = {key: default for key, (default, _, _) in KNOWN.items()}
    values.update({TIER_PREFIX + tier: m for tier, m in DEFAULT_TIER_MULTIPLIERS.items()})
    return values


def parse_setting(key: str, raw: str) -> Any:
    """Parse one setting's text, raising :class:`ValidationError` naming the key."""
    if key.startswith(TIER_PREFIX) and len(key) > len(TIER_PREFIX):
        parser: Callable[[str], Any] = _decimal(Decimal(0))
    elif key in KNOWN:
        parser = KNOWN[key][1]
    else:
        known = ", ".join([*KNOWN, TIER_PREFIX + "<TIER>"])
        raise ValidationError([Problem(key, f"unknown setting; known: {known}")], headline="setting refused:")
    try:
        return parser(raw)
    except ValueError as exc:
        raise ValidationError(
            [Problem(key, str(exc), value=raw)], headline="setting refused; nothing was changed:"
        ) from exc


def load_settings(session: Session) -> Settings:
    """Read the settings (defaults for any row missing)."""
    raw = defaults()
    raw.update(dict(session.execute(select(SETTINGS.c.key, SETTINGS.c.value)).all()))
    tiers = {k[len(TIER_PREFIX) :]: parse_setting(k, v) for k, v in raw.items() if k.startswith(TIER_PREFIX)}
    return Settings(**{k: parse_setting(k, raw[k]) for k in KNOWN}, tier_multipliers=tiers)


def list_settings(session: Session) -> list[dict[str, str]]:
    """Every setting: key, current value and what it means."""
    stored = dict(session.execute(select(SETTINGS.c.key, SETTINGS.c.value)).all())
    merged = {**defaults(), **stored}
    return [
        {
            "key": k,
            "value": v,
            "help": KNOWN[k][2] if k in KNOWN else "points multiplier for customers of this tier",
        }
        for k, v in sorted(merged.items())
    ]


def set_setting(session: Session, key: str, raw: str) -> dict[str, str]:
    """Change one setting (validated); ``tier_multiplier.X`` adds a tier multiplier.

    Needs the core's ``settings.manage``; a change is audited as setting ``loyalty.<key>``."""
    require(session, MANAGE_SETTINGS, "change loyalty settings")
    parse_setting(key, raw)
    value = raw.strip()
    old = session.scalar(select(SETTINGS.c.value).where(SETTINGS.c.key == key))
    if old is None:
        old = defaults().get(key)
    if old != value:
        audit.record(session, "setting", f"loyalty.{key}", "set", {key: [old, value]})
    updated = _changed(session, SETTINGS.update().where(SETTINGS.c.key == key).values(value=value))
    if not updated:
        session.execute(SETTINGS.insert().values(key=key, value=value))
    return {"key": key, "value": value}


def unset_tier_multiplier(session: Session, tier: str) -> None:
    """Remove the multiplier of ``tier`` (its customers then earn at the base rate).

    Needs the core's ``settings.manage``; audited as setting ``loyalty.tier_multiplier.<tier>``."""
    require(session, MANAGE_SETTINGS, "change loyalty settings")
    key = TIER_PREFIX + tier
    old = session.scalar(select(SETTINGS.c.value).where(SETTINGS.c.key == key))
    if not _changed(session, SETTINGS.delete().where(SETTINGS.c.key == key)):
        raise NotFound(f"no multiplier for tier {tier!r}")
    audit.record(session, "setting", f"loyalty.{key}", "removed", {key: [old, None]})


def _changed(session: Session, statement: Executable) -> int:
    """How many rows an UPDATE or DELETE changed."""
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount
