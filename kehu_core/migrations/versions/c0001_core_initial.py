"""core: customers, tags, interactions, plugin state, default-data records, job runs

Revision ID: c0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c0001"
down_revision = None
branch_labels = ("core",)
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)
MoneyType = sa.Numeric(16, 2)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("region", sa.String(100)),
        sa.Column("industry", sa.String(100)),
        sa.Column("size", sa.String(100)),
        sa.Column("scale", sa.String(100)),
        sa.Column("credit_limit", MoneyType),
        sa.Column("owner", sa.String(100)),
        sa.Column("source", sa.String(32)),
        sa.Column("phone", sa.String(100)),
        sa.Column("email", sa.String(200)),
        sa.Column("birthday", sa.Date),
        sa.Column("special_dates", sa.JSON, nullable=False),
        sa.Column("marketing_consent", sa.Boolean, nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("forgotten_at", Stamp),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.UniqueConstraint("code", name="uq_customers_code"),
    )
    op.create_index("ix_customers_region", "customers", ["region"])
    op.create_index("ix_customers_industry", "customers", ["industry"])
    op.create_index("ix_customers_owner", "customers", ["owner"])

    op.create_table(
        "customer_tags",
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("tag", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "tag", name="pk_customer_tags"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            ondelete="CASCADE",
            name="fk_customer_tags_customer_id_customers",
        ),
    )
    op.create_index("ix_customer_tags_tag", "customer_tags", ["tag"])

    op.create_table(
        "interactions",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("occurred_at", Stamp, nullable=False),
        sa.Column("channel", sa.String(100)),
        sa.Column("amount", MoneyType),
        sa.Column("cost", MoneyType),
        sa.Column("quantity", sa.Numeric(16, 3)),
        sa.Column("product", sa.String(200)),
        sa.Column("category", sa.String(100)),
        sa.Column("salesperson", sa.String(100)),
        sa.Column("satisfaction", sa.SmallInteger),
        sa.Column("note", sa.Text),
        sa.Column("external_ref", sa.String(200)),
        sa.Column("due_at", Stamp),
        sa.Column("paid_at", Stamp),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_interactions"),
        sa.UniqueConstraint("external_ref", name="uq_interactions_external_ref"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            ondelete="RESTRICT",
            name="fk_interactions_customer_id_customers",
        ),
    )
    op.create_index("ix_interactions_customer_time", "interactions", ["customer_id", "occurred_at"])
    op.create_index("ix_interactions_kind_time", "interactions", ["kind", "occurred_at"])

    op.create_table(
        "kehu_plugins",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("installed_at", Stamp, nullable=False),
        sa.Column("upgraded_at", Stamp),
        sa.PrimaryKeyConstraint("name", name="pk_kehu_plugins"),
    )
    op.create_table(
        "kehu_data_records",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("plugin", sa.String(100), nullable=False),
        sa.Column("table_name", sa.String(100), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kehu_data_records"),
        sa.UniqueConstraint("plugin", "table_name", "key", name="uq_kehu_data_records_plugin"),
    )
    op.create_table(
        "kehu_job_runs",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("job", sa.String(200), nullable=False),
        sa.Column("plugin", sa.String(100), nullable=False),
        sa.Column("started_at", Stamp, nullable=False),
        sa.Column("finished_at", Stamp),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_kehu_job_runs"),
    )
    op.create_index("ix_kehu_job_runs_job_started", "kehu_job_runs", ["job", "started_at"])


def downgrade() -> None:
    for table in (
        "kehu_job_runs",
        "kehu_data_records",
        "kehu_plugins",
        "interactions",
        "customer_tags",
        "customers",
    ):
        op.drop_table(table)
