"""``ClientStore`` in memory."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Sequence

from keystead.store.base import Client, DuplicateError, Position


def _copy_client(client: Client) -> Client:
    return dataclasses.replace(client, extra=copy.deepcopy(client.extra))


class MemoryClientStore:
    def __init__(
        self, clients: dict[str, Client], on_delete: Sequence[Callable[[str], None]]
    ) -> None:
        self._clients = clients
        self._on_delete = on_delete

    async def add(self, client: Client) -> None:
        if client.client_id in self._clients:
            raise DuplicateError(f"client_id {client.client_id!r} already exists")
        self._clients[client.client_id] = _copy_client(client)

    async def get(self, client_id: str) -> Client | None:
        client = self._clients.get(client_id)
        return None if client is None else _copy_client(client)

    async def list(
        self, after: Position | None = None, limit: int | None = None, search: str | None = None
    ) -> list[Client]:
        ordered = sorted(self._clients.values(), key=lambda c: (c.created_at, c.client_id))
        if search:
            text = search.lower()
            ordered = [
                c for c in ordered if text in c.client_id.lower() or text in c.client_name.lower()
            ]
        if after is not None:
            ordered = [c for c in ordered if (c.created_at, c.client_id) > after]
        return [_copy_client(c) for c in ordered[:limit]]

    async def delete(self, client_id: str) -> bool:
        if self._clients.pop(client_id, None) is None:
            return False
        # As SQL's ON DELETE CASCADE: grants (with their codes, access and refresh tokens) and
        # consents go too.
        for cascade in self._on_delete:
            cascade(client_id)
        return True

    async def update(self, client: Client) -> bool:
        old = self._clients.get(client.client_id)
        if old is None:
            return False
        self._clients[client.client_id] = _copy_client(
            dataclasses.replace(client, created_at=old.created_at)
        )
        return True
