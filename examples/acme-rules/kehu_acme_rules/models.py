"""ACME's table: one row of key-account judgement flags per customer."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, MetaData, String, Table, Text

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
