"""Parsing and checking field values, shared by the CLI, imports and the Python API.

Each parser takes a raw value (a string from the command line or a CSV cell, or an
already-typed Python value) and returns the clean value, or raises :class:`FieldError`
with the reason. Callers attach the row and field to make a :class:`~kehu_core.errors.Problem`.
"""

from __future__ import annotations

import os
import re
import unicodedata
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from kehu_core.i18n import messages

if TYPE_CHECKING:
    from kehu_core.choices import Vocabulary

_ = messages("kehu_core").gettext

#: Money is kept to the cent (re-exported by :mod:`kehu_core.vocab`).
CENT = Decimal("0.01")
ENV_TIMEZONE = "KEHU_TIMEZONE"
#: Times written without an offset are read in this zone; kehu's users are mostly in China.
DEFAULT_TIMEZONE = "Asia/Shanghai"
#: Money has at most 15 significant digits, so that it is exact on both databases: SQLite keeps
#: NUMERIC as a double, which holds every decimal of up to 15 significant digits (DBL_DIG) exactly
#: once quantized back to cents (:class:`kehu_core.types.Money`). An amount must be below 10^13
#: yuan in either direction; PostgreSQL's Numeric(16, 2) would hold more, but both keep one range.
MAX_MONEY = Decimal("9999999999999.99")
#: Quantities (Numeric(16, 3)) have at most 15 significant digits too: below 10^12.
MAX_QUANTITY = Decimal("999999999999.999")
#: Characters that do not show but make two codes differ: BOM, zero-width space and joiners,
#: word joiner, soft hyphen, Mongolian vowel separator.
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad\u180e"))
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FieldError(ValueError):
    """A value was refused; the message is the reason, phrased for the user."""


@lru_cache(maxsize=1)
def local_zone() -> tzinfo:
    """The zone for times given without an offset (``KEHU_TIMEZONE``, default Asia/Shanghai)."""
    name = os.environ.get(ENV_TIMEZONE, DEFAULT_TIMEZONE)
    try:
        return ZoneInfo(name)
    except Exception as exc:  # zoneinfo raises several types for a bad key
        raise FieldError(
            _("{variable}={name!r} is not a known time zone").format(variable=ENV_TIMEZONE, name=name)
        ) from exc


def blank(value: Any) -> bool:
    """True for ``None`` and empty or whitespace-only strings."""
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any, max_length: int) -> str:
    """A string of at most ``max_length`` characters (surrounding white space removed)."""
    result = str(value).strip()
    if len(result) > max_length:
        raise FieldError(
            _("too long: {length} characters, at most {max_length}").format(
                length=len(result), max_length=max_length
            )
        )
    if "\x00" in result:
        raise FieldError(_("contains a NUL character"))
    if not result.isascii():
        check_unicode(result)
    return result


