"""Schema migrations through Alembic: the core's branch and one branch per installed plugin.

Alembic is used rather than hand-written DDL bookkeeping: it already solves multiple
independent branches ("multiple bases"), cross-branch ``depends_on``, SQLite's batch
ALTER, and downgrading a single branch to base, which is exactly plugin uninstall.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from attrs import frozen
from sqlalchemy import Connection, column, delete, inspect, table

from kehu_core.errors import KehuError, PluginError
from kehu_core.hooktypes import Schema
from kehu_core.i18n import messages
from kehu_core.plugins import BUILTIN

_ = messages("kehu_core").gettext

SCRIPT_LOCATION = Path(__file__).parent / "migrations"
_VERSIONS = table("alembic_version", column("version_num"))


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


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.revision_map.get_revision(revision) is not None
    except RevisionError:
        return False


def _lineage(script: ScriptDirectory, revision: str) -> set[str]:
    """``revision`` and everything it stands on: down revisions and ``depends_on``, across branches."""
    return {rev.revision for rev in script.iterate_revisions(revision, "base")}


def _canonical(script: ScriptDirectory, revisions: Iterable[str]) -> set[str]:
    """The rows Alembic expects: drop any revision that another one stands on."""
    revisions = set(revisions)
    below: set[str] = set()
    for rev in revisions:
        below |= _lineage(script, rev) - {rev}
    return revisions - below


def _branch_positions(script: ScriptDirectory, heads: Iterable[str]) -> set[str]:
    """The newest applied revision of every branch, given Alembic's (canonical) heads."""
    applied: set[str] = set()
    for head in heads:
        applied |= _lineage(script, head)
    return {rev for rev in applied if not (_next_revisions(script, rev) & applied)}


def _next_revisions(script: ScriptDirectory, rev: str) -> set[str]:
    """The revisions that come directly after ``rev``."""
    revision = script.revision_map.get_revision(rev)
    return set(revision.nextrev) if revision is not None else set()


@contextmanager
def _alembic_rows(connection: Connection, cfg: Config) -> Iterator[None]:
    """Run an Alembic command on canonical rows, then store every branch's position explicitly.

    Alembic records a plugin's revision *instead of* the core revision it ``depends_on``. If
    that plugin's package then goes missing or breaks, its revision cannot be placed, and
    Alembic refuses to do anything at all: one missing plugin would block ``kehu db upgrade``
    for the core and every other plugin, and dropping its row would make the core look
    unapplied. So at rest kehu keeps one row per branch (the core's too), and around each
    Alembic command it (1) sets aside rows no available plugin provides, (2) reduces the rest
    to what Alembic expects, and afterwards (3) writes each branch's position again and puts
    the set-aside rows back, for when their plugin returns. All in the caller's transaction:
    on error it is rolled back, rows included.
    """
    script = ScriptDirectory.from_config(cfg)
    rows = current_revisions(connection)
    unknown = sorted(rev for rev in rows if not _known(script, rev))
    known = rows - set(unknown)
    canonical = _canonical(script, known)
    if (
        unknown
        and not any(_lineage(script, rev) & _core_revisions(script) for rev in known)
        and inspect(connection).has_table("customers")
    ):
        # A database from before positions were kept explicitly: where the core stands is
        # recorded only in the missing plugin's row.
        raise KehuError(
            _(
                "the database records migrations of plugin(s) that are not available here "
                "({plugins}), and the core's own position with them. Make those plugins "
                "available again (pip install them) and run `kehu db upgrade` once; after that a "
                "missing plugin no longer blocks upgrades."
            ).format(plugins=", ".join(unknown))
        )
    _replace_rows(connection, rows, canonical)
    yield
    after = current_revisions(connection)
    _replace_rows(connection, after, _branch_positions(script, after) | set(unknown))


def _core_revisions(script: ScriptDirectory) -> set[str]:
    try:
        return _lineage(script, "core@head")
    except Exception:  # no core branch in this script directory (not a kehu database)
        return set()


def _replace_rows(connection: Connection, current: set[str], wanted: set[str]) -> None:
    if current - wanted:
        connection.execute(delete(_VERSIONS).where(_VERSIONS.c.version_num.in_(sorted(current - wanted))))
    if wanted - current:
        connection.execute(_VERSIONS.insert(), [{"version_num": rev} for rev in sorted(wanted - current)])


def upgrade(connection: Connection, schemas: Sequence[Schema], branches: Sequence[str]) -> None:
    """Bring each named branch to its head, in order, on ``connection``'s transaction.

    A revision that fails raises :class:`PluginError` naming its plugin and revision.
    """
    cfg = alembic_config(connection, schemas)
    with _alembic_rows(connection, cfg), _naming_failures(schemas, "migration"):
        for branch in branches:
            command.upgrade(cfg, f"{branch}@head")


