"""``KeyStore`` on SQL."""

from __future__ import annotations

from sqlalchemy import select, update

from keystead.store.base import StoredKey
from keystead.store.sql.concern import Concern
from keystead.store.sql.models import KeyRow
from keystead.store.sql.tables import KEYS


class SqlKeyStore(Concern):
    async def list(self) -> list[StoredKey]:
        return await self._all(select(KEYS).order_by(KeyRow.created_at, KeyRow.kid), StoredKey)

    async def add(self, key: StoredKey) -> None:
        await self._add(KEYS, key, f"kid {key.kid!r}")

    async def set_retire_at(self, kid: str, retire_at: int | None) -> None:
        await self._rowcount(update(KeyRow).where(KeyRow.kid == kid).values(retire_at=retire_at))
