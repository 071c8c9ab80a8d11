"""Engine creation: database URLs, SQLite connection pragmas, and ``open_store``."""

from __future__ import annotations

import pathlib
import time
from typing import Any
from urllib.parse import unquote

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from keystead.store.sql.database import SqliteDatabase
from keystead.store.sql.postgres import AsyncDatabase
from keystead.store.sql.store import SqlStore

SQLITE_BUSY_TIMEOUT_MS = 5000


def default_sqlite_url(data_dir: pathlib.Path) -> str:
    """The database URL used when none is configured: ``<data_dir>/keystead.db``."""
    return f"sqlite+aiosqlite:///{(data_dir.resolve() / 'keystead.db').as_posix()}"


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def sqlite_file(url: URL) -> pathlib.Path | None:
    """The database file of a SQLite URL; None for an in-memory database (``:memory:``, or a
    ``file:`` URI naming ``:memory:`` or ``mode=memory``). A ``file:`` URI naming a file
    (``sqlite:///file:/var/lib/keystead/ks.db?uri=true``) is that file (SQLite's URI
    filenames: the path after ``file:``, without ``//authority``, percent-decoded)."""
    database = url.database
    if not database or database == ":memory:":
        return None
    if not database.startswith("file:"):
        return pathlib.Path(database)
    path = database[len("file:") :].partition("?")[0]
    if path.startswith("//"):  # file://host/path: only an empty host or localhost
        path = "/" + path[2:].partition("/")[2]
    query_mode = url.query.get("mode")
    if not path or path == ":memory:" or query_mode == "memory" or "mode=memory" in database:
        return None
    return pathlib.Path(unquote(path))


WAL_SIZE_LIMIT = 64 * 1024 * 1024


def _switch_to_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode = WAL``, retried while the file is locked: on a new file, two
    processes that both read the header and then both ask to convert it would deadlock, so
    SQLite answers "database is locked" at once instead of calling the busy handler (its
    documented deadlock rule). The statement's locks are released by then; a retry succeeds."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause = 0.002
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except Exception as error:  # the driver's OperationalError, adapted by SQLAlchemy
            if "locked" not in str(error) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)  # connection set-up only: once per process, on contention
        pause = min(pause * 2, 0.1)


def _set_sqlite_pragmas(dbapi_connection: Any, _connection_record: Any) -> None:
    # busy_timeout first, so that switching to WAL waits for a concurrent opener.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _switch_to_wal(cursor)
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


def _discard_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection whose socket the server closed (a restart, a failover, a
    terminated backend: asyncpg saw the close while it sat in the pool) is replaced before
    use, with no round trip; ``pool_pre_ping`` cost three (BEGIN, ``;``, ROLLBACK) per
    checkout (docs/deployment.md)."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


async def open_store(database_url: str) -> SqlStore:
    """Open the SQL store. The schema must already exist: call ``migrate()`` first.

    SQLite runs on the synchronous driver (inline, or on a thread when busy), PostgreSQL on the
    async engine (database.py says why).
    """
    url = make_url(database_url)
    if not is_sqlite(url):
        engine = make_engine(database_url)
        event.listen(engine.sync_engine, "checkout", _discard_closed)
        return SqlStore(AsyncDatabase(engine))
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    return SqlStore(SqliteDatabase(url, _set_sqlite_pragmas, in_memory=path is None))
