"""The token endpoint: dispatch by grant_type, parameter allow-list, client authentication."""

from __future__ import annotations

import types

import pytest

from keystead.errors import OAuthError
from keystead.protocol.grants import GRANTS
from keystead.protocol.request import OAuthRequest
from keystead.protocol.token import token_endpoint

pytestmark = pytest.mark.anyio


async def refused(req, provider) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        await token_endpoint(req, provider)
    return caught.value


@pytest.fixture
def fake_grant(monkeypatch):
    """A registered grant that records the request it receives."""
    seen: list[OAuthRequest] = []

    async def handle(req, client, provider):
        seen.append(req)
        return {"ok": client.client_id}

    module = types.SimpleNamespace(
        GRANT_TYPE="urn:test", PARAMETERS=("code", "extra"), handle=handle
    )
    monkeypatch.setitem(GRANTS, "urn:test", module)
    return seen


def test_grants_table_is_keyed_by_each_modules_grant_type() -> None:
    assert "authorization_code" in GRANTS
    for name, module in GRANTS.items():
        assert module.GRANT_TYPE == name
        assert isinstance(module.PARAMETERS, tuple)
        assert callable(module.handle)


async def test_missing_grant_type(provider, client) -> None:
    err = await refused(OAuthRequest("POST", {"client_id": "rp"}), provider)
    assert err.catalog_id == "request-missing-parameter"


@pytest.mark.parametrize("grant_type", ["password", "implicit", "AUTHORIZATION_CODE"])
async def test_unsupported_grant_type(oauth, provider, client, grant_type) -> None:
    err = await refused(oauth.token_request(client, "c", grant_type=grant_type), provider)
    assert err.catalog_id == "grant-type-unsupported"
    assert err.error == "unsupported_grant_type"
    assert "authorization_code" in err.description


async def test_grant_type_not_registered_for_the_client(oauth, provider, make_client) -> None:
    client = await make_client(grant_types=("client_credentials",))
    err = await refused(oauth.token_request(client, "c"), provider)
    assert err.catalog_id == "grant-type-not-allowed"
    assert err.error == "unauthorized_client"
    assert "client_credentials" in err.description


async def test_client_is_authenticated_before_the_grant_runs(oauth, provider, client, fake_grant):
    req = OAuthRequest(
        "POST", {"grant_type": "urn:test"}, authorization=oauth.basic("rp", "wrong-secret")
    )
    err = await refused(req, provider)
    assert err.catalog_id == "client-secret-invalid"
    assert fake_grant == []


async def test_undeclared_parameters_are_stripped(oauth, provider, make_client, fake_grant):
    await make_client(grant_types=("urn:test",))
    params = {
        "grant_type": "urn:test",
        "code": "c",
        "extra": "e",
        "scope": "openid",
        "redirect_uri": "https://rp.example.com/callback",
        "nonce": "n",
        "unknown": "u",
    }
    req = OAuthRequest(
        "POST",
        params,
        duplicated=frozenset({"unknown"}),
        authorization=oauth.basic("rp", "rp-secret"),
        remote_addr="203.0.113.9",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert await token_endpoint(req, provider) == {"ok": "rp"}
    (seen,) = fake_grant
    assert dict(seen.params) == {
        "grant_type": "urn:test",
        "code": "c",
        "extra": "e",
        "scope": "openid",
    }
    assert seen.authorization == req.authorization
    assert seen.remote_addr == "203.0.113.9"
    assert seen.headers == req.headers


async def test_client_credentials_in_the_body_are_kept(provider, make_client, fake_grant) -> None:
    await make_client(grant_types=("urn:test",), token_endpoint_auth_method="client_secret_post")
    req = OAuthRequest(
        "POST", {"grant_type": "urn:test", "client_id": "rp", "client_secret": "rp-secret"}
    )
    assert await token_endpoint(req, provider) == {"ok": "rp"}


@pytest.mark.parametrize(
    "name", ["grant_type", "code", "redirect_uri", "code_verifier", "client_id", "scope"]
)
async def test_duplicated_declared_parameters_are_refused(
    oauth, provider, client, session, name
) -> None:
    code = await oauth.code(client, session)
    req = oauth.token_request(client, code)
    req = OAuthRequest(
        req.method, req.params, duplicated=frozenset({name}), authorization=req.authorization
    )
    err = await refused(req, provider)
    assert err.catalog_id == "request-duplicate-parameter"
    assert name in err.description


async def test_duplicated_undeclared_parameter_is_ignored(oauth, provider, client, session):
    code = await oauth.code(client, session)
    req = oauth.token_request(client, code, audience="https://api.example.com")
    req = OAuthRequest(
        req.method, req.params, duplicated=frozenset({"audience"}), authorization=req.authorization
    )
    body = await token_endpoint(req, provider)
    assert body["access_token"]
