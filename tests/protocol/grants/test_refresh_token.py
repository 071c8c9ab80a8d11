"""The refresh_token grant (RFC 6749 §6, RFC 9700 §4.14), through token_endpoint: rotation,
the grace window, a lost race for the rotation and reuse detection, each as one store write."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from keystead.errors import OAuthError
from keystead.jose import jwt
from keystead.protocol import refresh as refresh_mod
from keystead.protocol.token import token_endpoint
from keystead.protocol.tokens import resolve_access_token
from keystead.secrets_util import sha256_hex
from keystead.store.base import Api, Client

pytestmark = pytest.mark.anyio

NOW = 1_700_000_000

NOTES = "https://notes.example.com"


@pytest.fixture
async def rp(make_client) -> Client:
    return await make_client(grant_types=("authorization_code", "refresh_token"))


@pytest.fixture
async def first(oauth, provider, rp, session) -> dict[str, Any]:
    """The code exchange's response: the first refresh token of a family."""
    code = await oauth.code(rp, session, scope="openid profile offline_access", prompt="consent")
    body = await token_endpoint(oauth.token_request(rp, code), provider)
    assert "refresh_token" in body
    return body


@pytest.fixture
def refresh(oauth, provider) -> Callable[..., Awaitable[dict[str, Any]]]:
    """A refresh request, authenticated as ``client`` is registered to, through the endpoint."""

    async def send(client: Client, token: str, **params: str) -> dict[str, Any]:
        req = oauth.token_request(
            client,
            None,
            grant_type="refresh_token",
            refresh_token=token,
            redirect_uri=None,
            code_verifier=None,
            **params,
        )
        return await token_endpoint(req, provider)

    return send


@pytest.fixture
def refused(refresh) -> Callable[..., Awaitable[OAuthError]]:
    async def send(client: Client, token: str, **params: str) -> OAuthError:
        with pytest.raises(OAuthError) as caught:
            await refresh(client, token, **params)
        return caught.value

    return send


async def active(provider, access_token: str) -> bool:
    return await resolve_access_token(provider, access_token) is not None


# --- rotation --------------------------------------------------------------------------------


async def test_rotation_is_one_write(provider, rp, first, writes, events, refresh) -> None:
    events.clear()
    second = await refresh(rp, first["refresh_token"])
    assert writes == ["rotate_refresh_token"]  # the successor and the access token with it
    assert second["refresh_token"] != first["refresh_token"]
    assert set(second) == {
        "access_token",
        "token_type",
        "expires_in",
        "scope",
        "id_token",
        "refresh_token",
    }
    assert await active(provider, second["access_token"])
    assert [e.name for e in events] == ["token.issued", "token.granted"]
    token, _ = await provider.store.grants.get_refresh_token(sha256_hex(first["refresh_token"]))
    assert token.rotated_at == provider.now()
    assert token.successor_hash == sha256_hex(second["refresh_token"])


async def test_narrower_scope_applies_to_the_access_token_only(
    provider, rp, first, refresh
) -> None:
    second = await refresh(rp, first["refresh_token"], scope="openid")
    assert second["scope"] == "openid"
    third = await refresh(rp, second["refresh_token"])
    assert third["scope"] == "openid profile offline_access"  # RFC 6749 §6: it keeps its scope


