"""Installing, upgrading and uninstalling plugins in a database (Odoo's module lifecycle)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from attrs import frozen
from sqlalchemy import and_, delete, func, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kehu_core import schema
from kehu_core.access import require
from kehu_core.errors import PluginError
from kehu_core.hooktypes import DefaultRecord
from kehu_core.i18n import N_, messages
from kehu_core.manifest import load_reference
from kehu_core.models import DataRecord, InstalledPlugin, JobRun
from kehu_core.plugins import BUILTIN, PluginInfo
from kehu_core.types import utcnow

if TYPE_CHECKING:  # kehu_core.app imports this module: the app is only an annotation here
    from kehu_core.app import Kehu

_ = messages("kehu_core").gettext


def install_order(app: Kehu, names: Iterable[str]) -> list[str]:
    """``names`` and their dependencies, dependencies first.

    Raises :class:`PluginError` naming a missing, broken or cyclic dependency.
    """
    loaded = app.plugins.loaded
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = " -> ".join((*path[path.index(name) :], name))
            raise PluginError(_("cyclic plugin dependency: {cycle}").format(cycle=cycle))
        info = loaded.get(name)
        if info is None:
            broken = app.plugins.infos.get(name)
            why = (
                _("it failed to load: {error}").format(error=broken.error)
                if broken
                else _("it is not available (pip install kehu-{name}?)").format(name=name)
            )
            message = (
                _("cannot install plugin {name!r} (needed by {needer}): {why}")
                if path
                else _("cannot install plugin {name!r}: {why}")
            )
            raise PluginError(message.format(name=name, needer=path[-1] if path else None, why=why))
        state[name] = "visiting"
        assert info.manifest is not None
        for dep in info.manifest.depends:
            visit(dep, (*path, name))
        state[name] = "done"
        order.append(name)

    for name in names:
        visit(name, ())
    return order


def _branches(app: Kehu, names: Iterable[str]) -> list[str]:
    with_schema = {s.plugin for s in app.schemas()}
    return [n for n in names if n in with_schema]


def _call_own(app: Kehu, plugin: str, callback: str, session: Session, **kwargs: Any) -> Any:
    """Call the lifecycle callback ``callback`` that plugin ``plugin``'s manifest declares, if any."""
    manifest = app.plugins.loaded[plugin].manifest
    reference = getattr(manifest, callback, None)
    if reference is None:
        return None
    try:
        return load_reference(reference)(app, session, **kwargs)
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(
            _("plugin {plugin!r} failed in its {callback}: {error_type}: {error}").format(
                plugin=plugin, callback=callback, error_type=type(exc).__name__, error=exc
            )
        ) from exc


def has_tables(app: Kehu, name: str) -> bool:
    """True when plugin ``name``'s manifest declares tables."""
    info = app.plugins.infos.get(name)
    return info is not None and info.manifest is not None and info.manifest.models is not None


def install(app: Kehu, session: Session, names: Sequence[str]) -> list[str]:
    """Install plugins (and their dependencies) into this database.

    Runs each plugin's migrations on its own branch, loads its default data, records its
    version, and then installs any ``auto_install`` plugin whose dependencies are now all
    installed. Returns the names newly installed, in order. All in ``session``'s transaction.
    Needs permission ``plugins.manage``.
    """
    require(session, "plugins.manage", N_("install plugins"))
    with app.maintenance():
        return _install(app, session, names)


def _install(app: Kehu, session: Session, names: Sequence[str]) -> list[str]:
    upgrade_core(app, session)
    installed = app.installed(session)
    newly: list[str] = []
    pending = [n for n in install_order(app, names) if n not in installed]
    while pending:
        for name in pending:
            _install_one(app, session, app.plugins.loaded[name])
            installed.add(name)
            newly.append(name)
        pending = [
            name
            for name, info in app.plugins.loaded.items()
            if name not in installed
            and info.manifest
            and info.manifest.auto_install
            and all(dep in installed for dep in info.manifest.depends)
        ]
    app.forget_installed_cache(session)
    return newly


