"""The admin REST API: keystead's own client_credentials tokens with keystead:admin guard it;
clients, APIs, users and signing keys through the same services as the CLI; field-level
errors and nothing half-written; key rotation keeps issued ID tokens verifiable."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from keystead.jose.jwt import _registry
from tests.e2e.conftest import REDIRECT_URI, Browser, Env, pkce_pair, query_of
from tests.e2e.test_authorize_errors import auth_url
from tests.e2e.test_server_process import Cli, server  # noqa: F401 - the fixture

pytestmark = pytest.mark.anyio

ADMIN = "/admin/api"


async def admin_token(env: Env, scope: str = "keystead:admin") -> str:
    client_id, secret = await env.add_client(
        client_name="Admin bot",
        grant_types=["client_credentials"],
        redirect_uris=[],
        scope=scope,
    )
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={"grant_type": "client_credentials", "scope": scope},
            auth=(client_id, secret or ""),
        )
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def admin(env: Env, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return env.client(headers=headers)


@pytest.fixture
async def token(env: Env) -> str:
    return await admin_token(env)


# --- who may call it ---


async def test_refused_without_a_token(env: Env) -> None:
    async with admin(env, None) as http:
        r = await http.get(f"{ADMIN}/clients")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "keystead:admin" in r.headers["www-authenticate"]


async def test_refused_with_a_token_for_another_api(env: Env) -> None:
    from keystead.services.apis import ApiSpec, create_api

    await create_api(
        env.provider.store, ApiSpec("https://api.example", "API", [("read", "R")]), env.clock()
    )
    env.provider.forget_apis()
    other = await admin_token(env, scope="read")
    async with admin(env, other) as http:
        r = await http.get(f"{ADMIN}/clients")
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"


async def test_refused_with_garbage(env: Env) -> None:
    async with admin(env, "not-a-token") as http:
        assert (await http.get(f"{ADMIN}/users")).status_code == 401


async def test_refused_with_a_user_token(env: Env) -> None:
    await env.add_user()
    client_id, secret = await env.add_client(scope="openid keystead:admin")
    verifier, challenge = pkce_pair()
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(
            await browser.open(
                auth_url(client_id, scope="openid keystead:admin", code_challenge=challenge)
            )
        )
        if 'name="decision"' in page.text:
            page = await browser.consent(page)
        code = query_of(page.headers["location"])["code"]
        r = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            auth=(client_id, secret or ""),
        )
    assert r.status_code == 200, r.text
    # The reserved scope is never granted through a user's authorization ...
    assert "keystead:admin" not in r.json()["scope"]
    async with admin(env, r.json()["access_token"]) as http:
        r = await http.get(f"{ADMIN}/clients")
    # ... and the admin API refuses a user's token anyway.
    assert r.status_code in (401, 403)
    assert r.json()["error"] in ("invalid_token", "insufficient_scope")


async def test_the_reserved_admin_api_exists_and_cannot_be_changed(env: Env, token: str) -> None:
    async with admin(env, token) as http:
        apis = (await http.get(f"{ADMIN}/apis")).json()["items"]
        (reserved,) = [a for a in apis if a["identifier"] == env.settings.url("/admin/api")]
        assert set(reserved["scopes"]) == {"keystead:admin"}
        assert reserved["token_format"] == "jwt"
        api_id = reserved["api_id"]
        r = await http.delete(f"{ADMIN}/apis/{api_id}")
        assert r.status_code == 409
        r = await http.patch(f"{ADMIN}/apis/{api_id}", json={"name": "mine"})
        assert r.status_code == 409


async def test_openapi_document(env: Env) -> None:
    async with env.client() as http:
        r = await http.get(f"{ADMIN}/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    assert "/clients/{client_id}" in doc["paths"]
    assert "patch" in doc["paths"]["/clients/{client_id}"]
    assert "ClientCreate" in doc["components"]["schemas"]
    flows = doc["components"]["securitySchemes"]["keystead"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == env.settings.url("/token")


# --- clients ---


async def test_clients_crud_and_pagination(env: Env, token: str) -> None:
    async with admin(env, token) as http:
        created = []
        for n in range(5):
            r = await http.post(
                f"{ADMIN}/clients",
                json={"client_name": f"App {n}", "redirect_uris": [f"https://app{n}.example/cb"]},
            )
            assert r.status_code == 201, r.text
            assert r.json()["client_secret"]
            assert r.headers["location"].endswith(f"/clients/{r.json()['client_id']}")
            created.append(r.json()["client_id"])
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = (await http.get(f"{ADMIN}/clients", params=params)).json()
            assert len(page["items"]) <= 2
            seen += [c["client_id"] for c in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert set(created) <= set(seen) and len(seen) == len(set(seen))

        client_id = created[0]
        r = await http.patch(
            f"{ADMIN}/clients/{client_id}",
            json={"redirect_uris": ["https://moved.example/cb"], "logo_uri": "https://l.example"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["redirect_uris"] == ["https://moved.example/cb"]
        assert r.json()["client_name"] == "App 0"
        assert "client_secret" not in r.json()

        r = await http.post(f"{ADMIN}/clients/{client_id}/secret")
        assert r.status_code == 200 and r.json()["client_secret"]

        assert (await http.delete(f"{ADMIN}/clients/{client_id}")).status_code == 204
        assert (await http.get(f"{ADMIN}/clients/{client_id}")).status_code == 404


async def test_client_errors_are_per_field_and_nothing_is_written(env: Env, token: str) -> None:
    async with admin(env, token) as http:
        r = await http.post(
            f"{ADMIN}/clients", json={"client_name": "A", "redirect_uris": ["https://a.example/cb"]}
        )
        client_id = r.json()["client_id"]
        before = (await http.get(f"{ADMIN}/clients/{client_id}")).json()

        r = await http.patch(
            f"{ADMIN}/clients/{client_id}",
            json={"client_name": "B", "redirect_uris": ["http://evil.example/cb"]},
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "redirect_uris"
        assert (await http.get(f"{ADMIN}/clients/{client_id}")).json() == before

        r = await http.post(f"{ADMIN}/clients", json={"client_name": "", "colour": "red"})
        assert r.status_code == 422
        fields = {e["field"] for e in r.json()["errors"]}
        assert fields == {"client_name", "colour"}

        r = await http.post(
            f"{ADMIN}/clients",
            json={"client_name": "C", "redirect_uris": ["https://c.example"], "grant_types": ["x"]},
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "grant_types"

        r = await http.post(
            f"{ADMIN}/clients", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert r.status_code == 422

        r = await http.get(f"{ADMIN}/clients", params={"cursor": "garbage"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"

        r = await http.post(
            f"{ADMIN}/clients",
            json={
                "client_name": "D",
                "redirect_uris": ["https://d.example"],
                "client_id": client_id,
            },
        )
        assert r.status_code == 409


# --- APIs and users ---


async def test_apis_crud(env: Env, token: str) -> None:
    async with admin(env, token) as http:
        r = await http.post(
            f"{ADMIN}/apis",
            json={"identifier": "https://notes.example", "scopes": {"notes:read": "Read notes"}},
        )
        assert r.status_code == 201, r.text
        api_id = r.json()["api_id"]
        r = await http.post(
            f"{ADMIN}/apis",
            json={"identifier": "https://other.example", "scopes": {"notes:read": "Mine too"}},
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "scopes"
        r = await http.patch(
            f"{ADMIN}/apis/{api_id}",
            json={"scopes": {"notes:read": "Read", "notes:write": "Write"}, "rotate_secret": True},
        )
        assert r.status_code == 200, r.text
        assert set(r.json()["scopes"]) == {"notes:read", "notes:write"}
        assert r.json()["api_secret"]
        r = await http.patch(f"{ADMIN}/apis/{api_id}", json={"access_token_ttl": 5})
        assert r.status_code == 422
        assert (await http.delete(f"{ADMIN}/apis/{api_id}")).status_code == 204
        assert (await http.get(f"{ADMIN}/apis/{api_id}")).status_code == 404


async def test_users_crud(env: Env, token: str) -> None:
    async with admin(env, token) as http:
        r = await http.post(
            f"{ADMIN}/users",
            json={"username": "carol", "password": "long enough pw", "email": "c@example.com"},
        )
        assert r.status_code == 201, r.text
        sub = r.json()["sub"]
        assert "password" not in r.text
        dup = await http.post(
            f"{ADMIN}/users", json={"username": "carol", "password": "another long pw"}
        )
        assert dup.status_code == 409
        short = await http.post(f"{ADMIN}/users", json={"username": "dave", "password": "short"})
        assert short.status_code == 422 and short.json()["errors"][0]["field"] == "password"
        r = await http.patch(
            f"{ADMIN}/users/{sub}",
            json={
                "email_verified": True,
                "profile": {"locale": "de-DE"},
                "password": "new pw 1234",
            },
        )
        assert r.status_code == 200, r.text
        assert r.json()["email_verified"] is True and r.json()["profile"] == {"locale": "de-DE"}
        bad = await http.patch(f"{ADMIN}/users/{sub}", json={"profile": {"shoe_size": 44}})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "profile"
        assert (await http.delete(f"{ADMIN}/users/{sub}")).status_code == 204
        assert (await http.get(f"{ADMIN}/users/{sub}")).status_code == 404
    assert await env.provider.store.users.get_by_username("carol") is None


# --- signing keys ---


async def id_token(env: Env, client_id: str, secret: str) -> str:
    verifier, challenge = pkce_pair()
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.open(auth_url(client_id, scope="openid", code_challenge=challenge))
        if 'name="password"' in page.text:
            page = await browser.login(page)
        if 'name="decision"' in page.text:
            page = await browser.consent(page)
        code = query_of(page.headers["location"])["code"]
        r = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            auth=(client_id, secret),
        )
    assert r.status_code == 200, r.text
    value: str = r.json()["id_token"]
    return value


async def verify_with_published_jwks(env: Env, token: str) -> dict[str, Any]:
    async with env.client() as http:
        jwks = (await http.get("/jwks")).json()
    header = jose_jwt.decode(token, KeySet.import_key_set(jwks), registry=_registry(("ES256",)))
    return dict(header.claims)


def kid_of(token: str) -> str:
    from keystead.jose.client_keys import peek

    return str(peek(token)[0]["kid"])


async def test_key_rotation_keeps_issued_id_tokens_verifiable(env: Env, token: str) -> None:
    await env.add_user()
    client_id, secret = await env.add_client(skip_consent=True)
    assert secret is not None
    old_token = await id_token(env, client_id, secret)
    old_kid = kid_of(old_token)

    async with admin(env, token) as http:
        r = await http.post(f"{ADMIN}/keys/rotate", json={"algs": ["ES256"]})
        assert r.status_code == 200, r.text
        (new_key,) = r.json()
        assert new_key["alg"] == "ES256" and new_key["status"] == "next"
        keys = {k["kid"]: k for k in (await http.get(f"{ADMIN}/keys")).json()["items"]}
        assert keys[old_kid]["status"] == "retiring"
        # the only active ES256 key cannot be retired yet
        assert (await http.delete(f"{ADMIN}/keys/{old_kid}")).status_code == 409

    # Published at once, so verifiers learn it before it signs; the old key stays.
    assert (await verify_with_published_jwks(env, old_token))["aud"] == client_id
    env.clock.now = new_key["activate_at"] + 1
    env.provider.forget_keys()
    new_token = await id_token(env, client_id, secret)
    assert kid_of(new_token) == new_key["kid"]
    assert await verify_with_published_jwks(env, new_token)
    # Previously issued ID tokens still verify against the published JWKS.
    assert (await verify_with_published_jwks(env, old_token))["sub"]

    async with admin(env, token) as http:
        # Now the old key may be retired (a compromise): it leaves the JWKS at once.
        assert (await http.delete(f"{ADMIN}/keys/{old_kid}")).status_code == 204
        assert (await http.get(f"{ADMIN}/keys/{old_kid}")).json()["status"] == "retired"
    async with env.client() as http:
        kids = {k["kid"] for k in (await http.get("/jwks")).json()["keys"]}
    assert old_kid not in kids and new_key["kid"] in kids


async def test_key_create_and_bad_alg(env: Env, token: str) -> None:
    async with admin(env, token) as http:
        r = await http.post(f"{ADMIN}/keys", json={"alg": "EdDSA"})
        assert r.status_code == 201 and r.json()["alg"] == "EdDSA"
        r = await http.post(f"{ADMIN}/keys", json={"alg": "HS256"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "alg"
        assert (await http.get(f"{ADMIN}/keys/nope")).status_code == 404


# --- a 422 is one complete response (issue 18 item 5) ---


async def test_a_422_body_is_complete_json_with_its_content_length(env: Env, token: str) -> None:
    async with admin(env, token) as http:
        r = await http.post(f"{ADMIN}/clients", json={"client_name": "", "colour": "red"})
    assert r.status_code == 422
    assert r.headers.get_list("content-length") == [str(len(r.content))]
    body = r.json()  # the whole body, the errors list inside
    assert {e["field"] for e in body["errors"]} == {"client_name", "colour"}
    assert body["error"] and body["error_description"].startswith("Invalid request")


def test_a_422_reaches_a_real_client_whole(server: tuple[Cli, str, list[str]]) -> None:  # noqa: F811
    """Over uvicorn: a Content-Length shorter than the body made it abort the connection."""
    cli, issuer, _ = server
    bot = cli.json(
        "client",
        "create",
        *("--name", "Admin bot", "--grant-type", "client_credentials"),
        *("--scope", "keystead:admin"),
    )
    cli.start()  # type: ignore[attr-defined]
    token = httpx.post(
        issuer + "/token",
        data={"grant_type": "client_credentials", "scope": "keystead:admin"},
        auth=(bot["client_id"], bot["client_secret"]),
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for body in (
        {"client_name": "A", "redirect_uris": ["http://evil.example/cb"]},  # a service refusal
        {"client_name": "", "colour": "red"},  # the body's schema
    ):
        r = httpx.post(issuer + ADMIN + "/clients", json=body, headers=headers)
        assert r.status_code == 422
        assert int(r.headers["content-length"]) == len(r.content)
        assert r.json()["errors"]