def downgrade_to_base(connection: Connection, schemas: Sequence[Schema], branch: str) -> None:
    """Undo every revision of ``branch`` (drops a plugin's tables)."""
    cfg = alembic_config(connection, schemas)
    with _alembic_rows(connection, cfg), _naming_failures(schemas, "downgrade"):
        command.downgrade(cfg, f"{branch}@base")


@contextmanager
def _naming_failures(schemas: Sequence[Schema], what: str) -> Iterator[None]:
    """Turn an error raised in a revision into one line naming the plugin and the revision.

    The revision is the innermost frame in one of the schemas' versions folders. The
    transaction is the caller's: it is rolled back, so the half-run revision leaves nothing.
    """
    try:
        yield
    except KehuError:
        raise
    except Exception as exc:
        found = _failing_revision(schemas, exc)
        if found is None:
            raise
        plugin, revision = found
        orig = getattr(exc, "orig", None)
        detail = str(orig if orig is not None else exc).strip()
        detail = detail.splitlines()[0] if detail else ""
        core, downgrade = plugin == BUILTIN, what == "downgrade"
        if core and downgrade:
            message = _("the core's downgrade {revision} failed: {error_type}: {detail}.")
        elif core:
            message = _("the core's migration {revision} failed: {error_type}: {detail}.")
        elif downgrade:
            message = _("plugin {plugin}'s downgrade {revision} failed: {error_type}: {detail}.")
        else:
            message = _("plugin {plugin}'s migration {revision} failed: {error_type}: {detail}.")
        shown = message.format(
            plugin=plugin, revision=revision, error_type=type(orig or exc).__name__, detail=detail
        )
        raise PluginError(
            _("{failure} Nothing of this upgrade was saved; report it to the plugin's author.").format(
                failure=shown
            )
        ) from exc


def _failing_revision(schemas: Sequence[Schema], error: BaseException) -> tuple[str, str] | None:
    folders = [(Path(s.versions).resolve(), s.plugin) for s in schemas]
    found = None
    tb = error.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename:
            path = Path(filename).resolve()
            for folder, plugin in folders:
                if path.parent == folder:
                    revision = tb.tb_frame.f_globals.get("revision", path.stem)
                    found = (plugin, str(revision))
        tb = tb.tb_next
    return found


def migrate(connection: Connection, schemas: Sequence[Schema], branch: str, revision: str) -> None:
    """Take one branch up or down to ``revision`` on ``connection``'s transaction: for migration tests.

    ``revision`` is a revision of ``branch``, ``"head"`` or ``"base"``. Going down runs the
    ``downgrade()`` of every revision of the branch after it (and of revisions on other
    branches that stand on them); going up runs the ``upgrade()`` of the ones up to it.
    ``schemas`` is usually ``app.schemas()``. Raises :class:`KehuError` for a revision that
    is not on the branch.
    """
    cfg = alembic_config(connection, schemas)
    script = ScriptDirectory.from_config(cfg)
    if revision in ("head", "base"):
        target = f"{branch}@{revision}"
    else:
        if not _known(script, revision) or branch not in _branch_labels(script, revision):
            raise KehuError(
                _("no revision {revision!r} on branch {branch!r}").format(revision=revision, branch=branch)
            )
        target = revision
    (current,) = status(connection, schemas, [branch])
    with _alembic_rows(connection, cfg):
        if revision == "base" or (
            current.current is not None and target in _lineage(script, current.current) - {current.current}
        ):
            command.downgrade(cfg, target)
        else:
            command.upgrade(cfg, target)


def _branch_labels(script: ScriptDirectory, revision: str) -> set[str]:
    """The branch labels of ``revision``'s own chain (down revisions only)."""
    labels: set[str] = set()
    rev = script.revision_map.get_revision(revision)
    while rev is not None:
        labels |= set(rev.branch_labels)
        down = rev.down_revision
        rev = script.revision_map.get_revision(down if isinstance(down, str) else down[0]) if down else None
    return labels


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
    applied: set[str] = set()
    for recorded in current_revisions(connection):
        if _known(script, recorded):  # a revision of a plugin not available here is not shown
            applied |= _lineage(script, recorded)
    result = []
    for branch in branches:
        head = script.get_revision(f"{branch}@head")
        current = None
        revision: Script | None = head
        while revision is not None:  # walk the branch's own chain, newest first
            if revision.revision in applied:
                current = revision.revision
                break
            down = revision.down_revision
            revision = script.get_revision(down if isinstance(down, str) else down[0]) if down else None
        result.append(BranchStatus(branch=branch, current=current, head=head.revision if head else "?"))
    return result
