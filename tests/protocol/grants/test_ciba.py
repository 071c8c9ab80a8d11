"""CIBA (OpenID CIBA Core 1.0) on the memory store with a fake clock: the backchannel
authentication request's checks, the user's answer (once, by that user), and the grant
(pending, slow_down +5 s, expired, denied, approved once; ID token with the approving
session's sid, acr, amr and auth_time)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from keystead.errors import OAuthError
from keystead.protocol import ciba
from keystead.protocol.ciba_metadata import GRANT_TYPE
from keystead.protocol.request import OAuthRequest
from keystead.protocol.token import token_endpoint
from keystead.secrets_util import sha256_hex
from keystead.store.base import Client, Session, User
from keystead.store.ciba_requests import CibaRequest
from tests.protocol.conftest import SECRET, basic

pytestmark = pytest.mark.anyio
ALICE = {"scope": "openid", "login_hint": "alice"}


@pytest.fixture
async def kiosk(make_client: Any) -> Client:
    return await make_client(
        "kiosk",
        redirect_uris=(),
        grant_types=(GRANT_TYPE, "refresh_token"),
        extra={"backchannel_token_delivery_mode": "poll"},
    )


def post(client: Client, **params: str) -> OAuthRequest:
    return OAuthRequest(method="POST", params=params, authorization=basic(client.client_id, SECRET))


async def start(provider: Any, client: Client, **params: str) -> str:
    params = {"scope": "openid profile", "login_hint": "alice", **params}
    body = await ciba.backchannel_authentication(post(client, **params), provider)
    assert body["interval"] == ciba.INTERVAL
    auth_req_id: str = body["auth_req_id"]
    return auth_req_id


async def refused_request(provider: Any, client: Client, **params: str) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        await ciba.backchannel_authentication(post(client, **params), provider)
    return caught.value


async def record(provider: Any, auth_req_id: str) -> CibaRequest:
    found = await provider.store.ciba_requests.get(sha256_hex(auth_req_id))
    assert found is not None
    return found  # type: ignore[no-any-return]


async def poll(provider: Any, client: Client, auth_req_id: str) -> dict[str, Any]:
    req = post(client, grant_type=GRANT_TYPE, auth_req_id=auth_req_id)
    return await token_endpoint(req, provider)


async def refused(provider: Any, client: Client, auth_req_id: str) -> str:
    with pytest.raises(OAuthError) as caught:
        await poll(provider, client, auth_req_id)
    return caught.value.error


async def test_request_stores_only_a_hash(
    provider: Any, kiosk: Client, user: User, events: list[Any]
) -> None:
    auth_req_id = await start(provider, kiosk, binding_message="Pay 5 EUR", acr_values="2")
    stored = await record(provider, auth_req_id)
    assert stored.sub == user.sub and stored.scope == "openid profile"
    assert stored.binding_message == "Pay 5 EUR" and stored.acr_values == "2"
    assert auth_req_id not in repr(stored)
    names = [e.name for e in events]
    assert "ciba.requested" in names and "ciba.notified" in names


@pytest.mark.parametrize(
    ("params", "catalog_id"),
    [
        ({"scope": "profile", "login_hint": "alice"}, "ciba-openid-scope-missing"),
        ({"scope": "openid"}, "ciba-hint-count"),
        ({"scope": "openid", "login_hint": "nobody"}, "ciba-unknown-user"),
        (
            {"scope": "openid", "login_hint": "alice", "binding_message": " "},
            "ciba-binding-message-invalid",
        ),
        (
            {"scope": "openid", "login_hint": "alice", "requested_expiry": "-5"},
            "ciba-requested-expiry-invalid",
        ),
        (
            {"scope": "openid", "login_hint": "alice", "requested_expiry": "１２"},
            "ciba-requested-expiry-invalid",
        ),
    ],
)
async def test_request_refused(
    provider: Any, kiosk: Client, user: User, params: dict[str, str], catalog_id: str
) -> None:
    assert (await refused_request(provider, kiosk, **params)).catalog_id == catalog_id


async def test_public_and_unregistered_clients(provider: Any, make_client: Any, user: User) -> None:
    await make_client(
        "pub", secret=None, token_endpoint_auth_method="none", grant_types=(GRANT_TYPE,)
    )
    req = OAuthRequest(
        method="POST", params={"client_id": "pub", "scope": "openid", "login_hint": "alice"}
    )
    with pytest.raises(OAuthError) as caught:
        await ciba.backchannel_authentication(req, provider)
    assert caught.value.catalog_id == "ciba-public-client"
    no_mode = await make_client("nomode", grant_types=(GRANT_TYPE,))
    assert (await refused_request(provider, no_mode, scope="openid", login_hint="alice")).error == (
        "unauthorized_client"
    )


async def test_ping_needs_a_token_and_seals_it(provider: Any, make_client: Any, user: User) -> None:
    ping = await make_client(
        "pinger",
        redirect_uris=(),
        grant_types=(GRANT_TYPE,),
        extra={
            "backchannel_token_delivery_mode": "ping",
            "backchannel_client_notification_endpoint": "https://pinger.example/cb",
        },
    )
    error = await refused_request(provider, ping, scope="openid", login_hint="alice")
    assert error.catalog_id == "ciba-notification-token-invalid"
    too_long = "a" * 1025
    error = await refused_request(
        provider, ping, scope="openid", login_hint="alice", client_notification_token=too_long
    )
    assert error.catalog_id == "ciba-notification-token-invalid"
    auth_req_id = await start(provider, ping, client_notification_token="secret-bearer")
    stored = await record(provider, auth_req_id)
    assert stored.ping_enc is not None and "secret-bearer" not in stored.ping_enc


async def test_grant_pending_slow_down_approved_once(
    provider: Any, kiosk: Client, user: User, session: Session, clock: Any
) -> None:
    auth_req_id = await start(provider, kiosk, scope="openid profile offline_access")
    assert await refused(provider, kiosk, auth_req_id) == "authorization_pending"
    clock.advance(2)
    assert await refused(provider, kiosk, auth_req_id) == "slow_down"
    assert (await record(provider, auth_req_id)).interval == 10  # §11: +5 s
    clock.advance(11)
    assert await refused(provider, kiosk, auth_req_id) == "authorization_pending"
    mfa = Session(**{**_fields(session), "amr": ("pwd", "otp", "mfa")})
    stored = await record(provider, auth_req_id)
    other = Session(**{**_fields(session), "sub": "someone-else"})
    assert not await ciba.answer(provider, stored, other, approve=True)  # not their request
    assert await ciba.answer(provider, stored, mfa, approve=True)
    assert not await ciba.answer(provider, stored, mfa, approve=False)  # answered once
    clock.advance(11)
    body = await poll(provider, kiosk, auth_req_id)
    assert "refresh_token" in body
    claims = json.loads(base64.urlsafe_b64decode(body["id_token"].split(".")[1] + "=="))
    assert claims["sub"] == user.sub and claims["sid"] == "sid-1"
    assert claims["acr"] == "2" and claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["auth_time"] == session.auth_time
    assert await refused(provider, kiosk, auth_req_id) == "invalid_grant"  # single use


async def test_grant_denied_and_expired(
    provider: Any, kiosk: Client, user: User, session: Session, clock: Any
) -> None:
    denied = await start(provider, kiosk)
    assert await ciba.answer(provider, await record(provider, denied), session, approve=False)
    assert await refused(provider, kiosk, denied) == "access_denied"
    late = await start(provider, kiosk, requested_expiry="10")
    clock.advance(10)
    assert not await ciba.answer(provider, await record(provider, late), session, approve=True)
    assert await refused(provider, kiosk, late) == "expired_token"


def _fields(session: Session) -> dict[str, Any]:
    return {name: getattr(session, name) for name in Session.__slots__}  # type: ignore[attr-defined]
