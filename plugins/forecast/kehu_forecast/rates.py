"""Parsing rates typed by people: ``0.6`` or ``60%``, within bounds."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from kehu_core.i18n import N_, messages
from kehu_core.validation import FieldError

_ = messages("kehu_forecast").gettext

UNIT = (Decimal(0), Decimal(1))
UNIT_REASON = N_("must be between 0 and 1 (or 0% and 100%)")


def rate(
    value: Any, low: Decimal | None = UNIT[0], high: Decimal | None = UNIT[1], reason: str = UNIT_REASON
) -> Decimal:
    """A decimal rate (``0.6``, ``60%``) between ``low`` and ``high``, or ``FieldError(reason)``."""
    raw = str(value).strip()
    try:
        number = Decimal(raw.rstrip("%").strip())
    except InvalidOperation:
        raise FieldError(_("not a number (write 0.6 or 60%)")) from None
    if not number.is_finite():
        raise FieldError(_("not a finite number"))
    if raw.endswith("%"):
        number = number / 100
    if (low is not None and number < low) or (high is not None and number > high):
        raise FieldError(_(reason))
    return number
