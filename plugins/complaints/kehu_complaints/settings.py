"""The plugin's settings (business hours, time zone, approval threshold, auto-close) and its calendar."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from kehu_complaints.calendar import BusinessCalendar, parse_windows
from kehu_complaints.fields import DOMAIN
from kehu_complaints.models import CALENDAR_DAYS, SETTINGS
from kehu_complaints.security import MANAGE, SETTINGS_PERMISSION
from kehu_complaints.workflow import ALWAYS
from kehu_core import audit
from kehu_core.access import require
from kehu_core.errors import Problem, ValidationError
from kehu_core.i18n import messages

_ = messages(DOMAIN).gettext

#: Defaults, loaded as default data at install (a value you change is kept on upgrade).
DEFAULT_SETTINGS: dict[str, Any] = {
    "timezone": "Asia/Shanghai",
    # An 8-hour working day with a lunch break, the usual office day in China.
    "business_hours": [["09:00", "12:00"], ["13:00", "18:00"]],
    "chinese_holidays": True,
    # Above this compensation (yuan) a supervisor approves the solution (主管批示); "always":
    # every solution is approved, whatever the compensation.
    "approval_threshold": "500.00",
    # Resolved grievances (抱怨) with no follow-up close by themselves after this many days (0: never).
    "auto_close_days": 7,
    # Whether auto-close also closes formal complaints (投诉), skipping their follow-up and review.
    "auto_close_complaints": False,
    # The tiering method whose codes SLA policies match: empty for THE tier (the method the
    # tiering plugin names as the customer's tier), or a method's name ("rfm") to match segments.
    "tier_method": "",
    # Whether a move to resolved or closed needs the step that meets what the customer wanted
    # (客户投诉的真实需求): compensation recorded when compensation was wanted, root cause and
    # corrective action when no recurrence was wanted (the guard wanted_steps).
    "require_wanted_steps": True,
}


_METHOD = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def tier_method(settings: Mapping[str, Any]) -> str | None:
    """The method SLA policies match tiers of: ``None`` for THE tier, else a method's name."""
    return str(settings.get("tier_method") or "") or None


#: Booleans are written one of these ways (any case); anything else is refused.
TRUE_WORDS = ("true", "yes", "1", "on", "是", "开", "开启")
FALSE_WORDS = ("false", "no", "0", "off", "否", "关", "关闭")
#: A working window's ends: ``HH:MM`` (24-hour).
_CLOCK = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]")
MAX_WINDOWS = 12
#: The highest approval threshold: the largest amount kehu stores (below 10^13 yuan).
MAX_THRESHOLD = Decimal("9999999999999.99")
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?")
_DAYS = re.compile(r"[0-9]{1,4}")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(
        _("must be true or false ({true} or {false})").format(
            true="/".join(TRUE_WORDS), false="/".join(FALSE_WORDS)
        )
    )


def _windows(value: Any) -> list[list[str]]:
    if isinstance(value, str):
        value = [part.split("-") for part in value.replace(" ", "").split(",") if part]
    rule = _('working windows are HH:MM-HH:MM separated by commas, e.g. "09:00-12:00,13:00-18:00"')
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(rule)
    if len(value) > MAX_WINDOWS:
        raise ValueError(_("at most {n} working windows a day").format(n=MAX_WINDOWS))
    pairs = []
    for pair in value:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(rule)
        if not all(isinstance(p, str) and _CLOCK.fullmatch(p) for p in pair):
            raise ValueError(rule)
        pairs.append([pair[0], pair[1]])
    parse_windows(pairs)  # start before end, no overlap
    return pairs


def _check(key: str, value: Any) -> Any:
    """The clean value of setting ``key``, or a ValueError with the reason (one line)."""
    if key == "timezone":
        name = str(value).strip()
        try:
            if not name or len(name) > 64:
                raise ValueError
            ZoneInfo(name)
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError(_("an IANA time zone name, such as Asia/Shanghai")) from None
        return name
    if key == "business_hours":
        return _windows(value)
    if key in ("chinese_holidays", "auto_close_complaints", "require_wanted_steps"):
        return _boolean(value)
    if key == "approval_threshold":
        text = str(value).strip()
        if text.lower() == ALWAYS:
            return ALWAYS
        if not _AMOUNT.fullmatch(text) or Decimal(text) > MAX_THRESHOLD:
            raise ValueError(
                _(
                    "must be a non-negative amount in yuan, at most {max}, 2 decimals, "
                    "or '{always}' (every solution needs approval)"
                ).format(max=MAX_THRESHOLD, always=ALWAYS)
            )
        return str(Decimal(text).quantize(Decimal("0.01")))
    if key == "auto_close_days":
        text = str(value).strip()
        if isinstance(value, bool) or not _DAYS.fullmatch(text) or not 0 <= int(text) <= 3650:
            raise ValueError(_("a whole number of days from 0 (never) to 3650"))
        return int(text)
    if key == "tier_method":
        method = str(value or "").strip().lower()
        if method and not _METHOD.match(method):
            raise ValueError(_("a tiering method's name (letters, digits, _), or empty for the tier"))
        return method
    raise ValueError(
        _("unknown setting; settings are: {settings}").format(settings=", ".join(DEFAULT_SETTINGS))
    )


