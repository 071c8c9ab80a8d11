"""web/wire.py: uvicorn's protocol with one write per response — driven with a recording
transport, as uvicorn's own protocol tests do. (Every e2e test that starts ``keystead serve``
runs over it too.)"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from keystead.web.wire import FLUSH_AT, JoinedWritesProtocol

pytestmark = pytest.mark.anyio

GET = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.events: list[str] = []

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 5000)}.get(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))
        self.events.append("write")

    def close(self) -> None:
        self.closed = True
        self.events.append("close")

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def serve(
    app: Any, request: bytes = GET, transport: RecordingTransport | None = None
) -> RecordingTransport:
    config = Config(app=app, http=JoinedWritesProtocol, lifespan="off", log_config=None)
    config.load()
    protocol = JoinedWritesProtocol(
        config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop()
    )
    transport = transport or RecordingTransport()
    protocol.connection_made(transport)
    protocol.data_received(request)
    for _ in range(20):  # the ASGI task, then the loop turns after it
        await asyncio.sleep(0)
    protocol.connection_lost(None)
    return transport


def plain(body: bytes, *, close: bool = False) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-length", str(len(body)).encode())]
        if close:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


async def test_head_and_body_leave_in_one_write() -> None:
    transport = await serve(plain(b'{"ok":true}'))
    assert len(transport.writes) == 1
    response = transport.writes[0]
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    assert response.endswith(b'\r\n\r\n{"ok":true}')


async def test_keep_alive_requests_each_get_one_write() -> None:
    transport = await serve(plain(b"x"), GET + GET)  # pipelined
    assert len(transport.writes) == 2
    assert all(w.endswith(b"\r\n\r\nx") for w in transport.writes)


async def test_a_closing_response_is_written_before_the_close() -> None:
    transport = await serve(plain(b"bye", close=True))
    assert transport.events[:2] == ["write", "close"]
    assert transport.writes[0].endswith(b"\r\n\r\nbye")


async def test_a_streamed_body_goes_out_on_the_next_loop_turn() -> None:
    transport = RecordingTransport()
    seen: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})  # chunked
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        seen.append(len(transport.writes))
        await asyncio.sleep(0)  # the flush the first write scheduled runs
        seen.append(len(transport.writes))
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    await serve(app, transport=transport)
    assert seen == [0, 1]  # held for one loop turn, then out before the response ended
    joined = b"".join(transport.writes)
    assert b"transfer-encoding: chunked" in joined and joined.endswith(b"0\r\n\r\n")


async def test_a_large_body_is_written_without_waiting() -> None:
    transport = RecordingTransport()
    seen: list[int] = []
    big = b"a" * FLUSH_AT

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": big, "more_body": True})
        seen.append(len(transport.writes))  # no loop turn yet: the size made it go
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    await serve(app, transport=transport)
    assert seen == [1]
