"""One write per response: uvicorn's httptools protocol, with the response head and body
handed to the socket together.

uvicorn writes a response's status line and headers when the app sends
``http.response.start`` and the body when it sends ``http.response.body``: two
``transport.write`` calls, and as the transport writes at once when its buffer is empty, two
``send`` system calls and two TCP segments per response. Here the protocol's transport is
wrapped so that writes made while a response is being produced are joined and written once,
when the response completes (``on_response_complete``), at the latest on the event loop's
next turn (a streamed response, a ``100 Continue``), or as soon as they pass ``FLUSH_AT``
bytes (a large body: flow control still sees the data). What it saves is measured in
docs/performance.md.

Everything else — parsing, keep-alive, pipelining, flow control, timeouts — is uvicorn's own;
``keystead serve`` selects this class with uvicorn's ``http`` option.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

FLUSH_AT = 64 * 1024  # buffered bytes written at once (a large or streamed body)


class _Joined:
    """A transport whose writes are joined until ``flush``; the rest is the real one."""

    __slots__ = ("_transport", "_loop", "_chunks", "_size")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._chunks: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> None:
        if not self._chunks:  # nothing waits for the response's end forever
            self._loop.call_soon(self.flush)
        self._chunks.append(data)
        self._size += len(data)
        if self._size >= FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        if not self._chunks:
            return
        data = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        self._chunks.clear()
        self._size = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()  # what was written goes out before the FIN
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # is_closing, pause_reading, get_extra_info ...
        return getattr(self._transport, name)


class JoinedWritesProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` writing each response with one ``transport.write``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # flow control keeps the real transport
        self.transport = _Joined(transport, self.loop)  # type: ignore[assignment]

    def on_response_complete(self) -> None:
        self.transport.flush()  # type: ignore[attr-defined]
        super().on_response_complete()
