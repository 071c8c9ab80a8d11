"""``GrantStore`` in memory: grants, authorization codes, access and refresh tokens."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from keystead.store.base import (
    AccessToken,
    AccessTokenStatus,
    AuthorizationCode,
    Client,
    DuplicateError,
    Grant,
    JwtStatus,
    RefreshToken,
)


class MemoryGrantStore:
    def __init__(self, clients: dict[str, Client]) -> None:
        self._clients = clients  # read only, for the foreign key check
        self._grants: dict[str, Grant] = {}
        self._codes: dict[str, AuthorizationCode] = {}
        self._tokens: dict[str, AccessToken] = {}
        self._refresh_tokens: dict[str, RefreshToken] = {}

    async def add_grant(self, grant: Grant, code: AuthorizationCode | None = None) -> None:
        if grant.grant_id in self._grants:
            raise DuplicateError(f"grant {grant.grant_id!r} already exists")
        if grant.client_id not in self._clients:
            raise LookupError(f"grant {grant.grant_id!r}: referenced row does not exist")
        if code is not None and code.code_hash in self._codes:
            raise DuplicateError("authorization code already exists")
        self._grants[grant.grant_id] = dataclasses.replace(grant, resources=tuple(grant.resources))
        if code is not None:  # no await in between: both or neither
            await self.add_code(code)

    async def revoke_grant(self, grant_id: str, now: int) -> None:
        grant = self._grants.get(grant_id)
        if grant is not None and grant.revoked_at is None:  # the first revocation time is kept
            self._grants[grant_id] = dataclasses.replace(grant, revoked_at=now)

    async def participants(
        self, sub: str, sids: Sequence[str] | None = None
    ) -> list[tuple[str, str | None]]:
        wanted = None if sids is None else set(sids)
        found = {
            (g.client_id, g.sid)
            for g in self._grants.values()
            if g.sub == sub and (wanted is None or g.sid in wanted)
        }
        return sorted(found, key=lambda pair: (pair[0], pair[1] or ""))

    async def list_for(self, sub: str) -> list[Grant]:
        mine = [g for g in self._grants.values() if g.sub == sub and g.revoked_at is None]
        mine.sort(key=lambda g: g.grant_id)
        return sorted(mine, key=lambda g: g.created_at, reverse=True)

    async def add_code(self, code: AuthorizationCode) -> None:
        if code.code_hash in self._codes:
            raise DuplicateError("authorization code already exists")
        if code.grant_id not in self._grants:
            raise LookupError("authorization code: referenced row does not exist")
        self._codes[code.code_hash] = dataclasses.replace(code, resources=tuple(code.resources))

    async def consume_code(
        self,
        code_hash: str,
        now: int,
        *,
        access_tokens: Sequence[AccessToken] = (),
        refresh_tokens: Sequence[RefreshToken] = (),
    ) -> AuthorizationCode | None:
        # RFC 6749 §4.1.2: the code is single use. No await between the check and the write;
        # every new row is checked before anything is written, as SQL rolls them all back.
        code = self._codes.get(code_hash)
        if code is None or code.consumed_at is not None:
            return None
        self._check_new(access_tokens, refresh_tokens)
        self._store_new(access_tokens, refresh_tokens)
        consumed = dataclasses.replace(code, consumed_at=now)
        self._codes[code_hash] = consumed
        return consumed

    async def get_code(self, code_hash: str) -> AuthorizationCode | None:
        return self._codes.get(code_hash)

    def _check_access_token(self, token: AccessToken) -> None:
        if token.token_hash in self._tokens:
            raise DuplicateError("access token already exists")
        if token.grant_id not in self._grants:
            raise LookupError("access token: referenced row does not exist")

    async def add_access_token(self, token: AccessToken) -> None:
        self._check_access_token(token)
        self._tokens[token.token_hash] = dataclasses.replace(token, aud=tuple(token.aud))

    async def get_access_token(self, token_hash: str) -> tuple[AccessToken, Grant] | None:
        token = self._tokens.get(token_hash)
        if token is None:
            return None
        return token, self._grants[token.grant_id]

    async def get_access_token_status(self, token_hash: str) -> AccessTokenStatus | None:
        found = await self.get_access_token(token_hash)
        if found is None:
            return None
        token, grant = found
        return AccessTokenStatus(
            client_id=token.client_id,
            sub=token.sub,
            scope=token.scope,
            aud=tuple(token.aud),
            expires_at=token.expires_at,
            created_at=token.created_at,
            revoked_at=token.revoked_at,
            grant_id=grant.grant_id,
            grant_revoked_at=grant.revoked_at,
            claims=grant.claims,
            jkt=token.jkt,
            x5t_s256=token.x5t_s256,
            authorization_details=token.authorization_details,
        )

    async def get_jwt_status(self, grant_id: str, token_hash: str) -> JwtStatus | None:
        grant = self._grants.get(grant_id)
        if grant is None:
            return None
        token = self._tokens.get(token_hash)
        revoked_at = None if token is None else token.revoked_at
        return JwtStatus(grant.sub, grant.revoked_at, dict(grant.claims), revoked_at)

    async def revoke_access_token(self, token_hash: str, now: int) -> None:
        token = self._tokens.get(token_hash)
        if token is not None and token.revoked_at is None:  # the first revocation time is kept
            self._tokens[token_hash] = dataclasses.replace(token, revoked_at=now)

    def _check_refresh_token(self, token: RefreshToken) -> None:
        if token.token_hash in self._refresh_tokens:
            raise DuplicateError("refresh token already exists")
        if token.grant_id not in self._grants:
            raise LookupError("refresh token: referenced row does not exist")

    async def add_refresh_token(self, token: RefreshToken) -> None:
        self._check_refresh_token(token)
        self._refresh_tokens[token.token_hash] = token

    async def get_refresh_token(self, token_hash: str) -> tuple[RefreshToken, Grant] | None:
        token = self._refresh_tokens.get(token_hash)
        if token is None:
            return None
        return token, self._grants[token.grant_id]

    async def rotate_refresh_token(
        self,
        token_hash: str,
        successor: RefreshToken,
        successor_enc: str | None,
        now: int,
        access_tokens: Sequence[AccessToken] = (),
    ) -> bool:
        # RFC 9700 §4.14.2: a refresh token is rotated once. No await between check and write;
        # every new row is checked before anything is written, as SQL rolls them all back.
        token = self._refresh_tokens.get(token_hash)
        if token is None or token.rotated_at is not None:
            return False
        self._check_new(access_tokens, [successor])
        self._store_new(access_tokens, [successor])
        self._refresh_tokens[token_hash] = token._replace(
            rotated_at=now,
            successor_hash=successor.token_hash,
            successor_enc=successor_enc,
        )
        return True

    def _check_new(
        self, access_tokens: Sequence[AccessToken], refresh_tokens: Sequence[RefreshToken]
    ) -> None:
        for access in access_tokens:
            self._check_access_token(access)
        for refresh in refresh_tokens:
            self._check_refresh_token(refresh)

    def _store_new(
        self, access_tokens: Sequence[AccessToken], refresh_tokens: Sequence[RefreshToken]
    ) -> None:
        for access in access_tokens:
            self._tokens[access.token_hash] = dataclasses.replace(access, aud=tuple(access.aud))
        for refresh in refresh_tokens:
            self._refresh_tokens[refresh.token_hash] = refresh

    async def clear_successors(self, rotated_before: int) -> int:
        cleared = 0
        for key, token in list(self._refresh_tokens.items()):
            if (
                token.rotated_at is not None
                and token.rotated_at < rotated_before
                and token.successor_enc is not None
            ):
                self._refresh_tokens[key] = token._replace(successor_enc=None)
                cleared += 1
        return cleared

    async def purge_expired(self, before: int) -> int:
        # The same order as SQL: codes and tokens first, then the grants left dead or empty
        # (rows going with a deleted grant are not counted, as with ON DELETE CASCADE).
        removed = 0
        for table, dead in (
            (self._codes, lambda c: c.expires_at < before),
            (self._tokens, lambda t: t.expires_at < before),
            (
                self._refresh_tokens,
                lambda r: (
                    r.expires_at < before or (r.rotated_at is None and r.idle_expires_at < before)
                ),
            ),
        ):
            doomed_keys = [key for key, row in table.items() if dead(row)]
            for key in doomed_keys:
                del table[key]
            removed += len(doomed_keys)
        in_use = {
            row.grant_id
            for table in (self._codes, self._tokens, self._refresh_tokens)
            for row in table.values()
        }
        doomed = {
            g.grant_id
            for g in self._grants.values()
            if (g.revoked_at is not None and g.revoked_at < before)
            or (g.expires_at is not None and g.expires_at < before)
            or (g.created_at < before and g.grant_id not in in_use)
        }
        self._delete_grants(doomed)
        return removed + len(doomed)

    def revoke_sub(self, sub: str, now: int) -> None:
        for grant_id, grant in self._grants.items():
            if grant.sub == sub and grant.revoked_at is None:
                self._grants[grant_id] = dataclasses.replace(grant, revoked_at=now)

    def delete_client(self, client_id: str) -> None:
        self._delete_grants({g.grant_id for g in self._grants.values() if g.client_id == client_id})

    def _delete_grants(self, doomed: set[str]) -> None:
        self._grants = {k: g for k, g in self._grants.items() if k not in doomed}
        self._codes = {k: c for k, c in self._codes.items() if c.grant_id not in doomed}
        self._tokens = {k: t for k, t in self._tokens.items() if t.grant_id not in doomed}
        self._refresh_tokens = {
            k: t for k, t in self._refresh_tokens.items() if t.grant_id not in doomed
        }
