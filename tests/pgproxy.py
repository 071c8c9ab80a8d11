"""A TCP proxy in front of PostgreSQL that counts round trips, for tests of the store's
PostgreSQL path: a later change that adds a round trip to a hot operation fails a test.

A round trip is counted each time the client starts sending after the server has answered
(or at the start): the driver's messages for one request (asyncpg sends Bind/Execute/Sync of
a prepared statement together) are one turn, however TCP splits them. It runs on the event
loop of the code under test, so nothing here needs a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.engine import make_url


class RoundTrips:
    """Counts client→server turns over every connection made through the proxy."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.count = 0
        self.log: list[bytes] | None = None  # the first bytes of each turn, when a list
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        turn = {"client": False}  # whose data went through last: the client's?

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, client: bool) -> None:
            try:
                while data := await src.read(65536):
                    if client and not turn["client"]:
                        self.count += 1
                        if self.log is not None:
                            self.log.append(data[:120])
                    turn["client"] = client
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        for coro in (pipe(reader, up_writer, True), pipe(up_reader, writer, False)):
            task = asyncio.ensure_future(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


@contextlib.asynccontextmanager
async def counting(url: str) -> AsyncIterator[tuple[str, RoundTrips]]:
    """``(url through the proxy, counter)`` for a PostgreSQL SQLAlchemy URL."""
    parsed = make_url(url)
    proxy = RoundTrips(parsed.host or "127.0.0.1", parsed.port or 5432)
    await proxy.start()
    try:
        yield parsed.set(port=proxy.port).render_as_string(hide_password=False), proxy
    finally:
        await proxy.close()
