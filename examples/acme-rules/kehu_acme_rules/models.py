"""ACME's tables: the key-account judgement flags, ACME's settings and the weekly reviews."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, ForeignKey, Integer, MetaData, String, Table, Text

from kehu_core.models import NAMING_CONVENTION, BigId
from kehu_core.types import UTCDateTime

metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: The judgement flags; must match migrations/acme_rules0001_initial.py.
customer_flags = Table(
    "acme_rules_customer_flags",
    metadata,
    Column("customer_id", BigId, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column("strategic_project", Boolean, nullable=False, default=False),
    Column("influence", Boolean, nullable=False, default=False),
    Column("technical_strength", Boolean, nullable=False, default=False),
    Column("market_strength", Boolean, nullable=False, default=False),
    Column("judged_by", String(100)),
    Column("note", Text),
    Column("updated_at", UTCDateTime, nullable=False),
)

#: ACME's settings, one row per key (``key_account_manager``); see migrations/acme_rules0002.
settings = Table(
    "acme_rules_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(100)),
    Column("updated_at", UTCDateTime, nullable=False),
)

#: One row per weekly review (``acme_rules.weekly_review``): the local week's Monday is unique.
reviews = Table(
    "acme_rules_reviews",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("week", Date, nullable=False, unique=True),
    Column("ran_at", UTCDateTime, nullable=False),
    Column("key_accounts", Integer, nullable=False),
    Column("late_payers", Integer, nullable=False),
    Column("open_key_complaints", Integer, nullable=False),
)
