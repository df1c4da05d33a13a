"""The loyalty plugin's tables: accounts, the append-only points ledger and its lot allocations,
rewards, referrals, settings, member levels and distributor rebates (返利).

SQLAlchemy Core tables on the plugin's own MetaData (uninstall drops exactly these). They
must match what ``migrations/`` creates.

Points are 64-bit integers on both databases (:data:`Points`, at most :data:`MAX_POINTS`).
The ledger is append-only: a positive entry is a *lot* (with an expiry date), and every
negative entry (redeem, expire, refund) is linked to the lots it draws from through
``loyalty_allocations``. A lot's remaining points are its points minus its allocations.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    UniqueConstraint,
)

from kehu_core.models import NAMING_CONVENTION, BigId
from kehu_core.types import Money, UTCDateTime, utcnow

metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: Rates such as 0.0250 (2.5%): four decimals.
Rate = Numeric(7, 4)
#: A number of points: BIGINT (64-bit) on PostgreSQL, INTEGER on SQLite, which is 64-bit there
#: too (loyalty0004); both hold the same range.
Points = BigInteger().with_variant(Integer(), "sqlite")
#: The most points one entry, reward cost or level threshold holds (2^63 - 1).
MAX_POINTS = 2**63 - 1
#: A reward's stock (units, not points) is INTEGER: 32-bit on PostgreSQL, and the same on SQLite.
MAX_STOCK = 2**31 - 1

#: A member of the points programme. The row is also the per-customer lock for spending.
ACCOUNTS = Table(
    "loyalty_accounts",
    metadata,
    Column("customer_id", BigId, ForeignKey("customers.id"), primary_key=True),
    Column("enrolled_at", UTCDateTime, nullable=False),
    # Interactions from this time on earn points (``enroll --since`` backdates it).
    Column("earn_from", UTCDateTime, nullable=False),
    Column("level", String(32), info={"personal": False}),
    Column("level_since", UTCDateTime),
    # The customer's birthday month (1-12), copied here so that earning reads one row per
    # purchase, not two (loyalty0003). Kept by :func:`kehu_loyalty.accounts.sync_birthdays`,
    # which runs on enrolment and on every ``kehu_customers_changed`` that touches a birthday.
    Column("birthday_month", Integer, info={"personal": True}),
    CheckConstraint("birthday_month BETWEEN 1 AND 12", name="birthday_month_valid"),
)

#: One line of the append-only points ledger.
LEDGER = Table(
    "loyalty_ledger",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=False),
    # earn | bonus | adjust | redeem | expire | refund
    Column("kind", String(16), nullable=False, info={"personal": False}),
    Column("points", Points, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    # Set on positive entries (lots): when their remaining points expire.
    Column("expires_at", UTCDateTime),
    Column("reason", String(200), nullable=False, info={"personal": True}),
    Column("rule", String(64), info={"personal": False}),
    Column("interaction_id", BigId),
    Column("reward_id", BigId),
    Column("idempotency_key", String(160), nullable=False, unique=True, info={"personal": False}),
    # Refunds only: points the refund should have taken back but that were already spent.
    Column("shortfall", Points, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    # customer_id alone: a small index stays in the page cache during big imports (loyalty0002).
    Index("ix_loyalty_ledger_customer_id", "customer_id"),
    CheckConstraint("shortfall >= 0", name="shortfall_positive"),
)

#: Points of one debit entry drawn from one lot (the FIFO link).
ALLOCATIONS = Table(
    "loyalty_allocations",
    metadata,
    Column("debit_id", BigId, ForeignKey("loyalty_ledger.id"), primary_key=True),
    Column("lot_id", BigId, ForeignKey("loyalty_ledger.id"), primary_key=True, index=True),
    Column("points", Points, nullable=False),
    CheckConstraint("points > 0", name="points_positive"),
)

#: A reward of the catalogue: its cost in points, stock (``NULL``: unlimited) and validity.
REWARDS = Table(
    "loyalty_rewards",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("cost_points", Points, nullable=False),
    Column("stock", Integer),
    Column("valid_from", UTCDateTime),
    Column("valid_until", UTCDateTime),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    CheckConstraint("cost_points > 0", name="cost_positive"),
    CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
)

#: Who referred whom: each customer is referred by at most one other.
REFERRALS = Table(
    "loyalty_referrals",
    metadata,
    Column("referred_id", BigId, ForeignKey("customers.id"), primary_key=True),
    Column("referrer_id", BigId, ForeignKey("customers.id"), nullable=False, index=True),
    Column("recorded_at", UTCDateTime, nullable=False, default=utcnow),
    CheckConstraint("referrer_id <> referred_id", name="not_self"),
)

#: A programme setting (earn rate, bonuses, expiry, tier multipliers) as text.
SETTINGS = Table(
    "loyalty_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
)

#: A member level (银卡, 金卡 ...): reached by points earned or money spent in the window.
LEVELS = Table(
    "loyalty_levels",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("rank", Integer, nullable=False, unique=True),
    Column("min_points", Points),
    Column("min_spend", Money),
)

#: A distributor rebate programme (月返/季返/年返) for the customers carrying ``tag``.
PROGRAMMES = Table(
    "loyalty_rebate_programmes",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("period", String(8), nullable=False),  # month | quarter | year
    Column("tag", String(100), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)

#: A threshold of a programme: volume at or above ``threshold`` earns ``rate`` on all of it.
TIERS = Table(
    "loyalty_rebate_tiers",
    metadata,
    Column(
        "programme_id",
        BigId,
        ForeignKey("loyalty_rebate_programmes.id", name="fk_loyalty_rebate_tiers_programme"),
        primary_key=True,
    ),
    Column("threshold", Money, primary_key=True),
    Column("rate", Rate, nullable=False),
)

#: A settled period for one distributor: written once (unique programme, customer, period).
SETTLEMENTS = Table(
    "loyalty_rebate_settlements",
    metadata,
    Column("id", BigId, primary_key=True),
    Column(
        "programme_id",
        BigId,
        ForeignKey("loyalty_rebate_programmes.id", name="fk_loyalty_rebate_settlements_programme"),
        nullable=False,
    ),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=False, index=True),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("volume", Money, nullable=False),
    Column("rate", Rate, nullable=False),
    Column("rebate", Money, nullable=False),
    Column("settled_at", UTCDateTime, nullable=False, default=utcnow),
    UniqueConstraint(
        "programme_id", "customer_id", "period_start", name="uq_loyalty_rebate_settlements_period"
    ),
)

#: Widths of the ledger's text columns that earning fills: longer texts are cut to these.
REASON_WIDTH: int = LEDGER.c.reason.type.length  # type: ignore[attr-defined]
RULE_WIDTH: int = LEDGER.c.rule.type.length  # type: ignore[attr-defined]
