"""Issue 18 #4: a client registering itself (RFC 7591) cannot grant itself an API's scope.
Only the scopes the API's operator opened to self-registration may be asked for; every other
one is refused as invalid_client_metadata naming it. Operator-created clients are not bound."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from keystead.services import apis
from keystead.services.apis import ApiSpec
from keystead.services.common import CLI
from tests.e2e.conftest import REDIRECT_URI, Env
from tests.e2e.test_admin_api import ADMIN, admin, admin_token
from tests.e2e.test_registration import initial_token, register

pytestmark = pytest.mark.anyio

API = "https://api.example"
ATTACK = {
    "client_name": "Self-granted",
    "grant_types": ["client_credentials"],
    "response_types": [],
    "scope": "api:read",
}


async def make_api(env: Env, *open_scopes: str) -> str:
    spec = ApiSpec(
        identifier=API,
        scopes=[("api:read", "Read"), ("api:write", "Write")],
        self_registration_scopes=list(open_scopes),
    )
    api, _ = await apis.create(env.provider, spec, CLI)
    return api.api_id


async def client_credentials(env: Env, body: dict[str, Any], scope: str) -> httpx.Response:
    async with env.client() as http:
        return await http.post(
            "/token",
            data={"grant_type": "client_credentials", "scope": scope},
            auth=(body["client_id"], body["client_secret"]),
        )


def refused_scopes(r: httpx.Response) -> str:
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_client_metadata"
    description: str = r.json()["error_description"]
    return description


async def test_the_attack_is_refused_until_the_operator_allows_the_scope(env: Env) -> None:
    """The attack of the issue end to end: register with api:read and client_credentials."""
    token = await initial_token(env, reusable=True)
    await make_api(env)
    r = await register(env, ATTACK, token)
    description = refused_scopes(r)
    assert "api:read" in description and "self-registration-scope" in description
    assert not [
        c for c in await env.provider.store.clients.list() if c.client_name == ATTACK["client_name"]
    ]

    # the operator opens api:read to self-registration through the admin API
    admin_bearer = await admin_token(env)
    async with admin(env, admin_bearer) as http:
        (api,) = [
            a for a in (await http.get(f"{ADMIN}/apis")).json()["items"] if a["identifier"] == API
        ]
        assert api["self_registration_scopes"] == []
        r = await http.patch(
            f"{ADMIN}/apis/{api['api_id']}", json={"self_registration_scopes": ["api:read"]}
        )
        assert r.status_code == 200, r.text
        assert r.json()["self_registration_scopes"] == ["api:read"]

    r = await register(env, ATTACK, token)
    assert r.status_code == 201, r.text
    registered = r.json()
    assert registered["scope"] == "api:read"
    issued = await client_credentials(env, registered, "api:read")
    assert issued.status_code == 200, issued.text
    assert issued.json()["scope"] == "api:read"

    # a scope still closed is refused, named, and the open one is not
    r = await register(env, {**ATTACK, "scope": "openid api:read api:write"}, token)
    description = refused_scopes(r)
    assert "api:write" in description and "api:read" not in description


async def test_openid_scopes_are_free_and_unknown_scopes_refused(env: Env) -> None:
    token = await initial_token(env, reusable=True)
    await make_api(env, "api:read")
    free = {
        "redirect_uris": [REDIRECT_URI],
        "scope": "openid profile email address phone offline_access",
    }
    r = await register(env, free, token)
    assert r.status_code == 201, r.text
    # a name no API owns is refused too: an API created later must not find it granted
    description = refused_scopes(await register(env, {**free, "scope": "openid later:read"}, token))
    assert "later:read" in description and "no API defines it" in description
    both = {**free, "scope": "api:write later:read api:read"}
    description = refused_scopes(await register(env, both, token))
    assert "api:write" in description and "later:read" in description
    assert "api:read" not in description


async def test_an_update_is_held_to_the_policy_too(env: Env) -> None:
    """RFC 7592 §2.2: a client cannot widen its own scope by replacing its registration."""
    token = await initial_token(env)
    api_id = await make_api(env, "api:read")
    r = await register(env, ATTACK, token)
    assert r.status_code == 201, r.text
    body = r.json()
    manage = {"Authorization": f"Bearer {body['registration_access_token']}"}
    wider = {**ATTACK, "client_id": body["client_id"], "scope": "api:read api:write"}
    async with env.client() as http:
        put = await http.put(f"/register/{body['client_id']}", json=wider, headers=manage)
    assert "api:write" in refused_scopes(put)
    stored = await env.provider.store.clients.get(body["client_id"])
    assert stored is not None and stored.scope == "api:read"

    # The policy applies when a registration is made or changed: closing api:read later does
    # not take it from the client registered before ...
    api = await apis.get(env.provider, api_id)
    await apis.update(env.provider, api, CLI, self_registration_scopes=[])
    assert (await client_credentials(env, body, "api:read")).status_code == 200
    # ... but its next update may no longer ask for it.
    same = {**ATTACK, "client_id": body["client_id"], "client_secret": body["client_secret"]}
    async with env.client() as http:
        put = await http.put(f"/register/{body['client_id']}", json=same, headers=manage)
    assert "api:read" in refused_scopes(put)


async def test_a_refused_registration_leaves_a_single_use_token_usable(env: Env) -> None:
    token = await initial_token(env)
    await make_api(env)
    refused_scopes(await register(env, ATTACK, token))
    r = await register(env, {**ATTACK, "scope": "openid"}, token)
    assert r.status_code == 201, r.text


async def test_operator_created_clients_are_not_bound(env: Env) -> None:
    await make_api(env)
    client_id, secret = await env.add_client(
        grant_types=["client_credentials"], redirect_uris=[], scope="api:read api:write"
    )
    body = {"client_id": client_id, "client_secret": secret}
    assert (await client_credentials(env, body, "api:write")).status_code == 200


async def test_admin_api_sets_the_policy_and_refuses_a_scope_not_the_apis(env: Env) -> None:
    async with admin(env, await admin_token(env)) as http:
        r = await http.post(
            f"{ADMIN}/apis",
            json={
                "identifier": API,
                "scopes": {"api:read": "Read", "api:write": "Write"},
                "self_registration_scopes": ["api:read"],
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["self_registration_scopes"] == ["api:read"]
        api_id = r.json()["api_id"]
        r = await http.patch(
            f"{ADMIN}/apis/{api_id}", json={"self_registration_scopes": ["openid"]}
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "self_registration_scopes"
        assert "openid" in r.json()["errors"][0]["message"]
        r = await http.patch(f"{ADMIN}/apis/{api_id}", json={"name": "Renamed"})
        assert r.json()["self_registration_scopes"] == ["api:read"]  # absent: kept
        r = await http.post(
            f"{ADMIN}/apis",
            json={"identifier": "https://two.example", "self_registration_scopes": ["two:read"]},
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "self_registration_scopes"
        document = (await http.get(f"{ADMIN}/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert "self_registration_scopes" in schemas["ApiCreate"]["properties"]
    assert "self_registration_scopes" in schemas["ApiUpdate"]["properties"]
