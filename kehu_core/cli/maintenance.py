"""``kehu db vacuum``: rewrite storage so that erased personal data is gone from the files."""

from __future__ import annotations

import click

from kehu_core.cli.context import current_app, ensure_schema
from kehu_core.cli.help import TranslatedCommand
from kehu_core.cli.output import emit_json, json_option
from kehu_core.db import describe
from kehu_core.i18n import messages
from kehu_core.privacy import vacuum as vacuum_database

_, ngettext = messages("kehu_core").functions()


@click.command(cls=TranslatedCommand, name="vacuum")
@click.option(
    "--full",
    is_flag=True,
    help="PostgreSQL: VACUUM FULL (rewrites each table; locks it while it runs). SQLite always rewrites.",
)
@json_option
def vacuum(full: bool, as_json: bool) -> None:
    """Remove erased values from the database files (run it after `kehu customer forget`).

    PostgreSQL keeps the old versions of updated and deleted rows until VACUUM; SQLite's
    VACUUM rewrites the whole file and empties the write-ahead log.

    \b
    Example:
      kehu customer forget C001 --yes && kehu db vacuum
    """
    app = current_app()
    ensure_schema(app)
    tables = vacuum_database(app, full=full)
    if as_json:
        emit_json({"database": describe(app.engine), "vacuumed": tables})
        return
    database = describe(app.engine)
    if tables == ["*"]:
        click.echo(_("vacuumed {database}: the whole file").format(database=database))
    else:
        click.echo(
            ngettext(
                "vacuumed {database}: {n} table(s)", "vacuumed {database}: {n} table(s)", len(tables)
            ).format(database=database, n=len(tables))
        )
