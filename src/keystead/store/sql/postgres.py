"""PostgreSQL's ``Database`` (database.py says what a ``Database`` is): asyncpg through
SQLAlchemy's async engine, with the hot statements on the asyncpg connection itself."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from keystead.store.sql.database import Work
from keystead.store.sql.prepared import Prepared

T = TypeVar("T")

# PostgreSQL: pool connections the hot statements lease and keep (of the pool's 5 + 10
# overflow). Measured under wrk -c16: with 4, a third of the hot statements found none free
# and checked one out and back (introspection 360 µs CPU/op in the server, 175 with 16).
HOT_CONNECTIONS = 8


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
                await self._drop_idle()
                raise _LostConnection(exc) from exc
            usable = True  # a statement's error (a taken key): the connection is fine
            raise _sqlalchemy_error(sql, exc) from exc
        except (self._driver.InterfaceError, self._driver.InternalClientError, OSError) as exc:
            # The connection went away (closed; or the server's goodbye was read but not yet
            # the close: "another operation is in progress"). A restart or a failover ends
            # every connection at once: the kept ones are dropped too, not met one by one.
            await self._drop_idle()
            raise _LostConnection(exc) from exc
        finally:  # also on cancellation: a connection mid-statement is never reused
            await self._release(fairy, usable)

    async def _drop_idle(self) -> None:
        while self._idle:
            await self._drop(self._idle.pop())

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
