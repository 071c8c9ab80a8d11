"""One contract suite for every Store implementation (see conftest.py's ``store`` fixture)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib

import pytest

from keystead.store.base import (
    AccessToken,
    AuthorizationCode,
    Client,
    Consent,
    DuplicateError,
    Grant,
    Session,
    Store,
    StoredKey,
    User,
)

pytestmark = pytest.mark.anyio


def h(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def make_client(client_id: str = "client-1", created_at: int = 100) -> Client:
    return Client(
        client_id=client_id,
        client_name="Example RP",
        redirect_uris=("https://rp.example/cb", "https://rp.example/cb2"),
        grant_types=("authorization_code", "refresh_token"),
        response_types=("code",),
        scope="openid profile email",
        token_endpoint_auth_method="client_secret_basic",
        client_secret_hash=h("secret"),
        require_pkce=False,
        skip_consent=True,
        id_token_signed_response_alg="ES256",
        application_type="native",
        created_at=created_at,
        extra={"logo_uri": "https://rp.example/logo.png", "contacts": ["a@rp.example"]},
    )


def make_user(sub: str = "sub-1", username: str = "alice", created_at: int = 100) -> User:
    return User(
        sub=sub,
        username=username,
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        email=f"{username}@example.com",
        email_verified=True,
        name="Alice Liddell",
        given_name="Alice",
        family_name="Liddell",
        created_at=created_at,
        updated_at=created_at,
    )


def make_grant(grant_id: str = "grant-1", client_id: str = "client-1") -> Grant:
    return Grant(grant_id=grant_id, client_id=client_id, sub="sub-1", scope="openid", created_at=10)


def make_code(value: str = "code-1", grant_id: str = "grant-1") -> AuthorizationCode:
    return AuthorizationCode(
        code_hash=h(value),
        grant_id=grant_id,
        client_id="client-1",
        sub="sub-1",
        redirect_uri="https://rp.example/cb",
        scope="openid profile",
        expires_at=70,
        created_at=10,
        auth_time=5,
        sid="sid-1",
        nonce="n-0S6_WzA2Mj",
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method="S256",
    )


def make_token(value: str = "token-1", grant_id: str = "grant-1") -> AccessToken:
    return AccessToken(
        token_hash=h(value),
        grant_id=grant_id,
        client_id="client-1",
        sub="sub-1",
        scope="openid profile",
        expires_at=3610,
        created_at=10,
    )


def make_session(value: str = "cookie-1") -> Session:
    return Session(
        session_hash=h(value),
        sid="sid-1",
        sub="sub-1",
        auth_time=5,
        created_at=5,
        last_active_at=5,
        expires_at=86405,
        amr=("pwd", "otp"),
    )


def make_key(kid: str = "key-1", created_at: int = 100) -> StoredKey:
    return StoredKey(
        kid=kid,
        alg="RS256",
        public_jwk={"kty": "RSA", "n": "0vx7agoebGcQSuu", "e": "AQAB", "kid": kid},
        private_jwk_enc="gAAAAABencrypted",
        created_at=created_at,
        activate_at=created_at + 3600,
    )


async def with_grant(store: Store) -> None:
    await store.clients.add(make_client())
    await store.grants.add_grant(make_grant())


# --- clients ---------------------------------------------------------------------------------


async def test_client_add_get_round_trip(store: Store) -> None:
    client = make_client()
    await store.clients.add(client)
    assert await store.clients.get("client-1") == client
    assert await store.clients.get("unknown") is None


async def test_client_duplicate_client_id(store: Store) -> None:
    await store.clients.add(make_client())
    with pytest.raises(DuplicateError):
        await store.clients.add(dataclasses.replace(make_client(), client_name="Other"))
    assert (await store.clients.get("client-1")) == make_client()


async def test_client_list_ordered_by_created_at_then_client_id(store: Store) -> None:
    for client_id, created_at in [("b", 200), ("c", 100), ("a", 200)]:
        await store.clients.add(make_client(client_id, created_at))
    assert [c.client_id for c in await store.clients.list()] == ["c", "a", "b"]


async def test_client_list_pages_by_position(store: Store) -> None:
    """Keyset pages read by the database (admin listings): after a (created_at, client_id)."""
    for client_id, created_at in [("b", 200), ("c", 100), ("a", 200), ("d", 300)]:
        await store.clients.add(make_client(client_id, created_at))
    ids = [c.client_id for c in await store.clients.list(None, 2)]
    assert ids == ["c", "a"]
    assert [c.client_id for c in await store.clients.list((200, "a"), 2)] == ["b", "d"]
    assert [c.client_id for c in await store.clients.list((200, "b"), 5)] == ["d"]
    assert await store.clients.list((300, "d"), 5) == []


async def test_client_returned_objects_are_copies(store: Store) -> None:
    await store.clients.add(make_client())
    fetched = await store.clients.get("client-1")
    assert fetched is not None
    fetched.extra["logo_uri"] = "https://evil.example/"
    (await store.clients.list()).clear()
    assert await store.clients.get("client-1") == make_client()
    assert len(await store.clients.list()) == 1


async def test_client_delete_returns_bool(store: Store) -> None:
    await store.clients.add(make_client())
    assert await store.clients.delete("client-1") is True
    assert await store.clients.delete("client-1") is False
    assert await store.clients.get("client-1") is None
    assert await store.clients.list() == []


async def test_client_delete_removes_its_grants_tokens_and_consents(store: Store) -> None:
    await with_grant(store)
    await store.clients.add(make_client("client-2"))
    await store.grants.add_grant(make_grant("grant-2", "client-2"))
    await store.grants.add_code(make_code())
    await store.grants.add_access_token(make_token())
    await store.grants.add_access_token(make_token("token-2", "grant-2"))
    await store.consents.put(Consent("sub-1", "client-1", "openid", 10))
    await store.consents.put(Consent("sub-1", "client-2", "openid", 10))

    assert await store.clients.delete("client-1") is True

    assert await store.grants.get_access_token(h("token-1")) is None
    assert await store.grants.get_code(h("code-1")) is None
    assert await store.consents.get("sub-1", "client-1") is None
    assert await store.grants.get_access_token(h("token-2")) is not None
    assert await store.consents.get("sub-1", "client-2") is not None


# --- users -----------------------------------------------------------------------------------


async def test_user_add_get_and_get_by_username(store: Store) -> None:
    user = make_user()
    await store.users.add(user)
    assert await store.users.get("sub-1") == user
    assert await store.users.get_by_username("alice") == user
    assert await store.users.get("unknown") is None
    assert await store.users.get_by_username("bob") is None


async def test_user_duplicate_username_or_sub(store: Store) -> None:
    await store.users.add(make_user())
    with pytest.raises(DuplicateError):
        await store.users.add(make_user(sub="sub-2", username="alice"))
    with pytest.raises(DuplicateError):
        await store.users.add(make_user(sub="sub-1", username="bob"))
    assert [u.sub for u in await store.users.list()] == ["sub-1"]


async def test_user_list_ordered_by_created_at_then_sub(store: Store) -> None:
    for sub, username, created_at in [("s2", "u1", 200), ("s3", "u2", 100), ("s1", "u3", 200)]:
        await store.users.add(make_user(sub, username, created_at))
    assert [u.sub for u in await store.users.list()] == ["s3", "s1", "s2"]
    assert [u.sub for u in await store.users.list((100, "s3"), 1)] == ["s1"]
    assert [u.sub for u in await store.users.list((200, "s1"), 10)] == ["s2"]


async def test_user_set_password(store: Store) -> None:
    await store.users.add(make_user())
    assert await store.users.set_password("sub-1", "$argon2id$new", now=500) is True
    user = await store.users.get("sub-1")
    assert user is not None
    assert (user.password_hash, user.updated_at, user.created_at) == ("$argon2id$new", 500, 100)
    assert await store.users.set_password("unknown", "$argon2id$new", now=500) is False


async def test_user_replace_password_hash_only_while_unchanged(store: Store) -> None:
    await store.users.add(make_user())
    old = (await store.users.get("sub-1")).password_hash  # type: ignore[union-attr]
    assert await store.users.replace_password_hash("sub-1", old, "$argon2id$upgraded") is True
    user = await store.users.get("sub-1")
    assert user is not None and user.password_hash == "$argon2id$upgraded"
    assert user.updated_at == 100  # an upgrade of the same password is not a change
    # The hash it expected is gone (changed meanwhile): nothing is written.
    assert await store.users.replace_password_hash("sub-1", old, "$argon2id$stale") is False
    assert await store.users.replace_password_hash("unknown", old, "$argon2id$x") is False
    assert (await store.users.get("sub-1")).password_hash == "$argon2id$upgraded"  # type: ignore[union-attr]


# --- grants, codes, access tokens ------------------------------------------------------------


async def test_grant_duplicate_and_unknown_client(store: Store) -> None:
    await with_grant(store)
    with pytest.raises(DuplicateError):
        await store.grants.add_grant(make_grant())
    with pytest.raises(LookupError):
        await store.grants.add_grant(make_grant("grant-2", client_id="unknown"))


async def test_code_add_get(store: Store) -> None:
    await with_grant(store)
    code = make_code()
    await store.grants.add_code(code)
    assert await store.grants.get_code(code.code_hash) == code
    assert await store.grants.get_code(h("unknown")) is None
    with pytest.raises(DuplicateError):
        await store.grants.add_code(code)
    with pytest.raises(LookupError):
        await store.grants.add_code(make_code("code-2", grant_id="unknown"))


async def test_grant_with_its_code_in_one_transaction(store: Store) -> None:
    await with_grant(store)  # the client, and grant-1 with it
    code = make_code("code-2", grant_id="grant-2")
    await store.grants.add_grant(make_grant("grant-2"), code)
    assert await store.grants.get_code(code.code_hash) == code
    # A taken code refuses the pair: the new grant is not stored either.
    with pytest.raises(DuplicateError):
        await store.grants.add_grant(make_grant("grant-3"), make_code("code-2", "grant-3"))
    await store.grants.add_grant(make_grant("grant-3"))  # grant-3 was not left behind


async def test_consume_code_is_single_use(store: Store) -> None:
    await with_grant(store)
    code = make_code()
    await store.grants.add_code(code)

    consumed = await store.grants.consume_code(code.code_hash, now=20)
    assert consumed == dataclasses.replace(code, consumed_at=20)
    assert await store.grants.consume_code(code.code_hash, now=21) is None
    assert await store.grants.get_code(code.code_hash) == consumed
    assert await store.grants.consume_code(h("unknown"), now=20) is None


async def test_consume_code_concurrently_exactly_one_wins(store: Store) -> None:
    await with_grant(store)
    code = make_code()
    await store.grants.add_code(code)

    results = await asyncio.gather(
        *(store.grants.consume_code(code.code_hash, now=20 + i) for i in range(8))
    )

    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    stored = await store.grants.get_code(code.code_hash)
    assert stored is not None and stored.consumed_at == winners[0].consumed_at


async def test_access_token_with_its_grant(store: Store) -> None:
    await with_grant(store)
    token = make_token()
    await store.grants.add_access_token(token)
    assert await store.grants.get_access_token(token.token_hash) == (token, make_grant())
    assert await store.grants.get_access_token(h("unknown")) is None
    with pytest.raises(DuplicateError):
        await store.grants.add_access_token(token)
    with pytest.raises(LookupError):
        await store.grants.add_access_token(make_token("token-2", grant_id="unknown"))


async def test_revoke_grant_is_seen_through_the_access_token(store: Store) -> None:
    await with_grant(store)
    await store.grants.add_access_token(make_token())

    await store.grants.revoke_grant("grant-1", now=30)
    await store.grants.revoke_grant("grant-1", now=40)  # the first revocation time is kept
    await store.grants.revoke_grant("unknown", now=40)

    found = await store.grants.get_access_token(h("token-1"))
    assert found is not None
    token, grant = found
    assert token == make_token()
    assert grant == dataclasses.replace(make_grant(), revoked_at=30)


# --- sessions --------------------------------------------------------------------------------


async def test_session_add_get_touch_delete(store: Store) -> None:
    session = make_session()
    await store.sessions.add(session)
    assert await store.sessions.get(session.session_hash) == session
    with pytest.raises(DuplicateError):
        await store.sessions.add(session)

    await store.sessions.touch(session.session_hash, now=60)
    touched = await store.sessions.get(session.session_hash)
    assert touched == dataclasses.replace(session, last_active_at=60)

    await store.sessions.delete(session.session_hash)
    assert await store.sessions.get(session.session_hash) is None
    await store.sessions.delete(session.session_hash)  # deleting twice is harmless
    await store.sessions.touch(session.session_hash, now=70)  # so is touching a gone session
    assert await store.sessions.get(session.session_hash) is None


# --- consents --------------------------------------------------------------------------------


async def test_consent_put_inserts_then_replaces(store: Store) -> None:
    await store.clients.add(make_client())
    assert await store.consents.get("sub-1", "client-1") is None

    await store.consents.put(Consent("sub-1", "client-1", "openid", 10))
    assert await store.consents.get("sub-1", "client-1") == Consent(
        "sub-1", "client-1", "openid", 10
    )
    await store.consents.put(Consent("sub-1", "client-1", "openid email", 20))
    assert await store.consents.get("sub-1", "client-1") == Consent(
        "sub-1", "client-1", "openid email", 20
    )
    assert await store.consents.get("sub-2", "client-1") is None


async def test_consent_for_unknown_client(store: Store) -> None:
    with pytest.raises(LookupError):
        await store.consents.put(Consent("sub-1", "unknown", "openid", 10))


# --- keys ------------------------------------------------------------------------------------


async def test_key_add_list_set_retire_at(store: Store) -> None:
    assert await store.keys.list() == []
    await store.keys.add(make_key("key-b", 200))
    await store.keys.add(make_key("key-a", 100))
    await store.keys.add(make_key("key-c", 200))
    assert [k.kid for k in await store.keys.list()] == ["key-a", "key-b", "key-c"]
    assert (await store.keys.list())[0] == make_key("key-a", 100)

    await store.keys.set_retire_at("key-a", 900)
    await store.keys.set_retire_at("unknown", 900)
    assert (await store.keys.list())[0].retire_at == 900
    await store.keys.set_retire_at("key-a", None)
    assert (await store.keys.list())[0].retire_at is None


async def test_key_duplicate_kid(store: Store) -> None:
    await store.keys.add(make_key())
    with pytest.raises(DuplicateError):
        await store.keys.add(make_key(created_at=999))
    assert await store.keys.list() == [make_key()]


async def test_key_returned_objects_are_copies(store: Store) -> None:
    await store.keys.add(make_key())
    (await store.keys.list())[0].public_jwk["n"] = "tampered"
    assert await store.keys.list() == [make_key()]


# --- throttle --------------------------------------------------------------------------------


async def test_throttle_counts_and_resets(store: Store) -> None:
    assert await store.throttle.get("login:alice") is None

    first = await store.throttle.record_failure("login:alice", now=10)
    assert (first.key, first.failures, first.last_failure_at) == ("login:alice", 1, 10)
    second = await store.throttle.record_failure("login:alice", now=15)
    assert (second.failures, second.last_failure_at) == (2, 15)
    assert await store.throttle.get("login:alice") == second
    await store.throttle.record_failure("login:bob", now=15)

    await store.throttle.reset("login:alice")
    assert await store.throttle.get("login:alice") is None
    await store.throttle.reset("login:alice")
    again = await store.throttle.record_failure("login:alice", now=20)
    assert again.failures == 1
    bob = await store.throttle.get("login:bob")
    assert bob is not None and bob.failures == 1


async def test_throttle_concurrent_failures_are_all_counted(store: Store) -> None:
    await asyncio.gather(
        *(store.throttle.record_failure("ip:192.0.2.1", now=10) for _ in range(10))
    )
    state = await store.throttle.get("ip:192.0.2.1")
    assert state is not None and state.failures == 10


async def test_close(store: Store) -> None:
    await store.close()  # the fixture closes again: close must be idempotent
