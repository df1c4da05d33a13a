"""Scheduled jobs: expiry with the level review, and rebate settlement."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.app import Kehu
from kehu_loyalty.expiry import expire_points
from kehu_loyalty.levels import review_levels
from kehu_loyalty.rebates import settle_all


def expire_job(app: Kehu, session: Session, now: datetime) -> str:
    """Write off expired points, then review member levels."""
    expired = expire_points(app, session, now)
    review = review_levels(app, session, now)
    return (
        f"expired {expired.points} point(s) in {expired.entries} lot(s) of {expired.customers} member(s); "
        f"levels: {review.upgraded} up, {review.downgraded} down, {review.kept_in_grace} kept in grace"
    )


def settle_job(app: Kehu, session: Session, now: datetime) -> str:
    """Settle every ended period of every active rebate programme."""
    runs = settle_all(session, calendar.local_day(now))
    return (
        "; ".join(f"{r.programme}: {r.written} settlement(s), ¥{r.total_rebate}" for r in runs)
        or "no rebate programme"
    )
