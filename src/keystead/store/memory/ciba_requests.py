"""``CibaRequestStore`` in memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from keystead.store.base import DuplicateError
from keystead.store.ciba_requests import APPROVED, DENIED, PENDING, CibaRequest
from keystead.store.memory.outbox import MemoryJobStore
from keystead.store.outbox import Job


class MemoryCibaRequestStore:
    def __init__(self, jobs: MemoryJobStore) -> None:
        self._requests: dict[str, CibaRequest] = {}
        self._by_request_id: dict[str, str] = {}
        self._jobs = jobs

    async def add(self, request: CibaRequest) -> None:
        if request.auth_req_id_hash in self._requests or request.request_id in self._by_request_id:
            raise DuplicateError("backchannel authentication request already exists")
        self._requests[request.auth_req_id_hash] = request
        self._by_request_id[request.request_id] = request.auth_req_id_hash

    async def get(self, auth_req_id_hash: str) -> CibaRequest | None:
        return self._requests.get(auth_req_id_hash)

    async def get_by_request_id(self, request_id: str) -> CibaRequest | None:
        key = self._by_request_id.get(request_id)
        return None if key is None else self._requests.get(key)

    async def pending_for(self, sub: str, now: int) -> list[CibaRequest]:
        found = [
            r
            for r in self._requests.values()
            if r.sub == sub and r.status == PENDING and r.expires_at > now
        ]
        return sorted(found, key=lambda r: (r.created_at, r.request_id))

    async def poll(self, auth_req_id_hash: str, now: int) -> CibaRequest | None:
        request = self._requests.get(auth_req_id_hash)
        if request is not None:
            self._requests[auth_req_id_hash] = dataclasses.replace(request, last_polled_at=now)
        return request

    async def slow_down(self, auth_req_id_hash: str, interval: int) -> None:
        request = self._requests.get(auth_req_id_hash)
        if request is not None:
            self._requests[auth_req_id_hash] = dataclasses.replace(request, interval=interval)

    def _decide(
        self, request_id: str, sub: str, now: int, jobs: Sequence[Job], **changes: object
    ) -> bool:
        key = self._by_request_id.get(request_id)
        request = None if key is None else self._requests.get(key)
        if request is None or request.sub != sub:
            return False
        if request.status != PENDING or request.expires_at <= now:
            return False
        replaced = dataclasses.replace(request, decided_at=now, **changes)  # type: ignore[arg-type]
        self._requests[request.auth_req_id_hash] = replaced
        for job in jobs:  # with the decision, as SQL's one transaction
            self._jobs.jobs[job.job_id] = job
        return True

    async def approve(
        self,
        request_id: str,
        sub: str,
        now: int,
        *,
        sid: str | None,
        auth_time: int | None,
        acr: str | None,
        amr: tuple[str, ...],
        jobs: Sequence[Job] = (),
    ) -> bool:
        return self._decide(
            request_id,
            sub,
            now,
            jobs,
            status=APPROVED,
            sid=sid,
            auth_time=auth_time,
            acr=acr,
            amr=tuple(amr),
        )

    async def deny(self, request_id: str, sub: str, now: int, jobs: Sequence[Job] = ()) -> bool:
        return self._decide(request_id, sub, now, jobs, status=DENIED)

    async def consume(self, auth_req_id_hash: str, now: int) -> bool:
        request = self._requests.get(auth_req_id_hash)
        if (
            request is None
            or request.status != APPROVED
            or request.consumed_at is not None
            or request.expires_at <= now
        ):
            return False
        self._requests[auth_req_id_hash] = dataclasses.replace(request, consumed_at=now)
        return True

    async def purge(self, before: int) -> int:
        doomed = [r for r in self._requests.values() if r.expires_at < before]
        for request in doomed:
            del self._requests[request.auth_req_id_hash]
            del self._by_request_id[request.request_id]
        return len(doomed)
