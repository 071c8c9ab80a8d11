"""Engine creation: database URLs, SQLite connection pragmas, and ``open_store``."""

from __future__ import annotations

import pathlib
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from keystead.store.sql.database import AsyncDatabase, SqliteDatabase
from keystead.store.sql.store import SqlStore

SQLITE_BUSY_TIMEOUT_MS = 5000


def default_sqlite_url(data_dir: pathlib.Path) -> str:
    """The database URL used when none is configured: ``<data_dir>/keystead.db``."""
    return f"sqlite+aiosqlite:///{(data_dir.resolve() / 'keystead.db').as_posix()}"


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def sqlite_file(url: URL) -> pathlib.Path | None:
    """The database file of a SQLite URL; None for in-memory and ``file:`` URI databases."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return pathlib.Path(database)


WAL_SIZE_LIMIT = 64 * 1024 * 1024


def _set_sqlite_pragmas(dbapi_connection: Any, _connection_record: Any) -> None:
    # busy_timeout first, so that switching to WAL waits for a concurrent opener.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # With WAL, NORMAL is durable against a process crash (SIGKILL: tested) and saves two
        # fsyncs per commit; only an OS crash or power loss can lose the newest commits.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # A rewound WAL file is cut back to this size (otherwise it keeps its largest size).
        cursor.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
    finally:
        cursor.close()


def make_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """An ``AsyncEngine`` for ``database_url``; SQLite gets WAL, busy_timeout and foreign keys.

    SQL errors never show their parameters (in logs too): they hold hashes and encrypted keys.
    """
    kwargs.setdefault("hide_parameters", True)
    url = make_url(database_url)
    if is_sqlite(url):
        path = sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
    if is_sqlite(url):
        # One connection per process: SQLite has one writer at a time, and several pooled
        # connections of one process only collide in busy-handler sleeps (long p99 tails).
        # Store methods never nest transactions, so requests simply queue for it.
        if "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
    return engine


async def open_store(database_url: str) -> SqlStore:
    """Open the SQL store. The schema must already exist: call ``migrate()`` first.

    SQLite runs on the synchronous driver (inline, or on a thread when busy), PostgreSQL on the
    async engine (database.py says why).
    """
    url = make_url(database_url)
    if not is_sqlite(url):
        return SqlStore(AsyncDatabase(make_engine(database_url)))
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    return SqlStore(SqliteDatabase(url, _set_sqlite_pragmas, in_memory=path is None))