async def test_jwt_access_tokens_are_not_stored_and_die_with_the_family(
    oauth, provider, clock, make_client, session, writes, refresh, refused
) -> None:
    # RFC 9068 access tokens of a user grant are not stored: their jti names the grant, so
    # revoking the grant deactivates them. Nothing is written for them on the rotation or on
    # the grace path, and they are revoked with the family.
    await provider.store.apis.add(
        Api("api-notes", NOTES, "Notes", (("notes:read", "Read"),), "jwt", 600, NOW)
    )
    rp = await make_client(
        grant_types=("authorization_code", "refresh_token"),
        scope="openid notes:read offline_access",
    )
    scope = "openid notes:read offline_access"
    code = await oauth.code(rp, session, scope=scope, prompt="consent", resource=NOTES)
    first = await token_endpoint(oauth.token_request(rp, code), provider)
    writes.clear()
    second = await refresh(rp, first["refresh_token"])
    again = await refresh(rp, first["refresh_token"])
    assert writes == ["rotate_refresh_token"]  # the grace path writes nothing
    _, claims = jwt.verify(second["access_token"], await provider.keyring())
    grant_id = claims["jti"].rpartition(".")[0]
    assert claims["aud"] == [NOTES, provider.settings.issuer]
    for body in (first, second, again):
        assert body["access_token"].count(".") == 2
        token = await resolve_access_token(provider, body["access_token"])
        assert token is not None and token.grant_id == grant_id and not token.recorded
    clock.advance(provider.settings.refresh_grace + 1)
    assert (await refused(rp, first["refresh_token"])).catalog_id == "refresh-reused"
    for body in (first, second, again):
        assert not await active(provider, body["access_token"])


# --- the grace window ------------------------------------------------------------------------


async def test_grace_window_returns_the_same_successor(
    provider, clock, rp, first, writes, events, refresh
) -> None:
    second = await refresh(rp, first["refresh_token"])
    clock.advance(provider.settings.refresh_grace)  # the last second of the window
    writes.clear()
    events.clear()
    again = await refresh(rp, first["refresh_token"])  # a lost response, retried
    assert again["refresh_token"] == second["refresh_token"]
    assert again["access_token"] != second["access_token"]  # a fresh access token each time
    assert writes == ["add_access_token"]  # the fresh access token, in one write
    assert [e.name for e in events] == ["token.issued", "token.granted"]
    for body in (first, second, again):
        assert await active(provider, body["access_token"])
    nxt = await refresh(rp, again["refresh_token"])  # the family goes on
    assert nxt["refresh_token"] not in (first["refresh_token"], second["refresh_token"])


async def test_grace_window_zero_still_covers_the_same_second(
    provider, monkeypatch, clock, rp, first, refresh, refused
) -> None:
    monkeypatch.setattr(provider.settings, "refresh_grace", 0)
    second = await refresh(rp, first["refresh_token"])
    again = await refresh(rp, first["refresh_token"])
    assert again["refresh_token"] == second["refresh_token"]
    clock.advance(1)
    assert (await refused(rp, first["refresh_token"])).catalog_id == "refresh-reused"


# --- reuse (RFC 9700 §4.14.2) ----------------------------------------------------------------


async def test_reuse_after_the_window_revokes_the_grant(
    provider, clock, rp, first, writes, events, refresh, refused
) -> None:
    second = await refresh(rp, first["refresh_token"])
    clock.advance(provider.settings.refresh_grace + 1)
    writes.clear()
    events.clear()
    err = await refused(rp, first["refresh_token"])
    assert err.catalog_id == "refresh-reused"
    assert err.error == "invalid_grant"
    assert writes == ["revoke_grant"]
    # decided before anything was issued
    assert [e.name for e in events] == ["refresh.reused"]
    assert events[0].data["client_id"] == rp.client_id
    # the whole family is dead: the newest refresh token and every access token
    assert (await refused(rp, second["refresh_token"])).catalog_id == "refresh-revoked"
    for body in (first, second):
        assert not await active(provider, body["access_token"])


async def test_successor_is_derived_and_never_stored(provider, rp, first, refresh) -> None:
    # Rotation keeps only the successor's hash: its value is derived again (HMAC under a key
    # from the KEK) when a retry in the grace window needs it.
    second = await refresh(rp, first["refresh_token"])
    assert second["refresh_token"] == refresh_mod.successor_value(provider, first["refresh_token"])
    found = await provider.store.grants.get_refresh_token(sha256_hex(first["refresh_token"]))
    assert found is not None
    token, _ = found
    assert token.successor_hash == sha256_hex(second["refresh_token"])
    assert token.successor_enc is None
    assert await provider.store.grants.clear_successors(provider.now() + 1) == 0  # nothing kept


async def test_successor_key_is_the_servers_own(provider, rp, first, refresh) -> None:
    # Without the key the successor is not computable from the token: not a plain hash.
    second = await refresh(rp, first["refresh_token"])
    value = first["refresh_token"]
    assert second["refresh_token"] not in (sha256_hex(value), value)
    assert len(second["refresh_token"]) == 43  # 256 bits, base64url


