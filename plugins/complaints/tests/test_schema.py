"""The tables of models.py are the tables the migrations create (what ``alembic check`` compares)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData

from kehu_complaints.models import metadata
from kehu_core.models import Base

#: complaints0002 puts a partial index on the core's interactions table; the core's metadata
#: cannot declare it, and it belongs to this plugin.
OWN_CORE_INDEX = "ix_complaints_purchases"


def test_models_match_the_migrations(app):
    combined = MetaData()
    for table in [*Base.metadata.tables.values(), *metadata.tables.values()]:
        table.to_metadata(combined)

    def ours(diff: object) -> bool:
        text = repr(diff)
        return "complaints_" in text and OWN_CORE_INDEX not in text

    with app.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        diffs = [d for d in compare_metadata(context, combined) if ours(d)]
    assert diffs == []
