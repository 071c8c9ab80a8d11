"""``CibaRequestStore`` on SQL: each decision (approve, deny, consume) is one conditional
UPDATE, so it succeeds for one caller only, even across processes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from keystead.store.ciba_requests import APPROVED, DENIED, PENDING, CibaRequest
from keystead.store.outbox import Job
from keystead.store.sql.concern import Concern, integrity_error
from keystead.store.sql.convert import from_mapping, to_values
from keystead.store.sql.models_more import CibaRequestRow
from keystead.store.sql.tables import JOBS

CIBA_REQUESTS = cast(Table, CibaRequestRow.__table__)
_ROW = CibaRequestRow


class SqlCibaRequestStore(Concern):
    async def add(self, request: CibaRequest) -> None:
        await self._add(CIBA_REQUESTS, request, "backchannel authentication request")

    async def get(self, auth_req_id_hash: str) -> CibaRequest | None:
        query = select(CIBA_REQUESTS).where(_ROW.auth_req_id_hash == auth_req_id_hash)
        return await self._first(query, CibaRequest)

    async def get_by_request_id(self, request_id: str) -> CibaRequest | None:
        query = select(CIBA_REQUESTS).where(_ROW.request_id == request_id)
        return await self._first(query, CibaRequest)

    async def pending_for(self, sub: str, now: int) -> list[CibaRequest]:
        query = (
            select(CIBA_REQUESTS)
            .where(_ROW.sub == sub, _ROW.status == PENDING, _ROW.expires_at > now)
            .order_by(_ROW.created_at, _ROW.request_id)
        )
        return await self._all(query, CibaRequest)

    async def poll(self, auth_req_id_hash: str, now: int) -> CibaRequest | None:
        read = select(CIBA_REQUESTS).where(_ROW.auth_req_id_hash == auth_req_id_hash)
        mark = (
            update(_ROW).where(_ROW.auth_req_id_hash == auth_req_id_hash).values(last_polled_at=now)
        )

        def work(connection: Connection) -> CibaRequest | None:
            row = connection.execute(read).mappings().first()
            if row is None:
                return None
            connection.execute(mark)
            return from_mapping(row, CibaRequest)

        return await self._db.run(work)

    async def slow_down(self, auth_req_id_hash: str, interval: int) -> None:
        query = (
            update(_ROW).where(_ROW.auth_req_id_hash == auth_req_id_hash).values(interval=interval)
        )
        await self._rowcount(query)

    async def _decide(
        self, request_id: str, sub: str, now: int, values: dict[str, Any], jobs: Sequence[Job]
    ) -> bool:
        query = (
            update(_ROW)
            .where(
                _ROW.request_id == request_id,
                _ROW.sub == sub,
                _ROW.status == PENDING,
                _ROW.expires_at > now,
            )
            .values(decided_at=now, **values)
        )

        def work(connection: Connection) -> bool:
            if connection.execute(query).rowcount != 1:
                return False
            for job in jobs:  # the ping, in the same transaction as the decision
                connection.execute(insert(JOBS), to_values(job))
            return True

        try:
            return await self._db.run(work)
        except IntegrityError as exc:
            raise integrity_error(exc, "job") from exc

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
        values = {
            "status": APPROVED,
            "sid": sid,
            "auth_time": auth_time,
            "acr": acr,
            "amr": list(amr),
        }
        return await self._decide(request_id, sub, now, values, jobs)

    async def deny(self, request_id: str, sub: str, now: int, jobs: Sequence[Job] = ()) -> bool:
        return await self._decide(request_id, sub, now, {"status": DENIED}, jobs)

    async def consume(self, auth_req_id_hash: str, now: int) -> bool:
        # CIBA §10.1 / RFC 6749 §4.1.2: single use, one conditional UPDATE.
        query = (
            update(_ROW)
            .where(
                _ROW.auth_req_id_hash == auth_req_id_hash,
                _ROW.status == APPROVED,
                _ROW.consumed_at.is_(None),
                _ROW.expires_at > now,
            )
            .values(consumed_at=now)
        )
        return bool(await self._rowcount(query))

    async def purge(self, before: int) -> int:
        return await self._purge(CIBA_REQUESTS, _ROW.expires_at < before)