class SettingRefused(ValidationError):
    """A setting's value was refused: one line naming the setting, the rule and the value."""

    def __init__(self, key: str, reason: str, value: str):
        super().__init__([Problem(key, reason, value=value)])
        shown = value if len(value) <= 40 else value[:37] + "..."
        self.args = (
            _("{key}: {reason} (got {value}); setting refused, nothing was changed").format(
                key=key, reason=reason, value=repr(shown)
            ),
        )


def load_settings(session: Session) -> dict[str, Any]:
    """Every setting: the stored value, else the default."""
    stored = {key: value for key, value in session.execute(select(SETTINGS.c.key, SETTINGS.c.value))}
    return {**DEFAULT_SETTINGS, **{k: v for k, v in stored.items() if k in DEFAULT_SETTINGS}}


def set_setting(session: Session, key: str, value: Any) -> Any:
    """Change one setting after checking it; returns the stored value.

    Needs the core's ``settings.manage``; a changed value is audited as setting ``complaints.<key>``."""
    require(session, SETTINGS_PERMISSION, _("change complaint settings"))
    try:
        clean = _check(key, value)
    except ValueError as exc:
        raise SettingRefused(key, str(exc), str(value)) from None
    old = load_settings(session).get(key)
    if session.scalar(select(SETTINGS.c.key).where(SETTINGS.c.key == key)) is None:
        session.execute(insert(SETTINGS).values(key=key, value=clean))
    else:
        session.execute(update(SETTINGS).where(SETTINGS.c.key == key).values(value=clean))
    if old != clean:
        audit.record(session, "setting", f"complaints.{key}", "set", {key: [old, clean]})
    return clean


def set_calendar_day(session: Session, day: date, workday: bool, name: str | None = None) -> None:
    """Make ``day`` a company working day or day off (an exception to the holiday calendar).

    Needs permission ``complaints.manage``."""
    require(session, MANAGE, _("change the complaints' business calendar"))
    d = CALENDAR_DAYS.c
    if session.scalar(select(d.day).where(d.day == day)) is None:
        session.execute(insert(CALENDAR_DAYS).values(day=day, workday=workday, name=name))
    else:
        session.execute(update(CALENDAR_DAYS).where(d.day == day).values(workday=workday, name=name))


def explain_days(calendar: BusinessCalendar, first: date, days: int) -> list[dict[str, Any]]:
    """For each day from ``first``: whether it is a working day, and why."""
    rows = []
    for n in range(days):
        day = first + timedelta(days=n)
        name = calendar.holiday_name(day)
        if day in calendar.exceptions:
            why = _("company exception")
        elif name and calendar.is_workday(day):
            why = _("swapped working day 调休上班 ({holiday})").format(holiday=_(name))
        else:
            why = _(name) if name else (_("weekend") if day.weekday() >= 5 else "")
        if not calendar.is_covered(day):
            uncovered = _("no official holiday data for this year: weekends only")
            why = _("{why}; {more}").format(why=why, more=uncovered) if why else uncovered
        rows.append(
            {
                "day": day,
                "weekday": "一二三四五六日"[day.weekday()],
                "workday": calendar.is_workday(day),
                "why": why,
            }
        )
    return rows


def calendar_of(session: Session, settings: Mapping[str, Any] | None = None) -> BusinessCalendar:
    """The business calendar: settings' hours and zone, Chinese holidays, the company's exceptions."""
    settings = settings or load_settings(session)
    exceptions = {
        day: workday for day, workday in session.execute(select(CALENDAR_DAYS.c.day, CALENDAR_DAYS.c.workday))
    }
    return BusinessCalendar(
        zone=ZoneInfo(settings["timezone"]),
        windows=parse_windows(settings["business_hours"]),
        exceptions=exceptions,
        chinese_holidays=bool(settings["chinese_holidays"]),
    )
