"""``OAuth1Store`` in memory."""

from __future__ import annotations

import dataclasses

from keystead.store.base import DuplicateError
from keystead.store.oauth1 import (
    APPROVED,
    DENIED,
    PENDING,
    TemporaryCredential,
    TokenCredential,
)


class MemoryOAuth1Store:
    def __init__(self) -> None:
        self._temporary: dict[str, TemporaryCredential] = {}
        self._tokens: dict[str, TokenCredential] = {}  # by token_id
        self._by_hash: dict[str, str] = {}  # token_hash -> token_id

    async def add_temporary(self, cred: TemporaryCredential) -> None:
        if cred.token_hash in self._temporary:
            raise DuplicateError("temporary credential already exists")
        self._temporary[cred.token_hash] = cred

    async def get_temporary(self, token_hash: str) -> TemporaryCredential | None:
        return self._temporary.get(token_hash)

    def _decide(self, token_hash: str, now: int, **changes: object) -> bool:
        cred = self._temporary.get(token_hash)
        if cred is None or cred.status != PENDING or cred.expires_at <= now:
            return False
        self._temporary[token_hash] = dataclasses.replace(cred, **changes)  # type: ignore[arg-type]
        return True

    async def approve(self, token_hash: str, sub: str, verifier_hash: str, now: int) -> bool:
        return self._decide(token_hash, now, status=APPROVED, sub=sub, verifier_hash=verifier_hash)

    async def deny(self, token_hash: str, sub: str, now: int) -> bool:
        return self._decide(token_hash, now, status=DENIED, sub=sub)

    async def redeem(self, token_hash: str, verifier_hash: str, now: int) -> bool:
        cred = self._temporary.get(token_hash)
        if (
            cred is None
            or cred.status != APPROVED
            or cred.verifier_hash != verifier_hash
            or cred.used_at is not None
            or cred.expires_at <= now
        ):
            return False
        self._temporary[token_hash] = dataclasses.replace(cred, used_at=now)
        return True

    async def add_token(self, cred: TokenCredential) -> None:
        if cred.token_id in self._tokens or cred.token_hash in self._by_hash:
            raise DuplicateError("token credential already exists")
        self._tokens[cred.token_id] = cred
        self._by_hash[cred.token_hash] = cred.token_id

    async def get_token(self, token_hash: str) -> TokenCredential | None:
        token_id = self._by_hash.get(token_hash)
        return None if token_id is None else self._tokens.get(token_id)

    async def get_token_by_id(self, token_id: str) -> TokenCredential | None:
        return self._tokens.get(token_id)

    async def tokens_of(self, sub: str) -> list[TokenCredential]:
        found = [t for t in self._tokens.values() if t.sub == sub]
        return sorted(found, key=lambda t: (-t.created_at, t.token_id))

    async def revoke_token(self, token_id: str, now: int) -> bool:
        cred = self._tokens.get(token_id)
        if cred is None or cred.revoked_at is not None:
            return False
        self._tokens[token_id] = dataclasses.replace(cred, revoked_at=now)
        return True

    async def purge(self, before: int) -> int:
        doomed = [c.token_hash for c in self._temporary.values() if c.expires_at < before]
        for token_hash in doomed:
            del self._temporary[token_hash]
        return len(doomed)
