"""Contract tests for refresh tokens, the grant/code/token fields they need, and APIs."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib

import pytest

from keystead.store.base import (
    AccessToken,
    AccessTokenStatus,
    Api,
    AuthorizationCode,
    Client,
    DuplicateError,
    Grant,
    RefreshToken,
    Store,
)

pytestmark = pytest.mark.anyio


def h(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def make_client(client_id: str = "client-1") -> Client:
    return Client(
        client_id=client_id,
        client_name="Example RP",
        redirect_uris=("https://rp.example/cb",),
        grant_types=("authorization_code", "refresh_token"),
        response_types=("code",),
        scope="openid offline_access",
        token_endpoint_auth_method="none",
    )


def make_grant(grant_id: str = "grant-1", client_id: str = "client-1") -> Grant:
    return Grant(
        grant_id=grant_id,
        client_id=client_id,
        sub="sub-1",
        scope="openid offline_access api:read",
        created_at=10,
        auth_time=5,
        sid="sid-1",
        resources=("https://api.example/", "https://other.example/"),
        expires_at=10 + 30 * 86400,
    )


def make_code(value: str = "code-1", grant_id: str = "grant-1") -> AuthorizationCode:
    return AuthorizationCode(
        code_hash=h(value),
        grant_id=grant_id,
        client_id="client-1",
        sub="sub-1",
        redirect_uri="https://rp.example/cb",
        scope="openid api:read",
        expires_at=70,
        created_at=10,
        auth_time=5,
        resources=("https://api.example/",),
    )


def make_access_token(value: str = "at-1", grant_id: str = "grant-1") -> AccessToken:
    return AccessToken(
        token_hash=h(value),
        grant_id=grant_id,
        client_id="client-1",
        sub="sub-1",
        scope="api:read",
        expires_at=3610,
        created_at=10,
        aud=("https://api.example/", "https://other.example/"),
        jti="jti-" + value,
    )


def make_refresh_token(value: str = "rt-1", grant_id: str = "grant-1") -> RefreshToken:
    return RefreshToken(
        token_hash=h(value),
        grant_id=grant_id,
        client_id="client-1",
        sub="sub-1",
        scope="openid offline_access api:read",
        created_at=10,
        expires_at=10 + 30 * 86400,
        idle_expires_at=10 + 7 * 86400,
    )


def make_api(
    api_id: str = "api-1", identifier: str = "https://api.example/", created_at: int = 100
) -> Api:
    return Api(
        api_id=api_id,
        identifier=identifier,
        name="Example API",
        scopes=(("api:read", "Read your data"), ("api:write", "Change your data")),
        token_format="jwt",
        access_token_ttl=600,
        created_at=created_at,
        secret_hash=h("api-secret"),
    )


async def with_grant(store: Store, grant: Grant | None = None) -> Grant:
    grant = grant or make_grant()
    if await store.clients.get(grant.client_id) is None:
        await store.clients.add(make_client(grant.client_id))
    await store.grants.add_grant(grant)
    return grant


async def refresh_token(store: Store, value: str) -> RefreshToken | None:
    found = await store.grants.get_refresh_token(h(value))
    return None if found is None else found[0]


# --- new fields of grants, codes and access tokens -------------------------------------------


async def test_grant_new_fields_round_trip(store: Store) -> None:
    grant = await with_grant(store)
    await store.grants.add_access_token(make_access_token())
    await store.grants.add_refresh_token(make_refresh_token())

    found = await store.grants.get_access_token(h("at-1"))
    assert found is not None and found[1] == grant
    assert isinstance(found[1].resources, tuple)
    found_rt = await store.grants.get_refresh_token(h("rt-1"))
    assert found_rt is not None and found_rt[1] == grant


async def test_grant_new_fields_default(store: Store) -> None:
    grant = Grant("grant-1", "client-1", "sub-1", "openid", 10)
    await with_grant(store, grant)
    await store.grants.add_refresh_token(make_refresh_token())
    found = await store.grants.get_refresh_token(h("rt-1"))
    assert found is not None and found[1] == grant
    assert (found[1].auth_time, found[1].sid, found[1].resources, found[1].expires_at) == (
        None,
        None,
        (),
        None,
    )


async def test_code_resources_round_trip(store: Store) -> None:
    await with_grant(store)
    code = make_code()
    await store.grants.add_code(code)
    await store.grants.add_code(dataclasses.replace(make_code("code-2"), resources=()))

    assert await store.grants.get_code(code.code_hash) == code
    consumed = await store.grants.consume_code(code.code_hash, now=20)  # the RETURNING path
    assert consumed == dataclasses.replace(code, consumed_at=20)
    assert consumed is not None and isinstance(consumed.resources, tuple)
    other = await store.grants.get_code(h("code-2"))
    assert other is not None and other.resources == ()


async def test_consume_code_stores_the_tokens_issued_for_it(store: Store) -> None:
    await with_grant(store)
    code = make_code()
    await store.grants.add_code(code)
    access, refresh = make_access_token("at-9"), make_refresh_token("rt-9")

    consumed = await store.grants.consume_code(
        code.code_hash, now=20, access_tokens=[access], refresh_tokens=[refresh]
    )

    assert consumed == dataclasses.replace(code, consumed_at=20)
    found = await store.grants.get_access_token(access.token_hash)
    assert found is not None and found[0] == access
    assert await refresh_token(store, "rt-9") == refresh


async def test_consume_code_a_second_time_stores_nothing(store: Store) -> None:
    await with_grant(store)
    code = make_code()
    await store.grants.add_code(code)
    assert await store.grants.consume_code(code.code_hash, now=20) is not None

    again = await store.grants.consume_code(
        code.code_hash,
        now=21,
        access_tokens=[make_access_token("at-9")],
        refresh_tokens=[make_refresh_token("rt-9")],
    )

    assert again is None
    assert await store.grants.get_access_token(h("at-9")) is None
    assert await refresh_token(store, "rt-9") is None


async def test_consume_code_with_a_bad_token_rolls_everything_back(store: Store) -> None:
    await with_grant(store)
    code = make_code()
    await store.grants.add_code(code)
    taken = make_refresh_token("rt-taken")
    await store.grants.add_refresh_token(taken)

    with pytest.raises(DuplicateError):
        await store.grants.consume_code(
            code.code_hash,
            now=20,
            access_tokens=[make_access_token("at-9")],
            refresh_tokens=[taken],
        )

    assert await store.grants.get_code(code.code_hash) == code  # not consumed: retry works
    assert await store.grants.get_access_token(h("at-9")) is None


async def test_access_token_new_fields_round_trip(store: Store) -> None:
    grant = await with_grant(store)
    token = make_access_token()
    plain = AccessToken(h("at-2"), "grant-1", "client-1", "sub-1", "openid", 3610, 10)
    await store.grants.add_access_token(token)
    await store.grants.add_access_token(plain)

    assert await store.grants.get_access_token(token.token_hash) == (token, grant)
    found = await store.grants.get_access_token(plain.token_hash)
    assert found is not None
    assert found[0] == plain
    assert (found[0].aud, found[0].jti, found[0].revoked_at) == ((), None, None)


async def test_revoke_access_token_keeps_the_first_time(store: Store) -> None:
    grant = await with_grant(store)
    await store.grants.add_access_token(make_access_token())
    await store.grants.add_access_token(make_access_token("at-2"))

    await store.grants.revoke_access_token(h("at-1"), now=30)
    await store.grants.revoke_access_token(h("at-1"), now=40)
    await store.grants.revoke_access_token(h("unknown"), now=40)

    found = await store.grants.get_access_token(h("at-1"))
    assert found == (dataclasses.replace(make_access_token(), revoked_at=30), grant)
    other = await store.grants.get_access_token(h("at-2"))
    assert other is not None and other[0].revoked_at is None
    assert other[1].revoked_at is None  # revoking a token does not revoke its grant


async def test_access_token_status_is_the_record_and_its_grant(store: Store) -> None:
    grant = dataclasses.replace(make_grant(), claims={"userinfo": {"email": None}})
    await with_grant(store, grant)
    token = make_access_token()
    await store.grants.add_access_token(token)
    expected = AccessTokenStatus(
        client_id="client-1",
        sub="sub-1",
        scope="api:read",
        aud=("https://api.example/", "https://other.example/"),
        expires_at=3610,
        created_at=10,
        revoked_at=None,
        grant_id="grant-1",
        grant_revoked_at=None,
        claims={"userinfo": {"email": None}},
    )

    status = await store.grants.get_access_token_status(token.token_hash)

    assert status == expected and isinstance(status.aud, tuple)
    assert await store.grants.get_access_token_status(h("unknown")) is None
    await store.grants.revoke_access_token(token.token_hash, now=30)
    revoked = await store.grants.get_access_token_status(token.token_hash)
    assert revoked == expected._replace(revoked_at=30)
    await store.grants.revoke_grant("grant-1", now=40)
    gone = await store.grants.get_access_token_status(token.token_hash)
    assert gone == expected._replace(revoked_at=30, grant_revoked_at=40)


async def test_access_token_status_of_a_token_without_audience(store: Store) -> None:
    await with_grant(store)
    plain = AccessToken(h("at-2"), "grant-1", "client-1", "sub-1", "openid", 3610, 10)
    await store.grants.add_access_token(plain)

    status = await store.grants.get_access_token_status(plain.token_hash)

    assert status is not None and status.aud == () and status.claims == {}


# --- refresh tokens --------------------------------------------------------------------------


async def test_refresh_token_add_get_round_trip(store: Store) -> None:
    grant = await with_grant(store)
    token = make_refresh_token()
    rotated = make_refresh_token("rt-0")._replace(
        rotated_at=15,
        successor_hash=h("rt-1"),
        successor_enc="gAAAAABsuccessor",
    )
    await store.grants.add_refresh_token(token)
    await store.grants.add_refresh_token(rotated)

    assert await store.grants.get_refresh_token(token.token_hash) == (token, grant)
    assert await store.grants.get_refresh_token(rotated.token_hash) == (rotated, grant)
    assert await store.grants.get_refresh_token(h("unknown")) is None


async def test_refresh_token_duplicate_and_unknown_grant(store: Store) -> None:
    await with_grant(store)
    await store.grants.add_refresh_token(make_refresh_token())
    with pytest.raises(DuplicateError):
        await store.grants.add_refresh_token(make_refresh_token())
    with pytest.raises(LookupError):
        await store.grants.add_refresh_token(make_refresh_token("rt-2", grant_id="unknown"))
    assert await store.grants.get_refresh_token(h("rt-2")) is None


async def test_rotate_refresh_token_once(store: Store) -> None:
    await with_grant(store)
    old = make_refresh_token("rt-1")
    successor = make_refresh_token("rt-2")._replace(created_at=20)
    await store.grants.add_refresh_token(old)

    assert await store.grants.rotate_refresh_token(old.token_hash, successor, "enc-2", now=20)

    assert await refresh_token(store, "rt-1") == old._replace(
        rotated_at=20, successor_hash=successor.token_hash, successor_enc="enc-2"
    )
    assert await refresh_token(store, "rt-2") == successor

    # The successor rotates in turn: a chain.
    third = make_refresh_token("rt-3")
    assert await store.grants.rotate_refresh_token(successor.token_hash, third, "enc-3", now=30)
    rotated = await refresh_token(store, "rt-2")
    assert rotated is not None and rotated.successor_hash == third.token_hash


async def test_rotate_already_rotated_token_writes_nothing(store: Store) -> None:
    await with_grant(store)
    old = make_refresh_token("rt-1")
    await store.grants.add_refresh_token(old)
    assert await store.grants.rotate_refresh_token(
        old.token_hash, make_refresh_token("rt-2"), "enc-2", now=20
    )
    before = await refresh_token(store, "rt-1")

    again = await store.grants.rotate_refresh_token(
        old.token_hash, make_refresh_token("rt-3"), "enc-3", now=25
    )

    assert again is False
    assert await refresh_token(store, "rt-1") == before
    assert await refresh_token(store, "rt-3") is None


async def test_rotate_unknown_token_writes_nothing(store: Store) -> None:
    await with_grant(store)
    assert not await store.grants.rotate_refresh_token(
        h("unknown"), make_refresh_token("rt-2"), "enc-2", now=20
    )
    assert await refresh_token(store, "rt-2") is None


async def test_rotate_with_a_bad_successor_rolls_back(store: Store) -> None:
    await with_grant(store)
    old = make_refresh_token("rt-1")
    await store.grants.add_refresh_token(old)
    await store.grants.add_refresh_token(make_refresh_token("taken"))

    with pytest.raises(DuplicateError):
        await store.grants.rotate_refresh_token(
            old.token_hash, make_refresh_token("taken"), "enc", now=20
        )
    with pytest.raises(LookupError):
        await store.grants.rotate_refresh_token(
            old.token_hash, make_refresh_token("rt-2", grant_id="unknown"), "enc", now=20
        )

    assert await refresh_token(store, "rt-1") == old  # not marked rotated
    assert await refresh_token(store, "rt-2") is None
    assert await store.grants.rotate_refresh_token(
        old.token_hash, make_refresh_token("rt-3"), "enc-3", now=21
    )


async def test_rotate_stores_the_access_tokens_issued_with_it(store: Store) -> None:
    await with_grant(store)
    old = make_refresh_token("rt-1")
    await store.grants.add_refresh_token(old)
    access = make_access_token("at-9")

    assert await store.grants.rotate_refresh_token(
        old.token_hash, make_refresh_token("rt-2"), "enc-2", now=20, access_tokens=[access]
    )

    found = await store.grants.get_access_token(access.token_hash)
    assert found is not None and found[0] == access


async def test_rotate_with_a_bad_access_token_rolls_everything_back(store: Store) -> None:
    await with_grant(store)
    old = make_refresh_token("rt-1")
    await store.grants.add_refresh_token(old)
    taken = make_access_token("at-taken")
    await store.grants.add_access_token(taken)

    with pytest.raises(DuplicateError):
        await store.grants.rotate_refresh_token(
            old.token_hash, make_refresh_token("rt-2"), "enc", now=20, access_tokens=[taken]
        )

    assert await refresh_token(store, "rt-1") == old  # not rotated: the refresh can be retried
    assert await refresh_token(store, "rt-2") is None


@pytest.mark.parametrize("contenders", [2, 8])
async def test_rotate_concurrently_exactly_one_wins(store: Store, contenders: int) -> None:
    await with_grant(store)
    old = make_refresh_token("rt-0")
    await store.grants.add_refresh_token(old)
    successors = [make_refresh_token(f"rt-{i + 1}") for i in range(contenders)]

    results = await asyncio.gather(
        *(
            store.grants.rotate_refresh_token(old.token_hash, s, f"enc-{i}", now=20 + i)
            for i, s in enumerate(successors)
        )
    )

    assert results.count(True) == 1 and results.count(False) == contenders - 1
    winner = results.index(True)
    # Exactly one successor row exists: the winner's.
    stored = [await refresh_token(store, f"rt-{i + 1}") for i in range(contenders)]
    assert [s is not None for s in stored] == [i == winner for i in range(contenders)]
    rotated = await refresh_token(store, "rt-0")
    assert rotated == old._replace(
        rotated_at=20 + winner,
        successor_hash=successors[winner].token_hash,
        successor_enc=f"enc-{winner}",
    )


async def test_revoke_grant_is_seen_through_the_refresh_token(store: Store) -> None:
    grant = await with_grant(store)
    await store.grants.add_refresh_token(make_refresh_token())

    await store.grants.revoke_grant("grant-1", now=30)
    await store.grants.revoke_grant("grant-1", now=40)

    found = await store.grants.get_refresh_token(h("rt-1"))
    assert found == (make_refresh_token(), dataclasses.replace(grant, revoked_at=30))


async def test_clear_successors(store: Store) -> None:
    await with_grant(store)
    for i, rotated_at in enumerate([20, 30, 40]):
        old = make_refresh_token(f"old-{i}")
        await store.grants.add_refresh_token(old)
        await store.grants.rotate_refresh_token(
            old.token_hash, make_refresh_token(f"new-{i}"), f"enc-{i}", now=rotated_at
        )

    assert await store.grants.clear_successors(rotated_before=35) == 2

    for i, enc in enumerate([None, None, "enc-2"]):
        token = await refresh_token(store, f"old-{i}")
        assert token is not None
        assert token.successor_enc == enc
        assert token.rotated_at is not None and token.successor_hash == h(f"new-{i}")
    for i in range(3):  # never-rotated tokens are untouched
        assert await refresh_token(store, f"new-{i}") == make_refresh_token(f"new-{i}")
    assert await store.grants.clear_successors(rotated_before=35) == 0  # already cleared
    assert await store.grants.clear_successors(rotated_before=41) == 1


async def test_client_delete_removes_its_refresh_tokens(store: Store) -> None:
    await with_grant(store)
    await with_grant(store, make_grant("grant-2", "client-2"))
    await store.grants.add_refresh_token(make_refresh_token("rt-1"))
    await store.grants.add_refresh_token(make_refresh_token("rt-2", grant_id="grant-2"))

    assert await store.clients.delete("client-1") is True

    assert await store.grants.get_refresh_token(h("rt-1")) is None
    assert await store.grants.get_refresh_token(h("rt-2")) is not None
    # The hash is free again: nothing of the deleted client's family is left behind.
    await store.grants.add_grant(make_grant("grant-3", "client-2"))
    await store.grants.add_refresh_token(make_refresh_token("rt-1", grant_id="grant-3"))


# --- APIs ------------------------------------------------------------------------------------


async def test_api_add_get_round_trip(store: Store) -> None:
    api = make_api()
    plain = Api("api-2", "urn:api:2", "Two", (), "opaque", 3600, 100)
    await store.apis.add(api)
    await store.apis.add(plain)

    fetched = await store.apis.get("api-1")
    assert fetched == api
    assert fetched is not None
    assert isinstance(fetched.scopes, tuple)
    assert all(isinstance(pair, tuple) for pair in fetched.scopes)
    assert fetched.scope_names == ("api:read", "api:write")
    assert await store.apis.get_by_identifier("https://api.example/") == api
    assert await store.apis.get("api-2") == plain
    assert await store.apis.get("unknown") is None
    assert await store.apis.get_by_identifier("https://unknown.example/") is None


async def test_api_duplicates(store: Store) -> None:
    await store.apis.add(make_api())
    with pytest.raises(DuplicateError):
        await store.apis.add(make_api(identifier="https://other.example/"))
    with pytest.raises(DuplicateError):
        await store.apis.add(make_api(api_id="api-2"))
    assert await store.apis.list() == [make_api()]
    assert await store.apis.get("api-2") is None
    assert await store.apis.get_by_identifier("https://other.example/") is None


async def test_api_list_ordered_by_created_at_then_api_id(store: Store) -> None:
    for api_id, created_at in [("b", 200), ("c", 100), ("a", 200)]:
        await store.apis.add(make_api(api_id, f"urn:api:{api_id}", created_at))
    assert [a.api_id for a in await store.apis.list()] == ["c", "a", "b"]


async def test_api_delete(store: Store) -> None:
    await store.apis.add(make_api())
    assert await store.apis.delete("api-1") is True
    assert await store.apis.delete("api-1") is False
    assert await store.apis.get("api-1") is None
    assert await store.apis.get_by_identifier("https://api.example/") is None
    assert await store.apis.list() == []
    await store.apis.add(make_api(api_id="api-2"))  # the identifier is free again
    assert await store.apis.get_by_identifier("https://api.example/") == make_api("api-2")


async def test_api_self_registration_scopes_round_trip(store: Store) -> None:
    """Issue 18 #4: the operator's self-registration policy is kept with the API, as a tuple;
    none by default."""
    assert make_api().self_registration_scopes == ()
    await store.apis.add(make_api())
    fetched = await store.apis.get("api-1")
    assert fetched is not None and fetched.self_registration_scopes == ()

    allowed = dataclasses.replace(
        make_api("api-2", "urn:api:2"), self_registration_scopes=("api:read",)
    )
    await store.apis.add(allowed)
    assert await store.apis.get("api-2") == allowed
    assert await store.apis.get_by_identifier("urn:api:2") == allowed
    fetched = (await store.apis.list())[1]
    assert isinstance(fetched.self_registration_scopes, tuple)
    assert fetched.self_registration_scopes == ("api:read",)


async def test_api_update_changes_self_registration_scopes(store: Store) -> None:
    await store.apis.add(make_api())
    both = dataclasses.replace(make_api(), self_registration_scopes=("api:read", "api:write"))
    assert await store.apis.update(both) is True
    assert await store.apis.get("api-1") == both
    assert await store.apis.update(make_api()) is True  # back to none
    fetched = await store.apis.get("api-1")
    assert fetched is not None and fetched.self_registration_scopes == ()
