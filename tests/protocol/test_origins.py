"""Browser origins of a client (protocol/origins.py) and the check that runs before any side
effect at the token, UserInfo and revocation endpoints."""

from __future__ import annotations

import pytest

from keystead.errors import OAuthError
from keystead.protocol import origins, revocation
from keystead.protocol.request import OAuthRequest
from keystead.protocol.token import token_endpoint
from keystead.protocol.userinfo import userinfo
from keystead.services.clients import ClientSpec, ClientSpecError, validate_spec

pytestmark = pytest.mark.anyio

SPA = "https://spa.example.org"


@pytest.mark.parametrize(
    ("uri", "origin"),
    [
        ("https://RP.example.com/callback", "https://rp.example.com"),
        ("https://rp.example.com:443/callback", "https://rp.example.com"),
        ("https://rp.example.com:8443/cb?x=1", "https://rp.example.com:8443"),
        ("http://localhost:5173/callback.html", "http://localhost:5173"),
        ("http://127.0.0.1:80/cb", "http://127.0.0.1"),
        ("http://[::1]:8080/cb", "http://[::1]:8080"),
        ("com.example.app:/cb", None),  # not a web origin
        ("https://[::1/cb", None),
    ],
)
def test_origin_of_is_what_browsers_send(uri: str, origin: str | None) -> None:
    assert origins.origin_of(uri) == origin


@pytest.mark.parametrize(
    ("value", "origin"),
    [
        ("https://spa.example.org", SPA),
        ("https://SPA.example.org:443/", SPA),
        ("http://localhost:3000", "http://localhost:3000"),
    ],
)
def test_allowed_origins_are_normalized(value: str, origin: str) -> None:
    assert origins.parse_origin(value) == origin


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("https://spa.example.org/app", "must not have a path"),
        ("http://spa.example.org", "use https"),
        ("spa.example.org", "scheme://host"),
        ("https://spa.example.org?x", "scheme://host"),
        ("https://u@spa.example.org", "scheme://host"),
        ("null", "scheme://host"),
        ("*", "scheme://host"),
    ],
)
def test_bad_allowed_origins_are_refused_at_registration(value: str, says: str) -> None:
    spec = ClientSpec(client_name="SPA", redirect_uris=[SPA + "/cb"], allowed_origins=[value])
    with pytest.raises(ClientSpecError, match=says):
        validate_spec(spec)


async def test_client_origins_from_redirect_uris_and_allowed_origins(make_client) -> None:
    client = await make_client(
        redirect_uris=("https://rp.example.com/cb", "https://rp.example.com/other", "x.y.z:/cb"),
        extra={"allowed_origins": [SPA]},
    )
    assert origins.client_origins(client) == {"https://rp.example.com", SPA}


def with_origin(req: OAuthRequest, origin: str) -> OAuthRequest:
    return req._replace(headers={"origin": origin})


async def test_token_request_from_another_origin_does_not_burn_the_code(
    oauth, provider, public_client, session, events
) -> None:
    code = await oauth.code(public_client, session)
    req = oauth.token_request(public_client, code, secret=None)
    with pytest.raises(OAuthError) as refused:
        await token_endpoint(with_origin(req, "https://evil.example.net"), provider)
    assert refused.value.catalog_id == "origin-not-allowed"
    assert "https://evil.example.net" in refused.value.description
    seen = [e for e in events if e.name == "cors.origin_refused"]
    assert seen and seen[0].data["client_id"] == "spa"
    assert "redirect URIs" in seen[0].data["reason"]
    # RFC 6749 §4.1.2: single use, but the refused request did not use it.
    body = await token_endpoint(with_origin(req, "https://rp.example.com"), provider)
    assert body["access_token"]


async def test_no_origin_or_same_origin_is_not_a_cors_request(
    oauth, provider, public_client, session
) -> None:
    code = await oauth.code(public_client, session)
    req = oauth.token_request(public_client, code, secret=None)
    assert (await token_endpoint(with_origin(req, "https://id.example.com"), provider))["scope"]
    code = await oauth.code(public_client, session)
    assert await token_endpoint(oauth.token_request(public_client, code, secret=None), provider)


async def test_refused_revocation_revokes_nothing(oauth, provider, public_client, session) -> None:
    code = await oauth.code(public_client, session)
    tokens = await token_endpoint(oauth.token_request(public_client, code, secret=None), provider)
    revoke = OAuthRequest(
        "POST", {"token": tokens["access_token"], "client_id": "spa"}, headers={"origin": SPA}
    )
    with pytest.raises(OAuthError, match="origin-not-allowed"):
        await revocation.revoke(revoke, provider)
    read = OAuthRequest("GET", {}, authorization="Bearer " + tokens["access_token"])
    assert (await userinfo(read, provider))["sub"]  # still valid
    with pytest.raises(OAuthError, match="origin-not-allowed"):
        await userinfo(with_origin(read, SPA), provider)
    assert (await userinfo(with_origin(read, "https://rp.example.com"), provider))["sub"]
