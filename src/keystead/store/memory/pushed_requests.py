"""``PushedRequestStore`` in memory."""

from __future__ import annotations

import dataclasses

from keystead.store.base import DuplicateError
from keystead.store.pushed_requests import PushedRequest


class MemoryPushedRequestStore:
    def __init__(self) -> None:
        self._requests: dict[str, PushedRequest] = {}

    async def add(self, pushed: PushedRequest) -> None:
        if pushed.request_uri_hash in self._requests:
            raise DuplicateError("pushed request already exists")
        self._requests[pushed.request_uri_hash] = pushed

    async def take(self, request_uri_hash: str, now: int) -> PushedRequest | None:
        pushed = self._requests.get(request_uri_hash)
        if pushed is None or pushed.used_at is not None or pushed.expires_at <= now:
            return None
        used = dataclasses.replace(pushed, used_at=now)
        self._requests[request_uri_hash] = used
        return used

    async def get(self, request_uri_hash: str) -> PushedRequest | None:
        return self._requests.get(request_uri_hash)

    async def purge(self, before: int) -> int:
        doomed = [k for k, p in self._requests.items() if p.expires_at < before]
        for key in doomed:
            del self._requests[key]
        return len(doomed)
