"""``PushedRequestStore`` on SQL: a take is one conditional UPDATE, so it succeeds for one
caller only, even across processes (RFC 9126 §2.2: one-time use)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.engine import Connection

from keystead.store.pushed_requests import PushedRequest
from keystead.store.sql.concern import Concern
from keystead.store.sql.convert import from_mapping
from keystead.store.sql.models_more import PushedRequestRow

PUSHED_REQUESTS = cast(Table, PushedRequestRow.__table__)


class SqlPushedRequestStore(Concern):
    async def add(self, pushed: PushedRequest) -> None:
        await self._add(PUSHED_REQUESTS, pushed, "pushed request")

    async def take(self, request_uri_hash: str, now: int) -> PushedRequest | None:
        mark = (
            update(PushedRequestRow)
            .where(
                PushedRequestRow.request_uri_hash == request_uri_hash,
                PushedRequestRow.used_at.is_(None),
                PushedRequestRow.expires_at > now,
            )
            .values(used_at=now)
        )
        read = select(PUSHED_REQUESTS).where(PushedRequestRow.request_uri_hash == request_uri_hash)

        def work(connection: Connection) -> PushedRequest | None:
            if connection.execute(mark).rowcount != 1:
                return None
            row = connection.execute(read).mappings().first()
            return None if row is None else from_mapping(row, PushedRequest)

        return await self._db.run(work)

    async def get(self, request_uri_hash: str) -> PushedRequest | None:
        query = select(PUSHED_REQUESTS).where(PushedRequestRow.request_uri_hash == request_uri_hash)
        return await self._first(query, PushedRequest)

    async def purge(self, before: int) -> int:
        return await self._purge(PUSHED_REQUESTS, PushedRequestRow.expires_at < before)
