"""Token endpoint failures (RFC 6749 §4.1.3, §5.2) and the tokens' lifecycle."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import REDIRECT_URI, Browser, Env, pkce_pair, query_of
from tests.e2e.test_authorize_errors import auth_url

pytestmark = pytest.mark.anyio


async def redeem(
    env: Env,
    code: str,
    client_id: str,
    secret: str | None,
    *,
    expect: int,
    verifier: str | None = None,
    **extra: str,
) -> dict[str, Any]:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    if verifier is not None:
        data["code_verifier"] = verifier
    data.update(extra)
    auth = (client_id, secret) if secret else None
    if secret is None:
        data["client_id"] = client_id
    async with env.client() as http:
        r = await http.post("/token", data=data, auth=auth)
    assert r.status_code == expect, r.text
    assert r.headers["cache-control"] == "no-store"
    body: dict[str, Any] = r.json()
    return body


async def get_code(env: Env, client_id: str, **extra: str) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.open(auth_url(client_id, code_challenge=challenge, **extra))
        page = await browser.login(page)
        done = await browser.consent(page) if 'name="decision"' in page.text else page
    return query_of(done.headers["location"])["code"], verifier


@pytest.fixture
async def confidential(env: Env) -> tuple[str, str]:
    await env.add_user()
    client_id, secret = await env.add_client()
    assert secret is not None
    return client_id, secret


async def test_code_replay_revokes_tokens(env: Env, confidential: tuple[str, str]) -> None:
    client_id, secret = confidential
    code, verifier = await get_code(env, client_id)
    first = await redeem(env, code, client_id, secret, expect=200, verifier=verifier)
    async with env.client() as http:
        ok = await http.get(
            "/userinfo", headers={"Authorization": f"Bearer {first['access_token']}"}
        )
        assert ok.status_code == 200
    again = await redeem(env, code, client_id, secret, expect=400, verifier=verifier)
    assert again["error"] == "invalid_grant"
    assert "already used" in again["error_description"]
    async with env.client() as http:
        revoked = await http.get(
            "/userinfo", headers={"Authorization": f"Bearer {first['access_token']}"}
        )
    assert revoked.status_code == 401
    assert 'error="invalid_token"' in revoked.headers["www-authenticate"]


async def test_wrong_code_verifier(env: Env, confidential: tuple[str, str]) -> None:
    client_id, secret = confidential
    code, _ = await get_code(env, client_id)
    body = await redeem(env, code, client_id, secret, expect=400, verifier="w" * 43)
    assert body["error"] == "invalid_grant" and "code_verifier" in body["error_description"]


async def test_missing_code_verifier(env: Env, confidential: tuple[str, str]) -> None:
    client_id, secret = confidential
    code, _ = await get_code(env, client_id)
    body = await redeem(env, code, client_id, secret, expect=400)
    assert body["error"] == "invalid_grant" and "code_verifier" in body["error_description"]


async def test_wrong_redirect_uri(env: Env, confidential: tuple[str, str]) -> None:
    client_id, secret = confidential
    code, verifier = await get_code(env, client_id)
    body = await redeem(
        env,
        code,
        client_id,
        secret,
        expect=400,
        verifier=verifier,
        redirect_uri="https://rp.example.com/other",
    )
    assert body["error"] == "invalid_grant" and "redirect_uri" in body["error_description"]


async def test_code_of_another_client(env: Env, confidential: tuple[str, str]) -> None:
    client_id, _ = confidential
    other_id, other_secret = await env.add_client(client_name="Other")
    code, verifier = await get_code(env, client_id)
    body = await redeem(env, code, other_id, other_secret, expect=400, verifier=verifier)
    assert body["error"] == "invalid_grant" and "another client" in body["error_description"]


async def test_expired_code(env: Env, confidential: tuple[str, str]) -> None:
    client_id, secret = confidential
    code, verifier = await get_code(env, client_id)
    env.clock.now += env.settings.code_ttl + 1
    body = await redeem(env, code, client_id, secret, expect=400, verifier=verifier)
    assert body["error"] == "invalid_grant" and "expired" in body["error_description"]


async def test_unknown_code(env: Env, confidential: tuple[str, str]) -> None:
    client_id, secret = confidential
    body = await redeem(env, "made-up", client_id, secret, expect=400, verifier="x" * 43)
    assert body["error"] == "invalid_grant"


async def test_bad_client_secret_is_401_with_challenge(
    env: Env, confidential: tuple[str, str]
) -> None:
    client_id, _ = confidential
    code, verifier = await get_code(env, client_id)
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            auth=(client_id, "wrong-secret"),
        )
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    assert r.headers["www-authenticate"].startswith("Basic")


async def test_client_secret_post_when_registered_basic_is_refused(
    env: Env, confidential: tuple[str, str]
) -> None:
    client_id, secret = confidential
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": "x",
                "redirect_uri": REDIRECT_URI,
                "client_id": client_id,
                "client_secret": secret,
            },
        )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert "client_secret_basic" in r.json()["error_description"]


async def test_client_secret_post_client(env: Env) -> None:
    await env.add_user()
    client_id, secret = await env.add_client(token_endpoint_auth_method="client_secret_post")
    code, verifier = await get_code(env, client_id)
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "client_id": client_id,
                "client_secret": secret,
                "code_verifier": verifier,
            },
        )
    assert r.status_code == 200 and r.json()["access_token"]


async def test_duplicated_parameter_names_it(env: Env, confidential: tuple[str, str]) -> None:
    client_id, secret = confidential
    async with env.client() as http:
        r = await http.post(
            "/token",
            content=f"grant_type=authorization_code&code=a&code=b&redirect_uri={REDIRECT_URI}",
            headers={"content-type": "application/x-www-form-urlencoded"},
            auth=(client_id, secret),
        )
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request" and "code" in r.json()["error_description"]


async def test_json_body_is_invalid_request(env: Env, confidential: tuple[str, str]) -> None:
    client_id, secret = confidential
    async with env.client() as http:
        r = await http.post(
            "/token", json={"grant_type": "authorization_code"}, auth=(client_id, secret)
        )
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "data, error",
    [
        ({}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, "invalid_request"),
    ],
)
async def test_malformed_token_requests(
    env: Env, confidential: tuple[str, str], data: dict[str, str], error: str
) -> None:
    client_id, secret = confidential
    async with env.client() as http:
        r = await http.post("/token", data=data, auth=(client_id, secret))
    assert r.status_code == 400 and r.json()["error"] == error
    assert r.json()["error_description"]


async def test_malformed_basic_header(env: Env) -> None:
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={"grant_type": "authorization_code"},
            headers={"Authorization": "Basic !!!not-base64"},
        )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


async def test_pkce_downgrade_refused(env: Env) -> None:
    await env.add_user()
    client_id, secret = await env.add_client(require_pkce=False)
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.open(
            auth_url(client_id, code_challenge="<omit>", code_challenge_method="<omit>")
        )
        done = await browser.consent(await browser.login(page))
    code = query_of(done.headers["location"])["code"]
    body = await redeem(env, code, client_id, secret, expect=400, verifier="d" * 43)
    assert body["error"] == "invalid_grant" and "code_challenge" in body["error_description"]


async def test_grant_type_not_registered(env: Env) -> None:
    client_id, secret = await env.add_client(grant_types=["client_credentials"], redirect_uris=[])
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT_URI},
            auth=(client_id, secret),
        )
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"


async def test_userinfo_without_token(env: Env) -> None:
    async with env.client() as http:
        r = await http.get("/userinfo")
        bogus = await http.post("/userinfo", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert bogus.status_code == 401 and bogus.json()["error"] == "invalid_token"


async def test_userinfo_needs_openid_scope(env: Env, confidential: tuple[str, str]) -> None:
    client_id, secret = confidential
    code, verifier = await get_code(env, client_id, scope="profile")
    body = await redeem(env, code, client_id, secret, expect=200, verifier=verifier)
    assert "id_token" not in body
    async with env.client() as http:
        r = await http.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"


async def test_access_token_expires(env: Env, confidential: tuple[str, str]) -> None:
    client_id, secret = confidential
    code, verifier = await get_code(env, client_id)
    body = await redeem(env, code, client_id, secret, expect=200, verifier=verifier)
    env.clock.now += env.settings.access_token_ttl + 1
    async with env.client() as http:
        r = await http.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert r.status_code == 401


async def test_tokens_and_codes_stored_only_as_hashes(
    env: Env, confidential: tuple[str, str], tmp_path: object
) -> None:
    client_id, secret = confidential
    code, verifier = await get_code(env, client_id)
    body = await redeem(env, code, client_id, secret, expect=200, verifier=verifier)
    await env.provider.store.close()
    raw = (env.settings.data_dir / "keystead.db").read_bytes()
    for path in env.settings.data_dir.glob("keystead.db-wal"):
        raw += path.read_bytes()
    for value in (code, body["access_token"], secret, "correct horse battery staple"):
        assert value.encode() not in raw
    assert b"PRIVATE" not in raw and b'"d":' not in raw  # private keys encrypted at rest
    env.provider.store = await _reopen(env)


async def _reopen(env: Env) -> Any:
    from keystead.store.sql import open_store

    return await open_store(env.settings.sqlalchemy_url)
