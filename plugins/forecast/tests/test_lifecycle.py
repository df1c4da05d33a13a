"""Install, schema and uninstall on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from kehu_core.models import Base
from kehu_forecast.models import metadata


def test_migration_matches_the_tables_and_uninstall_drops_them(kehu_app, kehu_install, kehu_cli):

    kehu_install("forecast")
    combined = MetaData()
    for table in [*Base.metadata.tables.values(), *metadata.tables.values()]:
        table.to_metadata(combined)

    def ours(diff: object) -> bool:
        items = diff if isinstance(diff, list) else [diff]
        return any("forecast_" in repr(item) for item in items)

    with kehu_app.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = [d for d in compare_metadata(context, combined) if ours(d)]
    assert diffs == []
    result = kehu_cli("plugins", "uninstall", "forecast", "--yes")
    assert result.exit_code == 0, result.output
    with kehu_app.engine.connect() as conn:
        assert not [t for t in inspect(conn).get_table_names() if t.startswith("forecast_")]
    refused = kehu_cli("forecast", "runs")
    assert refused.exit_code == 1 and "kehu plugins install forecast" in refused.output
