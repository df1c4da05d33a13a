"""Schema migrations through Alembic: the core's branch and one branch per installed plugin.

Alembic is used rather than hand-written DDL bookkeeping: it already solves multiple
independent branches ("multiple bases"), cross-branch ``depends_on``, SQLite's batch
ALTER, and downgrading a single branch to base, which is exactly plugin uninstall.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from attrs import frozen
from sqlalchemy import Connection, inspect

from kehu_core.hooktypes import Schema

SCRIPT_LOCATION = Path(__file__).parent / "migrations"


@frozen
class BranchStatus:
    """Where one branch stands: the revision applied in the database and the newest one."""

    branch: str
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        """True when the database is at the branch's head."""
        return self.current == self.head


def alembic_config(connection: Connection, schemas: Iterable[Schema]) -> Config:
    """An Alembic config that runs on ``connection`` with every given schema's revisions."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("path_separator", "os")
    locations = [str(s.versions) for s in schemas if Path(s.versions).is_dir()]
    cfg.set_main_option("version_locations", os.pathsep.join(locations))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection, schemas: Sequence[Schema], branches: Sequence[str]) -> None:
    """Bring each named branch to its head, in order, on ``connection``'s transaction."""
    cfg = alembic_config(connection, schemas)
    for branch in branches:
        command.upgrade(cfg, f"{branch}@head")


def downgrade_to_base(connection: Connection, schemas: Sequence[Schema], branch: str) -> None:
    """Undo every revision of ``branch`` (drops a plugin's tables)."""
    cfg = alembic_config(connection, schemas)
    command.downgrade(cfg, f"{branch}@base")


def current_revisions(connection: Connection) -> set[str]:
    """The revisions recorded in ``alembic_version`` (empty for a new database)."""
    if not inspect(connection).has_table("alembic_version"):
        return set()
    return set(MigrationContext.configure(connection).get_current_heads())


def status(connection: Connection, schemas: Sequence[Schema], branches: Sequence[str]) -> list[BranchStatus]:
    """Current and head revision of each named branch.

    ``alembic_version`` keeps only the heads; a revision another branch ``depends_on`` is
    applied without being listed, so "applied" means: an ancestor of a recorded head.
    """
    script = ScriptDirectory.from_config(alembic_config(connection, schemas))
    heads = tuple(current_revisions(connection))
    applied = {rev.revision for rev in script.iterate_revisions(heads, "base")} if heads else set()
    result = []
    for branch in branches:
        head = script.get_revision(f"{branch}@head")
        current = None
        revision = head
        while revision is not None:  # walk the branch's own chain, newest first
            if revision.revision in applied:
                current = revision.revision
                break
            down = revision.down_revision
            revision = script.get_revision(down[0] if isinstance(down, tuple) else down) if down else None
        result.append(BranchStatus(branch=branch, current=current, head=head.revision if head else "?"))
    return result
