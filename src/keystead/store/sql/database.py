"""How the SQL store runs a transaction: each store method is one plain (synchronous)
function of a SQLAlchemy ``Session``, and a ``Database`` runs it as one transaction.

- SQLite (``ThreadDatabase``): the standard ``sqlite3`` driver on one dedicated thread. The
  whole transaction is one hop from the event loop to that thread and back. Through aiosqlite
  every cursor call (execute, fetch, commit) was a hop of its own, and a one-row read cost about
  a millisecond of CPU; here it costs a few dozen microseconds. SQLite has one writer at a time
  anyway, so one thread per process loses nothing, and ``sqlite3`` releases the GIL while the
  database works.
- PostgreSQL (``AsyncDatabase``): asyncpg through SQLAlchemy's async engine; the same function
  runs inside ``AsyncSession.run_sync`` (SQLAlchemy's greenlet bridge), so several requests'
  transactions proceed concurrently on the pool.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")
Work = Callable[[Session], T]


class Database(Protocol):
    dialect_name: str

    async def run(self, work: Work[T]) -> T:
        """Run ``work(session)`` in one transaction: committed when it returns, rolled back
        when it raises (the exception propagates)."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class ThreadDatabase:
    """A synchronous engine whose every transaction runs on one dedicated thread."""

    def __init__(self, url: URL, on_connect: Callable[[Any, Any], None], **kwargs: Any) -> None:
        self.engine = create_engine(url.set(drivername="sqlite"), **kwargs)
        event.listen(self.engine, "connect", on_connect)
        self.dialect_name = self.engine.dialect.name
        self._sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="keystead-db")
        self._closed = False

    def _transaction(self, work: Work[T]) -> T:
        with self._sessionmaker.begin() as session:
            return work(session)

    async def run(self, work: Work[T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._transaction, work)

    async def ping(self) -> None:
        await self.run(lambda session: session.execute(text("SELECT 1")))

    async def close(self) -> None:
        """Close the connection and end the thread; closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self.engine.dispose)
        self._thread.shutdown(wait=False)


class AsyncDatabase:
    """An ``AsyncEngine`` (asyncpg); the work runs through ``AsyncSession.run_sync``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect_name = engine.dialect.name
        self._sessionmaker = async_sessionmaker(engine, expire_on_commit=False)

    async def run(self, work: Work[T]) -> T:
        session: AsyncSession
        async with self._sessionmaker.begin() as session:
            return await session.run_sync(work)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
