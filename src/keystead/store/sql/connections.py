"""``ConnectionStore`` and ``FederatedIdentityStore`` on SQL. Identities go with their user
and their connection by ON DELETE CASCADE."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.exc import IntegrityError

from keystead.store.connections import Connection, FederatedIdentity
from keystead.store.sql.concern import Concern, integrity_error
from keystead.store.sql.convert import to_values
from keystead.store.sql.models_more import ConnectionRow, FederatedIdentityRow

CONNECTIONS = cast(Table, ConnectionRow.__table__)
IDENTITIES = cast(Table, FederatedIdentityRow.__table__)


class SqlConnectionStore(Concern):
    async def add(self, connection: Connection) -> None:
        await self._add(CONNECTIONS, connection, "connection")

    async def get(self, connection_id: str) -> Connection | None:
        query = select(CONNECTIONS).where(ConnectionRow.connection_id == connection_id)
        return await self._first(query, Connection)

    async def get_by_name(self, name: str) -> Connection | None:
        return await self._first(select(CONNECTIONS).where(ConnectionRow.name == name), Connection)

    async def list(self) -> list[Connection]:
        return await self._all(select(CONNECTIONS).order_by(ConnectionRow.name), Connection)

    async def update(self, connection: Connection) -> bool:
        values = to_values(connection)
        query = (
            update(ConnectionRow)
            .where(ConnectionRow.connection_id == values.pop("connection_id"))
            .values(**values)
        )
        try:
            return bool(await self._rowcount(query))
        except IntegrityError as exc:
            raise integrity_error(exc, "connection") from exc

    async def delete(self, connection_id: str) -> bool:
        # The identities linked through it go by ON DELETE CASCADE.
        query = delete(ConnectionRow).where(ConnectionRow.connection_id == connection_id)
        return bool(await self._rowcount(query))


class SqlFederatedIdentityStore(Concern):
    async def find(self, connection_id: str, upstream_sub: str) -> FederatedIdentity | None:
        query = select(IDENTITIES).where(
            FederatedIdentityRow.connection_id == connection_id,
            FederatedIdentityRow.upstream_sub == upstream_sub,
        )
        return await self._first(query, FederatedIdentity)

    async def link(self, identity: FederatedIdentity) -> None:
        await self._add(IDENTITIES, identity, "federated identity")

    async def for_user(self, sub: str) -> list[FederatedIdentity]:
        query = (
            select(IDENTITIES)
            .where(FederatedIdentityRow.sub == sub)
            .order_by(
                FederatedIdentityRow.created_at,
                FederatedIdentityRow.connection_id,
                FederatedIdentityRow.upstream_sub,
            )
        )
        return await self._all(query, FederatedIdentity)

    async def unlink(self, sub: str, connection_id: str) -> bool:
        query = delete(FederatedIdentityRow).where(
            FederatedIdentityRow.sub == sub, FederatedIdentityRow.connection_id == connection_id
        )
        return bool(await self._rowcount(query))

    async def touch(self, connection_id: str, upstream_sub: str, now: int) -> None:
        query = (
            update(FederatedIdentityRow)
            .where(
                FederatedIdentityRow.connection_id == connection_id,
                FederatedIdentityRow.upstream_sub == upstream_sub,
            )
            .values(last_login_at=now)
        )
        await self._rowcount(query)
