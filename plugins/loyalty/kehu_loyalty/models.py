"""The loyalty plugin's tables: accounts, the append-only points ledger and its lot allocations,
rewards, referrals, settings, member levels and distributor rebates (返利).

Points are integers. The ledger is append-only: a positive entry is a *lot* (with an expiry
date), and every negative entry (redeem, expire, refund) is linked to the lots it draws from
through ``loyalty_allocations``. A lot's remaining points are its points minus its allocations.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kehu_core.models import NAMING_CONVENTION, BigId
from kehu_core.types import Money, UTCDateTime, utcnow

#: Rates such as 0.0250 (2.5%): four decimals.
Rate = Numeric(7, 4)


class LoyaltyBase(DeclarativeBase):
    """Declarative base on the plugin's own metadata (uninstall drops exactly these tables)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Account(LoyaltyBase):
    """A member of the points programme. The row is also the per-customer lock for spending."""

    __tablename__ = "loyalty_accounts"
    __table_args__ = (CheckConstraint("birthday_month BETWEEN 1 AND 12", name="birthday_month_valid"),)

    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), primary_key=True)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Interactions from this time on earn points (``enroll --since`` backdates it).
    earn_from: Mapped[datetime] = mapped_column(UTCDateTime)
    level: Mapped[str | None] = mapped_column(String(32))
    level_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The customer's birthday month (1-12), copied here so that earning reads one row per
    #: purchase, not two (loyalty0003). Kept by :func:`kehu_loyalty.accounts.sync_birthdays`,
    #: which runs on enrolment and on every ``kehu_customers_changed`` that touches a birthday.
    birthday_month: Mapped[int | None] = mapped_column(Integer)


class Entry(LoyaltyBase):
    """One line of the append-only points ledger."""

    __tablename__ = "loyalty_ledger"
    __table_args__ = (
        # customer_id alone: a small index stays in the page cache during big imports (loyalty0002).
        Index("ix_loyalty_ledger_customer_id", "customer_id"),
        CheckConstraint("shortfall >= 0", name="shortfall_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))  # earn | bonus | adjust | redeem | expire | refund
    points: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set on positive entries (lots): when their remaining points expire.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str | None] = mapped_column(String(64))
    interaction_id: Mapped[int | None] = mapped_column(BigId)
    reward_id: Mapped[int | None] = mapped_column(BigId)
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    #: Refunds only: points the refund should have taken back but that were already spent.
    shortfall: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Allocation(LoyaltyBase):
    """Points of one debit entry drawn from one lot (the FIFO link)."""

    __tablename__ = "loyalty_allocations"
    __table_args__ = (CheckConstraint("points > 0", name="points_positive"),)

    debit_id: Mapped[int] = mapped_column(BigId, ForeignKey("loyalty_ledger.id"), primary_key=True)
    lot_id: Mapped[int] = mapped_column(BigId, ForeignKey("loyalty_ledger.id"), primary_key=True, index=True)
    points: Mapped[int] = mapped_column(Integer)


class Reward(LoyaltyBase):
    """A reward of the catalogue: its cost in points, stock (``None``: unlimited) and validity."""

    __tablename__ = "loyalty_rewards"
    __table_args__ = (
        CheckConstraint("cost_points > 0", name="cost_positive"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    cost_points: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Referral(LoyaltyBase):
    """Who referred whom: each customer is referred by at most one other."""

    __tablename__ = "loyalty_referrals"
    __table_args__ = (CheckConstraint("referrer_id <> referred_id", name="not_self"),)

    referred_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), primary_key=True)
    referrer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Setting(LoyaltyBase):
    """A programme setting (earn rate, bonuses, expiry, tier multipliers) as text."""

    __tablename__ = "loyalty_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class Level(LoyaltyBase):
    """A member level (银卡, 金卡 ...): reached by points earned or money spent in the window."""

    __tablename__ = "loyalty_levels"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, unique=True)
    min_points: Mapped[int | None] = mapped_column(Integer)
    min_spend: Mapped[Decimal | None] = mapped_column(Money)


class RebateProgramme(LoyaltyBase):
    """A distributor rebate programme (月返/季返/年返) for the customers carrying ``tag``."""

    __tablename__ = "loyalty_rebate_programmes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(8))  # month | quarter | year
    tag: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RebateTier(LoyaltyBase):
    """A threshold of a programme: volume at or above ``threshold`` earns ``rate`` on all of it."""

    __tablename__ = "loyalty_rebate_tiers"

    programme_id: Mapped[int] = mapped_column(
        BigId,
        ForeignKey("loyalty_rebate_programmes.id", name="fk_loyalty_rebate_tiers_programme"),
        primary_key=True,
    )
    threshold: Mapped[Decimal] = mapped_column(Money, primary_key=True)
    rate: Mapped[Decimal] = mapped_column(Rate)


class RebateSettlement(LoyaltyBase):
    """A settled period for one distributor: written once (unique programme, customer, period)."""

    __tablename__ = "loyalty_rebate_settlements"
    __table_args__ = (
        UniqueConstraint(
            "programme_id", "customer_id", "period_start", name="uq_loyalty_rebate_settlements_period"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("loyalty_rebate_programmes.id", name="fk_loyalty_rebate_settlements_programme")
    )
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    volume: Mapped[Decimal] = mapped_column(Money)
    rate: Mapped[Decimal] = mapped_column(Rate)
    rebate: Mapped[Decimal] = mapped_column(Money)
    settled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


metadata = LoyaltyBase.metadata
#: Widths of the ledger's text columns that earning fills: longer texts are cut to these.
REASON_WIDTH: int = Entry.__table__.c.reason.type.length  # type: ignore[attr-defined]
RULE_WIDTH: int = Entry.__table__.c.rule.type.length  # type: ignore[attr-defined]
ACCOUNTS = Account.__table__
LEDGER = Entry.__table__
ALLOCATIONS = Allocation.__table__
REWARDS = Reward.__table__
REFERRALS = Referral.__table__
SETTINGS = Setting.__table__
LEVELS = Level.__table__
PROGRAMMES = RebateProgramme.__table__
TIERS = RebateTier.__table__
SETTLEMENTS = RebateSettlement.__table__
