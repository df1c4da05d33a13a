"""What of the forecasts the acting user may see: the levels above the salesperson need
``forecast.company``; below, only the customers their record rules allow count."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from kehu_core.access import acting, require
from kehu_forecast.security import COMPANY

#: Levels whose nodes sum customers of several salespeople: regions and the company.
ABOVE_SALESPERSON = ("company", "region")
DOING = "see forecasts above the salesperson (regions, the company)"


def sees_company(session: Session) -> bool:
    """True when the acting user may see region and company figures."""
    return acting(session).can(COMPANY)


def require_company(session: Session, doing: str = DOING) -> None:
    """Refuse (:class:`~kehu_core.access.Forbidden`) unless the acting user holds ``forecast.company``."""
    require(session, COMPANY, doing)


def require_levels(session: Session, levels: Iterable[str]) -> None:
    """Refuse levels above the salesperson to a user without ``forecast.company``."""
    if any(level in ABOVE_SALESPERSON for level in levels):
        require_company(session)
