"""The application object: one database, the plugins, and hooks limited to what is installed.

``Kehu`` is the entry point of the Python API::

    from kehu_core import Kehu, customers
    app = Kehu("sqlite:///kehu.db")
    app.init()                       # create or upgrade the schema
    with app.session() as session:   # one transaction: committed, or rolled back on error
        customers.add_customer(app, session, {"code": "C1", "name": "华为"})

Hook implementations receive the app as their ``app`` argument; nothing reaches it through
the session.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from kehu_core import db as kehu_db
from kehu_core import installer
from kehu_core.errors import HookError, KehuError, NotInstalled
from kehu_core.hooktypes import Schema
from kehu_core.manifest import load_reference
from kehu_core.models import CORE_INTERACTION_KINDS, Base, InstalledPlugin
from kehu_core.plugins import BUILTIN, PluginInfo, Plugins, discover


class Kehu:
    """A kehu database together with the plugins available to it.

    Parameters:
        url: a SQLAlchemy URL or a SQLite file path (default: ``KEHU_DATABASE_URL``, then
            ``./kehu.db``).
        plugins: a :class:`~kehu_core.plugins.Plugins` facade; discovered from entry points
            when omitted.
    """

    def __init__(self, url: str | None = None, plugins: Plugins | None = None, engine: Engine | None = None):
        self.engine: Engine = engine or kehu_db.create_db_engine(url)
        self.plugins: Plugins = plugins if plugins is not None else discover()
        self._sessions: sessionmaker[Session] = kehu_db.session_factory(self.engine)
        self._installed: set[str] | None = None
        self._hooks: dict[str, Any] = {}

    # -- database ---------------------------------------------------------------------------
    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql`` (or another SQLAlchemy dialect name)."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        An exception raised inside a plugin's hook is turned into
        :class:`~kehu_core.errors.HookError`, which names the plugin.
        """
        session = self._sessions()
        try:
            if self._installed is None:
                # Read plugin state on this session's connection: a second connection
                # would wait on SQLite's write lock that this transaction holds.
                self.installed(session)
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def init(self) -> list[str]:
        """Create or upgrade the schema: the core and every installed plugin, to head.

        Idempotent. Returns the branches brought to head.
        """
        with self.session() as session:
            return installer.upgrade_all(self, session)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    # -- plugins ----------------------------------------------------------------------------
    def installed(self, session: Session | None = None) -> set[str]:
        """Names of the plugins installed in this database (cached; refreshed on change)."""
        if self._installed is None:
            if session is not None:
                self._installed = self._read_installed(session.connection())
            else:
                with self.engine.connect() as conn:
                    self._installed = self._read_installed(conn)
        return set(self._installed)

    @staticmethod
    def _read_installed(conn: Any) -> set[str]:
        if not inspect(conn).has_table(InstalledPlugin.__tablename__):
            return set()
        return set(conn.execute(select(InstalledPlugin.name)).scalars())

    def forget_installed_cache(self, session: Session | None = None) -> None:
        """Re-read the installed plugins (after install or uninstall), on ``session`` if given."""
        self._installed = None
        self._hooks.clear()
        if session is not None:
            self.installed(session)

    def require_installed(self, name: str) -> None:
        """Raise :class:`NotInstalled` with instructions unless ``name`` is installed here."""
        if name not in self.installed():
            if name not in self.plugins.loaded:
                raise NotInstalled(f"plugin {name!r} is not available: pip install kehu-{name}")
            raise NotInstalled(
                f"plugin {name!r} is available but not installed in this database "
                f"({kehu_db.describe(self.engine)}). Install it with: kehu plugins install {name}"
            )

    @property
    def hook(self) -> _HookRelay:
        """Call hooks on the built-ins and the installed plugins only, naming a failing plugin."""
        return _HookRelay(self)

    def schemas(self, names: set[str] | None = None) -> list[Schema]:
        """The schemas of the core and of the given (default: every loaded) plugin.

        A plugin whose dependencies are not all loaded is left out: its revisions may
        ``depends_on`` revisions Alembic cannot find, which would stop every migration.
        """
        usable = self.plugins.with_dependencies()
        found = [core_schema()]
        for name in sorted(usable):
            schema = plugin_schema(self.plugins.infos[name])
            if schema is not None:
                found.append(schema)
        if names is None:
            return found
        return [s for s in found if s.plugin in names or s.plugin == BUILTIN]

    def interaction_kinds(self) -> tuple[str, ...]:
        """The core's interaction kinds and those added by installed plugins."""
        extra = [k for kinds in self.hook.kehu_interaction_kinds() for k in kinds]
        return tuple(dict.fromkeys([*CORE_INTERACTION_KINDS, *extra]))

    def hook_caller(self, name: str) -> Any:
        """The pluggy caller of hook ``name`` restricted to installed plugins (cached)."""
        caller = self._hooks.get(name)
        if caller is None:
            installed = self.installed()
            excluded = [
                info.hooks_object for pname, info in self.plugins.loaded.items() if pname not in installed
            ]
            caller = self.plugins.pm.subset_hook_caller(name, remove_plugins=excluded)
            self._hooks[name] = caller
        return caller

    def culprit(self, error: BaseException, hook: str | None = None) -> str:
        """The plugin whose code raised ``error``.

        The innermost frame of one of ``hook``'s implementations names it exactly (plugins
        may be modules or objects); failing that, the innermost frame in a plugin's package.
        """
        owners: dict[Any, str] = {}
        caller = getattr(self.plugins.pm.hook, hook, None) if hook else None
        for impl in caller.get_hookimpls() if caller is not None else ():
            code = getattr(impl.function, "__code__", None)
            if code is not None:
                name = self.plugins.pm.get_name(impl.plugin) or "unknown"
                owners[code] = BUILTIN if name.startswith("kehu_core.") else name
        by_impl = by_module = None
        tb = error.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if frame.f_code in owners:
                by_impl = owners[frame.f_code]
            module = frame.f_globals.get("__name__", "")
            owner = self.plugins.plugin_of_module(module)
            if owner is not None and owner != BUILTIN:
                by_module = owner
            elif owner == BUILTIN and by_module is None and not module.startswith("kehu_core.app"):
                by_module = BUILTIN
            tb = tb.tb_next
        return by_impl or by_module or "unknown"


class _HookRelay:
    """``app.hook.kehu_x(...)``: calls installed plugins; wraps plugin exceptions in HookError."""

    def __init__(self, app: Kehu):
        self._app = app

    def __getattr__(self, name: str) -> Any:
        caller = self._app.hook_caller(name)
        takes_app = caller.spec is not None and "app" in caller.spec.argnames

        def call(**kwargs: Any) -> Any:
            if takes_app:
                kwargs.setdefault("app", self._app)
            try:
                return caller(**kwargs)
            except KehuError:
                raise
            except Exception as exc:
                raise HookError(self._app.culprit(exc, name), name, exc).with_traceback(
                    sys.exc_info()[2]
                ) from exc

        return call


def core_schema() -> Schema:
    """The core's tables and revisions (branch ``core``)."""
    return Schema(
        plugin=BUILTIN, metadata=Base.metadata, versions=Path(__file__).parent / "migrations" / "versions"
    )


def plugin_schema(info: PluginInfo) -> Schema | None:
    """The tables and revisions a plugin's manifest declares, or ``None`` if it has no tables."""
    manifest = info.manifest
    if manifest is None or manifest.models is None or info.package_dir is None:
        return None
    versions = Path(manifest.migrations)
    if not versions.is_absolute():
        versions = info.package_dir / versions
    return Schema(plugin=info.name, metadata=load_reference(manifest.models), versions=versions)
