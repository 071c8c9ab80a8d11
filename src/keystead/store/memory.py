"""In-memory store for protocol unit tests: the same Protocols and behaviour as ``store/sql``.

Plain dicts, no locks: nothing below awaits between reading and writing, so each method is
atomic on one event loop (the single-use ``consume_code`` and ``rotate_refresh_token``
included). The dataclasses are
frozen; the few mutable fields (``Client.extra``, ``StoredKey.public_jwk``) are copied on the
way in and out, so callers cannot change stored state by accident, as with SQL. Sequence
fields are normalized to tuples (of tuples, for ``Api.scopes``) on the way in, as SQL returns
them.
``tests/store/test_contract.py`` runs the same suite against both implementations.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Sequence

from keystead.store.base import (
    AccessToken,
    AccessTokenStatus,
    Api,
    ApiStore,
    AuthorizationCode,
    Client,
    ClientStore,
    Consent,
    ConsentStore,
    DuplicateError,
    EventRecord,
    EventStore,
    Grant,
    GrantStore,
    KeyStore,
    MarkerStore,
    RefreshToken,
    Session,
    SessionStore,
    StoredKey,
    ThrottleState,
    ThrottleStore,
    User,
    UserStore,
)


def _copy_client(client: Client) -> Client:
    return dataclasses.replace(client, extra=copy.deepcopy(client.extra))


def _copy_key(key: StoredKey) -> StoredKey:
    return dataclasses.replace(key, public_jwk=copy.deepcopy(key.public_jwk))


def _normalize_api(api: Api) -> Api:
    return dataclasses.replace(api, scopes=tuple((name, desc) for name, desc in api.scopes))


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

    async def list(self) -> list[Client]:
        ordered = sorted(self._clients.values(), key=lambda c: (c.created_at, c.client_id))
        return [_copy_client(c) for c in ordered]

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


class MemoryUserStore:
    def __init__(self) -> None:
        self._users: dict[str, User] = {}
        self._by_username: dict[str, str] = {}  # username -> sub
        # What else goes with a user: sessions, consents, and their grants are revoked.
        self.on_delete: Sequence[Callable[[str, int], None]] = ()

    async def add(self, user: User) -> None:
        if user.sub in self._users:
            raise DuplicateError(f"sub {user.sub!r} already exists")
        if user.username in self._by_username:
            raise DuplicateError(f"user {user.username!r} already exists")
        self._users[user.sub] = user
        self._by_username[user.username] = user.sub

    async def get(self, sub: str) -> User | None:
        return self._users.get(sub)

    async def get_by_username(self, username: str) -> User | None:
        sub = self._by_username.get(username)
        return None if sub is None else self._users[sub]

    async def list(self) -> list[User]:
        return sorted(self._users.values(), key=lambda u: (u.created_at, u.sub))

    async def replace_password_hash(self, sub: str, old_hash: str, new_hash: str) -> bool:
        user = self._users.get(sub)
        if user is None or user.password_hash != old_hash:
            return False
        self._users[sub] = dataclasses.replace(user, password_hash=new_hash)
        return True

    async def set_password(self, sub: str, password_hash: str, now: int) -> bool:
        user = self._users.get(sub)
        if user is None:
            return False
        self._users[sub] = dataclasses.replace(user, password_hash=password_hash, updated_at=now)
        return True

    async def update(self, user: User) -> bool:
        old = self._users.get(user.sub)
        if old is None:
            return False
        owner = self._by_username.get(user.username)
        if owner is not None and owner != user.sub:
            raise DuplicateError(f"user {user.username!r} already exists")
        del self._by_username[old.username]
        self._by_username[user.username] = user.sub
        self._users[user.sub] = dataclasses.replace(user, created_at=old.created_at)
        return True

    async def delete(self, sub: str, now: int) -> bool:
        user = self._users.pop(sub, None)
        if user is None:
            return False
        del self._by_username[user.username]
        for cascade in self.on_delete:
            cascade(sub, now)
        return True


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
        )

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
        successor_enc: str,
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
        self._refresh_tokens[token_hash] = dataclasses.replace(
            token,
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
                self._refresh_tokens[key] = dataclasses.replace(token, successor_enc=None)
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


class MemorySessionStore:
    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    async def add(self, session: Session) -> None:
        if session.session_hash in self._sessions:
            raise DuplicateError("session already exists")
        self._sessions[session.session_hash] = session

    async def get(self, session_hash: str) -> Session | None:
        return self._sessions.get(session_hash)

    async def touch(self, session_hash: str, now: int) -> None:
        session = self._sessions.get(session_hash)
        if session is not None:
            self._sessions[session_hash] = dataclasses.replace(session, last_active_at=now)

    async def delete(self, session_hash: str) -> None:
        self._sessions.pop(session_hash, None)

    def delete_sub(self, sub: str, now: int) -> None:
        self._sessions = {k: s for k, s in self._sessions.items() if s.sub != sub}

    async def purge_expired(self, before: int, idle_before: int) -> int:
        doomed = [
            key
            for key, s in self._sessions.items()
            if s.expires_at < before or s.last_active_at < idle_before
        ]
        for key in doomed:
            del self._sessions[key]
        return len(doomed)


class MemoryConsentStore:
    def __init__(self, clients: dict[str, Client]) -> None:
        self._clients = clients  # read only, for the foreign key check
        self._consents: dict[tuple[str, str], Consent] = {}

    async def get(self, sub: str, client_id: str) -> Consent | None:
        return self._consents.get((sub, client_id))

    async def put(self, consent: Consent) -> None:
        if consent.client_id not in self._clients:
            raise LookupError(f"client_id {consent.client_id!r} does not exist")
        self._consents[(consent.sub, consent.client_id)] = consent

    def delete_client(self, client_id: str) -> None:
        self._consents = {k: c for k, c in self._consents.items() if c.client_id != client_id}

    def delete_sub(self, sub: str, now: int) -> None:
        self._consents = {k: c for k, c in self._consents.items() if c.sub != sub}


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


class MemoryThrottleStore:
    def __init__(self) -> None:
        self._states: dict[str, ThrottleState] = {}

    async def get(self, key: str) -> ThrottleState | None:
        return self._states.get(key)

    async def record_failure(self, key: str, now: int) -> ThrottleState:
        state = self._states.get(key)
        failures = 1 if state is None else state.failures + 1
        self._states[key] = ThrottleState(key=key, failures=failures, last_failure_at=now)
        return self._states[key]

    async def reset(self, key: str) -> None:
        self._states.pop(key, None)

    async def purge(self, before: int) -> int:
        doomed = [key for key, state in self._states.items() if state.last_failure_at < before]
        for key in doomed:
            del self._states[key]
        return len(doomed)


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


class MemoryMarkerStore:
    def __init__(self) -> None:
        self._markers: dict[str, int] = {}  # key -> expires_at

    async def add(self, key: str, expires_at: int, now: int) -> bool:
        current = self._markers.get(key)
        if current is not None and current > now:
            return False
        self._markers[key] = expires_at
        return True

    async def get(self, key: str, now: int) -> int | None:
        current = self._markers.get(key)
        return current if current is not None and current > now else None

    async def take(self, key: str, now: int) -> bool:
        current = self._markers.get(key)
        if current is None or current <= now:
            return False
        del self._markers[key]
        return True

    async def purge(self, now: int) -> int:
        expired = [k for k, v in self._markers.items() if v <= now]
        for key in expired:
            del self._markers[key]
        return len(expired)


class MemoryEventStore:
    def __init__(self) -> None:
        self._events: list[EventRecord] = []

    async def add_many(self, events: Sequence[EventRecord]) -> None:
        self._events.extend(copy.deepcopy(list(events)))

    async def by_correlation_id(self, correlation_id: str) -> list[EventRecord]:
        found = [e for e in self._events if e.correlation_id == correlation_id]
        return sorted(found, key=lambda e: (e.created_at, e.event_id))

    async def recent(self, limit: int) -> list[EventRecord]:
        ordered = sorted(self._events, key=lambda e: (e.created_at, e.event_id), reverse=True)
        return ordered[:limit]

    async def purge(self, before: int) -> int:
        kept = [e for e in self._events if e.created_at >= before]
        removed = len(self._events) - len(kept)
        self._events = kept
        return removed


class MemoryStore:
    """The ``Store`` in plain dicts. State lives as long as the object."""

    def __init__(self) -> None:
        clients: dict[str, Client] = {}
        grants = MemoryGrantStore(clients)
        consents = MemoryConsentStore(clients)
        on_delete = (grants.delete_client, consents.delete_client)
        self.clients: ClientStore = MemoryClientStore(clients, on_delete)
        sessions = MemorySessionStore()
        users = MemoryUserStore()
        users.on_delete = (sessions.delete_sub, consents.delete_sub, grants.revoke_sub)
        self.users: UserStore = users
        self.grants: GrantStore = grants
        self.sessions: SessionStore = sessions
        self.consents: ConsentStore = consents
        self.keys: KeyStore = MemoryKeyStore()
        self.throttle: ThrottleStore = MemoryThrottleStore()
        self.events: EventStore = MemoryEventStore()
        self.apis: ApiStore = MemoryApiStore()
        self.markers: MarkerStore = MemoryMarkerStore()

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
