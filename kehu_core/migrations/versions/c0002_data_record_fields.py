"""core: default-data records keep what kehu wrote field by field, not one checksum per row

Revision ID: c0002
Revises: c0001
Create Date: 2026-12-01

A whole-row checksum took a row as the user's as soon as a plugin's new version added a
column to its default data, so the new column stayed empty on rows nobody had touched.
Each record now keeps ``fields``: column -> checksum of the value kehu wrote there.

Existing records are converted from the row as it stands: the columns the old checksum
covered (the key and some of the other columns) are found by trying the row's columns,
fewest first. When they match, kehu wrote every one of those values and the user changed
none: each gets its checksum. When nothing matches, the user changed the row and which field
cannot be told: every column present gets ``None`` (the user's), so only columns a later
version adds are filled. A row the user deleted keeps no fields and stays deleted.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "c0002"
down_revision = "c0001"
branch_labels = None
depends_on = None

#: At most this many column sets are tried per row (every subset of up to ten columns).
MAX_TRIES = 4096

_records = sa.table(
    "kehu_data_records",
    sa.column("id", sa.Integer),
    sa.column("table_name", sa.String),
    sa.column("key", sa.String),
    sa.column("checksum", sa.String),
    sa.column("fields", sa.JSON),
)


def _digest(value: Any) -> str:
    """The checksum kehu 0.1 stored for a row (and kehu now stores for a field)."""
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, default=str, ensure_ascii=False).encode()
    ).hexdigest()


def _normal(value: Any) -> Any:
    """A reflected column loses the plugin's types: SQLite gives its UTC times back naive."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def _fields_of(row: Mapping[str, Any], key: Mapping[str, Any], checksum: str) -> dict[str, str | None]:
    """What kehu wrote in ``row``: the columns whose values, with the key, give ``checksum``."""
    others = sorted(c for c in row if c not in key)
    tries = 0
    for size in range(len(others) + 1):
        for chosen in itertools.combinations(others, size):
            tries += 1
            if tries > MAX_TRIES:
                return dict.fromkeys(others)
            for values in (row, {c: _normal(v) for c, v in row.items()}):
                if _digest({c: values[c] for c in (*key, *chosen)}) == checksum:
                    return {c: _digest(_normal(row[c])) for c in chosen}
    return dict.fromkeys(others)


def upgrade() -> None:
    with op.batch_alter_table("kehu_data_records") as batch:
        batch.add_column(sa.Column("fields", sa.JSON))
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    reflected: dict[str, sa.Table | None] = {}
    for record in bind.execute(sa.select(_records)).mappings().all():
        name = record["table_name"]
        if name not in reflected:
            reflected[name] = (
                sa.Table(name, sa.MetaData(), autoload_with=bind) if inspector.has_table(name) else None
            )
        table = reflected[name]
        key = json.loads(record["key"])
        fields: dict[str, str | None] = {}  # no row: the user deleted it, and it stays deleted
        if table is not None and set(key) <= set(table.c.keys()):
            where = sa.and_(*(table.c[k] == v for k, v in key.items()))
            try:
                with bind.begin_nested():  # a failed read must not abort PostgreSQL's transaction
                    row = bind.execute(sa.select(table).where(where)).mappings().first()
                if row is not None:
                    fields = _fields_of(dict(row), key, record["checksum"])
            except sa.exc.SQLAlchemyError:  # a key kehu cannot read back: every field is the user's
                fields = dict.fromkeys(c.name for c in table.c if c.name not in key)
        bind.execute(sa.update(_records).where(_records.c.id == record["id"]).values(fields=fields))
    with op.batch_alter_table("kehu_data_records") as batch:
        batch.alter_column("fields", existing_type=sa.JSON, nullable=False)
        batch.drop_column("checksum")


def downgrade() -> None:
    # The whole-row checksum cannot be rebuilt from field checksums: an empty one matches no
    # row, so after a downgrade every default row counts as changed by the user (kept as is).
    with op.batch_alter_table("kehu_data_records") as batch:
        batch.add_column(sa.Column("checksum", sa.String(64), nullable=False, server_default=""))
    with op.batch_alter_table("kehu_data_records") as batch:
        batch.alter_column("checksum", existing_type=sa.String(64), server_default=None)
        batch.drop_column("fields")