async def rotate_to_random(provider, value: str, *, sealed: bool) -> str:
    """Rotate ``value``'s row to a random successor, not the derived one (as before a key
    change, or as an older version did: with ``sealed`` its successor kept encrypted);
    returns the successor's value."""
    token_hash = sha256_hex(value)
    found = await provider.store.grants.get_refresh_token(token_hash)
    assert found is not None
    token, grant = found
    random_value, successor = refresh_mod.new_token(provider, grant, token.scope, provider.now())
    kept = provider.kek.encrypt(random_value.encode(), token_hash.encode()) if sealed else None
    now = provider.now()
    assert await provider.store.grants.rotate_refresh_token(token_hash, successor, kept, now)
    return random_value


async def test_rotated_before_the_upgrade_keeps_its_encrypted_successor(
    provider, rp, first, refresh
) -> None:
    # A row rotated by an older version holds its (random) successor encrypted: a retry in
    # the window still gets it back.
    value = first["refresh_token"]
    older = await rotate_to_random(provider, value, sealed=True)
    again = await refresh(rp, value)
    assert again["refresh_token"] == older


async def test_successor_not_matching_its_hash_is_refused(
    provider, rp, first, refresh, refused
) -> None:
    # The key changed since the rotation (a new secret key): the successor cannot be derived
    # again, and the retry is refused without revoking the family.
    value = first["refresh_token"]
    await rotate_to_random(provider, value, sealed=False)
    assert (await refused(rp, value)).catalog_id == "refresh-expired"


# --- a lost race -----------------------------------------------------------------------------


def interleave(provider, monkeypatch, competitor: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Make the next refresh read its token, then let ``competitor`` run to completion before
    it goes on: two concurrent requests with the same refresh token, the first one losing."""
    grants = provider.store.grants
    read = grants.get_refresh_token
    results: list[Any] = []

    async def read_then_yield(token_hash: str) -> Any:
        found = await read(token_hash)
        if not results:
            monkeypatch.setattr(grants, "get_refresh_token", read)  # the competitor reads plainly
            results.append(await competitor())
        return found

    monkeypatch.setattr(grants, "get_refresh_token", read_then_yield)
    return results


async def test_lost_race_gets_the_winners_successor(
    provider, monkeypatch, rp, first, writes, events, refresh
) -> None:
    won = interleave(provider, monkeypatch, lambda: refresh(rp, first["refresh_token"]))
    lost = await refresh(rp, first["refresh_token"])
    (winner,) = won
    assert lost["refresh_token"] == winner["refresh_token"]  # one family, one successor
    assert lost["access_token"] != winner["access_token"]
    # the winner's one write, then the loser's failed rotation and its one write
    assert writes == ["rotate_refresh_token", "rotate_refresh_token", "add_access_token"]
    for body in (winner, lost):  # the loser's access token is recorded too
        assert await active(provider, body["access_token"])
    assert "refresh.reused" not in [e.name for e in events]
    nxt = await refresh(rp, lost["refresh_token"])
    assert nxt["access_token"]


# --- refusals --------------------------------------------------------------------------------


async def test_unknown_refresh_token(provider, rp, refused) -> None:
    assert (await refused(rp, "nope")).catalog_id == "refresh-unknown"


async def test_another_clients_refresh_token(provider, make_client, first, refused) -> None:
    other = await make_client("other", grant_types=("authorization_code", "refresh_token"))
    err = await refused(other, first["refresh_token"])
    assert err.catalog_id == "refresh-client-mismatch"


async def test_wider_scope_is_refused(provider, rp, first, refused) -> None:
    err = await refused(rp, first["refresh_token"], scope="openid email")
    assert err.catalog_id == "scope-wider"


async def test_idle_expiry(provider, clock, rp, first, refused) -> None:
    clock.advance(provider.settings.refresh_idle_ttl)
    assert (await refused(rp, first["refresh_token"])).catalog_id == "refresh-expired"
