"""A raw ASGI caller for the fuzz: the bytes of the request exactly as drawn (non-UTF-8
queries and headers, bodies in chunks), and the answer exactly as sent (every body message,
so a cut response shows)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message


@dataclass(frozen=True)
class Raw:
    method: str
    path: str
    query: bytes = b""
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes = b""
    chunk: int = 65536  # the body arrives in pieces of this size
    client: tuple[str, int] = ("198.51.100.9", 50000)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


async def call(app: ASGIApp, raw: Raw) -> Answer:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": raw.method,
        "scheme": "http",
        "path": raw.path,
        "raw_path": raw.path.encode("utf-8", "surrogateescape"),
        "root_path": "",
        "query_string": raw.query,
        "headers": [(b"host", b"127.0.0.1:8000"), *raw.headers],
        "client": raw.client,
        "server": ("127.0.0.1", 8000),
    }
    pieces = [raw.body[i : i + raw.chunk] for i in range(0, len(raw.body), raw.chunk)] or [b""]
    done = asyncio.Event()
    start: dict[str, Any] = {}
    body: list[bytes] = []
    complete = False

    async def receive() -> Message:
        if pieces:
            piece = pieces.pop(0)
            return {"type": "http.request", "body": piece, "more_body": bool(pieces)}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal complete
        if message["type"] == "http.response.start":
            assert not start, "two response starts"
            start.update(message)
        elif message["type"] == "http.response.body":
            assert start and not complete, "a body message out of order"
            body.append(message.get("body", b""))
            if not message.get("more_body", False):
                complete = True
                done.set()

    await asyncio.wait_for(app(scope, receive, send), timeout=30)
    assert start, "no response started"
    assert complete, "the response was cut: its last body message never came"
    return Answer(start["status"], list(start.get("headers", [])), b"".join(body))
