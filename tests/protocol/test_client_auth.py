"""Client authentication at the token endpoint (RFC 6749 §2.3, OIDC Core §9)."""

from __future__ import annotations

import pytest

from keystead.errors import OAuthError
from keystead.protocol.client_auth import CLIENT_AUTH_METHODS, authenticate_client
from keystead.protocol.request import OAuthRequest

pytestmark = pytest.mark.anyio

SECRET = "rp-secret"


def body(**params: str) -> OAuthRequest:
    return OAuthRequest("POST", {"grant_type": "authorization_code", **params})


def with_basic(oauth, basic_id: str, basic_secret: str, **params: str) -> OAuthRequest:
    header = oauth.basic(basic_id, basic_secret)
    return OAuthRequest(
        "POST", {"grant_type": "authorization_code", **params}, authorization=header
    )


async def refused(req: OAuthRequest, provider) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        await authenticate_client(req, provider)
    return caught.value


async def test_basic(oauth, provider, client) -> None:
    assert await authenticate_client(with_basic(oauth, "rp", SECRET), provider) == client


@pytest.mark.parametrize("secret", ["with:colon", "100%pure", "a+b c", "ümlaut/&=?"])
async def test_basic_with_urlencoded_secret(oauth, provider, make_client, secret) -> None:
    # RFC 6749 §2.3.1: client_id and secret are form-urlencoded before base64.
    client = await make_client("weird", secret=secret)
    found = await authenticate_client(with_basic(oauth, "weird", secret), provider)
    assert found == client


async def test_basic_with_urlencoded_client_id(oauth, provider, make_client) -> None:
    client = await make_client("urn:rp:one", secret="s:1")
    found = await authenticate_client(with_basic(oauth, "urn:rp:one", "s:1"), provider)
    assert found == client


async def test_basic_with_the_same_client_id_in_the_body(oauth, provider, client) -> None:
    req = with_basic(oauth, "rp", SECRET, client_id="rp")
    assert await authenticate_client(req, provider) == client


async def test_basic_with_another_client_id_in_the_body(oauth, provider, client) -> None:
    err = await refused(with_basic(oauth, "rp", SECRET, client_id="other"), provider)
    assert err.catalog_id == "client-auth-multiple"


async def test_basic_and_body_secret_is_multiple_methods(oauth, provider, client) -> None:
    err = await refused(with_basic(oauth, "rp", SECRET, client_secret=SECRET), provider)
    assert err.catalog_id == "client-auth-multiple"
    assert err.error == "invalid_request"


async def test_post(provider, make_client) -> None:
    client = await make_client(token_endpoint_auth_method="client_secret_post")
    req = body(client_id="rp", client_secret=SECRET)
    assert await authenticate_client(req, provider) == client


async def test_public_client_is_identified_without_secret(provider, public_client) -> None:
    assert await authenticate_client(body(client_id="spa"), provider) == public_client


async def test_no_credentials_at_all(provider, client) -> None:
    err = await refused(body(), provider)
    assert err.catalog_id == "client-auth-missing"
    assert err.status == 401
    assert err.headers["WWW-Authenticate"].startswith("Basic")


async def test_body_secret_without_client_id(provider, client) -> None:
    err = await refused(body(client_secret=SECRET), provider)
    assert err.catalog_id == "client-auth-missing"


async def test_unknown_client(oauth, provider) -> None:
    err = await refused(with_basic(oauth, "nobody", "x"), provider)
    assert err.catalog_id == "client-unknown"
    assert err.error == "invalid_client"
    assert err.status == 401
    assert "WWW-Authenticate" in err.headers


async def test_wrong_secret(oauth, provider, client) -> None:
    err = await refused(with_basic(oauth, "rp", "wrong"), provider)
    assert err.catalog_id == "client-secret-invalid"
    assert err.status == 401
    assert "WWW-Authenticate" in err.headers


async def test_empty_secret_is_wrong(oauth, provider, client) -> None:
    err = await refused(with_basic(oauth, "rp", ""), provider)
    assert err.catalog_id == "client-secret-invalid"


async def test_secret_is_compared_exactly(oauth, provider, client) -> None:
    err = await refused(with_basic(oauth, "rp", SECRET.upper()), provider)
    assert err.catalog_id == "client-secret-invalid"


async def test_wrong_secret_in_body(provider, make_client) -> None:
    await make_client(token_endpoint_auth_method="client_secret_post")
    err = await refused(body(client_id="rp", client_secret="wrong"), provider)
    assert err.catalog_id == "client-secret-invalid"


@pytest.mark.parametrize(
    ("registered", "presented"),
    [
        ("client_secret_basic", "post"),
        ("client_secret_basic", "none"),
        ("client_secret_post", "basic"),
        ("none", "basic"),
        ("none", "post"),
    ],
)
async def test_method_mismatch(oauth, provider, make_client, registered, presented) -> None:
    await make_client(token_endpoint_auth_method=registered)
    req = {
        "basic": with_basic(oauth, "rp", SECRET),
        "post": body(client_id="rp", client_secret=SECRET),
        "none": body(client_id="rp"),
    }[presented]
    err = await refused(req, provider)
    assert err.catalog_id == "client-auth-method-mismatch"
    assert err.error == "invalid_client"
    assert registered in err.description


async def test_basic_for_a_private_key_jwt_client(oauth, provider, make_client) -> None:
    await make_client(token_endpoint_auth_method="private_key_jwt")
    err = await refused(with_basic(oauth, "rp", SECRET), provider)
    assert err.catalog_id == "client-auth-method-mismatch"


async def test_unknown_registered_method(oauth, provider, make_client) -> None:
    await make_client(token_endpoint_auth_method="made_up_method")
    err = await refused(with_basic(oauth, "rp", SECRET), provider)
    assert err.catalog_id == "client-auth-method-mismatch"


async def test_confidential_method_without_a_stored_secret_never_authenticates(
    oauth, provider, make_client
) -> None:
    await make_client(secret=None)
    err = await refused(with_basic(oauth, "rp", ""), provider)
    assert err.catalog_id == "client-secret-invalid"


def test_auth_methods_table() -> None:
    assert set(CLIENT_AUTH_METHODS) == {
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt",
        "none",
        "tls_client_auth",  # RFC 8705 §2.1
        "self_signed_tls_client_auth",  # RFC 8705 §2.2
    }
