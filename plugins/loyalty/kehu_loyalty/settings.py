"""Programme settings: the earn rate, bonuses, expiry, tier multipliers and level review.

Stored as text rows in ``loyalty_settings`` (loaded as default data at install, so a value
the user changed survives upgrades) and read into one typed :class:`Settings` value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, cast

from attrs import frozen
from sqlalchemy import select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from kehu_core import audit
from kehu_core.access import require
from kehu_core.errors import KehuError, NotFound, Problem, ValidationError
from kehu_loyalty.models import SETTINGS
from kehu_loyalty.security import SETTINGS as MANAGE_SETTINGS

TIER_PREFIX = "tier_multiplier."


#: A number as typed: digits with an optional sign and decimal point (no exponent, no NaN or
#: Infinity, no ``_`` separators, ASCII digits only).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_WHOLE = re.compile(r"[+-]?[0-9]+")
#: Decimals a rate or multiplier may have (1.2345 points per yuan; a finer rate earns nothing more).
RATE_DECIMALS = 4
#: The highest earn rate and multiplier: ten times the 100 points per yuan no programme gives.
MAX_RATE = Decimal(1000)
MAX_MULTIPLIER = Decimal(100)


class SettingRefused(ValidationError):
    """A setting's value was refused: one line naming the setting, the rule and the value."""

    def __init__(self, key: str, reason: str, value: str):
        super().__init__([Problem(key, reason, value=value)])
        shown = value if len(value) <= 40 else value[:37] + "..."
        self.args = (f"{key}: {reason} (got {shown!r}); setting refused, nothing was changed",)


def _decimal(low: Decimal, high: Decimal, *, above: bool = False) -> Callable[[str], Decimal]:
    """A decimal from ``low`` (excluded when ``above``) to ``high``, with at most
    :data:`RATE_DECIMALS` decimals."""
    rule = f"a number {'above' if above else 'from'} {low} {'and up' if above else ''} to {high}".replace(
        "  ", " "
    )
    rule = f"{rule} with at most {RATE_DECIMALS} decimals"

    def parse(raw: str) -> Decimal:
        text = raw.strip()
        if not _NUMBER.fullmatch(text):
            raise ValueError(f"must be {rule}")
        value = Decimal(text)
        if value < low or value > high or (above and value == low):
            raise ValueError(f"must be {rule}")
        if value != value.quantize(Decimal(1).scaleb(-RATE_DECIMALS)):
            raise ValueError(f"must be {rule}")
        return value

    return parse


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        text = raw.strip().lower()
        if text not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return text

    return parse


#: The loyalty ladder's rules: ``buying`` (member and advocate require a purchase; a non-buyer
#: is a prospect) or ``legacy`` (enrolment and referrals alone rank a customer member or advocate).
LADDER_MODES = ("buying", "legacy")


def _integer(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        text = raw.strip()
        if not _WHOLE.fullmatch(text) or len(text) > 20:
            raise ValueError(f"must be a whole number from {low} to {high}")
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return value

    return parse


#: key -> (default, parser, help). Tier multipliers are ``tier_multiplier.<TIER>`` keys.
KNOWN: dict[str, tuple[str, Callable[[str], Any], str]] = {
    "points_per_yuan": (
        "1",
        _decimal(Decimal(0), MAX_RATE),
        "points earned per 1 yuan spent (before multipliers); 0: only bonus rules earn",
    ),
    "expiry_months": ("12", _integer(1, 120), "points expire this many months after they were earned"),
    "first_purchase_bonus": ("100", _integer(0, 10**6), "bonus points on a member's first purchase"),
    "birthday_multiplier": (
        "2",
        _decimal(Decimal(1), MAX_MULTIPLIER),
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
    "ladder_mode": (
        "buying",
        _choice(*LADDER_MODES),
        "loyalty ladder rules: buying (member and advocate require a purchase) or legacy "
        "(enrolment and referrals alone rank a customer, bought or not)",
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
    ladder_mode: str
    tier_multipliers: Mapping[str, Decimal]


def defaults() -> dict[str, str]:
    """Every default setting as text, tier multipliers included."""
    values = {key: default for key, (default, _, _) in KNOWN.items()}
    values.update({TIER_PREFIX + tier: m for tier, m in DEFAULT_TIER_MULTIPLIERS.items()})
    return values


#: A tier's name in ``tier_multiplier.<TIER>``: printable, no spaces, at most this long.
MAX_TIER = 40


def parse_setting(key: str, raw: str) -> Any:
    """Parse one setting's text, raising :class:`SettingRefused` (a
    :class:`~kehu_core.errors.ValidationError` of one line) naming the key."""
    if key.startswith(TIER_PREFIX) and len(key) > len(TIER_PREFIX):
        tier = key[len(TIER_PREFIX) :]
        if len(tier) > MAX_TIER or not tier.isprintable() or tier != "".join(tier.split()):
            raise SettingRefused(
                key, f"a tier's name is at most {MAX_TIER} printable characters without spaces", raw
            )
        parser: Callable[[str], Any] = _decimal(Decimal(0), MAX_MULTIPLIER, above=True)
    elif key in KNOWN:
        parser = KNOWN[key][1]
    else:
        known = ", ".join([*KNOWN, TIER_PREFIX + "<TIER>"])
        raise SettingRefused(key, f"unknown setting; known: {known}", raw)
    if not isinstance(raw, str):
        raise SettingRefused(key, "must be given as text", str(raw))
    try:
        return parser(raw)
    except ValueError as exc:
        raise SettingRefused(key, str(exc), raw) from None


def load_settings(session: Session) -> Settings:
    """Read the settings (defaults for any row missing).

    A value stored before it was checked as now (``points_per_yuan 1e999``) is refused in one
    line that says how to fix it, instead of failing every purchase deep in earning."""
    raw = defaults()
    raw.update(dict(session.execute(select(SETTINGS.c.key, SETTINGS.c.value)).all()))
    try:
        tiers = {
            k[len(TIER_PREFIX) :]: parse_setting(k, v) for k, v in raw.items() if k.startswith(TIER_PREFIX)
        }
        return Settings(**{k: parse_setting(k, raw[k]) for k in KNOWN}, tier_multipliers=tiers)
    except SettingRefused as bad:
        [problem] = bad.problems
        raise KehuError(
            f"loyalty setting {problem.field} holds {problem.value!r}, which is refused now: "
            f"{problem.reason}; fix it with `kehu loyalty settings set {problem.field} VALUE`"
        ) from None


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
