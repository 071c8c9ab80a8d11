"""How the SQL store runs a transaction: each store method is one plain (synchronous)
function of a SQLAlchemy Core ``Connection``, and a ``Database`` runs it as one transaction.

- SQLite (``SqliteDatabase``): the standard ``sqlite3`` driver, run **inline on the event
  loop**. A one-row read through SQLAlchemy Core costs less than handing it to a thread and
  back (plus waits for the GIL to change hands); through aiosqlite every cursor call
  (execute, fetch, commit) was such a hop, and the ORM cost several times the read itself
  (figures: docs/performance.md, "Figures behind the store's comments"). The inline
  connection never waits for a lock (``busy_timeout = 0``): when another process (a second
  worker, the CLI) holds SQLite's write lock, the transaction is rolled back and run again on
  a dedicated thread whose connection does wait, so the event loop never sleeps on a lock.
  Long operations (purges, listings) go to that thread directly. The WAL is checkpointed on
  that thread too, and the few frames written meanwhile inline right after a commit, so that
  the WAL is rewound (``_finish_checkpoint``).
- PostgreSQL (``AsyncDatabase``, postgres.py): asyncpg through SQLAlchemy's async engine; the
  same function runs inside ``AsyncConnection.run_sync`` (SQLAlchemy's greenlet bridge), so
  transactions of several requests proceed concurrently on the pool, and the hot statements
  run on the asyncpg connection itself.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from keystead.store.sql.prepared import Prepared

T = TypeVar("T")
Work = Callable[[Connection], T]

# Rows written inline (total_changes) between two WAL checkpoints (run on the database thread).
CHECKPOINT_EVERY = 1000
# A WAL this long (~48 MB) is rewound by the loop (``_finish_checkpoint``): that checkpoint's
# fsync holds the loop for milliseconds, more the larger the database (docs/performance.md),
# so not after every checkpoint.
FINISH_FRAMES = 12_000
# A WAL this long (~80 MB) gets a RESTART checkpoint: writers wait for it, and it is rewound.
# One process rewinds it itself past FINISH_FRAMES (_finish_checkpoint); two or more workers
# writing without pause may never leave the quiet moment that needs.
RESTART_FRAMES = 20_000


class Database(Protocol):
    dialect_name: str

    async def run(self, work: Work[T], *, long: bool = False) -> T:
        """Run ``work(connection)`` in one transaction: committed when it returns, rolled back
        when it raises (the exception propagates). ``long``: may touch many rows (a purge, a
        listing); never run where it would hold up other requests."""
        ...

    async def read(self, work: Work[T]) -> T:
        """Run ``work(connection)``, which only reads, with a single statement: the statement
        is its own snapshot, so it needs no transaction around it (SQLite)."""
        ...

    async def statement(self, work: Work[T]) -> T:
        """Run ``work(connection)``, which runs exactly one statement (a read, or one INSERT,
        UPDATE, DELETE or upsert: atomic on its own), committed when it returns. PostgreSQL
        runs it in autocommit: no BEGIN and COMMIT round trips."""
        ...

    async def first(
        self, prepared: Prepared, params: Mapping[str, Any], *, write: bool = False
    ) -> Sequence[Any] | None:
        """The first row of one hot statement (a SELECT, or with ``write`` an INSERT, UPDATE
        or upsert ... RETURNING, committed), or None."""
        ...

    async def rowcount(self, prepared: Prepared, params: Mapping[str, Any]) -> int:
        """Run one hot INSERT, UPDATE or DELETE, committed; the number of rows it touched."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


def _is_busy(exc: OperationalError) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (and their extended codes): another writer holds the lock."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc.orig)


