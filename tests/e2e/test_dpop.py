"""DPoP (RFC 9449) over HTTP against the real app: a code flow, refresh, UserInfo and
introspection with proofs signed by a client key (joserfc), and the attacker's moves —
replayed proofs, wrong htm/htu, stale iat, a bound token as Bearer or with another key's
proof, a missing ath, a required nonce, a public client's refresh token with another key."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from keystead.protocol.dpop import access_token_hash
from keystead.services.apis import ApiSpec, create_api
from tests.e2e.conftest import REDIRECT_URI, Browser, Env, make_env, pkce_pair, query_of
from tests.e2e.test_authorize_errors import auth_url

pytestmark = pytest.mark.anyio

ISSUER = "http://127.0.0.1:8000"
TOKEN_URL = ISSUER + "/token"
USERINFO_URL = ISSUER + "/userinfo"
NOTES = "https://notes.example.com"


def proof(
    key: Any,
    htm: str,
    htu: str,
    now: int,
    *,
    alg: str = "ES256",
    typ: str = "dpop+jwt",
    jwk: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    header = {"typ": typ, "alg": alg, "jwk": jwk or key.as_dict(private=False)}
    payload = {"jti": secrets.token_urlsafe(12), "htm": htm, "htu": htu, "iat": now, **claims}
    payload = {k: v for k, v in payload.items() if v is not None}
    return jose_jwt.encode(header, payload, key, algorithms=[alg])


async def setup(env: Env, *, public: bool, **extra: Any) -> str:
    await env.add_user()
    client_id, _ = await env.add_client(
        token_endpoint_auth_method="none" if public else "client_secret_basic",
        **extra,
    )
    return client_id


async def code_for(env: Env, client_id: str, **params: str) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    url = auth_url(
        client_id, scope="openid email offline_access", code_challenge=challenge, **params
    )
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(await browser.open(url))
        if 'name="decision"' in page.text:
            page = await browser.consent(page)
    return query_of(page.headers["location"])["code"], verifier


async def post_token(env: Env, data: dict[str, str], dpop: str | None) -> httpx.Response:
    async with env.client() as http:
        headers = {} if dpop is None else {"DPoP": dpop}
        return await http.post("/token", data=data, headers=headers)


def error_of(r: httpx.Response) -> tuple[str, str]:
    body = r.json()
    return body["error"], body.get("error_description", "")


async def dpop_tokens(env: Env, client_id: str, key: Any, **params: str) -> dict[str, Any]:
    code, verifier = await code_for(env, client_id, **params)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": client_id,
    }
    r = await post_token(env, data, proof(key, "POST", TOKEN_URL, env.clock()))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def userinfo(env: Env, token: str, scheme: str, dpop: str | None) -> httpx.Response:
    headers = {"Authorization": f"{scheme} {token}"}
    if dpop is not None:
        headers["DPoP"] = dpop
    async with env.client() as http:
        return await http.get("/userinfo", headers=headers)


async def test_public_client_code_refresh_userinfo_with_dpop(env: Env) -> None:
    client_id = await setup(env, public=True)
    key = ECKey.generate_key("P-256")
    tokens = await dpop_tokens(env, client_id, key)
    assert tokens["token_type"] == "DPoP"
    now = env.clock()
    at = tokens["access_token"]

    # UserInfo with the DPoP scheme and a proof bound to the token (ath).
    ok = await userinfo(
        env, at, "DPoP", proof(key, "GET", USERINFO_URL, now, ath=access_token_hash(at))
    )
    assert ok.status_code == 200, ok.text

    # The bound token as a Bearer token: refused.
    bearer = await userinfo(env, at, "Bearer", None)
    assert bearer.status_code == 401
    assert bearer.json()["error"] == "invalid_token"
    assert "DPoP-bound" in bearer.json()["error_description"]
    assert bearer.headers["www-authenticate"].startswith("DPoP ")

    # With a proof of another key: refused.
    other = ECKey.generate_key("P-256")
    stolen = await userinfo(
        env, at, "DPoP", proof(other, "GET", USERINFO_URL, now, ath=access_token_hash(at))
    )
    assert stolen.status_code == 401 and stolen.json()["error"] == "invalid_token"
    assert "another key" in stolen.json()["error_description"]

    # Without ath, or with the ath of another token: invalid_dpop_proof naming the check.
    no_ath = await userinfo(env, at, "DPoP", proof(key, "GET", USERINFO_URL, now))
    assert no_ath.status_code == 401
    assert no_ath.json()["error"] == "invalid_dpop_proof"
    assert "ath" in no_ath.json()["error_description"]
    assert 'error="invalid_dpop_proof"' in no_ath.headers["www-authenticate"]
    wrong_ath = await userinfo(
        env, at, "DPoP", proof(key, "GET", USERINFO_URL, now, ath=access_token_hash("x"))
    )
    assert "ath does not match" in wrong_ath.json()["error_description"]
    # The DPoP scheme without a proof at all.
    bare = await userinfo(env, at, "DPoP", None)
    assert bare.status_code == 401 and "DPoP header is missing" in bare.text

    # Refresh: a public client's refresh token is bound to the key.
    refresh = tokens["refresh_token"]
    data = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": client_id}
    without = await post_token(env, data, None)
    assert without.status_code == 400
    assert error_of(without)[0] == "invalid_dpop_proof"
    assert "refresh token is bound" in error_of(without)[1]
    with_other = await post_token(env, data, proof(other, "POST", TOKEN_URL, now))
    assert with_other.status_code == 400
    assert error_of(with_other)[0] == "invalid_grant"
    assert "another DPoP key" in error_of(with_other)[1]
    refreshed = await post_token(env, data, proof(key, "POST", TOKEN_URL, now))
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["token_type"] == "DPoP"
    # The successor is bound too.
    data2 = {**data, "refresh_token": refreshed.json()["refresh_token"]}
    again = await post_token(env, data2, proof(other, "POST", TOKEN_URL, now))
    assert error_of(again)[0] == "invalid_grant"

    # Discovery names the algs.
    async with env.client() as http:
        meta = (await http.get("/.well-known/openid-configuration")).json()
    assert meta["dpop_signing_alg_values_supported"] == ["RS256", "PS256", "ES256", "EdDSA"]


async def test_proof_checks_at_the_token_endpoint(env: Env) -> None:
    client_id = await setup(env, public=True)
    key = ECKey.generate_key("P-256")
    code, verifier = await code_for(env, client_id)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": client_id,
    }
    now = env.clock()
    cases = [
        (proof(key, "GET", TOKEN_URL, now), "htm must be POST"),
        (proof(key, "POST", ISSUER + "/userinfo", now), "htu must be"),
        (proof(key, "POST", "http://evil.example.com/token", now), "htu must be"),
        (proof(key, "POST", TOKEN_URL, now - 3600), "iat is not within"),
        (proof(key, "POST", TOKEN_URL, now + 3600), "iat is not within"),
        (proof(key, "POST", TOKEN_URL, now, typ="JWT"), "typ must be dpop+jwt"),
        (proof(key, "POST", TOKEN_URL, now, jti=None), "jti must be"),
        (
            proof(
                OctKey.generate_key(256), "POST", TOKEN_URL, now, alg="HS256", jwk={"kty": "oct"}
            ),
            "alg 'HS256' is not accepted",
        ),
        (
            proof(key, "POST", TOKEN_URL, now, jwk=key.as_dict(private=True)),
            "private",
        ),
        (
            proof(
                key, "POST", TOKEN_URL, now, jwk=ECKey.generate_key("P-256").as_dict(private=True)
            ),
            "private",
        ),
        (
            proof(
                key, "POST", TOKEN_URL, now, jwk=ECKey.generate_key("P-256").as_dict(private=False)
            ),
            "signature does not verify",
        ),
        ("not-a-jwt", "not a well-formed JWT"),
    ]
    for bad, words in cases:
        r = await post_token(env, data, bad)
        assert r.status_code == 400, (words, r.text)
        error, description = error_of(r)
        assert error == "invalid_dpop_proof", (words, r.text)
        assert words in description, (words, description)
    # Two DPoP headers.
    async with env.client() as http:
        p1, p2 = proof(key, "POST", TOKEN_URL, now), proof(key, "POST", TOKEN_URL, now)
        r = await http.post("/token", data=data, headers=[("DPoP", p1), ("DPoP", p2)])
    assert "more than one DPoP header" in error_of(r)[1]
    # htu with a query and a fragment still names the endpoint (§4.3 check 9).
    good = proof(key, "POST", TOKEN_URL + "?x=1#frag", now)
    r = await post_token(env, data, good)
    assert r.status_code == 200, r.text
    # The same proof again: a replay (its jti was recorded in the database).
    replay = await post_token(env, data, good)
    assert error_of(replay) == (
        "invalid_dpop_proof",
        "DPoP proof: its jti was already used; sign a new proof for every request.",
    )


async def test_dpop_jkt_binds_the_code(env: Env) -> None:
    client_id = await setup(env, public=True)
    key, other = ECKey.generate_key("P-256"), ECKey.generate_key("P-256")
    code, verifier = await code_for(env, client_id, dpop_jkt=key.thumbprint())
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": client_id,
    }
    r = await post_token(env, data, None)
    assert error_of(r)[0] == "invalid_dpop_proof" and "dpop_jkt" in error_of(r)[1]
    r = await post_token(env, data, proof(other, "POST", TOKEN_URL, env.clock()))
    assert error_of(r)[0] == "invalid_grant" and "another DPoP key" in error_of(r)[1]
    r = await post_token(env, data, proof(key, "POST", TOKEN_URL, env.clock()))
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP"


async def test_client_that_requires_dpop(env: Env) -> None:
    await env.add_user()
    from keystead.services.clients import ClientSpec, create_client

    client, secret = await create_client(
        env.provider.store,
        ClientSpec(client_name="Test App", redirect_uris=[REDIRECT_URI]),
        env.clock(),
        extra={"dpop_bound_access_tokens": True},
    )
    code, verifier = await code_for(env, client.client_id)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    async with env.client() as http:
        r = await http.post("/token", data=data, auth=(client.client_id, secret or ""))
        assert error_of(r)[0] == "invalid_dpop_proof"
        assert "dpop_bound_access_tokens" in error_of(r)[1]
        key = RSAKey.generate_key(2048)
        p = proof(key, "POST", TOKEN_URL, env.clock(), alg="PS256")
        r = await http.post(
            "/token", data=data, auth=(client.client_id, secret or ""), headers={"DPoP": p}
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "DPoP"
    # A confidential client's refresh token is not bound to the key (RFC 9449 §5).
    key2 = ECKey.generate_key("P-256")
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
            auth=(client.client_id, secret or ""),
            headers={"DPoP": proof(key2, "POST", TOKEN_URL, env.clock())},
        )
    assert r.status_code == 200, r.text
    # ... and the new access token is bound to the new key: introspection says so.
    async with env.client() as http:
        r = await http.post(
            "/introspect",
            data={"token": r.json()["access_token"]},
            auth=(client.client_id, secret or ""),
        )
    assert r.json()["token_type"] == "DPoP"
    assert r.json()["cnf"] == {"jkt": key2.thumbprint()}


async def test_jwt_access_token_carries_cnf(env: Env) -> None:
    await create_api(
        env.provider.store,
        ApiSpec(NOTES, "Notes", [("notes:read", "Read your notes")], token_format="jwt"),
        env.clock(),
    )
    env.provider.forget_apis()
    client_id = await setup(env, public=True, scope="openid email offline_access notes:read")
    key = ECKey.generate_key("P-256")
    code, verifier = await code_for(env, client_id)
    # scope of the API: ask for it at the token endpoint with the resource
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
                "client_id": client_id,
                "resource": NOTES,
            },
            headers={"DPoP": proof(key, "POST", TOKEN_URL, env.clock())},
        )
    assert r.status_code == 200, r.text
    value = r.json()["access_token"]
    assert value.count(".") == 2
    assert _claims(value)["cnf"] == {"jkt": key.thumbprint()}


def _claims(value: str) -> dict[str, Any]:
    import base64
    import json

    part = value.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


async def test_nonce_required(tmp_path: Path) -> None:
    env = await make_env(tmp_path, dpop_require_nonce=True)
    try:
        client_id = await setup(env, public=True)
        key = ECKey.generate_key("P-256")
        code, verifier = await code_for(env, client_id)
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": client_id,
        }
        r = await post_token(env, data, proof(key, "POST", TOKEN_URL, env.clock()))
        assert r.status_code == 400 and error_of(r)[0] == "use_dpop_nonce"
        nonce = r.headers["dpop-nonce"]
        bad = proof(key, "POST", TOKEN_URL, env.clock(), nonce="made-up")
        r = await post_token(env, data, bad)
        assert error_of(r)[0] == "use_dpop_nonce" and "outdated" in error_of(r)[1]
        r = await post_token(env, data, proof(key, "POST", TOKEN_URL, env.clock(), nonce=nonce))
        assert r.status_code == 200, r.text
        at = r.json()["access_token"]
        # At UserInfo: 401 with the challenge and a nonce.
        ui = await userinfo(
            env, at, "DPoP", proof(key, "GET", USERINFO_URL, env.clock(), ath=access_token_hash(at))
        )
        assert ui.status_code == 401 and 'error="use_dpop_nonce"' in ui.headers["www-authenticate"]
        nonce = ui.headers["dpop-nonce"]
        ui = await userinfo(
            env,
            at,
            "DPoP",
            proof(key, "GET", USERINFO_URL, env.clock(), ath=access_token_hash(at), nonce=nonce),
        )
        assert ui.status_code == 200, ui.text
        # Nonces expire with their window.
        env.clock.now += 2 * env.settings.dpop_nonce_ttl + 1
        r = await post_token(
            env,
            {"grant_type": "refresh_token", "refresh_token": "x", "client_id": client_id},
            proof(key, "POST", TOKEN_URL, env.clock(), nonce=nonce),
        )
        assert error_of(r)[0] == "use_dpop_nonce"
    finally:
        await env.provider.close()


async def test_bearer_requests_unchanged(env: Env) -> None:
    client_id = await setup(env, public=True)
    code, verifier = await code_for(env, client_id)
    r = await post_token(
        env,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": client_id,
        },
        None,
    )
    assert r.status_code == 200 and r.json()["token_type"] == "Bearer"
    at = r.json()["access_token"]
    assert (await userinfo(env, at, "Bearer", None)).status_code == 200
    # An unbound token with the DPoP scheme: refused (it is not bound to any key).
    key = ECKey.generate_key("P-256")
    r = await userinfo(
        env, at, "DPoP", proof(key, "GET", USERINFO_URL, env.clock(), ath=access_token_hash(at))
    )
    assert r.status_code == 401 and "not DPoP-bound" in r.json()["error_description"]


def test_cli_flag_dpop_bound_access_tokens(run: Any) -> None:
    created = run(
        "client", "create", "--name", "bound", "--redirect-uri", REDIRECT_URI,
        "--dpop-bound-access-tokens",
    )  # fmt: skip
    assert created["dpop_bound_access_tokens"] is True
    shown = run("client", "update", created["client_id"], "--no-dpop-bound-access-tokens")
    assert "dpop_bound_access_tokens" not in shown
    shown = run("client", "update", created["client_id"], "--dpop-bound-access-tokens")
    assert shown["dpop_bound_access_tokens"] is True


async def test_registration_and_admin_metadata(tmp_path: Path) -> None:
    env = await make_env(tmp_path, open_registration=True)
    try:
        async with env.client() as http:
            r = await http.post(
                "/register",
                json={
                    "redirect_uris": [REDIRECT_URI],
                    "token_endpoint_auth_method": "none",
                    "dpop_bound_access_tokens": True,
                },
            )
            assert r.status_code == 201, r.text
            body = r.json()
            assert body["dpop_bound_access_tokens"] is True
            r = await http.post(
                "/register",
                json={"redirect_uris": [REDIRECT_URI], "dpop_bound_access_tokens": "yes"},
            )
            assert r.status_code == 400 and r.json()["error"] == "invalid_client_metadata"
        # The registered client gets no token without a proof.
        await env.add_user()
        code, verifier = await code_for(env, body["client_id"])
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": body["client_id"],
        }
        r = await post_token(env, data, None)
        assert error_of(r)[0] == "invalid_dpop_proof"
    finally:
        await env.provider.close()


async def test_admin_api_metadata_and_bound_admin_token(env: Env) -> None:
    from tests.e2e.test_admin_api import ADMIN, admin_token

    token = await admin_token(env)
    async with env.client(headers={"Authorization": f"Bearer {token}"}) as http:
        r = await http.post(
            f"{ADMIN}/clients",
            json={
                "client_name": "Bound",
                "redirect_uris": [REDIRECT_URI],
                "dpop_bound_access_tokens": True,
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["dpop_bound_access_tokens"] is True
    # An admin token bound to a DPoP key is not accepted as a Bearer token.
    client_id, secret = await env.add_client(
        client_name="Admin bot 2",
        grant_types=["client_credentials"],
        redirect_uris=[],
        scope="keystead:admin",
    )
    key = ECKey.generate_key("P-256")
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={"grant_type": "client_credentials", "scope": "keystead:admin"},
            auth=(client_id, secret or ""),
            headers={"DPoP": proof(key, "POST", TOKEN_URL, env.clock())},
        )
        bound = r.json()["access_token"]
        r = await http.get(f"{ADMIN}/clients", headers={"Authorization": f"Bearer {bound}"})
    assert r.status_code == 401 and "DPoP-bound" in r.json()["error_description"]


async def test_proofs_at_introspection_and_revocation(env: Env) -> None:
    await env.add_user()
    client_id, secret = await env.add_client()
    key = ECKey.generate_key("P-256")
    code, verifier = await code_for(env, client_id)
    auth = (client_id, secret or "")
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            auth=auth,
            headers={"DPoP": proof(key, "POST", TOKEN_URL, env.clock())},
        )
        at = r.json()["access_token"]
        for path in ("/introspect", "/revoke"):
            wrong = proof(key, "POST", TOKEN_URL, env.clock())  # htu of /token
            r = await http.post(path, data={"token": at}, auth=auth, headers={"DPoP": wrong})
            assert r.status_code == 400 and error_of(r)[0] == "invalid_dpop_proof", path
            assert "htu must be" in error_of(r)[1]
        good = proof(key, "POST", ISSUER + "/introspect", env.clock())
        r = await http.post("/introspect", data={"token": at}, auth=auth, headers={"DPoP": good})
        assert r.json()["active"] is True and r.json()["cnf"] == {"jkt": key.thumbprint()}
        good = proof(key, "POST", ISSUER + "/revoke", env.clock())
        r = await http.post("/revoke", data={"token": at}, auth=auth, headers={"DPoP": good})
        assert r.status_code == 200
        r = await http.post("/introspect", data={"token": at}, auth=auth)
        assert r.json() == {"active": False}
