"""``ClientStore`` on SQL."""

from __future__ import annotations

from sqlalchemy import delete, func, or_, select, tuple_, update

from keystead.store.base import Client, Position
from keystead.store.sql.concern import Concern
from keystead.store.sql.convert import to_values
from keystead.store.sql.models import ClientRow
from keystead.store.sql.tables import BY_KEY, CLIENTS


class SqlClientStore(Concern):
    async def add(self, client: Client) -> None:
        await self._add(CLIENTS, client, f"client_id {client.client_id!r}")

    async def get(self, client_id: str) -> Client | None:
        return await self._first(BY_KEY[CLIENTS], Client, {"key": client_id})

    async def list(
        self, after: Position | None = None, limit: int | None = None, search: str | None = None
    ) -> list[Client]:
        query = select(CLIENTS).order_by(ClientRow.created_at, ClientRow.client_id)
        if search:  # LIKE with its wildcards escaped: the text is searched as typed
            text = search.lower()
            query = query.where(
                or_(
                    func.lower(ClientRow.client_id).contains(text, autoescape=True),
                    func.lower(ClientRow.client_name).contains(text, autoescape=True),
                )
            )
        if after is not None:
            query = query.where(tuple_(ClientRow.created_at, ClientRow.client_id) > after)
        return await self._all(query if limit is None else query.limit(limit), Client)

    async def delete(self, client_id: str) -> bool:
        # Grants (and through them codes, access and refresh tokens) and consents go with it:
        # ON DELETE CASCADE.
        # long: the cascade may remove any number of rows; never on the event loop.
        query = delete(ClientRow).where(ClientRow.client_id == client_id)
        return bool(await self._rowcount(query, long=True))

    async def update(self, client: Client) -> bool:
        query = (
            update(ClientRow)
            .where(ClientRow.client_id == client.client_id)
            .values(**to_values(client, skip=("client_id", "created_at")))
        )
        return bool(await self._rowcount(query))