class SqliteDatabase:
    """SQLite: inline on the event loop when the lock is free, else on one dedicated thread."""

    def __init__(
        self, url: URL, on_connect: Callable[[Any, Any], None], *, in_memory: bool
    ) -> None:
        kwargs: dict[str, Any] = {
            "hide_parameters": True,  # SQL errors never show their values: hashes, keys
            "connect_args": {"check_same_thread": False},
        }
        if in_memory:  # one private database: one connection, nobody else to wait for
            kwargs["poolclass"] = StaticPool
        else:  # two connections: the inline one and the thread's
            kwargs.update(pool_size=2, max_overflow=0)
        self.engine = create_engine(url.set(drivername="sqlite"), **kwargs)
        event.listen(self.engine, "connect", on_connect)
        self.dialect_name = self.engine.dialect.name
        self._in_memory = in_memory
        self._inline: Connection | None = None
        self._threaded: Connection | None = None
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="keystead-db")
        self._writes = 0
        self._copied = False  # the thread copied a long WAL: the loop finishes (see there)
        self._closed = False

    def _inline_connection(self) -> Connection:
        if self._inline is None:
            self._inline = self.engine.connect()
            if not self._in_memory:
                # Never sleep on the event loop: a busy database sends the work to the thread.
                self._inline.exec_driver_sql("PRAGMA busy_timeout = 0")
                self._inline.exec_driver_sql("PRAGMA wal_autocheckpoint = 0")
                self._inline.commit()
        return self._inline

    def _thread_connection(self) -> Connection:
        """The database thread's connection (it waits on locks: the default busy_timeout)."""
        if self._threaded is None:
            self._threaded = self.engine.connect()
        return self._threaded

    def _on_thread(self, work: Work[T]) -> T:
        return self._transaction(self._thread_connection(), work)

    @staticmethod
    def _transaction(connection: Connection, work: Work[T]) -> T:
        with connection.begin():
            return work(connection)

    @staticmethod
    def _statement(connection: Connection, work: Work[T]) -> T:
        """One read statement outside a transaction: in autocommit a SELECT reads one
        snapshot, and the BEGIN/COMMIT around it cost more than the read."""
        try:
            return work(connection)
        finally:
            if connection.in_transaction():  # it went through Core, which began one
                connection.rollback()

    async def _to_thread(self, work: Work[T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._on_thread, work)

    async def run(self, work: Work[T], *, long: bool = False) -> T:
        if self._closed:
            raise RuntimeError("the store is closed")
        connection = self._inline_connection()
        if self._in_memory:  # one connection, nobody else to wait for: always inline
            return self._transaction(connection, work)
        if long:
            return await self._to_thread(work)
        try:
            result = self._transaction(connection, work)
        except OperationalError as exc:
            if not _is_busy(exc):
                raise
            return await self._to_thread(work)  # another process is writing: wait there
        if connection.connection.dbapi_connection.total_changes != self._writes:  # type: ignore[union-attr]
            self._after_write(connection)
        return result

    async def read(self, work: Work[T]) -> T:
        if self._closed:
            raise RuntimeError("the store is closed")
        try:
            return self._statement(self._inline_connection(), work)
        except OperationalError as exc:
            if self._in_memory or not _is_busy(exc):
                raise
            return await self._to_thread(work)  # a lock (WAL recovery, not WAL mode): wait there

    async def statement(self, work: Work[T]) -> T:
        return await self.run(work)

    async def first(
        self, prepared: Prepared, params: Mapping[str, Any], *, write: bool = False
    ) -> Sequence[Any] | None:
        if write:
            return await self.run(lambda connection: prepared.first(connection, params))
        return await self.read(lambda connection: prepared.first(connection, params))

    async def rowcount(self, prepared: Prepared, params: Mapping[str, Any]) -> int:
        return await self.run(lambda connection: prepared.rowcount(connection, params))

    def _after_write(self, connection: Connection) -> None:
        changes: int = connection.connection.dbapi_connection.total_changes  # type: ignore[union-attr]
        if self._copied:  # the thread copied the bulk of a long WAL: finish it here
            self._copied = False
            self._finish_checkpoint(connection)
        if changes // CHECKPOINT_EVERY != self._writes // CHECKPOINT_EVERY:
            self._thread.submit(self._checkpoint)
        self._writes = changes

    def _checkpoint(self) -> None:
        """Copy the WAL into the database (on the thread), without blocking anyone."""
        connection = self._thread_connection()
        _, frames, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        restart = frames > RESTART_FRAMES  # several processes write, none found a quiet moment
        if restart:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(RESTART)").one()  # writes wait
        connection.commit()
        # After a RESTART every frame is copied already: nothing for the loop to finish.
        self._copied = frames >= FINISH_FRAMES and not restart

    @staticmethod
    def _finish_checkpoint(connection: Connection) -> None:
        """Copy the frames written since the thread's checkpoint began, inline, right after a
        commit: no transaction is open and nobody else writes, so this checkpoint completes,
        and the next write rewinds the WAL.

        The thread's checkpoint alone never completed under a steady stream of writes: the
        frames written while it ran were still to copy when the next write began, and SQLite
        rewinds the WAL only for a write that begins with every frame copied. The WAL grew
        by every write for the life of the process (and a read of a page outside it probes
        every one of its index segments). A RESTART checkpoint on the thread would rewind it
        too, but writes wait while it runs (the server idled part of a refresh run); here the
        loop copies a few hundred frames and nobody waits for a lock — but the checkpoint's
        fsync holds the loop too, longer the larger the database, so it runs only once the
        WAL passes ``FINISH_FRAMES`` (figures: docs/performance.md, "Figures behind the
        store's comments").
        A checkpoint that cannot complete (the thread is busy with a long operation, another
        process writes) is harmless: the next one tries again."""
        raw = connection.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    async def ping(self) -> None:
        await self.run(lambda connection: connection.execute(text("SELECT 1")))

    async def close(self) -> None:
        """Close both connections and end the thread; closing twice is harmless."""
        if self._closed:
            return
        self._closed = True

        def close_all() -> None:
            for connection in (self._inline, self._threaded):
                if connection is not None:
                    connection.close()
            self.engine.dispose()

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, close_all)
        self._thread.shutdown(wait=False)