def check_unicode(value: str) -> None:
    """Refuse text that cannot be stored as UTF-8 (a lone surrogate such as ``\\ud800``)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError(_("contains an invalid character (a lone surrogate)")) from None


def code(value: Any, max_length: int) -> str:
    """A reference code (a customer's code): NFC-normalised, with the invisible characters a
    file or a copy-paste brings along (a BOM, zero-width spaces) removed, so ``\\ufeffC12``
    and ``C12`` are one code; control and other format characters are refused."""
    raw = str(value)
    if not raw.isascii():
        check_unicode(raw)
        raw = unicodedata.normalize("NFC", raw.translate(_INVISIBLE))
    result = text(raw, max_length)
    if not result:
        raise FieldError(_("must not be empty (only invisible characters)"))
    if not result.isprintable():
        raise FieldError(_("contains a control or invisible character"))
    return result


def choice(value: Any, allowed: tuple[str, ...] | Vocabulary) -> str:
    """One of ``allowed`` (case-insensitive; ``e-mail`` and ``email`` are the same).

    ``allowed`` is best a :class:`~kehu_core.choices.Vocabulary`: then its labels and Chinese
    names are accepted too (``朋友介绍`` → ``referral``), and the code is returned."""
    if not isinstance(allowed, tuple):
        try:
            return allowed.parse(value)
        except FieldError:
            raise FieldError(_("must be one of {accepted}").format(accepted=allowed.accepted())) from None
    key = str(value).strip().lower().replace("-", "").replace(" ", "_")
    for option in allowed:
        if key == option.replace("-", ""):
            return option
    raise FieldError(_("must be one of {accepted}").format(accepted=", ".join(allowed)))


def money(value: Any, *, allow_negative: bool = False) -> Decimal:
    """A Decimal amount with at most two decimals; refunds may be negative where allowed."""
    if isinstance(value, float):
        raise FieldError(_("money must not be a float; pass a string or Decimal"))
    amount = _decimal(str(value).strip().replace(",", "").replace("¥", "").replace("￥", ""))
    # The range first: quantizing a huge number (1e30) overflows the decimal context.
    if amount.copy_abs() > MAX_MONEY:
        raise FieldError(_("out of range: money must be below 10^13 (at most {most})").format(most=MAX_MONEY))
    if amount != amount.quantize(CENT):
        raise FieldError(_("more than two decimals"))
    if amount < 0 and not allow_negative:
        raise FieldError(_("must not be negative"))
    return amount.quantize(CENT)


def _decimal(raw: str) -> Decimal:
    """A finite Decimal from ``raw``, or :class:`FieldError`."""
    try:
        number = Decimal(raw)
    except (ArithmeticError, ValueError):
        raise FieldError(_("not a number")) from None
    if not number.is_finite():
        raise FieldError(_("not a finite number"))
    return number


def quantity(value: Any) -> Decimal:
    """A non-negative quantity with at most three decimals."""
    qty = _decimal(str(value).strip().replace(",", ""))
    if qty.copy_abs() > MAX_QUANTITY:
        raise FieldError(
            _("out of range: a quantity must be below 10^12 (at most {most})").format(most=MAX_QUANTITY)
        )
    if qty != qty.quantize(Decimal("0.001")):
        raise FieldError(_("not a number with at most three decimals"))
    return qty


def integer(value: Any, low: int, high: int) -> int:
    """A whole number between ``low`` and ``high`` inclusive."""
    if isinstance(value, bool):
        raise FieldError(_("not a whole number"))
    try:
        number = int(str(value).strip())
    except ValueError:
        raise FieldError(_("not a whole number")) from None
    if not low <= number <= high:
        raise FieldError(_("must be between {low} and {high}").format(low=low, high=high))
    return number


def boolean(value: Any) -> bool:
    """yes/no, true/false, 1/0, 是/否."""
    if isinstance(value, bool):
        return value
    key = str(value).strip().lower()
    if key in {"1", "true", "yes", "y", "是", "同意"}:
        return True
    if key in {"0", "false", "no", "n", "否", "不同意"}:
        return False
    raise FieldError(_("must be yes or no"))


def day(value: Any) -> date:
    """A calendar date: ``2024-03-01`` or ``2024/03/01``; an aware datetime gives its day in
    :func:`local_zone` (the company's local day, as :func:`kehu_core.calendar.local_day`)."""
    if isinstance(value, datetime):
        return value.astimezone(local_zone()).date() if value.tzinfo is not None else value.date()
    if isinstance(value, date):
        return value
    raw = str(value).strip().replace("/", "-")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FieldError(_("not a date like 2024-03-01")) from None


def past_day(value: Any) -> date:
    """A :func:`day` that has come: not after today's local day (a birthday)."""
    found = day(value)
    today = datetime.now(local_zone()).date()
    if found > today:
        raise FieldError(_("a day that has not come yet (today is {today})").format(today=today.isoformat()))
    return found


def timestamp(value: Any, zone: tzinfo | None = None) -> datetime:
    """A point in time, returned in UTC.

    Accepts ISO 8601 (``2024-03-01T09:30:00+08:00``), ``2024-03-01 09:30``, a bare date
    (the local midnight that starts that day), and slashes for dashes. Without an offset the
    time is read in ``zone``, by default :func:`local_zone`. For a bound that must cover a
    whole day given alone (``--until 2024-03-01``), use :func:`day_or_time`.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        raw = str(value).strip().replace("/", "-")
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise FieldError(_("not a date or time like 2024-03-01 or 2024-03-01T09:30:00+08:00")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone or local_zone())
    if not 1900 <= moment.year <= 2200:
        raise FieldError(_("year out of range (1900-2200)"))
    return moment.astimezone(UTC)


def day_or_time(value: Any) -> date | datetime:
    """A local day if ``value`` is a date alone (``2024-03-01``, a :class:`~datetime.date`),
    else the instant :func:`timestamp` reads (in UTC).

    Filters take the day as the whole local day: "from" it starts at its local midnight,
    "until" it ends at the next (:func:`kehu_core.calendar.lower_bound` and ``upper_bound``).
    """
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, datetime):
        raw = str(value).strip().replace("/", "-")
        if _DATE_ONLY.match(raw):
            timestamp(raw)  # refuses what a time would refuse, with the same message
            return date.fromisoformat(raw)
    return timestamp(value)


def email(value: Any) -> str:
    """An e-mail address of a plausible shape."""
    address = text(value, 200)
    if not _EMAIL.match(address):
        raise FieldError(_("not an e-mail address"))
    return address


def tags(value: Any) -> list[str]:
    """Tags from a list or a string separated by ``,`` ``;`` ``|`` or the Chinese ``，`` ``、``."""
    if isinstance(value, (list, tuple, set)):
        items = [str(v) for v in value]
    else:
        items = re.split(r"[,;|，；、]", str(value))
    result = []
    for item in items:
        tag = text(item, 100)
        if tag and tag not in result:
            result.append(tag)
    return result
