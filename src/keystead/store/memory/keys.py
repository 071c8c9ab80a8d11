"""``KeyStore`` in memory."""

from __future__ import annotations

import copy
import dataclasses

from keystead.store.base import DuplicateError, StoredKey


def _copy_key(key: StoredKey) -> StoredKey:
    return dataclasses.replace(key, public_jwk=copy.deepcopy(key.public_jwk))


class MemoryKeyStore:
    def __init__(self) -> None:
        self._keys: dict[str, StoredKey] = {}

    async def list(self) -> list[StoredKey]:
        ordered = sorted(self._keys.values(), key=lambda k: (k.created_at, k.kid))
        return [_copy_key(k) for k in ordered]

    async def add(self, key: StoredKey) -> None:
        if key.kid in self._keys:
            raise DuplicateError(f"kid {key.kid!r} already exists")
        self._keys[key.kid] = _copy_key(key)

    async def set_retire_at(self, kid: str, retire_at: int | None) -> None:
        key = self._keys.get(kid)
        if key is not None:
            self._keys[kid] = dataclasses.replace(key, retire_at=retire_at)
