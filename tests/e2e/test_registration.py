"""Dynamic client registration (RFC 7591) and management (RFC 7592), end to end: register,
use the new client in a code flow with Authlib, read, replace (with secret rotation), delete —
after which it can no longer authenticate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc.jwk import ECKey
from typer.testing import CliRunner

from keystead.protocol.registration import mint_initial_access_token
from tests.e2e.conftest import REDIRECT_URI, Browser, Env, make_env, query_of

pytestmark = pytest.mark.anyio


async def initial_token(env: Env, reusable: bool = False) -> str:
    token, _ = await mint_initial_access_token(env.provider, expires_in=3600, reusable=reusable)
    return token


async def register(env: Env, metadata: dict[str, Any], token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with env.client() as http:
        return await http.post("/register", json=metadata, headers=headers)


async def code_flow(env: Env, client_id: str, secret: str) -> dict[str, Any]:
    rp = AsyncOAuth2Client(
        client_id=client_id,
        client_secret=secret,
        scope="openid email",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        transport=httpx.ASGITransport(app=env.app),
        base_url=env.settings.issuer,
    )
    verifier = "r" * 43
    url, _ = rp.create_authorization_url("/authorize", code_verifier=verifier)
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(await browser.open(url))
        if 'name="decision"' in page.text:
            assert "Notes App" in page.text  # the registered client_name on the consent page
            page = await browser.consent(page)
    location = page.headers["location"]
    assert "code" in query_of(location), location
    token: dict[str, Any] = await rp.fetch_token(
        "/token", authorization_response=location, code_verifier=verifier
    )
    await rp.aclose()
    return token


async def token_with(env: Env, client_id: str, secret: str) -> httpx.Response:
    async with env.client() as http:
        return await http.post(
            "/token",
            data={"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT_URI},
            auth=(client_id, secret),
        )


METADATA = {
    "client_name": "Notes App",
    "redirect_uris": [REDIRECT_URI],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "scope": "openid email offline_access",
    "contacts": ["ops@notes.example"],
    "logo_uri": "https://notes.example/logo.png",
    "unknown_extension": "ignored",
}


async def test_register_use_update_delete(env: Env) -> None:
    await env.add_user()
    r = await register(env, METADATA, await initial_token(env))
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    client_id, secret = body["client_id"], body["client_secret"]
    assert body["client_secret_expires_at"] == 0
    assert body["client_id_issued_at"] == env.clock()
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert body["registration_client_uri"] == env.settings.url(f"/register/{client_id}")
    assert body["contacts"] == ["ops@notes.example"]
    assert "unknown_extension" not in body
    assert "skip_consent" not in body
    access = body["registration_access_token"]
    stored = await env.provider.store.clients.get(client_id)
    assert stored is not None and access not in json.dumps(stored.extra)  # hash only

    token = await code_flow(env, client_id, secret)
    assert token["token_type"] == "Bearer" and "id_token" in token

    manage = {"Authorization": f"Bearer {access}"}
    async with env.client() as http:
        read = await http.get(f"/register/{client_id}", headers=manage)
        assert read.status_code == 200
        assert read.json()["client_name"] == "Notes App"
        assert "client_secret" not in read.json()

        # RFC 7592 §2.2: full replacement; without client_secret a new one is issued.
        update = {**METADATA, "client_id": client_id, "client_name": "Notes App 2"}
        del update["contacts"]
        put = await http.put(f"/register/{client_id}", json=update, headers=manage)
        assert put.status_code == 200, put.text
        new_secret = put.json()["client_secret"]
        assert new_secret != secret
        assert put.json()["client_name"] == "Notes App 2"
        assert "contacts" not in put.json()  # omitted: removed
    env.provider.forget_client(client_id)
    assert (await token_with(env, client_id, secret)).status_code == 401
    assert (await token_with(env, client_id, new_secret)).json()["error"] == "invalid_grant"

    async with env.client() as http:
        # Keeping the secret: send the current one.
        keep = {**METADATA, "client_id": client_id, "client_secret": new_secret}
        put = await http.put(f"/register/{client_id}", json=keep, headers=manage)
        assert put.status_code == 200 and "client_secret" not in put.json()
        # A chosen secret is refused (RFC 7592 §2.2).
        chosen = {**METADATA, "client_id": client_id, "client_secret": "mine"}
        put = await http.put(f"/register/{client_id}", json=chosen, headers=manage)
        assert put.status_code == 400 and put.json()["error"] == "invalid_client_metadata"

        deleted = await http.delete(f"/register/{client_id}", headers=manage)
        assert deleted.status_code == 204
        gone = await http.get(f"/register/{client_id}", headers=manage)
        assert gone.status_code == 401
        assert gone.json()["error"] == "invalid_token"
    r = await token_with(env, client_id, new_secret)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


async def test_initial_access_token_is_required(env: Env) -> None:
    r = await register(env, METADATA)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = await register(env, METADATA, "made-up")
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


async def test_single_use_and_reusable_tokens(env: Env) -> None:
    once = await initial_token(env)
    assert (await register(env, METADATA, once)).status_code == 201
    assert (await register(env, METADATA, once)).status_code == 401
    many = await initial_token(env, reusable=True)
    assert (await register(env, METADATA, many)).status_code == 201
    assert (await register(env, METADATA, many)).status_code == 201


async def test_a_refused_registration_does_not_use_up_the_token(env: Env) -> None:
    once = await initial_token(env)
    bad = await register(env, {**METADATA, "redirect_uris": ["http://evil.example/cb"]}, once)
    assert bad.status_code == 400
    assert (await register(env, METADATA, once)).status_code == 201


async def test_expired_initial_access_token(env: Env) -> None:
    token = await initial_token(env)
    env.clock.now += 3601
    assert (await register(env, METADATA, token)).status_code == 401


async def test_open_registration(tmp_path: Path) -> None:
    env = await make_env(tmp_path, open_registration=True)
    try:
        assert (await register(env, METADATA)).status_code == 201
    finally:
        await env.provider.close()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"redirect_uris": ["http://app.example.com/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://app.example.com/cb#frag"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["com.example.app:/cb"]}, "invalid_redirect_uri"),  # web: no
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        ({"redirect_uris": "https://app.example.com/cb"}, "invalid_client_metadata"),
        ({"response_types": ["token"]}, "invalid_client_metadata"),  # no implicit grant
        ({"grant_types": ["implicit"], "response_types": ["code"]}, "invalid_client_metadata"),
        (
            {"grant_types": ["authorization_code"], "response_types": ["id_token"]},
            "invalid_client_metadata",
        ),
        (
            {"jwks": {"keys": []}, "jwks_uri": "https://app.example.com/jwks"},
            "invalid_client_metadata",
        ),
        ({"scope": "openid keystead:admin"}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "tls_client_auth"}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
        ({"application_type": "desktop"}, "invalid_client_metadata"),
        ({"software_statement": "eyJ..."}, "invalid_software_statement"),
        ({"logo_uri": "javascript:alert(1)"}, "invalid_client_metadata"),
    ],
)
async def test_invalid_metadata(env: Env, changes: dict[str, Any], error: str) -> None:
    r = await register(env, {**METADATA, **changes}, await initial_token(env, reusable=True))
    assert r.status_code == 400, r.text
    assert r.json()["error"] == error
    assert r.json()["error_description"]


async def test_native_app_redirect_uris(env: Env) -> None:
    metadata = {
        **METADATA,
        "application_type": "native",
        "token_endpoint_auth_method": "none",
        "redirect_uris": ["com.example.notes:/callback", "http://127.0.0.1/callback"],
    }
    r = await register(env, metadata, await initial_token(env))
    assert r.status_code == 201, r.text
    assert "client_secret" not in r.json()
    assert "client_secret_expires_at" not in r.json()


async def test_private_key_jwt_registration(env: Env) -> None:
    key = ECKey.generate_key("P-256", private=True)
    key.ensure_kid()
    jwks = {"keys": [{**key.as_dict(private=False), "kid": key.kid}]}
    metadata = {**METADATA, "token_endpoint_auth_method": "private_key_jwt", "jwks": jwks}
    r = await register(env, metadata, await initial_token(env))
    assert r.status_code == 201, r.text
    assert "client_secret" not in r.json()
    assert r.json()["jwks"] == jwks
    private = {**METADATA, **metadata, "jwks": {"keys": [key.as_dict(private=True)]}}
    r = await register(env, private, await initial_token(env))
    assert r.status_code == 400 and "private" in r.json()["error_description"]


async def test_registration_access_token_is_per_client(env: Env) -> None:
    token = await initial_token(env, reusable=True)
    a = (await register(env, METADATA, token)).json()
    b = (await register(env, METADATA, token)).json()
    async with env.client() as http:
        r = await http.get(
            f"/register/{b['client_id']}",
            headers={"Authorization": f"Bearer {a['registration_access_token']}"},
        )
        assert r.status_code == 401
        # A client made with the CLI has no registration access token: not manageable here.
        cli_client, _ = await env.add_client()
        r = await http.get(
            f"/register/{cli_client}",
            headers={"Authorization": f"Bearer {a['registration_access_token']}"},
        )
        assert r.status_code == 401


async def test_discovery_names_the_registration_endpoint(env: Env) -> None:
    async with env.client() as http:
        meta = (await http.get("/.well-known/openid-configuration")).json()
    assert meta["registration_endpoint"] == env.settings.url("/register")


def test_cli_mints_a_registration_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from keystead.cli import app

    monkeypatch.setenv("KEYSTEAD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KEYSTEAD_ISSUER", "http://127.0.0.1:8000")
    result = CliRunner().invoke(
        app, ["client", "registration-token", "--json", "--expires-in", "600"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data["initial_access_token"]) >= 43
    assert data["registration_endpoint"] == "http://127.0.0.1:8000/register"
    assert data["reusable"] is False


async def test_logout_metadata_through_registration(env: Env) -> None:
    good = {
        "redirect_uris": [REDIRECT_URI],
        "backchannel_logout_uri": "https://rp.example.com/backchannel",
        "backchannel_logout_session_required": True,
        "frontchannel_logout_uri": "https://rp.example.com/frontchannel",
    }
    made = await register(env, good, await initial_token(env))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["backchannel_logout_uri"] == "https://rp.example.com/backchannel"
    assert body["backchannel_logout_session_required"] is True
    assert body["frontchannel_logout_session_required"] is False
    bad = {**good, "frontchannel_logout_uri": "https://elsewhere.example/fc"}
    refused = await register(env, bad, await initial_token(env))
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_client_metadata"
    assert "frontchannel_logout_uri" in refused.json()["error_description"]
    flag = {**good, "backchannel_logout_session_required": "yes"}
    assert (await register(env, flag, await initial_token(env))).status_code == 400
