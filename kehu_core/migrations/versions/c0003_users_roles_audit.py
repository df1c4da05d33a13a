"""core: users, roles, grants, API tokens, the append-only audit trail, the access log, settings

Revision ID: c0003
Revises: c0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c0003"
down_revision = "c0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)

#: The audit trail is append-only: the database itself refuses UPDATE, DELETE and TRUNCATE.
SQLITE_TRIGGERS = (
    """CREATE TRIGGER kehu_audit_no_update BEFORE UPDATE ON kehu_audit
       BEGIN SELECT RAISE(ABORT, 'kehu_audit is append-only'); END""",
    """CREATE TRIGGER kehu_audit_no_delete BEFORE DELETE ON kehu_audit
       BEGIN SELECT RAISE(ABORT, 'kehu_audit is append-only'); END""",
)
PG_TRIGGERS = (
    """CREATE FUNCTION kehu_audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'kehu_audit is append-only'; END $$""",
    """CREATE TRIGGER kehu_audit_append_only BEFORE UPDATE OR DELETE ON kehu_audit
       FOR EACH ROW EXECUTE FUNCTION kehu_audit_guard()""",
    """CREATE TRIGGER kehu_audit_no_truncate BEFORE TRUNCATE ON kehu_audit
       FOR EACH STATEMENT EXECUTE FUNCTION kehu_audit_guard()""",
)


def upgrade() -> None:
    op.create_table(
        "kehu_users",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("login", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("team", sa.String(100)),
        sa.Column("region", sa.String(100)),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kehu_users"),
        sa.UniqueConstraint("login", name="uq_kehu_users_login"),
    )
    op.create_index("ix_kehu_users_team", "kehu_users", ["team"])
    op.create_table(
        "kehu_user_roles",
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "role", name="pk_kehu_user_roles"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["kehu_users.id"], ondelete="CASCADE", name="fk_kehu_user_roles_user_id_kehu_users"
        ),
    )
    op.create_table(
        "kehu_roles",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_kehu_roles"),
    )
    op.create_table(
        "kehu_role_grants",
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("permission", sa.String(100), nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("changed_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("role", "permission", name="pk_kehu_role_grants"),
    )
    op.create_table(
        "kehu_api_tokens",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("last_used_at", Stamp),
        sa.Column("revoked_at", Stamp),
        sa.PrimaryKeyConstraint("id", name="pk_kehu_api_tokens"),
        sa.UniqueConstraint("prefix", name="uq_kehu_api_tokens_prefix"),
        sa.UniqueConstraint("digest", name="uq_kehu_api_tokens_digest"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["kehu_users.id"], ondelete="CASCADE", name="fk_kehu_api_tokens_user_id_kehu_users"
        ),
    )
    op.create_index("ix_kehu_api_tokens_user_id", "kehu_api_tokens", ["user_id"])
    op.create_table(
        "kehu_audit",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("customer_id", BigId),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kehu_audit"),
    )
    op.create_index("ix_kehu_audit_customer_at", "kehu_audit", ["customer_id", "at"])
    op.create_table(
        "kehu_access_log",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("what", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kehu_access_log"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            ondelete="CASCADE",
            name="fk_kehu_access_log_customer_id_customers",
        ),
    )
    op.create_index("ix_kehu_access_log_customer_at", "kehu_access_log", ["customer_id", "at"])
    op.create_table(
        "kehu_settings",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_kehu_settings"),
    )
    for statement in PG_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS kehu_audit_no_truncate ON kehu_audit")
        op.execute("DROP TRIGGER IF EXISTS kehu_audit_append_only ON kehu_audit")
        op.execute("DROP FUNCTION IF EXISTS kehu_audit_guard()")
    for table in (
        "kehu_settings",
        "kehu_access_log",
        "kehu_audit",
        "kehu_api_tokens",
        "kehu_role_grants",
        "kehu_roles",
        "kehu_user_roles",
        "kehu_users",
    ):
        op.drop_table(table)
