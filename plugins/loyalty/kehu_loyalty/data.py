"""Default data: the programme settings and the default member levels, loaded at install."""

from __future__ import annotations

from kehu_core.hooktypes import DefaultRecord
from kehu_loyalty.levels import DEFAULT_LEVELS
from kehu_loyalty.models import LEVELS, SETTINGS
from kehu_loyalty.settings import defaults


def default_records() -> list[DefaultRecord]:
    """Every setting's default and the default levels (a row the user changed is kept on upgrade)."""
    records = [DefaultRecord(SETTINGS, {"key": k}, {"value": v}) for k, v in defaults().items()]
    records += [
        DefaultRecord(LEVELS, {"name": n}, {"rank": r, "min_points": p, "min_spend": s})
        for n, r, p, s in DEFAULT_LEVELS
    ]
    return records
