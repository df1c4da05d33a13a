"""The notes plugin's tables in its 2.0 release: categories have a colour."""

from __future__ import annotations

import sqlalchemy as sa

from kehu_core.models import NAMING_CONVENTION, BigId

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

items = sa.Table(
    "notes_items",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("customer_id", sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("length", sa.Integer, nullable=False, server_default="0"),
)
categories = sa.Table(
    "notes_categories",
    metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("label", sa.String(100), nullable=False),
    sa.Column("colour", sa.String(16)),
)
lifecycle = sa.Table(
    "notes_lifecycle",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("detail", sa.String(100), nullable=False),
)
