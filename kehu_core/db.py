"""Engines and sessions: SQLite by default, any SQLAlchemy URL, PostgreSQL through psycopg 3."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import ReleaseSavepointClause, RollbackToSavepointClause

from kehu_core import calendar
from kehu_core import text as kehu_text
from kehu_core.errors import KehuError, NotFound
from kehu_core.i18n import N_, messages

_ = messages("kehu_core").gettext

DEFAULT_DATABASE = "kehu.db"
ENV_DATABASE_URL = "KEHU_DATABASE_URL"
#: Milliseconds a SQLite writer waits for another's lock before giving up.
DEFAULT_BUSY_TIMEOUT_MS = 120_000
#: The databases kehu runs on, and the one driver of each (SQLAlchemy ``backend+driver``).
SUPPORTED_DRIVERS = {"sqlite": "pysqlite", "postgresql": "psycopg"}
SUPPORTED = N_("kehu runs on SQLite and PostgreSQL (a file path, or postgresql://user@host/db)")
#: Milliseconds a WAL checkpoint after an erasure waits for readers to finish.
CHECKPOINT_WAIT_MS = 5_000


def resolve_url(url: str | None = None) -> str:
    """The database URL to use: the argument, then ``KEHU_DATABASE_URL``, then ``./kehu.db``.

    A bare file path means a SQLite file; ``postgresql://`` means PostgreSQL via psycopg 3.
    """
    url = url or os.environ.get(ENV_DATABASE_URL) or DEFAULT_DATABASE
    if "://" not in url:
        return f"sqlite:///{Path(url)}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def busy_timeout_ms() -> int:
    """``KEHU_SQLITE_BUSY_TIMEOUT_MS``: how long SQLite waits for another writer, or a clear error."""
    raw = os.environ.get("KEHU_SQLITE_BUSY_TIMEOUT_MS", str(DEFAULT_BUSY_TIMEOUT_MS)).strip()
    if not raw.isdigit() or int(raw) > 3_600_000:
        raise KehuError(
            _(
                "KEHU_SQLITE_BUSY_TIMEOUT_MS must be a whole number of milliseconds up to 3600000 "
                "(got {value!r})"
            ).format(value=raw)
        )
    return int(raw)


def _configure_sqlite(engine: Engine) -> None:
    busy = busy_timeout_ms()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit transactions are wrong for us).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy}")
        # Erased personal data must not survive in freed pages or in the free space of a page:
        # SQLite's own default (and many builds') keeps deleted bytes until the page is reused.
        cursor.execute("PRAGMA secure_delete = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()
        dbapi_connection.create_collation(kehu_text.SQLITE_COLLATION, kehu_text.collate)
        dbapi_connection.create_function(
            calendar.SQLITE_LOCAL_TIME, 1, calendar.sqlite_local_time, deterministic=True
        )

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Every kehu transaction may write: taking the write lock up front means a
        # read-then-write never fails half-way with "database is locked" (SQLite's
        # deferred lock upgrade cannot wait on busy_timeout once a snapshot is held).
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def sqlite_file(url: str | URL | None = None) -> Path | None:
    """The file of a SQLite database URL, or ``None`` (another database, or in memory)."""
    resolved = make_url(resolve_url(url) if not isinstance(url, URL) else url)
    if resolved.get_backend_name() != "sqlite" or resolved.database in (None, "", ":memory:"):
        return None
    if resolved.database.startswith("file:"):  # already a URI: left as given
        return None
    return Path(resolved.database)


def database_exists(url: str | None = None) -> bool:
    """False only for a SQLite file that does not exist (other databases: assumed to exist)."""
    path = sqlite_file(url)
    return path is None or path.exists()


def create_db_engine(url: str | None = None, *, create: bool = True, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (resolved with :func:`resolve_url`), configured for kehu.

    ``create=False``: a SQLite file is opened read-write but never created (SQLite's URI
    ``mode=rw``), so a read command on a path with no database leaves no empty ``kehu.db``
    behind; connecting then fails with :class:`~kehu_core.errors.NotFound` naming the path.
    Only the commands that build a schema (``kehu init``, ``kehu db upgrade``) should create.
    """
    resolved = supported_url(resolve_url(url))
    if resolved.get_backend_name() == "sqlite":
        path = sqlite_file(resolved)
        if not create and path is not None:
            if not path.exists():
                raise NotFound(_("no database at {path}: run `kehu init` to create it").format(path=path))
            resolved = resolved.set(database="file:" + quote(str(path), safe="/")).update_query_dict(
                {"mode": "rw", "uri": "true"}
            )
        engine = create_engine(resolved, **kwargs)
        _configure_sqlite(engine)
    else:
        try:
            engine = create_engine(resolved, pool_pre_ping=True, **kwargs)
        except ImportError:
            raise KehuError(
                _(
                    "PostgreSQL needs the psycopg 3 driver, which is not installed: "
                    "pip install 'psycopg[binary]'"
                )
            ) from None
    _release_rolled_back_savepoints(engine)
    return engine