def _install_one(app: Kehu, session: Session, info: PluginInfo) -> None:
    assert info.manifest is not None
    _call_own(app, info.name, "pre_init_hook", session)
    branches = _branches(app, [info.name])
    if branches:
        schema.upgrade(session.connection(), app.schemas(), branches)
    session.add(InstalledPlugin(name=info.name, version=info.manifest.version, installed_at=utcnow()))
    session.flush()
    load_default_data(app, session, info.name)
    _call_own(app, info.name, "post_init_hook", session)


def dependents(app: Kehu, session: Session, name: str) -> list[str]:
    """Installed plugins that depend on ``name``."""
    installed = app.installed(session)
    return sorted(
        other
        for other, info in app.plugins.loaded.items()
        if other in installed and info.manifest and name in info.manifest.depends
    )


def can_drop_tables(app: Kehu, name: str) -> bool:
    """True when plugin ``name`` can run its own uninstall here: it loads, and if it has
    tables, so do the plugins it depends on (its migrations may build on theirs)."""
    if name not in app.plugins.loaded:
        return False
    return name in app.plugins.with_dependencies() or not has_tables(app, name)


@frozen
class KeptRow:
    """A row a plugin's default data put in another plugin's or the core's table, which
    uninstalling the plugin kept: ``why`` says why (the fields the user changed, say)."""

    table: str
    key: Mapping[str, Any]
    why: str


@frozen
class Uninstalled:
    """What uninstalling a plugin did beyond dropping its tables.

    ``forgotten`` is true when its tables were left (``--forget``); ``deleted_rows`` counts
    the rows of its default data deleted from other tables, ``kept_rows`` the ones kept;
    ``job_runs`` counts the runs of its jobs forgotten.
    """

    name: str
    forgotten: bool = False
    deleted_rows: int = 0
    kept_rows: tuple[KeptRow, ...] = ()
    job_runs: int = 0


def uninstall(app: Kehu, session: Session, name: str, *, forget: bool = False) -> Uninstalled:
    """Drop a plugin's tables and forget it; core data stays.

    Also deletes the rows its default data put in other plugins' or the core's tables,
    except those the user changed (kept, and listed in the result), and the history of its
    scheduled jobs, so a reinstalled plugin's jobs are due at once. Then fires
    ``kehu_plugin_uninstalled``, in the same transaction, for the other plugins to undo what
    its hooks gave them.

    Refused while another installed plugin depends on it. A plugin recorded as installed
    whose package is missing or broken cannot run its migrations to drop its tables: that
    is refused with instructions, unless ``forget``, which only forgets the plugin here and
    leaves its tables and its rows elsewhere (and its Alembic revision, for when its
    package returns).
    """
    require(session, "plugins.manage", N_("uninstall plugins"))
    with app.maintenance():
        return _uninstall(app, session, name, forget=forget)


