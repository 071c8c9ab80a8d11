"""``ApiStore`` in memory."""

from __future__ import annotations

import dataclasses

from keystead.store.base import Api, DuplicateError


def _normalize_api(api: Api) -> Api:
    return dataclasses.replace(
        api,
        scopes=tuple((name, desc) for name, desc in api.scopes),
        self_registration_scopes=tuple(api.self_registration_scopes),
        authorization_details_types=tuple(api.authorization_details_types),
    )


class MemoryApiStore:
    def __init__(self) -> None:
        self._apis: dict[str, Api] = {}
        self._by_identifier: dict[str, str] = {}  # identifier -> api_id

    async def add(self, api: Api) -> None:
        if api.api_id in self._apis:
            raise DuplicateError(f"api_id {api.api_id!r} already exists")
        if api.identifier in self._by_identifier:
            raise DuplicateError(f"api identifier {api.identifier!r} already exists")
        self._apis[api.api_id] = _normalize_api(api)
        self._by_identifier[api.identifier] = api.api_id

    async def get(self, api_id: str) -> Api | None:
        return self._apis.get(api_id)

    async def get_by_identifier(self, identifier: str) -> Api | None:
        api_id = self._by_identifier.get(identifier)
        return None if api_id is None else self._apis[api_id]

    async def list(self) -> list[Api]:
        return sorted(self._apis.values(), key=lambda a: (a.created_at, a.api_id))

    async def delete(self, api_id: str) -> bool:
        api = self._apis.pop(api_id, None)
        if api is None:
            return False
        del self._by_identifier[api.identifier]
        return True

    async def update(self, api: Api) -> bool:
        old = self._apis.get(api.api_id)
        if old is None:
            return False
        owner = self._by_identifier.get(api.identifier)
        if owner is not None and owner != api.api_id:
            raise DuplicateError(f"api identifier {api.identifier!r} already exists")
        del self._by_identifier[old.identifier]
        self._by_identifier[api.identifier] = api.api_id
        self._apis[api.api_id] = _normalize_api(dataclasses.replace(api, created_at=old.created_at))
        return True
