"""``OAuth1Store`` on SQL: each decision (approve, deny, redeem, revoke) is one conditional
UPDATE, so it succeeds for one caller only, even across processes."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, select, update

from keystead.store.oauth1 import (
    APPROVED,
    DENIED,
    PENDING,
    TemporaryCredential,
    TokenCredential,
)
from keystead.store.sql.concern import Concern
from keystead.store.sql.models_more import OAuth1TemporaryRow, OAuth1TokenRow

TEMPORARY = cast(Table, OAuth1TemporaryRow.__table__)
TOKENS = cast(Table, OAuth1TokenRow.__table__)


class SqlOAuth1Store(Concern):
    async def add_temporary(self, cred: TemporaryCredential) -> None:
        await self._add(TEMPORARY, cred, "temporary credential")

    async def get_temporary(self, token_hash: str) -> TemporaryCredential | None:
        query = select(TEMPORARY).where(OAuth1TemporaryRow.token_hash == token_hash)
        return await self._first(query, TemporaryCredential)

    async def _decide(self, token_hash: str, now: int, **values: object) -> bool:
        query = (
            update(OAuth1TemporaryRow)
            .where(
                OAuth1TemporaryRow.token_hash == token_hash,
                OAuth1TemporaryRow.status == PENDING,
                OAuth1TemporaryRow.expires_at > now,
            )
            .values(**values)
        )
        return bool(await self._rowcount(query))

    async def approve(self, token_hash: str, sub: str, verifier_hash: str, now: int) -> bool:
        return await self._decide(
            token_hash, now, status=APPROVED, sub=sub, verifier_hash=verifier_hash
        )

    async def deny(self, token_hash: str, sub: str, now: int) -> bool:
        return await self._decide(token_hash, now, status=DENIED, sub=sub)

    async def redeem(self, token_hash: str, verifier_hash: str, now: int) -> bool:
        # RFC 5849 §2.3: the verifier is bound to its temporary credential and used once.
        query = (
            update(OAuth1TemporaryRow)
            .where(
                OAuth1TemporaryRow.token_hash == token_hash,
                OAuth1TemporaryRow.status == APPROVED,
                OAuth1TemporaryRow.verifier_hash == verifier_hash,
                OAuth1TemporaryRow.used_at.is_(None),
                OAuth1TemporaryRow.expires_at > now,
            )
            .values(used_at=now)
        )
        return bool(await self._rowcount(query))

    async def add_token(self, cred: TokenCredential) -> None:
        await self._add(TOKENS, cred, "token credential")

    async def get_token(self, token_hash: str) -> TokenCredential | None:
        query = select(TOKENS).where(OAuth1TokenRow.token_hash == token_hash)
        return await self._first(query, TokenCredential)

    async def get_token_by_id(self, token_id: str) -> TokenCredential | None:
        query = select(TOKENS).where(OAuth1TokenRow.token_id == token_id)
        return await self._first(query, TokenCredential)

    async def tokens_of(self, sub: str) -> list[TokenCredential]:
        query = (
            select(TOKENS)
            .where(OAuth1TokenRow.sub == sub)
            .order_by(OAuth1TokenRow.created_at.desc(), OAuth1TokenRow.token_id)
        )
        return await self._all(query, TokenCredential)

    async def revoke_token(self, token_id: str, now: int) -> bool:
        query = (
            update(OAuth1TokenRow)
            .where(OAuth1TokenRow.token_id == token_id, OAuth1TokenRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(await self._rowcount(query))

    async def purge(self, before: int) -> int:
        return await self._purge(TEMPORARY, OAuth1TemporaryRow.expires_at < before)
