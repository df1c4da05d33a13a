"""Alembic environment: kehu always hands Alembic an open connection (see kehu_core.schema)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=context.config.attributes.get("target_metadata"),
    render_as_batch=True,  # SQLite can only ALTER through table copies
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
