"""The public API of loyalty: what other plugins, scripts and the CLI call.

Functions take ``app, session`` (or a session) and return values; they never print. They
re-use the service modules (:mod:`kehu_loyalty.accounts`, :mod:`kehu_loyalty.rewards`,
:mod:`kehu_loyalty.expiry`, :mod:`kehu_loyalty.rebates`, :mod:`kehu_loyalty.ladder` ...).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from attrs import frozen
from sqlalchemy.orm import Session

from kehu_core.app import Kehu
from kehu_core.errors import KehuError
from kehu_core.i18n import messages
from kehu_core.types import utcnow
from kehu_loyalty import accounts, expiry, ledger, rebates
from kehu_loyalty import ladder as ladders
from kehu_loyalty.accounts import CatchUp, Enrolment, ReferralRecord, catch_up, enroll
from kehu_loyalty.earning import earn_rules
from kehu_loyalty.expiry import ExpiryResult
from kehu_loyalty.ladder import DEFAULT_LOYAL_QUARTERS, LadderReport
from kehu_loyalty.levels import LevelRecord, LevelReview, list_levels, review_levels, set_level
from kehu_loyalty.rebates import Accrual, Programme, SettlementRun, accruals, add_programme, list_programmes
from kehu_loyalty.records import LevelChange, PointsEntry, Redemption
from kehu_loyalty.report import XEROX_RATIO, ScoreRow, satisfaction_repurchase
from kehu_loyalty.rewards import RewardRecord, add_reward, list_rewards, redeem, restock
from kehu_loyalty.rewards import adjust as earn_points
from kehu_loyalty.rules import EarnRule, EarnRuleError, load_rule_file
from kehu_loyalty.security import require_programme
from kehu_loyalty.settings import list_settings, load_settings, set_setting

_ = messages("kehu_loyalty").gettext

__all__ = [
    "DEFAULT_LADDER_DAYS",
    "XEROX_RATIO",
    "Accrual",
    "CatchUp",
    "EarnRule",
    "EarnRuleError",
    "Enrolment",
    "ExpiryResult",
    "LadderReport",
    "LevelChange",
    "LevelRecord",
    "LevelReview",
    "MemberBalance",
    "PointsEntry",
    "Programme",
    "Redemption",
    "ReferralRecord",
    "RewardRecord",
    "ScoreRow",
    "SettlementRun",
    "accruals",
    "add_programme",
    "add_reward",
    "balance",
    "catch_up",
    "earn_points",
    "earn_rules",
    "enroll",
    "expire",
    "get_programme",
    "ladder",
    "list_levels",
    "list_programmes",
    "list_rewards",
    "list_settings",
    "load_rule_file",
    "rebate_statement",
    "redeem",
    "refer",
    "restock",
    "review_levels",
    "satisfaction_repurchase",
    "set_level",
    "set_setting",
    "settle_rebates",
    "statement",
]

#: The ladder's period when no start is given: this many days before its end.
DEFAULT_LADDER_DAYS = 90


def refer(session: Session, referrer: str, referred: str, now: datetime | None = None) -> ReferralRecord:
    """Record that customer ``referrer`` brought customer ``referred`` (each is referred at most once)."""
    return accounts.record_referral(session, referrer, referred, now)


@frozen
class MemberBalance:
    """A member's points, level and the points expiring soon.

    ``available`` is what the member can spend now: ``balance`` minus
    ``expired_not_yet_written_off``, never below 0 (a redemption writes expired points off
    first). ``balance`` is the ledger's sum, ``sum(ledger)``: it still counts points that
    expired until the expiry job (``loyalty.expire``) or a redemption writes them off.
    """

    customer: str
    name: str
    available: int
    balance: int
    expired_not_yet_written_off: int
    expiring_soon: int
    expiring_within_days: int
    level: str | None
    enrolled_at: datetime


def balance(session: Session, code: str, now: datetime | None = None) -> MemberBalance:
    """Member ``code``'s points available now (the ledger's sum less the points already
    expired but not yet written off), the ledger's sum, those expired points, points expiring
    within the programme's ``expiring_soon_days``, and level. A lot expiring exactly at
    ``now`` has expired."""
    now = now or utcnow()
    customer, account = ledger.member(session, code)
    days = load_settings(session).expiring_soon_days
    total = ledger.balance(session, customer.id)
    expired = ledger.expired_not_written_off(session, customer.id, now)
    return MemberBalance(
        customer=code,
        name=customer.name,
        available=ledger.available(total, expired),
        balance=total,
        expired_not_yet_written_off=expired,
        expiring_soon=ledger.expiring_between(session, customer.id, now, now + timedelta(days=days)),
        expiring_within_days=days,
        level=account.level,
        enrolled_at=account.enrolled_at,
    )


def statement(session: Session, code: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Member ``code``'s points ledger, oldest first, with the running balance (only the last
    ``limit`` entries when given)."""
    customer, _account = ledger.member(session, code)
    return ledger.statement(session, customer.id, limit)


def expire(
    app: Kehu, session: Session, as_of: datetime | None = None, *, dry_run: bool = False
) -> ExpiryResult:
    """Write off what is left of every lot that expired by ``as_of`` (default: now), oldest first.

    Idempotent; ``dry_run`` only counts. Fires ``kehu_points_expired`` once with every
    ``expire`` entry written, inside the session's transaction. Needs ``loyalty.manage`` and a
    user who sees every customer, for the dry run too (the daily job runs as kehu itself).
    """
    require_programme(session, _("write off expired points") if not dry_run else _("count expiring points"))
    return expiry.expire_points(app, session, as_of, dry_run=dry_run)


def get_programme(session: Session, code: str) -> Programme:
    """The rebate programme ``code``, or :class:`~kehu_core.errors.NotFound`."""
    return rebates.get_programme(session, code)


def settle_rebates(
    session: Session, code: str | None = None, today: date | None = None
) -> list[SettlementRun]:
    """Settle every period ended by ``today`` (a local day; default: today) of the rebate
    programme ``code``, or of every active programme. Settling again writes nothing new."""
    if code:
        return [rebates.settle(session, rebates.get_programme(session, code), today)]
    return rebates.settle_all(session, today)


def rebate_statement(session: Session, customer: str, today: date | None = None) -> dict[str, Any]:
    """Distributor ``customer``'s rebate statement: settled periods, their total, and what is accruing now."""
    found = accounts.require_customer(session, customer)
    return rebates.statement(session, found.id, today)


def ladder(
    session: Session,
    since: datetime | None = None,
    as_of: datetime | None = None,
    loyal_quarters: int = DEFAULT_LOYAL_QUARTERS,
) -> LadderReport:
    """The loyalty ladder at ``as_of`` (default: now) and the moves since ``since`` (default:
    :data:`DEFAULT_LADDER_DAYS` before ``as_of``); refused when ``since`` is not before ``as_of``."""
    end = as_of or utcnow()
    start = since or end - timedelta(days=DEFAULT_LADDER_DAYS)
    if start >= end:
        raise KehuError(_("--since must be before --as-of"))
    return ladders.ladder(session, start, end, loyal_quarters)
