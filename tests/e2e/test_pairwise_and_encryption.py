"""Pairwise subject identifiers (OIDC Core §8) and encrypted / signed responses (§10.2,
§5.3.2) over HTTP: registration with a sector identifier document served by a real HTTP
server (and its refusals), the subs several clients see for one user, id_token_hint with a
pairwise sub at /logout and /authorize, an encrypted ID token that Authlib decrypts, a signed
and encrypted UserInfo answer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from authlib.jose import JsonWebEncryption, JsonWebKey, JsonWebToken

from keystead.jose import jwt
from keystead.services.apis import ApiSpec, create_api
from tests.e2e.conftest import (
    REDIRECT_URI,
    Env,
    fragment_of,
    make_env,
    pkce_pair,
)
from tests.e2e.sector_server import Documents
from tests.e2e.test_response_types import front_channel, url_for

pytestmark = pytest.mark.anyio
AFTER = "https://rp.example.com/signed-out"
ALGS = ["ES256", "RS256", "PS256", "EdDSA"]
NOTES = "https://notes.example.com"


@pytest.fixture
async def penv(tmp_path: Path) -> AsyncIterator[Env]:
    e = await make_env(tmp_path, open_registration=True, allow_private_network_fetch=True)
    yield e
    await e.provider.close()


async def register(env: Env, metadata: dict[str, Any]) -> httpx.Response:
    async with env.client() as http:
        return await http.post("/register", json=metadata)


async def code_tokens(
    env: Env, http: httpx.AsyncClient, client_id: str, secret: str | None, **extra: str
) -> dict[str, Any]:
    """A code flow through the pages (the session in ``http``), then the token request."""
    verifier, challenge = pkce_pair()
    params = await front_channel(
        env, url_for(client_id, "code", challenge=challenge, **extra), http
    )
    assert "code" in params, params
    r = await http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(client_id, secret or ""),
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def id_claims(env: Env, token: str) -> dict[str, Any]:
    return jwt.verify(token, await env.provider.keyring())[1]


async def test_discovery_lists_pairwise_and_encryption(penv: Env) -> None:
    async with penv.client() as http:
        meta = (await http.get("/.well-known/openid-configuration")).json()
    assert meta["subject_types_supported"] == ["public", "pairwise"]
    assert "RSA-OAEP-256" in meta["id_token_encryption_alg_values_supported"]
    assert "ECDH-ES+A256KW" in meta["userinfo_encryption_alg_values_supported"]
    assert "A256GCM" in meta["id_token_encryption_enc_values_supported"]
    assert "ES256" in meta["userinfo_signing_alg_values_supported"]


async def test_sector_document_refusals(penv: Env, docs: Documents) -> None:
    base = {"redirect_uris": [REDIRECT_URI], "subject_type": "pairwise"}

    async def refusal(uri: str) -> str:
        r = await register(penv, {**base, "sector_identifier_uri": uri})
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "invalid_client_metadata"
        return str(r.json()["error_description"])

    closed = Documents()
    closed.close()  # nothing listens there any more
    assert "could not be fetched" in await refusal(closed.url("/sector.json"))
    not_json = docs.serve("/html", "<html>hi</html>", content_type="text/html")
    assert "JSON" in await refusal(not_json)
    not_array = docs.serve("/object", json.dumps({"redirect_uris": [REDIRECT_URI]}))
    assert "JSON array" in await refusal(not_array)
    missing = docs.serve("/missing", json.dumps(["https://rp.example.com/other"]))
    assert REDIRECT_URI in await refusal(missing)  # names the URI that is not listed
    gone = docs.serve("/gone", "[]", status=404)
    assert "could not be fetched" in await refusal(gone)
    # several redirect hosts and no sector_identifier_uri (OIDC Core §8.1)
    r = await register(
        penv, {**base, "redirect_uris": [REDIRECT_URI, "https://app.example.org/cb"]}
    )
    assert r.status_code == 400 and "sector_identifier_uri" in r.json()["error_description"]


async def test_pairwise_subs_per_sector(penv: Env, docs: Documents) -> None:
    sub = await penv.add_user()
    other_host = "https://app.example.org/cb"
    sector = docs.serve("/sector.json", json.dumps([REDIRECT_URI, other_host]))
    grants = ["authorization_code"]
    # a: its sector is the host of its one redirect URI; b: the same host, so the same sector
    a = await register(penv, {"redirect_uris": [REDIRECT_URI], "subject_type": "pairwise"})
    b = await register(penv, {"redirect_uris": [REDIRECT_URI], "subject_type": "pairwise"})
    # c: the sector of its sector_identifier_uri (host 127.0.0.1), redirect hosts of two sites
    c = await register(
        penv,
        {
            "redirect_uris": [REDIRECT_URI, other_host],
            "subject_type": "pairwise",
            "sector_identifier_uri": sector,
            "grant_types": grants,
        },
    )
    public = await register(penv, {"redirect_uris": [REDIRECT_URI]})
    for r in (a, b, c, public):
        assert r.status_code == 201, r.text
    assert c.json()["sector_identifier_uri"] == sector
    assert a.json()["subject_type"] == "pairwise"
    seen: dict[str, str] = {}
    async with penv.client() as http:
        for name, r in {"a": a, "b": b, "c": c, "public": public}.items():
            reg = r.json()
            tokens = await code_tokens(penv, http, reg["client_id"], reg["client_secret"])
            claims = await id_claims(penv, tokens["id_token"])
            info = await http.get(
                "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
            )
            assert info.status_code == 200
            assert info.json()["sub"] == claims["sub"]  # one sub per client everywhere
            introspected = await http.post(
                "/introspect",
                data={"token": tokens["access_token"]},
                auth=(reg["client_id"], reg["client_secret"]),
            )
            assert introspected.json()["sub"] == claims["sub"]
            seen[name] = claims["sub"]
    assert seen["public"] == sub
    assert seen["a"] == seen["b"] != sub  # one sector, one sub
    assert seen["c"] not in (seen["a"], sub)  # another sector, another sub


async def test_jwt_access_token_of_a_pairwise_client(penv: Env) -> None:
    await create_api(
        penv.provider.store,
        ApiSpec(NOTES, "Notes", [("notes:read", "Read your notes")], token_format="jwt"),
        penv.clock(),
    )
    penv.provider.forget_apis()
    sub = await penv.add_user()
    client_id, secret = await penv.add_client(
        subject_type="pairwise", scope="openid email notes:read"
    )
    async with penv.client() as http:
        tokens = await code_tokens(
            penv, http, client_id, secret, scope="openid notes:read", resource=NOTES
        )
        at = await id_claims(penv, tokens["access_token"])
        idt = await id_claims(penv, tokens["id_token"])
        assert at["sub"] == idt["sub"] != sub
        # the token still reaches the user at UserInfo (the record keeps the local sub)
        info = await http.get(
            "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert info.status_code == 200 and info.json()["sub"] == at["sub"]


async def test_id_token_hint_with_a_pairwise_sub(penv: Env) -> None:
    sub = await penv.add_user()
    await penv.add_user("bob")
    client_id, _ = await penv.add_client(
        subject_type="pairwise",
        response_types=["code", "id_token"],
        grant_types=["authorization_code", "implicit"],
        post_logout_redirect_uris=[AFTER],
    )
    async with penv.client() as bob_http:
        bob_hint = (await front_channel(penv, url_for(client_id, "id_token"), bob_http, "bob"))[
            "id_token"
        ]
    async with penv.client() as http:
        hint = (await front_channel(penv, url_for(client_id, "id_token"), http))["id_token"]
        assert (await id_claims(penv, hint))["sub"] != sub
        # /authorize: the hint names the session's user, so prompt=none succeeds ...
        silent = await http.get(url_for(client_id, "id_token", prompt="none", id_token_hint=hint))
        assert "id_token" in fragment_of(silent.headers["location"]), silent.headers
        # ... and another user's hint needs a login
        other = await http.get(
            url_for(client_id, "id_token", prompt="none", id_token_hint=bob_hint)
        )
        assert fragment_of(other.headers["location"])["error"] == "login_required"
        # /logout: another user's hint asks to confirm; the session user's logs out at once
        page = await http.get("/logout?" + urlencode({"id_token_hint": bob_hint}))
        assert page.status_code == 200 and "Sign out?" in page.text
        r = await http.get(
            "/logout?" + urlencode({"id_token_hint": hint, "post_logout_redirect_uri": AFTER})
        )
        assert r.status_code == 303 and r.headers["location"] == AFTER


def enc_key(kty: str, alg: str) -> tuple[Any, dict[str, Any]]:
    private = (
        JsonWebKey.generate_key("RSA", 2048, is_private=True)
        if kty == "RSA"
        else JsonWebKey.generate_key("EC", "P-256", is_private=True)
    )
    public = {**private.as_dict(is_private=False), "use": "enc", "kid": f"enc-{kty}"}
    return private, public


@pytest.mark.parametrize(
    ("kty", "alg", "enc"),
    [
        ("RSA", "RSA-OAEP-256", "A256GCM"),
        ("EC", "ECDH-ES", "A128CBC-HS256"),
        ("EC", "ECDH-ES+A256KW", "A256GCM"),
    ],
)
async def test_encrypted_id_token_that_authlib_decrypts(
    penv: Env, kty: str, alg: str, enc: str
) -> None:
    await penv.add_user()
    private, public = enc_key(kty, alg)
    r = await register(
        penv,
        {
            "redirect_uris": [REDIRECT_URI],
            "jwks": {"keys": [public]},
            "id_token_encrypted_response_alg": alg,
            "id_token_encrypted_response_enc": enc,
        },
    )
    assert r.status_code == 201, r.text
    reg = r.json()
    assert reg["id_token_encrypted_response_alg"] == alg
    async with penv.client() as http:
        jwks = (await http.get("/jwks")).json()
        tokens = await code_tokens(penv, http, reg["client_id"], reg["client_secret"])
    token = tokens["id_token"]
    assert token.count(".") == 4  # a compact JWE
    decrypted = JsonWebEncryption().deserialize_compact(token, private)
    header = decrypted["header"]
    assert (header["alg"], header["enc"], header["cty"]) == (alg, enc, "JWT")
    assert header["kid"] == public["kid"]
    inner = decrypted["payload"].decode()
    claims = JsonWebToken(ALGS).decode(inner, JsonWebKey.import_key_set(jwks))
    claims.validate(now=penv.clock())
    assert claims["aud"] == reg["client_id"] and claims["nonce"] == "n-0S6_WzA2Mj"


async def test_signed_and_encrypted_userinfo(penv: Env) -> None:
    sub = await penv.add_user()
    private, public = enc_key("RSA", "RSA-OAEP-256")
    signed_only = await register(
        penv, {"redirect_uris": [REDIRECT_URI], "userinfo_signed_response_alg": "RS256"}
    )
    both = await register(
        penv,
        {
            "redirect_uris": [REDIRECT_URI],
            "jwks": {"keys": [public]},
            "userinfo_signed_response_alg": "ES256",
            "userinfo_encrypted_response_alg": "RSA-OAEP-256",
            "subject_type": "pairwise",
        },
    )
    encrypted_only = await register(
        penv,
        {
            "redirect_uris": [REDIRECT_URI],
            "jwks": {"keys": [public]},
            "userinfo_encrypted_response_alg": "RSA-OAEP-256",
        },
    )
    async with penv.client() as http:
        keys = JsonWebKey.import_key_set((await http.get("/jwks")).json())

        async def userinfo(reg: dict[str, Any]) -> httpx.Response:
            tokens = await code_tokens(penv, http, reg["client_id"], reg["client_secret"])
            bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
            return await http.get("/userinfo", headers=bearer)

        r = await userinfo(signed_only.json())
        assert r.headers["content-type"].startswith("application/jwt")
        claims = JsonWebToken(ALGS).decode(r.text, keys)
        assert claims["iss"] == penv.settings.issuer
        assert claims["aud"] == signed_only.json()["client_id"] and claims["sub"] == sub

        r = await userinfo(both.json())
        assert r.headers["content-type"].startswith("application/jwt")
        decrypted = JsonWebEncryption().deserialize_compact(r.text, private)
        assert decrypted["header"]["cty"] == "JWT"
        claims = JsonWebToken(ALGS).decode(decrypted["payload"].decode(), keys)
        assert claims["aud"] == both.json()["client_id"]
        assert claims["sub"] != sub and claims["email"] == "alice@example.com"

        r = await userinfo(encrypted_only.json())
        decrypted = JsonWebEncryption().deserialize_compact(r.text, private)
        assert json.loads(decrypted["payload"])["sub"] == sub


async def test_encryption_registration_refusals(penv: Env) -> None:
    _, rsa = enc_key("RSA", "RSA-OAEP-256")
    _, ec = enc_key("EC", "ECDH-ES")
    base = {"redirect_uris": [REDIRECT_URI]}
    cases = [
        ({"id_token_encrypted_response_enc": "A256GCM"}, "id_token_encrypted_response_alg"),
        ({"userinfo_encrypted_response_alg": "RSA-OAEP-256"}, "jwks"),
        (
            {"id_token_encrypted_response_alg": "RSA-OAEP-256", "jwks": {"keys": [ec]}},
            "RSA key",
        ),
        ({"id_token_encrypted_response_alg": "RSA1_5", "jwks": {"keys": [rsa]}}, "one of"),
        (
            {
                "id_token_encrypted_response_alg": "RSA-OAEP-256",
                "id_token_encrypted_response_enc": "A192GCM",
                "jwks": {"keys": [rsa]},
            },
            "A128CBC-HS256",
        ),
        ({"userinfo_signed_response_alg": "none"}, "userinfo_signed_response_alg"),
        ({"subject_type": "anonymous"}, "public or pairwise"),
        ({"id_token_encrypted_response_alg": 5}, "must be a string"),
    ]
    for extra, words in cases:
        r = await register(penv, {**base, **extra})
        assert r.status_code == 400, (extra, r.text)
        assert r.json()["error"] == "invalid_client_metadata"
        assert words in r.json()["error_description"], (extra, r.json())


async def test_missing_encryption_key_at_jwks_uri_is_refused_with_a_reason(
    penv: Env, docs: Documents
) -> None:
    await penv.add_user()
    uri = docs.serve("/jwks", json.dumps({"keys": []}))
    r = await register(
        penv,
        {
            "redirect_uris": [REDIRECT_URI],
            "jwks_uri": uri,
            "id_token_encrypted_response_alg": "RSA-OAEP-256",
        },
    )
    assert r.status_code == 201, r.text
    reg = r.json()
    verifier, challenge = pkce_pair()
    async with penv.client() as http:
        params = await front_channel(
            penv, url_for(reg["client_id"], "code", challenge=challenge), http
        )
        t = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": params["code"],
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            auth=(reg["client_id"], reg["client_secret"]),
        )
    assert t.status_code == 400
    assert "no public key for RSA-OAEP-256" in t.json()["error_description"]
    # the client publishes its key: the next token request finds it (a refetch)
    _, public = enc_key("RSA", "RSA-OAEP-256")
    docs.serve("/jwks", json.dumps({"keys": [public]}))
    penv.provider.forget_client(reg["client_id"])
    async with penv.client() as http:
        tokens = await code_tokens(penv, http, reg["client_id"], reg["client_secret"])
    assert tokens["id_token"].count(".") == 4


def test_cli_creates_a_pairwise_client(run: Any, docs: Documents, monkeypatch: Any) -> None:
    monkeypatch.setenv("KEYSTEAD_ALLOW_PRIVATE_NETWORK_FETCH", "true")
    missing = docs.serve("/s.json", json.dumps(["https://elsewhere.example.com/cb"]))
    words = run(
        "client", "create", "--name", "P", "--redirect-uri", REDIRECT_URI,
        "--subject-type", "pairwise", "--sector-identifier-uri", missing, ok=False,
    )  # fmt: skip
    assert "--sector-identifier-uri" in words and REDIRECT_URI in words
    good = docs.serve("/ok.json", json.dumps([REDIRECT_URI]))
    made = run(
        "client", "create", "--name", "P", "--redirect-uri", REDIRECT_URI,
        "--subject-type", "pairwise", "--sector-identifier-uri", good,
    )  # fmt: skip
    assert made["subject_type"] == "pairwise" and made["sector_identifier_uri"] == good
    updated = run("client", "update", made["client_id"], "--subject-type", "public")
    assert "subject_type" not in updated


async def test_admin_api_sets_and_removes_encryption(penv: Env) -> None:
    from tests.e2e.test_admin_api import admin, admin_token

    await penv.add_user()
    private, public = enc_key("RSA", "RSA-OAEP-256")
    token = await admin_token(penv)
    async with admin(penv, token) as http:
        r = await http.post(
            "/admin/api/clients",
            json={
                "client_name": "Bank",
                "redirect_uris": [REDIRECT_URI],
                "jwks": {"keys": [public]},
                "id_token_encrypted_response_alg": "RSA-OAEP-256",
                "subject_type": "pairwise",
            },
        )
        assert r.status_code == 201, r.text
        made = r.json()
    async with penv.client() as http:
        tokens = await code_tokens(penv, http, made["client_id"], made["client_secret"])
    header = JsonWebEncryption().deserialize_compact(tokens["id_token"], private)["header"]
    assert header["enc"] == "A128CBC-HS256"  # OIDC Registration §2: the default enc
    async with admin(penv, token) as http:
        patched = await http.patch(
            f"/admin/api/clients/{made['client_id']}",
            json={"id_token_encrypted_response_alg": None, "subject_type": None},
        )
        assert patched.status_code == 200, patched.text
        assert "id_token_encrypted_response_alg" not in patched.json()
        bad = await http.patch(
            f"/admin/api/clients/{made['client_id']}",
            json={"userinfo_encrypted_response_enc": "A256GCM"},
        )
        assert bad.status_code == 422 and "userinfo_encrypted_response_alg" in bad.text
    async with penv.client() as http:
        tokens = await code_tokens(penv, http, made["client_id"], made["client_secret"])
    assert tokens["id_token"].count(".") == 2  # signed only again
