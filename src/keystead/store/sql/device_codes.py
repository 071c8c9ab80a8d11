"""``DeviceCodeStore`` on SQL: each decision (approve, deny, consume) is one conditional
UPDATE, so it succeeds for one caller only, even across processes."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.engine import Connection

from keystead.store.device_codes import APPROVED, DENIED, PENDING, DeviceCode
from keystead.store.sql.concern import Concern
from keystead.store.sql.convert import from_mapping
from keystead.store.sql.models import DeviceCodeRow

DEVICE_CODES = cast(Table, DeviceCodeRow.__table__)


class SqlDeviceCodeStore(Concern):
    async def add(self, code: DeviceCode) -> None:
        await self._add(DEVICE_CODES, code, "device code")

    async def get_by_user_code(self, user_code_hash: str) -> DeviceCode | None:
        query = select(DEVICE_CODES).where(DeviceCodeRow.user_code_hash == user_code_hash)
        return await self._first(query, DeviceCode)

    async def poll(self, device_code_hash: str, now: int) -> DeviceCode | None:
        read = select(DEVICE_CODES).where(DeviceCodeRow.device_code_hash == device_code_hash)
        mark = (
            update(DeviceCodeRow)
            .where(DeviceCodeRow.device_code_hash == device_code_hash)
            .values(last_polled_at=now)
        )

        def work(connection: Connection) -> DeviceCode | None:
            row = connection.execute(read).mappings().first()
            if row is None:
                return None
            connection.execute(mark)
            return from_mapping(row, DeviceCode)

        return await self._db.run(work)

    async def slow_down(self, device_code_hash: str, interval: int) -> None:
        query = (
            update(DeviceCodeRow)
            .where(DeviceCodeRow.device_code_hash == device_code_hash)
            .values(interval=interval)
        )
        await self._rowcount(query)

    async def approve(
        self,
        user_code_hash: str,
        sub: str,
        sid: str | None,
        auth_time: int | None,
        now: int,
        *,
        acr: str | None = None,
        amr: tuple[str, ...] = (),
    ) -> bool:
        query = (
            update(DeviceCodeRow)
            .where(
                DeviceCodeRow.user_code_hash == user_code_hash,
                DeviceCodeRow.status == PENDING,
                DeviceCodeRow.expires_at > now,
            )
            .values(status=APPROVED, sub=sub, sid=sid, auth_time=auth_time, acr=acr, amr=list(amr))
        )
        return bool(await self._rowcount(query))

    async def deny(self, user_code_hash: str, sub: str, now: int) -> bool:
        query = (
            update(DeviceCodeRow)
            .where(
                DeviceCodeRow.user_code_hash == user_code_hash,
                DeviceCodeRow.status == PENDING,
                DeviceCodeRow.expires_at > now,
            )
            .values(status=DENIED, sub=sub)
        )
        return bool(await self._rowcount(query))

    async def consume(self, device_code_hash: str, now: int) -> bool:
        # RFC 8628 §3.5 / RFC 6749 §4.1.2: single use, one conditional UPDATE.
        query = (
            update(DeviceCodeRow)
            .where(
                DeviceCodeRow.device_code_hash == device_code_hash,
                DeviceCodeRow.status == APPROVED,
                DeviceCodeRow.consumed_at.is_(None),
                DeviceCodeRow.expires_at > now,
            )
            .values(consumed_at=now)
        )
        return bool(await self._rowcount(query))

    async def purge(self, before: int) -> int:
        return await self._purge(DEVICE_CODES, DeviceCodeRow.expires_at < before)