def _release_rolled_back_savepoints(engine: Engine) -> None:
    """End a savepoint when it is rolled back, as SQLAlchemy then takes it to be.

    ``ROLLBACK TO SAVEPOINT`` leaves the savepoint open on both databases. Left open until
    the transaction ends, SQLite journals every page the transaction changes afterwards (to
    be able to return to it), even in statements written to need no journal of their own (a
    tier run's writes to its history, after its rules' probe); PostgreSQL runs the rest in a
    subtransaction.
    """

    @event.listens_for(engine, "after_execute")
    def _release(connection: Any, statement: Any, *_args: Any) -> None:
        if isinstance(statement, RollbackToSavepointClause):
            connection.execute(ReleaseSavepointClause(statement.ident))


def supported_url(url: str) -> URL:
    """``url`` parsed, when it names SQLite or PostgreSQL through psycopg 3; otherwise a one-line
    :class:`~kehu_core.errors.KehuError` (``mysql://``, a driver kehu does not use, garbage)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        shown = re.sub(r":[^:@/]*@", ":***@", url)  # no password in a message
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise KehuError(
            _("unsupported database URL {url!r}: {supported}").format(url=shown, supported=_(SUPPORTED))
        ) from None
    backend, _plus, driver = parsed.drivername.partition("+")
    if backend not in SUPPORTED_DRIVERS or driver not in ("", SUPPORTED_DRIVERS[backend]):
        shown = parsed.render_as_string(hide_password=True)
        raise KehuError(
            _("unsupported database {url}: {supported}").format(url=shown, supported=_(SUPPORTED))
        )
    return parsed


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def sortable(column: ColumnElement[Any], dialect_name: str) -> ColumnElement[Any]:
    """``column`` with the collation that sorts Chinese by pinyin on this dialect."""
    if dialect_name == "sqlite":
        return column.collate(kehu_text.SQLITE_COLLATION)
    if dialect_name == "postgresql":
        return column.collate(kehu_text.POSTGRES_COLLATION)
    return column


def describe(engine: Engine) -> str:
    """The URL with any password hidden, for messages; a SQLite file as the user named it.

    :func:`create_db_engine` with ``create=False`` opens a file through SQLite's URI
    (``file:...?mode=rw&uri=true``); that form is kehu's, not the user's, so it is not shown.
    """
    url = engine.url
    database = url.database or ""
    if (
        url.get_backend_name() == "sqlite"
        and database.startswith("file:")
        and dict(url.query) == {"mode": "rw", "uri": "true"}
    ):
        url = url.set(database=unquote(database.removeprefix("file:")), query={})
    return url.render_as_string(hide_password=True)


def checkpoint(engine: Engine) -> bool:
    """SQLite: copy the write-ahead log into the file and truncate it to zero bytes.

    Erased values otherwise stay in ``-wal`` (their old page images) until SQLite reuses
    it, which it never does while another connection keeps the file open. Runs outside any
    transaction; waits at most a few seconds for readers. Returns False when a reader still
    holds an older snapshot, so the log could not be emptied (run ``kehu db vacuum`` later);
    True otherwise, and always on other databases.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return True
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        (waits,) = cursor.execute("PRAGMA busy_timeout").fetchone()
        cursor.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
        try:
            busy, _log, _done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {int(waits)}")
            cursor.close()
        return not busy
    finally:
        raw.close()


def vacuum(engine: Engine, tables: Sequence[str] = (), *, full: bool = False) -> None:
    """Rewrite storage so that deleted and overwritten values are gone from the database files.

    SQLite: ``VACUUM`` the whole file, then :func:`checkpoint`. PostgreSQL: ``VACUUM`` each of
    ``tables`` (``VACUUM FULL`` with ``full``: rewrites them, under an exclusive lock), which
    removes the old row versions that an UPDATE or DELETE leaves behind. VACUUM cannot run
    in a transaction block: it runs on its own autocommit connection.
    """
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("VACUUM")
            cursor.close()
        finally:
            raw.close()
        if not checkpoint(engine):
            raise KehuError(
                _(
                    "vacuumed, but another connection still reads an older snapshot, so the "
                    "write-ahead log (-wal) was not emptied: run `kehu db vacuum` again when it has finished"
                )
            )
        return
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        preparer = engine.dialect.identifier_preparer
        for name in tables:
            conn.exec_driver_sql(f"VACUUM {'FULL ' if full else ''}{preparer.quote(name)}")
