"""Dynamic registration as an operation (services/registration.py): the RFC 7591 side from
protocol/registration.py, the client stored by services/clients.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from keystead.errors import OAuthError
from keystead.protocol.registration import mint_initial_access_token
from keystead.protocol.request import OAuthRequest
from keystead.services.registration import register

pytestmark = pytest.mark.anyio

BASE = {"redirect_uris": ["https://rp.example/cb"]}


def body(metadata: dict[str, Any]) -> Callable[[], Awaitable[dict[str, Any]]]:
    """The request body as the service reads it: only when asked."""

    async def read() -> dict[str, Any]:
        return metadata

    return read


async def test_register_through_the_service(provider) -> None:
    token, _ = await mint_initial_access_token(provider, expires_in=600, reusable=False)
    req = OAuthRequest("POST", {}, authorization=f"Bearer {token}")
    result = await register(
        req, body({**BASE, "token_endpoint_auth_method": "client_secret_jwt"}), provider
    )
    assert result.status == 201
    stored = await provider.store.clients.get(result.body["client_id"])
    assert stored is not None and stored.token_endpoint_auth_method == "client_secret_jwt"
    assert stored.extra["client_secret_enc"].startswith("v1.")
    with pytest.raises(OAuthError) as caught:
        await register(req, body(BASE), provider)
    assert caught.value.catalog_id == "registration-token-invalid"


async def test_the_body_is_not_read_before_the_token_is_checked(provider) -> None:
    async def never() -> dict[str, Any]:
        raise AssertionError("an unauthenticated caller's body was parsed")

    req = OAuthRequest("POST", {}, authorization="Bearer not-a-token")
    with pytest.raises(OAuthError) as caught:
        await register(req, never, provider)
    assert caught.value.catalog_id == "registration-token-invalid"
