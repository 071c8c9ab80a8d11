"""The device_code grant (RFC 8628) through token_endpoint, on the memory store with a fake
clock: pending, slow_down (+5 s), expired, denied, approved once."""

from __future__ import annotations

from typing import Any

import pytest

from keystead.errors import OAuthError
from keystead.protocol.device_authorization import (
    EXPIRES_IN,
    GRANT_TYPE,
    USER_CODE_ALPHABET,
    device_authorization,
    normalize_user_code,
    user_code_hash,
)
from keystead.protocol.request import OAuthRequest
from keystead.protocol.token import token_endpoint
from keystead.protocol.tokens import resolve_access_token
from keystead.secrets_util import sha256_hex
from keystead.store.base import Client, Session

pytestmark = pytest.mark.anyio


@pytest.fixture
async def tv(make_client: Any) -> Client:
    return await make_client(
        "tv",
        secret=None,
        token_endpoint_auth_method="none",
        redirect_uris=(),
        grant_types=(GRANT_TYPE, "refresh_token"),
    )


def post(**params: str) -> OAuthRequest:
    return OAuthRequest(method="POST", params=params)


async def start(provider: Any, client: Client, scope: str = "openid profile") -> dict[str, Any]:
    return await device_authorization(post(client_id=client.client_id, scope=scope), provider)


async def poll(provider: Any, client: Client, device_code: str) -> dict[str, Any]:
    req = post(grant_type=GRANT_TYPE, client_id=client.client_id, device_code=device_code)
    return await token_endpoint(req, provider)


async def refused(provider: Any, client: Client, device_code: str) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        await poll(provider, client, device_code)
    return caught.value


async def test_device_authorization_response(provider: Any, tv: Client) -> None:
    body = await start(provider, tv)
    assert body["expires_in"] == EXPIRES_IN and body["interval"] == 5
    assert body["verification_uri"] == "https://id.example.com/device"
    assert body["verification_uri_complete"].endswith("?user_code=" + body["user_code"])
    user_code = body["user_code"]
    assert len(user_code) == 9 and user_code[4] == "-"
    assert set(user_code.replace("-", "")) <= set(USER_CODE_ALPHABET)
    stored = await provider.store.device_codes.get_by_user_code(user_code_hash(user_code))
    # Only hashes are stored.
    assert stored is not None and stored.device_code_hash == sha256_hex(body["device_code"])
    assert stored.scope == "openid profile" and stored.client_id == "tv"


async def test_client_must_be_registered_for_the_grant(provider: Any, make_client: Any) -> None:
    web = await make_client("web", secret=None, token_endpoint_auth_method="none")
    with pytest.raises(OAuthError) as caught:
        await start(provider, web)
    assert caught.value.catalog_id == "grant-type-not-allowed"


async def test_confidential_client_must_authenticate(provider: Any, make_client: Any) -> None:
    box = await make_client("box", grant_types=(GRANT_TYPE,))
    with pytest.raises(OAuthError) as caught:
        await device_authorization(post(client_id="box", client_secret="wrong"), provider)
    assert caught.value.error == "invalid_client"
    assert box.client_id == "box"


async def test_pending_slow_down_then_tokens_once(
    provider: Any, clock: Any, tv: Client, session: Session
) -> None:
    body = await start(provider, tv, "openid profile offline_access")
    device_code = body["device_code"]
    assert (await refused(provider, tv, device_code)).error == "authorization_pending"
    clock.advance(2)  # faster than the 5 s interval
    err = await refused(provider, tv, device_code)
    assert err.error == "slow_down" and "10 seconds" in err.description
    clock.advance(6)  # 6 s < the new 10 s interval: slow_down again, 15 s
    assert (await refused(provider, tv, device_code)).error == "slow_down"
    clock.advance(15)
    assert (await refused(provider, tv, device_code)).error == "authorization_pending"
    hashed = user_code_hash(body["user_code"])
    assert await provider.store.device_codes.approve(
        hashed, session.sub, session.sid, session.auth_time, clock()
    )
    clock.advance(15)
    tokens = await poll(provider, tv, device_code)
    assert tokens["token_type"] == "Bearer" and tokens["id_token"] and tokens["refresh_token"]
    resolved = await resolve_access_token(provider, tokens["access_token"])
    assert resolved is not None
    clock.advance(15)
    assert (await refused(provider, tv, device_code)).catalog_id == "device-code-used"


async def test_denied(provider: Any, clock: Any, tv: Client, session: Session) -> None:
    body = await start(provider, tv)
    hashed = user_code_hash(body["user_code"])
    assert await provider.store.device_codes.deny(hashed, session.sub, clock())
    err = await refused(provider, tv, body["device_code"])
    assert err.error == "access_denied"


async def test_expired(provider: Any, clock: Any, tv: Client, session: Session) -> None:
    body = await start(provider, tv)
    clock.advance(EXPIRES_IN)
    err = await refused(provider, tv, body["device_code"])
    assert err.error == "expired_token"
    hashed = user_code_hash(body["user_code"])
    assert not await provider.store.device_codes.approve(hashed, session.sub, None, None, clock())


async def test_unknown_and_other_client(provider: Any, make_client: Any, tv: Client) -> None:
    body = await start(provider, tv)
    assert (await refused(provider, tv, "nope")).catalog_id == "device-code-unknown"
    other = await make_client(
        "tv2", secret=None, token_endpoint_auth_method="none", grant_types=(GRANT_TYPE,)
    )
    err = await refused(provider, other, body["device_code"])
    assert err.catalog_id == "device-code-client-mismatch"


def test_user_code_normalization() -> None:
    assert normalize_user_code("bcdf-ghjk") == "BCDF-GHJK"
    assert normalize_user_code(" bcdfghjk ") == "BCDF-GHJK"
    assert normalize_user_code("BCDF-GHJA") is None  # vowels are not in the alphabet
    assert normalize_user_code("BCDF-GHJ") is None
