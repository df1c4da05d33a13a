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

import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import Connection, Engine, event, inspect, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from kehu_core import access, installer, vocab
from kehu_core import db as kehu_db
from kehu_core.access import Actor
from kehu_core.choices import Vocabulary
from kehu_core.errors import HookError, KehuError, NotInstalled, PluginError
from kehu_core.hooktypes import Schema
from kehu_core.i18n import N_, messages
from kehu_core.manifest import load_reference
from kehu_core.models import CORE_INTERACTION_KINDS, Base, InstalledPlugin
from kehu_core.plugins import BUILTIN, ENV_ALLOW, PluginInfo, Plugins, allow_list, discover

_ = messages("kehu_core").gettext

#: ``KEHU_ALLOW_MISSING_PLUGINS=loyalty,tiering``: write although these installed plugins are not loaded.
ENV_ALLOW_MISSING = "KEHU_ALLOW_MISSING_PLUGINS"

#: The tables a write to which is refused while an installed plugin is not loaded: the
#: customers and interactions every plugin's hooks react to. A plugin's own tables are its
#: business; kehu's bookkeeping (installed plugins, default data, job runs) is not data.
GUARDED_TABLES = frozenset({"customers", "customer_tags", "interactions"})
#: How the plugins shipped with kehu catch up with writes made while they were not loaded
#: (``--without-plugin``): what the refusal tells the user to run afterwards. Each command is
#: idempotent. Customers forgotten meanwhile are forgotten again (``kehu customer forget``),
#: which erases the plugins' own data of them.
CATCH_UP = {
    "loyalty": N_("`kehu loyalty backfill` earns the points those interactions missed"),
    "complaints": N_("`kehu complaint backfill` opens the complaints of complaint interactions"),
    "tiering": N_("`kehu tier rebuild` then `kehu tier run`"),
    "forecast": N_("forecast needs nothing: it reads the history when it runs"),
}

_WRITE = re.compile(
    r"^\s*(?:WITH\b.*?\)\s*)?(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)"
    r"\s+(?:ONLY\s+)?[\"`]?(\w+)",
    re.IGNORECASE | re.DOTALL,
)
_DDL = re.compile(r"^\s*(?:CREATE|ALTER|DROP)\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)\b", re.IGNORECASE)
#: ``Connection.info`` key: the transaction on this connection wrote to the database.
_WROTE = "kehu_wrote"
#: ``Session.info`` and ``Connection.info`` key: a hook is running on this session.
_IN_HOOK = "kehu_in_hook"

#: Operational database errors that are the database's trouble, not the plugin's whose hook
#: happened to be running: reported as database errors, never blamed on a plugin.
DATABASE_TROUBLE = (
    "disk is full",
    "no space left",
    "could not extend file",
    "locked",
    "disk i/o error",
    "deadlock detected",
    "could not serialize",
    "server closed the connection",
    "terminating connection",
    "connection already closed",
    "out of memory",
)


def catch_up(plugin: str) -> str:
    """How ``plugin`` catches up with writes made without it (:data:`CATCH_UP`)."""
    if plugin in CATCH_UP:
        return _(CATCH_UP[plugin])
    return _("see the guide of plugin {plugin}").format(plugin=plugin)


def database_trouble(error: BaseException) -> bool:
    """True for an operational error of the database itself (disk full, locked, connection lost)."""
    if not isinstance(error, OperationalError):
        return False
    detail = str(error.orig if error.orig is not None else error).lower()
    return any(words in detail for words in DATABASE_TROUBLE)


