"""Scheduled jobs: expiry with the level review, and rebate settlement."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.app import Kehu
from kehu_core.i18n import messages
from kehu_loyalty.expiry import expire_points
from kehu_loyalty.levels import review_levels
from kehu_loyalty.rebates import settle_all

_ = messages("kehu_loyalty").gettext


def expire_job(app: Kehu, session: Session, now: datetime) -> str:
    """Write off expired points, then review member levels."""
    expired = expire_points(app, session, now)
    review = review_levels(app, session, now)
    return _(
        "expired {points} point(s) in {lots} lot(s) of {members} member(s); "
        "levels: {up} up, {down} down, {kept} kept in grace"
    ).format(
        points=expired.points,
        lots=expired.entries,
        members=expired.customers,
        up=review.upgraded,
        down=review.downgraded,
        kept=review.kept_in_grace,
    )


def settle_job(app: Kehu, session: Session, now: datetime) -> str:
    """Settle every ended period of every active rebate programme."""
    runs = settle_all(session, calendar.local_day(now))
    return "; ".join(
        _("{programme}: {written} settlement(s), ¥{total}").format(
            programme=r.programme, written=r.written, total=r.total_rebate
        )
        for r in runs
    ) or _("no rebate programme")
