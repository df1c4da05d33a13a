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
from kehu_core.app import Kehu
from kehu_core.choices import Choice, Vocabulary
from kehu_core.errors import KehuError, NotFound, Problem, ValidationError
from kehu_core.i18n import N_, messages
from kehu_core.validation import FieldError
from kehu_loyalty.models import SETTINGS
from kehu_loyalty.security import SETTINGS as MANAGE_SETTINGS

_ = messages("kehu_loyalty").gettext

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
        self.args = (
            _("{key}: {reason} (got {value!r}); setting refused, nothing was changed").format(
                key=key, reason=reason, value=shown
            ),
        )


def _decimal(low: Decimal, high: Decimal, *, above: bool = False) -> Callable[[str], Decimal]:
    """A decimal from ``low`` (excluded when ``above``) to ``high``, with at most
    :data:`RATE_DECIMALS` decimals."""

    def refused() -> ValueError:
        rule = (
            _("must be a number above {low} and up to {high} with at most {decimals} decimals")
            if above
            else _("must be a number from {low} to {high} with at most {decimals} decimals")
        )
        return ValueError(rule.format(low=low, high=high, decimals=RATE_DECIMALS))

    def parse(raw: str) -> Decimal:
        text = raw.strip()
        if not _NUMBER.fullmatch(text):
            raise refused()
        value = Decimal(text)
        if value < low or value > high or (above and value == low):
            raise refused()
        if value != value.quantize(Decimal(1).scaleb(-RATE_DECIMALS)):
            raise refused()
        return value

    return parse


def _choice(vocabulary: Vocabulary) -> Callable[[str], str]:
    """The code of a value of ``vocabulary`` (its code, label or Chinese name)."""

    def parse(raw: str) -> str:
        try:
            return vocabulary.parse(raw)
        except FieldError:
            raise ValueError(_("must be one of {accepted}").format(accepted=vocabulary.accepted())) from None

    return parse


#: The loyalty ladder's rules: ``buying`` (member and advocate require a purchase; a non-buyer
#: is a prospect) or ``legacy`` (enrolment and referrals alone rank a customer member or advocate).
LADDER_MODE = Vocabulary(
    "kehu_loyalty",
    N_("ladder mode"),
    [
        Choice("buying", N_("buying"), aliases=("按购买", "购买")),
        Choice("legacy", N_("legacy"), aliases=("旧规则", "旧版")),
    ],
)
LADDER_MODES = LADDER_MODE.codes


