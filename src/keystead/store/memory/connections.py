"""``ConnectionStore`` and ``FederatedIdentityStore`` in memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from keystead.store.base import DuplicateError
from keystead.store.connections import Connection, FederatedIdentity


class MemoryConnectionStore:
    def __init__(self, on_delete: Callable[[str], None]) -> None:
        self._connections: dict[str, Connection] = {}
        self._on_delete = on_delete  # SQL: the identities' ON DELETE CASCADE

    def has(self, connection_id: str) -> bool:
        return connection_id in self._connections

    def _name_taken(self, connection: Connection) -> bool:
        return any(
            c.name == connection.name and c.connection_id != connection.connection_id
            for c in self._connections.values()
        )

    async def add(self, connection: Connection) -> None:
        if connection.connection_id in self._connections or self._name_taken(connection):
            raise DuplicateError("connection already exists")
        self._connections[connection.connection_id] = connection

    async def get(self, connection_id: str) -> Connection | None:
        return self._connections.get(connection_id)

    async def get_by_name(self, name: str) -> Connection | None:
        return next((c for c in self._connections.values() if c.name == name), None)

    async def list(self) -> list[Connection]:
        return sorted(self._connections.values(), key=lambda c: c.name)

    async def update(self, connection: Connection) -> bool:
        if connection.connection_id not in self._connections:
            return False
        if self._name_taken(connection):
            raise DuplicateError("connection already exists")
        self._connections[connection.connection_id] = connection
        return True

    async def delete(self, connection_id: str) -> bool:
        if self._connections.pop(connection_id, None) is None:
            return False
        self._on_delete(connection_id)
        return True


class MemoryFederatedIdentityStore:
    def __init__(
        self, user_exists: Callable[[str], bool], connection_exists: Callable[[str], bool]
    ) -> None:
        self._identities: dict[tuple[str, str], FederatedIdentity] = {}
        self._user_exists = user_exists  # the SQL foreign keys' part
        self._connection_exists = connection_exists

    async def find(self, connection_id: str, upstream_sub: str) -> FederatedIdentity | None:
        return self._identities.get((connection_id, upstream_sub))

    async def link(self, identity: FederatedIdentity) -> None:
        key = (identity.connection_id, identity.upstream_sub)
        if key in self._identities:
            raise DuplicateError("federated identity already linked")
        if not self._user_exists(identity.sub) or not self._connection_exists(
            identity.connection_id
        ):
            raise LookupError("federated identity: referenced row does not exist")
        self._identities[key] = identity

    async def for_user(self, sub: str) -> list[FederatedIdentity]:
        mine = [i for i in self._identities.values() if i.sub == sub]
        return sorted(mine, key=lambda i: (i.created_at, i.connection_id, i.upstream_sub))

    async def unlink(self, sub: str, connection_id: str) -> bool:
        doomed = [
            k
            for k, i in self._identities.items()
            if i.sub == sub and i.connection_id == connection_id
        ]
        for key in doomed:
            del self._identities[key]
        return bool(doomed)

    async def touch(self, connection_id: str, upstream_sub: str, now: int) -> None:
        identity = self._identities.get((connection_id, upstream_sub))
        if identity is not None:
            self._identities[connection_id, upstream_sub] = dataclasses.replace(
                identity, last_login_at=now
            )

    def delete_sub(self, sub: str, now: int) -> None:
        self._identities = {k: i for k, i in self._identities.items() if i.sub != sub}

    def delete_connection(self, connection_id: str) -> None:
        self._identities = {
            k: i for k, i in self._identities.items() if i.connection_id != connection_id
        }
