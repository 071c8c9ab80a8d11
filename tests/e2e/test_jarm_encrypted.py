"""Encrypted JARM responses (JARM §2.2, §3) over HTTP: a client that registered
authorization_encrypted_response_alg gets its signed authorization response encrypted to its
key; it decrypts with joserfc, verifies the inner signature against keystead's JWKS, then
redeems the code. Refusals at registration, and a missing key at jwks_uri."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from joserfc import jwe
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from tests.e2e.conftest import (
    REDIRECT_URI,
    Browser,
    Env,
    form_fields,
    make_env,
    pkce_pair,
    query_of,
)
from tests.e2e.sector_server import Documents

pytestmark = pytest.mark.anyio

EC = ECKey.generate_key("P-256", parameters={"kid": "enc-ec", "use": "enc"})
RSA = RSAKey.generate_key(2048, parameters={"kid": "enc-rsa", "use": "enc"})
ALGS = ["RSA-OAEP-256", "ECDH-ES", "ECDH-ES+A256KW", "A128CBC-HS256", "A256GCM"]


@pytest.fixture
async def jenv(tmp_path: Path) -> AsyncIterator[Env]:
    e = await make_env(tmp_path, open_registration=True, allow_private_network_fetch=True)
    yield e
    await e.provider.close()


async def register(env: Env, metadata: dict[str, Any]) -> httpx.Response:
    async with env.client() as http:
        return await http.post("/register", json={"redirect_uris": [REDIRECT_URI], **metadata})


def authorize_url(client_id: str, challenge: str, mode: str) -> str:
    return "/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid",
            "state": "st-9",
            "nonce": "n-9",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "response_mode": mode,
        }
    )


async def jarm_response(env: Env, http: httpx.AsyncClient, url: str) -> str:
    """Sign in (and approve) and return the JARM ``response`` the browser carries back."""
    browser = Browser(http)
    page = await browser.login(await browser.open(url))
    if (
        page.status_code == 200
        and "consent" in page.text.lower()
        and "response" not in (form_fields(page.text))
    ):
        page = await browser.consent(page)
    if page.status_code == 200:  # form_post.jwt
        assert f'action="{REDIRECT_URI}"' in page.text
        return form_fields(page.text)["response"]
    assert page.status_code in (302, 303), page.text[:500]
    assert page.headers["location"].startswith(REDIRECT_URI)
    answer = query_of(page.headers["location"])
    assert set(answer) == {"response"}  # JARM §2.3.1: one parameter
    return answer["response"]


async def opened(env: Env, http: httpx.AsyncClient, token: str, key: Any) -> dict[str, Any]:
    """What the client does: decrypt, then verify the inner JWT with the issuer's JWKS."""
    assert token.count(".") == 4  # a JWE, not a JWS
    outer = jwe.decrypt_compact(token, key, algorithms=ALGS)
    assert outer.protected["cty"] == "JWT"  # JARM §2.2: a nested JWT
    jwks = KeySet.import_key_set((await http.get("/jwks")).json())
    inner = jose_jwt.decode(outer.plaintext or b"", jwks)
    return dict(inner.claims)


@pytest.mark.parametrize(
    ("key", "alg", "enc", "mode"),
    [
        (EC, "ECDH-ES+A256KW", "A256GCM", "query.jwt"),
        (RSA, "RSA-OAEP-256", None, "form_post.jwt"),
        (EC, "ECDH-ES", "A128CBC-HS256", "jwt"),
    ],
)
async def test_encrypted_jarm_code_flow(
    jenv: Env, key: Any, alg: str, enc: str | None, mode: str
) -> None:
    await jenv.add_user()
    metadata = {
        "jwks": {"keys": [key.as_dict(private=False)]},
        "authorization_encrypted_response_alg": alg,
    }
    if enc is not None:
        metadata["authorization_encrypted_response_enc"] = enc
    r = await register(jenv, metadata)
    assert r.status_code == 201, r.text
    reg = r.json()
    assert reg["authorization_encrypted_response_alg"] == alg
    verifier, challenge = pkce_pair()
    async with jenv.client() as http:
        token = await jarm_response(jenv, http, authorize_url(reg["client_id"], challenge, mode))
        header = jwe.decrypt_compact(token, key, algorithms=ALGS).protected
        assert header["alg"] == alg and header["enc"] == (enc or "A128CBC-HS256")
        claims = await opened(jenv, http, token, key)
        assert claims["aud"] == reg["client_id"] and claims["iss"] == jenv.settings.issuer
        assert claims["state"] == "st-9"
        t = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": claims["code"],
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            auth=(reg["client_id"], reg["client_secret"]),
        )
        assert t.status_code == 200, t.text
        assert t.json()["access_token"]


async def test_errors_travel_encrypted_too(jenv: Env) -> None:
    r = await register(
        jenv,
        {
            "jwks": {"keys": [EC.as_dict(private=False)]},
            "authorization_encrypted_response_alg": "ECDH-ES",
        },
    )
    reg = r.json()
    _, challenge = pkce_pair()
    async with jenv.client() as http:  # no session: login_required, sealed and encrypted
        err = await http.get(
            authorize_url(reg["client_id"], challenge, "query.jwt") + "&prompt=none"
        )
        assert err.status_code in (302, 303), err.text[:300]
        claims = await opened(jenv, http, query_of(err.headers["location"])["response"], EC)
    assert claims["error"] == "login_required" and claims["aud"] == reg["client_id"]


