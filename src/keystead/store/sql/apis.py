"""``ApiStore`` on SQL."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from keystead.store.base import Api
from keystead.store.sql.concern import Concern, integrity_error
from keystead.store.sql.convert import to_values
from keystead.store.sql.models import ApiRow
from keystead.store.sql.tables import APIS, BY_KEY


class SqlApiStore(Concern):
    async def add(self, api: Api) -> None:
        await self._add(APIS, api, f"api {api.api_id!r} or {api.identifier!r}")

    async def get(self, api_id: str) -> Api | None:
        return await self._first(BY_KEY[APIS], Api, {"key": api_id})

    async def get_by_identifier(self, identifier: str) -> Api | None:
        return await self._first(select(APIS).where(ApiRow.identifier == identifier), Api)

    async def list(self) -> list[Api]:
        return await self._all(select(APIS).order_by(ApiRow.created_at, ApiRow.api_id), Api)

    async def delete(self, api_id: str) -> bool:
        return bool(await self._rowcount(delete(ApiRow).where(ApiRow.api_id == api_id), long=True))

    async def update(self, api: Api) -> bool:
        query = (
            update(ApiRow)
            .where(ApiRow.api_id == api.api_id)
            .values(**to_values(api, skip=("api_id", "created_at")))
        )
        try:
            return bool(await self._rowcount(query))
        except IntegrityError as exc:
            raise integrity_error(exc, f"api identifier {api.identifier!r}") from exc
