"""ACME's weekly review: how many key accounts, late payers and open key-account complaints.

The job ``acme_rules.weekly_review`` (every 7 days, ``kehu jobs run-due``) writes one row per
company-local week (Monday to Sunday) in ``acme_rules_reviews``. It is idempotent per week: run
again in the same week (forced, or retried after a failure) it writes nothing new.
"""

from __future__ import annotations

from datetime import date, datetime

from attrs import frozen
from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_acme_rules.accounts import key_accounts, segment
from kehu_acme_rules.models import reviews
from kehu_complaints.api import ComplaintQuery, list_complaints
from kehu_core import calendar
from kehu_core.access import customer_condition, require
from kehu_core.app import Kehu
from kehu_core.i18n import messages
from kehu_core.models import Customer

_ = messages("kehu_acme_rules").gettext

LATE_PAYER_FLAG = "flag:late_payer"
#: Who may read the reviews (declared in :mod:`kehu_acme_rules.security`).
REVIEW = "acme_rules.review"


@frozen
class Review:
    """One week's review."""

    week: date
    ran_at: datetime
    key_accounts: int
    late_payers: int
    open_key_complaints: int


def count_review(app: Kehu, session: Session, week: date, now: datetime) -> Review:
    """The figures as they stand: key accounts and late payers among the active customers, and the
    open (neither resolved nor closed) complaints of key accounts; of the customers the acting
    user sees (the job acts as kehu itself: every customer)."""
    visible = customer_condition(session)
    stmt = select(Customer.id).where(Customer.active.is_(True))
    active = list(session.scalars(stmt if visible is None else stmt.where(visible)))
    keys = key_accounts(app, session, active)
    late = segment(app, session, active, LATE_PAYER_FLAG)
    open_codes = [
        c.customer_code for c in list_complaints(app, session, ComplaintQuery(open_only=True, limit=None))
    ]
    key_codes = set(session.scalars(select(Customer.code).where(Customer.id.in_(keys)))) if keys else set()
    return Review(
        week=week,
        ran_at=now,
        key_accounts=len(keys),
        late_payers=len(late),
        open_key_complaints=sum(1 for code in open_codes if code in key_codes),
    )


def weekly(app: Kehu, session: Session, now: datetime) -> str:
    """The job: review the local week of ``now`` unless it was reviewed already; a line for the log."""
    week = calendar.period_start(calendar.local_day(now), "week")
    if session.scalar(select(reviews.c.id).where(reviews.c.week == week)) is not None:
        return _("week of {week} already reviewed").format(week=week)
    review = count_review(app, session, week, now)
    session.execute(
        reviews.insert().values(
            week=review.week,
            ran_at=review.ran_at,
            key_accounts=review.key_accounts,
            late_payers=review.late_payers,
            open_key_complaints=review.open_key_complaints,
        )
    )
    return _(
        "week of {week}: key accounts {keys}, late payers {late}, open key-account complaints {open}"
    ).format(week=week, keys=review.key_accounts, late=review.late_payers, open=review.open_key_complaints)


def list_reviews(session: Session) -> list[Review]:
    """Every weekly review, oldest first. Needs permission ``acme_rules.review``.

    The figures are the company's, counted by the job (as kehu itself) over every customer;
    a review names no customer."""
    require(session, REVIEW, _("read ACME's weekly reviews"))
    rows = session.execute(
        select(
            reviews.c.week,
            reviews.c.ran_at,
            reviews.c.key_accounts,
            reviews.c.late_payers,
            reviews.c.open_key_complaints,
        ).order_by(reviews.c.week)
    )
    return [Review(*row) for row in rows]