class _TransactionTouched(Exception):
    """Raised where a hook commits or rolls back the command's transaction; the relay names the plugin."""

    def __init__(self, verb: str):
        super().__init__(verb)
        self.verb = verb


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
        #: Installed plugins that may be missing here while writing (``--without-plugin``,
        #: ``KEHU_ALLOW_MISSING_PLUGINS``; ``*`` allows any).
        self.allow_missing: set[str] = {
            n.strip() for n in os.environ.get(ENV_ALLOW_MISSING, "").split(",") if n.strip()
        }
        #: Transactions of this app that wrote to the database and committed.
        self.committed_writes = 0
        self._local = threading.local()
        self._table_names: frozenset[str] | None = None
        event.listen(self.engine, "before_cursor_execute", self._before_execute)
        event.listen(self.engine, "begin", self._clear_wrote)
        event.listen(self.engine, "rollback", self._clear_wrote)
        event.listen(self.engine, "commit", self._check_commit)

    # -- database ---------------------------------------------------------------------------
    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql`` (or another SQLAlchemy dialect name)."""
        return self.engine.dialect.name

    @contextmanager
    def session(self, as_user: str | Actor | None = None) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        ``as_user``: the login of the user acting (or an :class:`~kehu_core.access.Actor`);
        their roles and record rules apply to everything done in the session. Without it the
        session acts as kehu itself, with every right: for jobs, migrations and scripts run by
        whoever owns the database. A login that is not an active user is refused
        (:class:`~kehu_core.access.UnknownUser`).

        An exception raised inside a plugin's hook is turned into
        :class:`~kehu_core.errors.HookError`, which names the plugin.
        """
        session = self._sessions()
        try:
            if self._installed is None:
                # Read plugin state on this session's connection: a second connection
                # would wait on SQLite's write lock that this transaction holds.
                self.installed(session)
            if as_user is not None:
                access.act_as(self, session, as_user)
            yield session
            wrote = session.in_transaction() and session.connection().info.get(_WROTE, False)
            session.commit()
            if wrote:
                self.committed_writes += 1
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def maintenance(self) -> Iterator[None]:
        """Installing, upgrading or uninstalling plugins: writes allowed while plugins are missing
        (``kehu db upgrade`` skips an installed plugin that is not available, on purpose)."""
        depth = getattr(self._local, "maintenance", 0)
        self._local.maintenance = depth + 1
        try:
            yield
        finally:
            self._local.maintenance = depth

    def missing_plugins(self, conn: Connection | None = None) -> list[str]:
        """Installed plugins that are not loaded here (left out by ``KEHU_PLUGINS``, not
        pip-installed, or broken), except those allowed to be missing: their hooks do not run.

        Reads the installed plugins on ``conn`` when they are not cached yet."""
        if "*" in self.allow_missing:
            return []
        if self._installed is not None:
            installed = self._installed
        elif conn is not None:
            installed = self._read_installed(conn)
        else:
            installed = self.installed()
        loaded = self.plugins.loaded  # a plugin whose dependency is missing still runs its hooks
        return sorted(n for n in installed if n not in loaded and n not in self.allow_missing)

    def refuse_missing_plugins(self, missing: list[str]) -> NoReturn:
        """Raise the :class:`PluginError` that refuses a write while ``missing`` are not loaded."""
        names = ", ".join(missing)
        allowed = allow_list()
        left_out = allowed is not None and not any(n in allowed for n in missing)
        why = (
            _("{variable} leaves them out").format(variable=ENV_ALLOW)
            if left_out
            else _("see `kehu plugins list`")
        )
        raise PluginError(
            _(
                "plugin(s) {names} are installed in this database but not loaded here ({why}); "
                "writing customers or interactions without them would skip their hooks. "
                "Load them, or write anyway with `kehu --without-plugin {first} ...` "
                "({variable}={missing}) and catch up afterwards ({catch_up})"
            ).format(
                names=names,
                why=why,
                first=missing[0],
                variable=ENV_ALLOW_MISSING,
                missing=",".join(missing),
                catch_up=_("; ").join(catch_up(n) for n in missing),
            )
        )

    # -- engine events: what was written, and who may commit ---------------------------------
    def _before_execute(
        self, conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        head = statement[:4000]
        match = _WRITE.match(head)
        if match is None:
            if _DDL.match(head):
                conn.info[_WROTE] = True
            return
        table = match.group(1).lower()
        if table not in self._tables():
            return  # a temporary table of a run, not the database's data
        conn.info[_WROTE] = True
        if table in GUARDED_TABLES and not getattr(self._local, "maintenance", 0):
            missing = self.missing_plugins(conn)
            if missing:
                self.refuse_missing_plugins(missing)

    def _tables(self) -> frozenset[str]:
        """The names of the tables of the core and of every loaded plugin (cached)."""
        tables = self._table_names
        if tables is None:
            names = {t.name for s in self.schemas() for t in s.metadata.tables.values()}
            tables = self._table_names = frozenset({*names, *GUARDED_TABLES, "alembic_version"})
        return tables

    @staticmethod
    def _clear_wrote(conn: Connection) -> None:
        conn.info.pop(_WROTE, None)

    @staticmethod
    def _check_commit(conn: Connection) -> None:
        if conn.info.get(_IN_HOOK):
            raise _TransactionTouched("commit")

    @contextmanager
    def _hook_running(self, session: Session | None) -> Iterator[None]:
        """While a hook runs, ``session.commit()`` and ``session.rollback()`` raise, and so does
        a commit of the session's connection by any other way: the command's transaction is
        not the hook's to end (a savepoint of its own, ``session.begin_nested()``, is)."""
        if not isinstance(session, Session) or session.info.get(_IN_HOOK):
            yield  # no session, or a hook called from a hook: guarded already
            return
        conn = session.connection() if session.in_transaction() else None
        session.info[_IN_HOOK] = True
        session.commit = _refuse("commit")  # type: ignore[method-assign]
        session.rollback = _refuse("roll back")  # type: ignore[method-assign]
        if conn is not None:
            conn.info[_IN_HOOK] = True
        try:
            yield
        finally:
            del session.commit, session.rollback
            session.info.pop(_IN_HOOK, None)
            if conn is not None:
                conn.info.pop(_IN_HOOK, None)

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
                raise NotInstalled(
                    _("plugin {name!r} is not available: pip install kehu-{name}").format(name=name)
                )
            raise NotInstalled(
                _(
                    "plugin {name!r} is available but not installed in this database "
                    "({database}). Install it with: kehu plugins install {name}"
                ).format(name=name, database=kehu_db.describe(self.engine))
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

    def declared_text(self, plugin: str, text: str) -> str:
        """``text`` that ``plugin`` declared (a role's or a job's description, marked ``N_``)
        in the current language, from the catalog of the package that declared it: the core's
        for ``core``, else the plugin's; as written when no catalog has it."""
        if plugin in ("core", BUILTIN):
            return _(text)
        info = self.plugins.infos.get(plugin)
        module = info.module if info is not None else None
        name = getattr(module, "__name__", None) or type(module).__module__
        if module is None or not isinstance(name, str):
            return text
        try:
            return messages(name.partition(".")[0]).gettext(text)
        except (LookupError, ImportError, ValueError):  # a package without a locale folder
            return text

    def interaction_kind_vocabulary(self) -> Vocabulary:
        """:meth:`interaction_kinds` as a vocabulary: their labels and Chinese names are accepted
        on input (``拜访`` → ``visit``), and unknown kinds are refused listing them."""
        return vocab.interaction_kinds(self.interaction_kinds())

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
                with self._app._hook_running(kwargs.get("session")):
                    return caller(**kwargs)
            except _TransactionTouched as exc:
                message = (
                    _(
                        "plugin {plugin!r} tried to commit the command's transaction in hook {hook}; "
                        "nothing was saved. Hooks run inside the command's one transaction and must "
                        "not end it: report this to the plugin's author."
                    )
                    if exc.verb == "commit"
                    else _(
                        "plugin {plugin!r} tried to roll back the command's transaction in hook {hook}; "
                        "nothing was saved. Hooks run inside the command's one transaction and must "
                        "not end it: report this to the plugin's author."
                    )
                )
                raise PluginError(
                    message.format(plugin=self._app.culprit(exc, name), hook=name)
                ).with_traceback(sys.exc_info()[2]) from exc
            except KehuError:
                raise
            except Exception as exc:
                if database_trouble(exc):
                    raise  # the database's trouble (disk full, locked): not the plugin's fault
                raise HookError(self._app.culprit(exc, name), name, exc).with_traceback(
                    sys.exc_info()[2]
                ) from exc

        return call


def _refuse(verb: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise _TransactionTouched(verb)

    return refuse


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