async def test_discovery_lists_jarm_encryption(jenv: Env) -> None:
    async with jenv.client() as http:
        doc = (await http.get("/.well-known/openid-configuration")).json()
    assert "ECDH-ES+A256KW" in doc["authorization_encryption_alg_values_supported"]
    assert doc["authorization_encryption_enc_values_supported"] == ["A128CBC-HS256", "A256GCM"]


async def test_registration_refusals(jenv: Env) -> None:
    rsa = RSA.as_dict(private=False)
    cases = [
        ({"authorization_encrypted_response_enc": "A256GCM"}, "response_alg to be set"),
        ({"authorization_encrypted_response_alg": "RSA1_5", "jwks": {"keys": [rsa]}}, "one of"),
        ({"authorization_encrypted_response_alg": "RSA-OAEP-256"}, "jwks or jwks_uri"),
        (
            {"authorization_encrypted_response_alg": "ECDH-ES", "jwks": {"keys": [rsa]}},
            "EC (P-256) or X25519 key",
        ),
        (
            {
                "authorization_encrypted_response_alg": "RSA-OAEP-256",
                "authorization_encrypted_response_enc": "A192GCM",
                "jwks": {"keys": [rsa]},
            },
            "A128CBC-HS256",
        ),
        ({"authorization_encrypted_response_alg": ["RSA-OAEP-256"]}, "must be a string"),
    ]
    for extra, words in cases:
        r = await register(jenv, extra)
        assert r.status_code == 400, (extra, r.text)
        assert r.json()["error"] == "invalid_client_metadata"
        assert words in r.json()["error_description"], (extra, r.json())


async def test_no_key_at_jwks_uri_is_a_page_never_a_plain_response(
    jenv: Env, docs: Documents
) -> None:
    await jenv.add_user()
    uri = docs.serve("/jwks", json.dumps({"keys": []}))
    r = await register(
        jenv, {"jwks_uri": uri, "authorization_encrypted_response_alg": "RSA-OAEP-256"}
    )
    assert r.status_code == 201, r.text
    reg = r.json()
    _, challenge = pkce_pair()
    async with jenv.client() as http:
        browser = Browser(http)
        page = await browser.login(
            await browser.open(authorize_url(reg["client_id"], challenge, "query.jwt"))
        )
        page = await browser.consent(page)
        assert page.status_code == 400, page.text[:500]
        assert "location" not in page.headers
        assert "No key to encrypt the response to" in page.text
        # and an error for this client is shown on the page, not sent unencrypted
        err = await http.get(
            authorize_url(reg["client_id"], challenge, "query.jwt") + "&prompt=none&max_age=0"
        )
        assert "location" not in err.headers, err.headers


async def test_admin_api_sets_jarm_encryption(jenv: Env) -> None:
    from tests.e2e.test_admin_api import admin, admin_token

    token = await admin_token(jenv)
    async with admin(jenv, token) as http:
        r = await http.post(
            "/admin/api/clients",
            json={
                "client_name": "Bank",
                "redirect_uris": [REDIRECT_URI],
                "jwks": {"keys": [RSA.as_dict(private=False)]},
                "authorization_encrypted_response_alg": "RSA-OAEP-256",
                "authorization_encrypted_response_enc": "A256GCM",
            },
        )
        assert r.status_code == 201, r.text
        made = r.json()
        assert made["authorization_encrypted_response_enc"] == "A256GCM"
        patched = await http.patch(
            f"/admin/api/clients/{made['client_id']}",
            json={"authorization_encrypted_response_alg": None},
        )
        assert patched.status_code == 422 and "authorization_encrypted_response_alg" in (
            patched.text
        )
        patched = await http.patch(
            f"/admin/api/clients/{made['client_id']}",
            json={
                "authorization_encrypted_response_alg": None,
                "authorization_encrypted_response_enc": None,
            },
        )
        assert patched.status_code == 200, patched.text
        assert "authorization_encrypted_response_alg" not in patched.json()


def test_cli_create_and_update(run: Any, tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [EC.as_dict(private=False)]}))
    words = run(
        "client", "create", "--name", "J", "--redirect-uri", REDIRECT_URI,
        "--authorization-encrypted-response-enc", "A256GCM", ok=False,
    )  # fmt: skip
    assert "--authorization-encrypted-response-enc" in words and "response_alg" in words
    made = run(
        "client", "create", "--name", "J", "--redirect-uri", REDIRECT_URI,
        "--jwks", str(jwks), "--authorization-encrypted-response-alg", "ECDH-ES",
    )  # fmt: skip
    assert made["authorization_encrypted_response_alg"] == "ECDH-ES"
    updated = run(
        "client", "update", made["client_id"],
        "--authorization-encrypted-response-enc", "A256GCM",
    )  # fmt: skip
    assert updated["authorization_encrypted_response_enc"] == "A256GCM"
