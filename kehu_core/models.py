"""The core's tables: customers, their tags, interactions, and the framework's own bookkeeping.

Plugins declare their tables on their own ``MetaData`` (see ``kehu_core.schema``) so that
uninstalling a plugin drops exactly its tables and nothing of the core's.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from kehu_core.types import Money, UTCDateTime, utcnow

#: Constraint names are fixed so that migrations on SQLite (batch mode) and PostgreSQL agree.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, but INTEGER on SQLite so the column is the rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")

from kehu_core.vocab import (  # noqa: E402,F401  re-exported for convenience
    CORE_INTERACTION_KINDS,
    CUSTOMER_KINDS,
    CUSTOMER_SOURCES,
    INTERACTION_STATUSES,
    MAX_CODE,
    MAX_NAME,
    MAX_NOTE,
    MAX_SHORT,
)


class Base(DeclarativeBase):
    """Declarative base for the core's tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: A column's ``info``: it holds personal data of a customer, which ``kehu customer forget``
#: erases (tests/test_erasure_every_column.py checks every column so marked, in the core and
#: every plugin), or it holds none.
PERSONAL = {"personal": True}
NOT_PERSONAL = {"personal": False}


class Customer(Base):
    """A named customer (客户) and the fields of the profile card (客户资料卡)."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(MAX_CODE), unique=True, info=NOT_PERSONAL)  # the company's key
    name: Mapped[str] = mapped_column(String(MAX_NAME), info=PERSONAL)
    kind: Mapped[str] = mapped_column(String(16), default="company", info=NOT_PERSONAL)
    # Region, industry, size and scale bands are kept after forget, for the aggregates.
    region: Mapped[str | None] = mapped_column(String(MAX_SHORT), index=True, info=NOT_PERSONAL)
    industry: Mapped[str | None] = mapped_column(String(MAX_SHORT), index=True, info=NOT_PERSONAL)
    size: Mapped[str | None] = mapped_column(String(MAX_SHORT), info=NOT_PERSONAL)
    scale: Mapped[str | None] = mapped_column(String(MAX_SHORT), info=NOT_PERSONAL)
    credit_limit: Mapped[Decimal | None] = mapped_column(Money)
    owner: Mapped[str | None] = mapped_column(String(MAX_SHORT), index=True, info=NOT_PERSONAL)  # staff
    source: Mapped[str | None] = mapped_column(String(32), info=NOT_PERSONAL)
    phone: Mapped[str | None] = mapped_column(String(MAX_SHORT), info=PERSONAL)
    email: Mapped[str | None] = mapped_column(String(MAX_NAME), info=PERSONAL)
    birthday: Mapped[date | None] = mapped_column(Date, info=PERSONAL)
    special_dates: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, info=PERSONAL)
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, info=PERSONAL)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    forgotten_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    tags: Mapped[list[CustomerTag]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerTag.tag"
    )


class CustomerTag(Base):
    """One tag on one customer; a table of its own so that tag filters use an index."""

    __tablename__ = "customer_tags"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(MAX_SHORT), primary_key=True, index=True, info=PERSONAL)

    customer: Mapped[Customer] = relationship(back_populates="tags")


class Interaction(Base):
    """One contact with a customer: a visit, a call, a purchase, a payment, a complaint ...

    Planned interactions (status ``planned``) make up the visit plan (访问计划); done ones
    the visit history (访问履历卡). ``external_ref`` is unique so that imports are idempotent.
    """

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_customer_time", "customer_id", "occurred_at"),
        Index("ix_interactions_kind_time", "kind", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(32), info=NOT_PERSONAL)
    status: Mapped[str] = mapped_column(String(16), default="done", info=NOT_PERSONAL)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Channel, product and category are kept after forget, for the aggregates.
    channel: Mapped[str | None] = mapped_column(String(MAX_SHORT), info=NOT_PERSONAL)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    cost: Mapped[Decimal | None] = mapped_column(Money)
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(16, 3))
    product: Mapped[str | None] = mapped_column(String(MAX_NAME), info=NOT_PERSONAL)
    category: Mapped[str | None] = mapped_column(String(MAX_SHORT), info=NOT_PERSONAL)
    salesperson: Mapped[str | None] = mapped_column(String(MAX_SHORT), info=NOT_PERSONAL)  # staff
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(Text, info=PERSONAL)
    # The source system's reference (an order number).
    external_ref: Mapped[str | None] = mapped_column(String(MAX_NAME), unique=True, info=NOT_PERSONAL)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InstalledPlugin(Base):
    """A plugin installed into this database (Odoo's ``ir.module.module`` state)."""

    __tablename__ = "kehu_plugins"

    name: Mapped[str] = mapped_column(String(MAX_SHORT), primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    upgraded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DataRecord(Base):
    """A row of default data a plugin inserted, and what kehu last wrote in each of its fields.

    ``fields`` maps each column the plugin's data sets (besides the key) to the checksum of
    the value kehu last wrote there, or ``None`` when kehu cannot tell (a row the user had
    changed before kehu tracked fields one by one): that field is then the user's. An upgrade
    rewrites a field only while it still holds what kehu wrote, so a value the user changed is
    never overwritten (Odoo's ``noupdate``), and a field new in the plugin's data is filled.
    The record also says the row is the plugin's: uninstalling the plugin deletes it.
    """

    __tablename__ = "kehu_data_records"
    __table_args__ = (UniqueConstraint("plugin", "table_name", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plugin: Mapped[str] = mapped_column(String(MAX_SHORT))
    table_name: Mapped[str] = mapped_column(String(MAX_SHORT))
    key: Mapped[str] = mapped_column(String(MAX_NAME))
    fields: Mapped[dict[str, str | None]] = mapped_column(JSON, default=dict)


class JobRun(Base):
    """One run of a scheduled job and its outcome (Odoo's ``ir.cron`` log)."""

    __tablename__ = "kehu_job_runs"
    __table_args__ = (Index("ix_kehu_job_runs_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job: Mapped[str] = mapped_column(String(MAX_NAME))
    plugin: Mapped[str] = mapped_column(String(MAX_SHORT))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)


# -- who may see and do what (Odoo's res.users, res.groups, ir.rule) ---------------------------


class User(Base):
    """A person who uses kehu: a salesperson, a service clerk, a manager, an administrator.

    ``login`` is what customers' ``owner`` holds, so "my customers" is ``owner = login``.
    ``team`` groups users for the record rules ("my team's customers", "my team's complaints").
    A user is deactivated, never deleted: history keeps naming them.
    """

    __tablename__ = "kehu_users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    login: Mapped[str] = mapped_column(String(MAX_SHORT), unique=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    team: Mapped[str | None] = mapped_column(String(MAX_SHORT), index=True)
    region: Mapped[str | None] = mapped_column(String(MAX_SHORT))
    #: Argon2 hash of the password (for the web client); ``None``: no password login.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class UserRole(Base):
    """A role a user holds (``sales``, ``manager``, or one the company added)."""

    __tablename__ = "kehu_user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("kehu_users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(MAX_SHORT), primary_key=True)


class Role(Base):
    """A role the company added with ``kehu roles add`` (declared roles live in the code)."""

    __tablename__ = "kehu_roles"

    name: Mapped[str] = mapped_column(String(MAX_SHORT), primary_key=True)
    description: Mapped[str] = mapped_column(String(MAX_NAME), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoleGrant(Base):
    """A company's change to what a role may do: ``granted`` true adds the permission, false
    takes away one the role holds by default."""

    __tablename__ = "kehu_role_grants"

    role: Mapped[str] = mapped_column(String(MAX_SHORT), primary_key=True)
    permission: Mapped[str] = mapped_column(String(MAX_SHORT), primary_key=True)
    granted: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A user's API token. Only its SHA-256 digest is kept; ``prefix`` lets ``kehu user token
    list`` and ``revoke`` name a token without it."""

    __tablename__ = "kehu_api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("kehu_users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(MAX_SHORT))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One change, who made it and when: append-only (triggers refuse UPDATE and DELETE).

    ``entity`` is ``customer``, ``complaint``, ``points``, ``setting``, ``user`` or ``role``;
    ``customer_id`` ties the entry to a customer for ``kehu audit CODE``. ``changes`` holds
    old and new values, except personal data, of which only the field name is kept: erasing
    a customer never has to rewrite the audit trail.
    """

    __tablename__ = "kehu_audit"
    __table_args__ = (Index("ix_kehu_audit_customer_at", "customer_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(MAX_SHORT))
    entity: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(MAX_NAME))
    action: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[int | None] = mapped_column(BigId)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AccessEntry(Base):
    """A user opened one customer's data (the card, the record, an export): listed in the
    customer's export, as data protection asks."""

    __tablename__ = "kehu_access_log"
    __table_args__ = (Index("ix_kehu_access_log_customer_at", "customer_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(MAX_SHORT), info=NOT_PERSONAL)  # staff
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    what: Mapped[str] = mapped_column(String(32), info=NOT_PERSONAL)  # which command opened the data


class Setting(Base):
    """A core setting (``kehu settings``); plugins keep theirs in their own tables."""

    __tablename__ = "kehu_settings"

    key: Mapped[str] = mapped_column(String(MAX_SHORT), primary_key=True)
    value: Mapped[str] = mapped_column(String(MAX_NAME))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
