"""RFC 7591 metadata -> client spec, without HTTP (protocol/registration.py)."""

from __future__ import annotations

from typing import Any

import pytest

from keystead.errors import OAuthError
from keystead.protocol.registration import mint_initial_access_token, parse_metadata

pytestmark = pytest.mark.anyio

BASE = {"redirect_uris": ["https://rp.example/cb"]}


def refused(body: Any) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        parse_metadata(body)
    return caught.value


def test_defaults_follow_the_specs() -> None:
    spec = parse_metadata(BASE)
    assert spec.grant_types == ["authorization_code"]  # RFC 7591 §2
    assert spec.response_types == ["code"]
    assert spec.token_endpoint_auth_method == "client_secret_basic"
    assert spec.id_token_signed_response_alg == "RS256"  # OIDC Registration §2
    assert spec.application_type == "web"
    assert spec.client_name == "rp.example"
    assert spec.require_pkce and not spec.skip_consent


def test_hybrid_needs_both_grants() -> None:
    body = {**BASE, "response_types": ["id_token code"], "grant_types": ["authorization_code"]}
    assert refused(body).catalog_id == "registration-metadata-invalid"
    body["grant_types"] = ["authorization_code", "implicit"]
    assert parse_metadata(body).response_types == ["code id_token"]


def test_client_credentials_only_needs_no_redirect_uri() -> None:
    spec = parse_metadata({"grant_types": ["client_credentials"], "response_types": []})
    assert spec.redirect_uris == []


@pytest.mark.parametrize(
    "body",
    [
        [],
        {**BASE, "grant_types": "authorization_code"},
        {**BASE, "contacts": [1]},
        {**BASE, "client_name": ""},
        {**BASE, "jwks": ["not", "a", "set"]},
        {**BASE, "scope": "openid keystead:admin"},
        {**BASE, "client_uri": "ftp://x.example"},
    ],
)
def test_invalid_client_metadata(body: Any) -> None:
    assert refused(body).error == "invalid_client_metadata"


def test_redirect_uri_rules_come_from_the_one_table() -> None:
    native = {"application_type": "native", "redirect_uris": ["com.example.app:/cb"]}
    assert parse_metadata(native).redirect_uris == ["com.example.app:/cb"]
    web = {"redirect_uris": ["com.example.app:/cb"]}
    assert refused(web).error == "invalid_redirect_uri"
    assert refused({"redirect_uris": ["https://a.example/cb#x"]}).error == "invalid_redirect_uri"
    loop = {"redirect_uris": ["http://127.0.0.1:8080/cb"]}
    assert parse_metadata(loop).redirect_uris == ["http://127.0.0.1:8080/cb"]


async def test_initial_access_token_lifetime_is_bounded(provider) -> None:
    from keystead.protocol.registration import InitialAccessTokenError

    with pytest.raises(InitialAccessTokenError):
        await mint_initial_access_token(provider, expires_in=10, reusable=False)
