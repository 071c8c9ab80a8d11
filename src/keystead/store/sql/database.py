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
- PostgreSQL (``AsyncDatabase``): asyncpg through SQLAlchemy's async engine; the same function
  runs inside ``AsyncConnection.run_sync`` (SQLAlchemy's greenlet bridge), so transactions of
  several requests proceed concurrently on the pool.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import StaticPool
from sqlalchemy.util import greenlet_spawn

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
# PostgreSQL: pool connections the hot statements lease and keep (of the pool's 5 + 10
# overflow). Measured under wrk -c16: with 4, a third of the hot statements found none free
# and checked one out and back (introspection 360 µs CPU/op in the server, 175 with 16).
HOT_CONNECTIONS = 8


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


class AsyncDatabase:
    """An ``AsyncEngine`` (asyncpg). Round trips are what this path costs (docs/performance.md,
    "Round trips"), and on a token operation each one also cost more CPU in SQLAlchemy's
    execution layer and its greenlet hops than in the driver:

    - The hot statements (``first``, ``rowcount``: ``Prepared``, compiled once for asyncpg)
      run on the asyncpg connection itself: one round trip, in autocommit. The connections
      come from SQLAlchemy's pool: up to ``HOT_CONNECTIONS`` are leased and kept between hot
      statements (a checkout and its return cost two greenlet hops and the pool's reset).
      Where a hot operation needs several statements in one transaction (a refresh token's
      rotation and its successor), the store makes them one statement (data-modifying
      CTEs: pg_statements.py).
    - Everything else runs as ``work(connection)`` through ``AsyncConnection.run_sync`` (the
      greenlet bridge): a transaction is BEGIN, its statements and COMMIT; ``read`` and
      ``statement`` run their one statement in autocommit.

    Connections are not pinged when taken from the pool (a ping was three round trips:
    BEGIN, ``;`` and ROLLBACK): one whose socket the server closed (a restart, a terminated
    backend) is known closed locally and replaced at checkout (``engine._discard_closed``);
    a read that still meets a dead connection is run again once on a fresh one. A write is
    never sent twice.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        import asyncpg  # here: SQLite deployments (and the CLI on them) never load it

        self._driver = asyncpg
        self.engine = engine
        self.dialect_name = engine.dialect.name
        self._dialect = engine.dialect
        self._pool = engine.sync_engine.pool
        self._idle: list[Any] = []  # leased pool connections kept between hot statements
        self._leased = 0
        self._waiters: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._closing = False
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def run(self, work: Work[T], *, long: bool = False) -> T:
        async with self.engine.begin() as connection:
            return await connection.run_sync(work)

    async def statement(self, work: Work[T]) -> T:
        async with self._autocommit.connect() as connection:
            return await connection.run_sync(work)

    async def read(self, work: Work[T]) -> T:
        try:
            return await self.statement(work)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            return await self.statement(work)  # a read is safe to run again

    def _plan(self, prepared: Prepared, params: Mapping[str, Any]) -> Any:
        plan = prepared.plan(self._dialect, params)
        if plan is None:
            raise ValueError("this statement needs SQLAlchemy's execution context")
        return plan

    async def _raw(self, plan: Any, params: Mapping[str, Any], fetch: bool, retry: bool) -> Any:
        """One statement on a pooled asyncpg connection: its first row (``fetch``) or its
        status ("UPDATE 1"). Driver errors become SQLAlchemy's (``IntegrityError`` ...); a
        read (``retry``) that lost its connection runs once more on another."""
        for again in (retry, False):
            try:
                return await self._once(plan.sql, plan.args(params), fetch)
            except _LostConnection as lost:
                if not again:
                    error = lost.error
                    raise DBAPIError(plan.sql, None, error, hide_parameters=True) from error
        raise AssertionError("unreachable")

    async def _connection(self) -> Any:
        """A pooled connection for one hot statement. Hot statements lease up to
        ``HOT_CONNECTIONS`` connections from the pool and keep them between statements (no
        checkout, no return, no greenlet hop per statement); when every lease is busy, a
        statement waits for one to come back instead of checking out yet another."""
        while True:
            while self._idle:
                fairy = self._idle.pop()
                if not fairy.dbapi_connection.driver_connection.is_closed():
                    return fairy
                await self._drop(fairy)  # the server closed it while it was kept
            if self._leased < HOT_CONNECTIONS:
                self._leased += 1
                try:  # the checkout (and a new connection's set-up) may await: in a greenlet
                    return await greenlet_spawn(self._pool.connect)
                except BaseException:
                    self._leased -= 1
                    raise
            waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                fairy = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                    await self._release(waiter.result(), True)  # handed over, not taken
                raise
            if fairy is not None:  # handed over by a release; None: a lease came free
                return fairy

    async def _release(self, fairy: Any, usable: bool) -> None:
        if not usable or self._closing:
            await self._drop(fairy, usable)
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(fairy)
                return
        self._idle.append(fairy)

    async def _drop(self, fairy: Any, usable: bool = False) -> None:
        """End a lease: a broken connection is invalidated, a good one goes back to the
        pool (on close); a waiting statement may lease anew."""
        self._leased -= 1
        await greenlet_spawn(fairy.close if usable else fairy.invalidate)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _once(self, sql: str, args: list[Any], fetch: bool) -> Any:
        fairy = await self._connection()
        usable = False  # a connection is kept or returned only after a clean answer
        try:
            raw = fairy.dbapi_connection.driver_connection
            answer = await (raw.fetchrow(sql, *args) if fetch else raw.execute(sql, *args))
            usable = True
            return answer
        except self._driver.PostgresError as exc:
            if _lost(exc) or raw.is_closed():
                raise _LostConnection(exc) from exc
            usable = True  # a statement's error (a taken key): the connection is fine
            raise _sqlalchemy_error(sql, exc) from exc
        except (self._driver.InterfaceError, OSError) as exc:  # the connection went away
            raise _LostConnection(exc) from exc
        finally:  # also on cancellation: a connection mid-statement is never reused
            await self._release(fairy, usable)

    async def first(
        self, prepared: Prepared, params: Mapping[str, Any], *, write: bool = False
    ) -> Sequence[Any] | None:
        plan = self._plan(prepared, params)
        raw = await self._raw(plan, params, fetch=True, retry=not write)
        return None if raw is None else plan.row(raw)

    async def rowcount(self, prepared: Prepared, params: Mapping[str, Any]) -> int:
        status = await self._raw(self._plan(prepared, params), params, fetch=False, retry=False)
        return int(status.rsplit(" ", 1)[-1])  # "INSERT 0 1", "UPDATE 1", "DELETE 0"

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        self._closing = True
        while self._idle:
            await self._drop(self._idle.pop(), usable=True)
        await self.engine.dispose()


class _LostConnection(Exception):
    """The connection broke (closed, the server shut it down) before an answer came."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _lost(exc: Exception) -> bool:
    """SQLSTATE class 08 (connection exception) or 57P (the server shutting down)."""
    state = str(getattr(exc, "sqlstate", ""))
    return state.startswith(("08", "57P"))


def _sqlalchemy_error(sql: str, exc: Exception) -> DBAPIError:
    """The SQLAlchemy exception ``execute`` would have raised (the store maps IntegrityError:
    a taken key, a missing parent row), parameters hidden."""
    if str(getattr(exc, "sqlstate", "")).startswith("23"):  # class 23: integrity violation
        return IntegrityError(sql, None, exc, hide_parameters=True)
    return DBAPIError(sql, None, exc, hide_parameters=True)
