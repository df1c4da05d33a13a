"""Engines and sessions: SQLite by default, any SQLAlchemy URL, PostgreSQL through psycopg 3."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ColumnElement

from kehu_core import calendar
from kehu_core import text as kehu_text

DEFAULT_DATABASE = "kehu.db"
ENV_DATABASE_URL = "KEHU_DATABASE_URL"
#: Milliseconds a SQLite writer waits for another's lock before giving up.
DEFAULT_BUSY_TIMEOUT_MS = 120_000


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


def _configure_sqlite(engine: Engine) -> None:
    busy = int(os.environ.get("KEHU_SQLITE_BUSY_TIMEOUT_MS", DEFAULT_BUSY_TIMEOUT_MS))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit transactions are wrong for us).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy}")
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


def create_db_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (resolved with :func:`resolve_url`), configured for kehu."""
    resolved = make_url(resolve_url(url))
    if resolved.get_backend_name() == "sqlite":
        engine = create_engine(resolved, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(resolved, pool_pre_ping=True, **kwargs)


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
    """The URL with any password hidden, for messages."""
    return engine.url.render_as_string(hide_password=True)
