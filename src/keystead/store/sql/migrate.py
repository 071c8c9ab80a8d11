"""Run the Alembic migrations programmatically, under a lock that serializes migrating processes.

No ``alembic.ini`` is needed: the configuration is built here, and the open connection is
handed to ``alembic/env.py`` through ``Config.attributes``.

``startup_lock`` is the wider lock around all start-up work (migrations and first signing
keys), so that ``keystead serve --workers N`` and several instances starting at once on one
database never race each other.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from keystead.store.sql.engine import is_sqlite, make_engine, sqlite_file

if TYPE_CHECKING:
    from alembic.config import Config

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: SQLite start-up relies on BEGIN EXCLUSIVE
    fcntl = None  # type: ignore[assignment]

SCRIPT_LOCATION = pathlib.Path(__file__).resolve().parent / "alembic"
# Any constant 64-bit value works; it only has to be the same in every keystead process.
PG_ADVISORY_LOCK_KEY = 0x6B65797374656164  # b"keystead"
# The start-up lock is another key: it is held (on its own connection) while migrate() takes
# the migration lock, and both being one key would deadlock.
PG_STARTUP_LOCK_KEY = PG_ADVISORY_LOCK_KEY + 1


# The newest revision in alembic/versions (a test keeps the two equal). A database already
# there is left alone without importing Alembic: less memory in every serving process
# (docs/performance.md, RSS).
HEAD_REVISION = "0023_rar_details"


def alembic_config(database_url: str | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if database_url is not None:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def _upgrade(connection: Connection, config: Config) -> None:
    from alembic import command

    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _sqlite_no_driver_transactions(dbapi_connection: Any, _connection_record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 driver, emit BEGIN (see _sqlite_begin_exclusive).
    dbapi_connection.isolation_level = None


def _sqlite_begin_exclusive(connection: Connection) -> None:
    # The whole migration is one exclusive transaction: a second migrating process waits on
    # the lock (busy_timeout), then finds the schema at head and does nothing.
    connection.exec_driver_sql("BEGIN EXCLUSIVE")


async def migrate(database_url: str) -> None:
    """Bring the schema to the newest revision (Alembic ``upgrade head``); a no-op when current.

    Safe to call from several processes at once: SQLite migrates inside ``BEGIN EXCLUSIVE``,
    PostgreSQL under a transaction-scoped advisory lock.
    """
    url = make_url(database_url)
    if await _at_head(database_url):
        return
    engine = make_engine(database_url, poolclass=NullPool)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_no_driver_transactions)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_exclusive)
    config = alembic_config(database_url)
    try:
        async with engine.connect() as connection, connection.begin():
            if url.get_backend_name() == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_ADVISORY_LOCK_KEY}
                )
            await connection.run_sync(_upgrade, config)
    finally:
        await engine.dispose()


def _revision_is_head(connection: Connection) -> bool:
    if not inspect(connection).has_table("alembic_version"):
        return False
    versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
    return list(versions) == [HEAD_REVISION]


async def _at_head(database_url: str) -> bool:
    """Whether the schema is at ``HEAD_REVISION`` already (read without a lock: a schema at
    head stays there; anything else goes through the locked upgrade)."""
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_revision_is_head)
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def startup_lock(database_url: str) -> AsyncIterator[None]:
    """Hold an exclusive, cross-process lock for the body: start-up work runs once at a time.

    PostgreSQL: a session-level advisory lock on a connection of its own. SQLite: ``flock`` on
    ``<database>.lock`` next to the database file (a transaction cannot be held open here, as
    the body writes through other connections). In-memory SQLite needs no lock.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        engine = make_engine(database_url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                lock = {"key": PG_STARTUP_LOCK_KEY}
                await connection.execute(text("SELECT pg_advisory_lock(:key)"), lock)
                await connection.commit()  # the lock is the session's; do not idle in a tx
                try:
                    yield
                finally:
                    await connection.execute(text("SELECT pg_advisory_unlock(:key)"), lock)
                    await connection.commit()
        finally:
            await engine.dispose()
        return
    path = sqlite_file(url) if is_sqlite(url) else None
    if path is None or fcntl is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await anyio.to_thread.run_sync(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