def _uninstall(app: Kehu, session: Session, name: str, *, forget: bool) -> Uninstalled:
    installed = app.installed(session)
    if name not in installed:
        raise PluginError(_("plugin {name!r} is not installed in this database").format(name=name))
    blockers = dependents(app, session, name)
    if blockers:
        raise PluginError(
            _(
                "cannot uninstall {name!r}: installed plugin(s) {blockers} depend on it; uninstall them first"
            ).format(name=name, blockers=", ".join(blockers))
        )
    info = app.plugins.loaded.get(name)
    tables = info is not None and has_tables(app, name)
    deleted, kept = 0, list[KeptRow]()  # rows of its default data in other tables
    forgotten = not can_drop_tables(app, name)
    if forgotten:
        if not forget:
            broken = app.plugins.infos.get(name)
            if info is not None:
                missing = (
                    [d for d in info.manifest.depends if d not in app.plugins.with_dependencies()]
                    if info.manifest
                    else []
                )
                why = _("a plugin it depends on is not available ({missing})").format(
                    missing=", ".join(missing)
                )
            elif broken is not None and broken.error:
                why = _("it failed to load ({error})").format(error=broken.error)
            else:
                why = _("it is not available (not pip-installed)")
            raise PluginError(
                _(
                    "cannot uninstall {name!r}: {why}, so its migrations cannot drop its tables. "
                    "Make it available again (pip install kehu-{package}) and uninstall it, "
                    "or forget it here with `kehu plugins uninstall {name} --forget` "
                    "(its tables stay in the database)."
                ).format(name=name, why=why, package=name.replace("_", "-"))
            )
    else:
        _call_own(app, name, "uninstall_hook", session)
        if tables:
            schema.downgrade_to_base(session.connection(), app.schemas(), name)
        deleted, kept = _delete_default_rows(app, session, name)
    runs = session.scalar(select(func.count()).select_from(JobRun).where(JobRun.plugin == name)) or 0
    session.execute(delete(JobRun).where(JobRun.plugin == name))
    session.execute(delete(DataRecord).where(DataRecord.plugin == name))
    session.execute(delete(InstalledPlugin).where(InstalledPlugin.name == name))
    app.forget_installed_cache(session)
    app.hook.kehu_plugin_uninstalled(session=session, name=name)
    return Uninstalled(
        name=name, forgotten=forgotten, deleted_rows=deleted, kept_rows=tuple(kept), job_runs=runs
    )


def _delete_default_rows(app: Kehu, session: Session, name: str) -> tuple[int, list[KeptRow]]:
    """Delete the rows plugin ``name``'s default data inserted in tables that outlive it,
    unless the user changed them. Run after its own tables are dropped."""
    known = {t.name: t for s in app.schemas() for t in s.metadata.tables.values()}
    present = set(inspect(session.connection()).get_table_names())
    deleted, kept = 0, list[KeptRow]()
    records = session.scalars(
        select(DataRecord).where(DataRecord.plugin == name).order_by(DataRecord.id)
    ).all()
    for record in records:
        if record.table_name not in present:
            continue  # one of its own tables, dropped with the plugin
        key = json.loads(record.key)
        table = known.get(record.table_name)
        if table is None:
            kept.append(KeptRow(record.table_name, key, _("kehu does not know this table here")))
            continue
        where = and_(*(table.c[k] == v for k, v in key.items()))
        tracked = [c for c in record.fields if c in table.c]
        row = session.execute(select(*(table.c[c] for c in (*key, *tracked))).where(where)).mappings().first()
        if row is None:
            continue  # the user deleted it already
        changed = [c for c in tracked if record.fields[c] != _checksum(row[c])]
        if changed:
            kept.append(
                KeptRow(
                    record.table_name,
                    key,
                    _("changed by the user: {fields}").format(fields=", ".join(changed)),
                )
            )
            continue
        try:
            with session.begin_nested():  # a failed delete must not abort the uninstall's transaction
                session.execute(delete(table).where(where))
        except IntegrityError:
            kept.append(KeptRow(record.table_name, key, _("other rows refer to it")))
            continue
        deleted += 1
    return deleted, kept


def upgrade_core(app: Kehu, session: Session) -> None:
    """Bring the core's own schema to head."""
    schema.upgrade(session.connection(), app.schemas(), [BUILTIN])
    app.forget_installed_cache(session)


def upgrade_all(app: Kehu, session: Session) -> list[str]:
    """``kehu db upgrade``: the core and every installed, loadable plugin to head.

    Installed plugins that cannot run here (:func:`unavailable_installed`) are skipped and
    keep their state, so one missing package does not block the core and the others.

    Reloads default data (respecting user changes), records new versions and calls
    the ``post_upgrade_hook`` of plugins whose version changed. Returns the branches upgraded.
    """
    with app.maintenance():
        return _upgrade_all(app, session)


