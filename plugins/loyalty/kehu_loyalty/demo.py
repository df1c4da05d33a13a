"""Demo data: members with earned points, rewards, redemptions, referrals, levels and a 季返 programme."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu_core import calendar
from kehu_core.app import Kehu
from kehu_core.hooktypes import DemoContext
from kehu_core.i18n import messages
from kehu_core.models import Customer, CustomerTag
from kehu_loyalty.accounts import catch_up, enroll, record_referral
from kehu_loyalty.expiry import expire_points
from kehu_loyalty.levels import review_levels
from kehu_loyalty.rebates import add_programme, settle
from kehu_loyalty.rewards import InsufficientPoints, add_reward, redeem

_ = messages("kehu_loyalty").gettext

REWARDS = (
    ("MUG", "定制马克杯", 800, 200),
    ("UMBRELLA", "品牌雨伞", 1500, 100),
    ("VOUCHER-100", "100元代金券", 5000, None),
    ("TRAINING", "免费培训课程", 12000, 20),
    ("SERVICE", "一年免费维保", 30000, 5),
)


def load_demo(app: Kehu, session: Session, context: DemoContext) -> None:
    """Enrol about 40% of customers two years back (their purchases since then earn), add rewards,
    referrals and redemptions, expire what is due, review levels, and settle a 季返 programme."""
    rng, now = context.rng, context.today
    codes = list(session.scalars(select(Customer.code).order_by(Customer.code)))
    members = sorted(rng.sample(codes, max(1, len(codes) * 2 // 5)))
    since = now - timedelta(days=730)
    # Two waves, so the ladder shows members joining: most two years ago, the rest in the last 60 days.
    early, late = members[: len(members) * 2 // 3], members[len(members) * 2 // 3 :]
    enrolled = enroll(app, session, early, since=since, now=now, enrolled_at=since)
    recent = enroll(
        app, session, late, since=since, now=now, enrolled_at=now - timedelta(days=rng.randint(1, 60))
    )
    referrals = 0
    for referrer in members[: max(1, len(members) // 6)]:
        referred = rng.choice(codes)
        if referred != referrer:
            try:
                record_referral(session, referrer, referred, now - timedelta(days=400))
                referrals += 1
            except Exception:  # already referred by someone: skip, the demo needs no more
                continue
    # The referrers' bonuses for what the referred bought since: recorded after the members'
    # earning above, they would otherwise wait for `kehu loyalty backfill`.
    catch_up(app, session, now=now)
    for code, name, cost, stock in REWARDS:
        add_reward(session, code, name, cost, stock)
    expired = expire_points(app, session, now)
    redemptions = 0
    for code in members:
        for reward in ("VOUCHER-100", "UMBRELLA", "MUG"):
            try:
                redeem(app, session, code, reward, now=now)
                redemptions += 1
                break
            except InsufficientPoints:
                continue
    review = review_levels(app, session, now)
    distributors = len(
        list(session.scalars(select(CustomerTag.customer_id).where(CustomerTag.tag == "经销商")))
    )
    programme = add_programme(
        session,
        "JIFAN",
        "经销商季返",
        "quarter",
        ["100000:2%", "500000:3%"],
        "经销商",
        calendar.local_day(now - timedelta(days=730)),
    )
    settled = settle(session, programme, calendar.local_day(now))
    context.summary.extend(
        [
            _(
                "loyalty: {members} members earned {points} points; {expired} expired; {redemptions} "
                "redemptions; {referrals} referrals; levels: {upgraded} members upgraded"
            ).format(
                members=len(enrolled.enrolled) + len(recent.enrolled),
                points=enrolled.backfilled_points + recent.backfilled_points,
                expired=expired.points,
                redemptions=redemptions,
                referrals=referrals,
                upgraded=review.upgraded,
            ),
            _(
                "loyalty: quarterly rebate (季返) programme JIFAN for {distributors} distributors (经销商): "
                "{settlements} settlements, ¥{total} (try: `kehu loyalty ladder`; "
                "`kehu loyalty rebate accrual JIFAN`; `kehu loyalty satisfaction`)"
            ).format(distributors=distributors, settlements=settled.written, total=settled.total_rebate),
        ]
    )
