"""Is the database's schema where this code expects it? "Run `kehu db upgrade`" instead of SQL errors.

New code on a database that was not upgraded fails on tables or columns that do not exist
yet, and the error ("no such table") then seems to come from whichever plugin ran the query.
:func:`require_up_to_date` finds that out first and says what to do.
"""

from __future__ import annotations

from sqlalchemy import Connection

from kehu_core import schema
from kehu_core.app import Kehu
from kehu_core.db import describe
from kehu_core.errors import KehuError
from kehu_core.i18n import messages
from kehu_core.plugins import BUILTIN
from kehu_core.schema import BranchStatus

_ = messages("kehu_core").gettext

__all__ = ["SchemaBehind", "behind", "require_up_to_date"]


class SchemaBehind(KehuError):
    """The database's schema is older than the installed code: run ``kehu db upgrade``."""


def behind(app: Kehu, connection: Connection) -> list[BranchStatus]:
    """The branches (the core's, and every installed plugin's that is available here and has
    tables) whose applied revision is not their head."""
    schemas = app.schemas()
    with_schema = {s.plugin for s in schemas}
    installed = app._read_installed(connection)
    branches = [BUILTIN, *sorted(n for n in installed if n in with_schema)]
    return [row for row in schema.status(connection, schemas, branches) if not row.up_to_date]


def require_up_to_date(app: Kehu, connection: Connection | None = None) -> None:
    """Raise :class:`SchemaBehind` naming the branches behind and ``kehu db upgrade``.

    Call it before running a command's code on an existing kehu database (one that has the
    ``customers`` table): migrations are not run implicitly, because an upgrade may take long
    and should be chosen, not happen under a read.
    """
    if connection is None:
        with app.engine.connect() as conn:
            late = behind(app, conn)
    else:
        late = behind(app, connection)
    if late:
        names = ", ".join(
            _("{branch} (at {current}, code expects {head})").format(
                branch=row.branch, current=row.current or _("nothing"), head=row.head
            )
            for row in late
        )
        raise SchemaBehind(
            _(
                "the database {database} needs an upgrade for this version of kehu: {branches}. "
                "Run `kehu db upgrade`"
            ).format(database=describe(app.engine), branches=names)
        )


def missing_table(error: Exception) -> bool:
    """True for a database error that says a table or column does not exist (SQLite's "no such
    table/column", PostgreSQL's "does not exist"): the symptom of code newer than the schema."""
    text = str(getattr(error, "orig", error))
    return "no such table" in text or "no such column" in text or "does not exist" in text