def _upgrade_all(app: Kehu, session: Session) -> list[str]:
    upgrade_core(app, session)
    rows = {p.name: p for p in session.scalars(select(InstalledPlugin))}
    usable = app.plugins.with_dependencies()  # the others are skipped: see unavailable_installed()
    names = install_order(app, [n for n in rows if n in usable])
    branches = _branches(app, names)
    if branches:
        schema.upgrade(session.connection(), app.schemas(), branches)
    for name in names:
        manifest = app.plugins.loaded[name].manifest
        assert manifest is not None and manifest.version is not None  # a loaded plugin has both
        load_default_data(app, session, name)
        row = rows[name]
        if row.version != manifest.version:
            old, row.version, row.upgraded_at = row.version, manifest.version, utcnow()
            session.flush()
            _call_own(app, name, "post_upgrade_hook", session, from_version=old, to_version=manifest.version)
    app.forget_installed_cache(session)
    return [BUILTIN, *branches]


def installed_versions(app: Kehu) -> dict[str, str]:
    """``{plugin: version recorded}`` for the plugins installed in this database (read only)."""
    with app.engine.connect() as conn:
        if not inspect(conn).has_table(InstalledPlugin.__tablename__):
            return {}
        return dict(conn.execute(select(InstalledPlugin.name, InstalledPlugin.version)).all())


def unavailable_installed(app: Kehu, session: Session) -> list[str]:
    """Plugins installed in this database that cannot run here (package missing or broken,
    or a plugin they depend on is): ``kehu db upgrade`` skips them."""
    usable = app.plugins.with_dependencies()
    return sorted(name for name in session.scalars(select(InstalledPlugin.name)) if name not in usable)


def _checksum(value: Any) -> str:
    """The checksum kehu keeps of one field's value (times compared in UTC)."""
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, default=str, ensure_ascii=False).encode()
    ).hexdigest()


def _record_key(record: DefaultRecord) -> str:
    return json.dumps(dict(record.key), sort_keys=True, default=str, ensure_ascii=False)


def load_default_data(app: Kehu, session: Session, name: str) -> int:
    """Write plugin ``name``'s default rows, field by field, leaving what the user changed.

    A row kehu never loaded is inserted. In a row kehu loaded, each field still holding what
    kehu last wrote gets the new value, and a field new in the plugin's data is filled; a field
    the user changed keeps the user's value (Odoo's ``noupdate``, per field). A row the user
    deleted stays deleted, and a row that was there before kehu loaded it is the user's.
    Returns the number of rows written.
    """
    manifest = app.plugins.loaded[name].manifest
    data = manifest.data if manifest is not None else None
    records: list[DefaultRecord] = list(load_reference(data)()) if data is not None else []
    written = 0
    for record in records:
        table, key, values = record.table, dict(record.key), dict(record.values)
        where = and_(*(table.c[k] == v for k, v in key.items()))
        columns = [table.c[c] for c in {**key, **values}]
        current = session.execute(select(*columns).where(where)).mappings().first()
        rkey = _record_key(record)
        stored = session.scalar(
            select(DataRecord).where(
                DataRecord.plugin == name, DataRecord.table_name == table.name, DataRecord.key == rkey
            )
        )
        if current is None and stored is not None:
            continue  # kehu loaded it and the user deleted it: deleting is a change too
        if current is not None and stored is None:
            continue  # the row was there before kehu loaded it: the user's
        if current is None:
            session.execute(table.insert().values(**key, **values))
            ours, before = values, {}
        else:
            assert stored is not None
            before = dict(stored.fields)
            ours = {
                column: value
                for column, value in values.items()
                if column not in before  # new in the plugin's data: nobody changed it yet
                or before[column] == _checksum(current[column])  # still what kehu wrote
            }
            if ours:
                session.execute(update(table).where(where).values(**ours))
        # Checksum what the database holds now, so a later comparison reads like with like.
        after = session.execute(select(*columns).where(where)).mappings().one()
        fields = {c: _checksum(after[c]) if c in ours else before[c] for c in values}
        if stored is None:
            session.add(DataRecord(plugin=name, table_name=table.name, key=rkey, fields=fields))
        elif fields != before:
            stored.fields = fields
        else:
            continue  # every field already held what kehu writes, or the user's value
        written += 1
    session.flush()
    return written