def _integer(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        text = raw.strip()
        if not _WHOLE.fullmatch(text) or len(text) > 20:
            raise ValueError(_("must be a whole number from {low} to {high}").format(low=low, high=high))
        value = int(text)
        if not low <= value <= high:
            raise ValueError(_("must be a whole number from {low} to {high}").format(low=low, high=high))
        return value

    return parse


#: key -> (default, parser, help). Tier multipliers are ``tier_multiplier.<TIER>`` keys. The
#: help is marked here and translated where it is shown.
KNOWN: dict[str, tuple[str, Callable[[str], Any], str]] = {
    "points_per_yuan": (
        "1",
        _decimal(Decimal(0), MAX_RATE),
        N_("points earned per 1 yuan spent (before multipliers); 0: only bonus rules earn"),
    ),
    "expiry_months": ("12", _integer(1, 120), N_("points expire this many months after they were earned")),
    "first_purchase_bonus": ("100", _integer(0, 10**6), N_("bonus points on a member's first purchase")),
    "birthday_multiplier": (
        "2",
        _decimal(Decimal(1), MAX_MULTIPLIER),
        N_("points on purchases in the birthday month are multiplied by this"),
    ),
    "referral_bonus": (
        "200",
        _integer(0, 10**6),
        N_("bonus to the referrer when a referred customer first buys"),
    ),
    "feedback_bonus": ("20", _integer(0, 10**6), N_("bonus for giving feedback, at most once a month")),
    "tier_upgrade_bonus": (
        "200",
        _integer(0, 10**6),
        N_("bonus when a member's tier moves up to a higher multiplier than any tier before (once per tier)"),
    ),
    "level_window_months": (
        "12",
        _integer(1, 60),
        N_("member levels count points or spend over this many months"),
    ),
    "level_grace_months": (
        "12",
        _integer(0, 60),
        N_("a level is kept at least this many months before a downgrade"),
    ),
    "expiring_soon_days": (
        "30",
        _integer(1, 366),
        N_("the profile card warns of points expiring within this many days"),
    ),
    "ladder_mode": (
        "buying",
        _choice(LADDER_MODE),
        N_(
            "loyalty ladder rules: buying (member and advocate require a purchase) or legacy "
            "(enrolment and referrals alone rank a customer, bought or not)"
        ),
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
            why = _("a tier's name is at most {n} printable characters without spaces").format(n=MAX_TIER)
            raise SettingRefused(key, why, raw)
        parser: Callable[[str], Any] = _decimal(Decimal(0), MAX_MULTIPLIER, above=True)
    elif key in KNOWN:
        parser = KNOWN[key][1]
    else:
        known = ", ".join([*KNOWN, TIER_PREFIX + "<TIER>"])
        raise SettingRefused(key, _("unknown setting; known: {known}").format(known=known), raw)
    if not isinstance(raw, str):
        raise SettingRefused(key, _("must be given as text"), str(raw))
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
            _(
                "loyalty setting {key} holds {value!r}, which is refused now: {reason}; "
                "fix it with `kehu loyalty settings set {key} VALUE`"
            ).format(key=problem.field, value=problem.value, reason=problem.reason)
        ) from None


def list_settings(session: Session) -> list[dict[str, str]]:
    """Every setting: key, current value and what it means."""
    stored = dict(session.execute(select(SETTINGS.c.key, SETTINGS.c.value)).all())
    merged = {**defaults(), **stored}
    return [
        {
            "key": k,
            "value": v,
            "help": _(KNOWN[k][2]) if k in KNOWN else _("points multiplier for customers of this tier"),
        }
        for k, v in sorted(merged.items())
    ]


def tier_key(app: Kehu, key: str) -> str:
    """``key`` with its tier named by its code: ``tier_multiplier.major``,
    ``tier_multiplier.major customer`` -> ``tier_multiplier.主要客户``, ``tier_multiplier.A类``
    -> ``tier_multiplier.A``, through ``kehu_tier_names`` (the tiering plugin's names of the
    tier's values). A name that is no tier is refused with the tiers listed (a flag such as
    大客户 too: a multiplier applies to the tier only). Another key, or any tier name when no
    installed plugin answers the hook, is returned as it is."""
    if not key.startswith(TIER_PREFIX) or len(key) == len(TIER_PREFIX):
        return key
    tiers = app.hook.kehu_tier_names(method=None)
    if tiers is None:
        return key
    name = key[len(TIER_PREFIX) :]
    try:
        return TIER_PREFIX + tiers.parse(name)
    except FieldError:
        pass
    flags = app.hook.kehu_tier_names(method="flags")
    if flags is not None and name.strip() and _names(flags, name):
        why = _("{name} is a flag, not a tier (a multiplier applies to the tier only); tiers: {accepted}")
    else:
        why = _("unknown tier {name}; tiers: {accepted}")
    raise SettingRefused(key, why.format(name=name, accepted=tiers.accepted()), name)


def _names(vocabulary: Vocabulary, name: str) -> bool:
    try:
        vocabulary.parse(name)
    except FieldError:
        return False
    return True


def set_setting(session: Session, key: str, raw: str, *, app: Kehu | None = None) -> dict[str, str]:
    """Change one setting (validated); ``tier_multiplier.X`` adds a tier multiplier.

    With ``app``, the tier of ``tier_multiplier.X`` may be given by any name the tiering
    plugin knows and is stored by its code (:func:`tier_key`); the returned ``key`` is the
    one stored. Needs the core's ``settings.manage``; a change is audited as setting
    ``loyalty.<key>``."""
    require(session, MANAGE_SETTINGS, _("change loyalty settings"))
    if app is not None:
        key = tier_key(app, key)
    parsed = parse_setting(key, raw)
    value = parsed if isinstance(parsed, str) else raw.strip()  # a choice is stored as its code
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
    require(session, MANAGE_SETTINGS, _("change loyalty settings"))
    key = TIER_PREFIX + tier
    old = session.scalar(select(SETTINGS.c.value).where(SETTINGS.c.key == key))
    if not _changed(session, SETTINGS.delete().where(SETTINGS.c.key == key)):
        raise NotFound(_("no multiplier for tier {tier!r}").format(tier=tier))
    audit.record(session, "setting", f"loyalty.{key}", "removed", {key: [old, None]})


def _changed(session: Session, statement: Executable) -> int:
    """How many rows an UPDATE or DELETE changed."""
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount
