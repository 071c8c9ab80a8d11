"""A FAPI 2.0 Security Profile client walked through over HTTP against the real app
(docs/fapi2.md): registered with the profile, PAR with private_key_jwt and a DPoP proof,
/authorize with the request_uri and a sign-in through the forms, the code redeemed with
private_key_jwt and DPoP, UserInfo with the bound token, a refresh with DPoP — and what an
attacker or a careless developer runs into: a plain /authorize, no PKCE, no DPoP at the token
endpoint, a proof of another key, an assertion addressed to the token endpoint, a code older
than 60 s, registrations the profile refuses."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey

from keystead.services import clients as service
from keystead.services.clients import ClientSpec, ClientSpecError
from keystead.services.common import CLI
from tests.e2e.conftest import REDIRECT_URI, Browser, Env, pkce_pair, query_of
from tests.e2e.test_authorize_errors import auth_url
from tests.e2e.test_dpop import proof

pytestmark = pytest.mark.anyio

CLIENT_KEY = ECKey.generate_key("P-256", parameters={"kid": "c1"})
JWKS = {"keys": [CLIENT_KEY.as_dict(private=False)]}


def fapi_spec(**overrides: Any) -> ClientSpec:
    spec = ClientSpec(
        client_name="Bank app",
        redirect_uris=[REDIRECT_URI],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        scope="openid profile email offline_access",
        token_endpoint_auth_method="private_key_jwt",
        jwks=JWKS,
        token_endpoint_auth_signing_alg="ES256",
        id_token_signed_response_alg="ES256",
        dpop_bound_access_tokens=True,
        skip_consent=True,
    )
    for name, value in overrides.items():
        setattr(spec, name, value)
    return spec


async def fapi_client(env: Env, **overrides: Any) -> str:
    client, _ = await service.create(
        env.provider, fapi_spec(**overrides), CLI, policy={"profile": "fapi2"}
    )
    return client.client_id


def assertion(env: Env, client_id: str, aud: str | None = None) -> dict[str, str]:
    now = env.clock()
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud or env.settings.issuer,  # FAPI 2.0 §5.3.2.1: the issuer identifier
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(12),
    }
    value = jose_jwt.encode({"alg": "ES256", "kid": "c1"}, claims, CLIENT_KEY)
    return {
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": value,
    }


def url_of(env: Env, path: str) -> str:
    return env.settings.issuer + path


def authorization(client_id: str, challenge: str, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile offline_access",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return {k: v for k, v in params.items() if v != "<omit>"}


async def push(
    env: Env, http: httpx.AsyncClient, body: dict[str, str], dpop_key: Any = None
) -> httpx.Response:
    headers = {}
    if dpop_key is not None:
        headers["DPoP"] = proof(dpop_key, "POST", url_of(env, "/par"), env.clock())
    client_id = body["client_id"]
    return await http.post("/par", data={**body, **assertion(env, client_id)}, headers=headers)


async def code_through_par(env: Env, client_id: str, dpop_key: Any) -> tuple[dict[str, str], str]:
    verifier, challenge = pkce_pair()
    async with env.client() as http:
        pushed = await push(env, http, authorization(client_id, challenge), dpop_key)
        assert pushed.status_code == 201, pushed.text
        assert pushed.json()["expires_in"] <= 60
        url = "/authorize?" + urlencode(
            {"client_id": client_id, "request_uri": pushed.json()["request_uri"]}
        )
        browser = Browser(http)
        done = await browser.login(await browser.open(url))
        assert done.status_code == 303, done.text[:500]
        assert done.headers["location"].startswith(REDIRECT_URI)
    return query_of(done.headers["location"]), verifier


async def token(
    env: Env, client_id: str, data: dict[str, str], dpop_key: Any = None, aud: str | None = None
) -> httpx.Response:
    headers = {}
    if dpop_key is not None:
        headers["DPoP"] = proof(dpop_key, "POST", url_of(env, "/token"), env.clock())
    async with env.client() as http:
        body = {**data, **assertion(env, client_id, aud)}
        return await http.post("/token", data=body, headers=headers)


def redeem(answer: dict[str, str], verifier: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }


async def test_a_fapi2_client_end_to_end(env: Env) -> None:
    await env.add_user()
    client_id = await fapi_client(env)
    key = ECKey.generate_key("P-256")
    answer, verifier = await code_through_par(env, client_id, key)
    assert answer["iss"] == env.settings.issuer  # RFC 9207, FAPI 2.0 §5.3.2.2
    assert answer["state"] == "st-1"
    # The code is bound to the key of the proof sent to /par (RFC 9449 §10.1): another
    # key's proof cannot redeem it — and a failed try does not use it up.
    other = await token(env, client_id, redeem(answer, verifier), ECKey.generate_key("P-256"))
    assert other.status_code == 400, other.text
    assert other.json()["error"] == "invalid_grant"
    assert "another DPoP key" in other.json()["error_description"]
    answer, verifier = await code_through_par(env, client_id, key)
    got = await token(env, client_id, redeem(answer, verifier), key)
    assert got.status_code == 200, got.text
    tokens = got.json()
    assert tokens["token_type"] == "DPoP"
    access = tokens["access_token"]
    # UserInfo: the bound token with a proof of its key, never as Bearer.
    async with env.client() as http:
        from keystead.protocol.dpop import access_token_hash

        me = await http.get(
            "/userinfo",
            headers={
                "Authorization": f"DPoP {access}",
                "DPoP": proof(
                    key,
                    "GET",
                    url_of(env, "/userinfo"),
                    env.clock(),
                    ath=access_token_hash(access),
                ),
            },
        )
        assert me.status_code == 200, me.text
        bearer = await http.get("/userinfo", headers={"Authorization": f"Bearer {access}"})
        assert bearer.status_code == 401
    # Refresh, with DPoP and private_key_jwt again.
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    again = await token(env, client_id, refresh, key)
    assert again.status_code == 200, again.text
    assert again.json()["token_type"] == "DPoP"
    # Without a proof: refused, and the refusal names the rule.
    bare = await token(env, client_id, {**refresh, "refresh_token": again.json()["refresh_token"]})
    assert bare.status_code == 400
    assert bare.json()["error"] == "invalid_dpop_proof"
    assert "FAPI 2.0 Security Profile 5.3.2.1" in bare.json()["error_description"]


async def test_plain_authorize_is_refused(env: Env) -> None:
    client_id = await fapi_client(env)
    env.provider.settings.dev_mode = True  # the page names the catalog id
    async with env.client() as http:
        page = await http.get(auth_url(client_id))
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "fapi-par-required" in page.text
    assert "FAPI 2.0 Security Profile 5.3.2.2" in page.text


async def test_pkce_s256_is_required_at_par(env: Env) -> None:
    client_id = await fapi_client(env)
    verifier, challenge = pkce_pair()
    async with env.client() as http:
        none = await push(
            env,
            http,
            authorization(
                client_id, challenge, code_challenge="<omit>", code_challenge_method="<omit>"
            ),
        )
        assert none.status_code == 400 and none.json()["error"] == "invalid_request"
        assert "location" not in none.headers
        plain = await push(
            env, http, authorization(client_id, verifier, code_challenge_method="plain")
        )
        assert plain.status_code == 400, plain.text
        assert plain.json()["error"] == "invalid_request"
        assert "S256" in plain.json()["error_description"]


async def test_token_request_without_dpop_is_refused(env: Env) -> None:
    await env.add_user()
    client_id = await fapi_client(env)
    answer, verifier = await code_through_par(env, client_id, None)
    bare = await token(env, client_id, redeem(answer, verifier))
    assert bare.status_code == 400
    assert bare.json()["error"] == "invalid_dpop_proof"
    assert "dpop_bound_access_tokens" in bare.json()["error_description"]
    assert "5.3.2.1" in bare.json()["error_description"]


async def test_client_assertion_aud_must_be_the_issuer(env: Env) -> None:
    await env.add_user()
    client_id = await fapi_client(env)
    key = ECKey.generate_key("P-256")
    answer, verifier = await code_through_par(env, client_id, key)
    wrong = await token(env, client_id, redeem(answer, verifier), key, aud=url_of(env, "/token"))
    assert wrong.status_code == 401, wrong.text
    assert wrong.json()["error"] == "invalid_client"
    assert "5.3.2.1" in wrong.json()["error_description"]
    assert await token(env, client_id, redeem(answer, verifier), key)  # still unused


async def test_code_lives_at_most_60_seconds(env: Env) -> None:
    env.provider.settings.code_ttl = 300  # the server default is longer; the client's is not
    await env.add_user()
    client_id = await fapi_client(env)
    key = ECKey.generate_key("P-256")
    answer, verifier = await code_through_par(env, client_id, key)
    env.clock.now += 61
    late = await token(env, client_id, redeem(answer, verifier), key)
    assert late.status_code == 400, late.text
    assert late.json()["error"] == "invalid_grant"


async def test_par_expires_in_below_600(env: Env) -> None:
    env.provider.settings.par_ttl = 600
    client_id = await fapi_client(env)
    _, challenge = pkce_pair()
    async with env.client() as http:
        pushed = await push(env, http, authorization(client_id, challenge))
    assert pushed.status_code == 201, pushed.text
    assert pushed.json()["expires_in"] == 599


async def test_dpop_at_par_and_dpop_jkt_must_agree(env: Env) -> None:
    client_id = await fapi_client(env)
    key, other = ECKey.generate_key("P-256"), ECKey.generate_key("P-256")
    _, challenge = pkce_pair()
    async with env.client() as http:
        same = await push(
            env, http, authorization(client_id, challenge, dpop_jkt=key.thumbprint()), key
        )
        assert same.status_code == 201, same.text
        mismatch = await push(
            env, http, authorization(client_id, challenge, dpop_jkt=other.thumbprint()), key
        )
        assert mismatch.status_code == 400
        assert mismatch.json()["error"] == "invalid_request"
        assert "not the thumbprint of the DPoP proof's key" in mismatch.json()["error_description"]
        # A proof for another endpoint is no proof for /par.
        wrong_htu = await http.post(
            "/par",
            data={**authorization(client_id, challenge), **assertion(env, client_id)},
            headers={"DPoP": proof(key, "POST", url_of(env, "/token"), env.clock())},
        )
        assert wrong_htu.status_code == 400
        assert wrong_htu.json()["error"] == "invalid_dpop_proof"
        assert "htu" in wrong_htu.json()["error_description"]


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        (
            {
                "token_endpoint_auth_method": "client_secret_basic",
                "jwks": None,
                "token_endpoint_auth_signing_alg": None,
            },
            "token_endpoint_auth_method",
            "§5.3.2.1",
        ),
        (
            {
                "token_endpoint_auth_method": "none",
                "jwks": None,
                "token_endpoint_auth_signing_alg": None,
            },
            "token_endpoint_auth_method",
            "confidential",
        ),
        ({"id_token_signed_response_alg": "RS256"}, "id_token_signed_response_alg", "§5.4.1"),
        ({"token_endpoint_auth_signing_alg": "RS256"}, "id_token_signed_response_alg", "RS256"),
        (
            {
                "response_types": ["code", "code id_token"],
                "grant_types": ["authorization_code", "implicit"],
            },
            "response_types",
            "no implicit, no hybrid",
        ),
        ({"dpop_bound_access_tokens": False}, "dpop_bound_access_tokens", "sender-constrained"),
        ({"require_pkce": False}, "require_pkce", "PKCE"),
        ({"redirect_uris": ["http://127.0.0.1:9000/cb"]}, "redirect_uris", "§5.2.1"),
    ],
)
async def test_registrations_the_profile_refuses(
    env: Env, overrides: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(ClientSpecError) as refused:
        await fapi_client(env, **overrides)
    assert refused.value.field == field
    assert "FAPI 2.0 Security Profile" in refused.value.message
    assert words in refused.value.message
    assert "Fix:" in refused.value.message


async def test_profile_on_an_existing_client_and_rfc7592_style_updates(env: Env) -> None:
    client, _ = await service.create(
        env.provider,
        fapi_spec(
            token_endpoint_auth_method="client_secret_basic",
            jwks=None,
            token_endpoint_auth_signing_alg=None,
        ),
        CLI,
    )
    with pytest.raises(ClientSpecError):  # the operator cannot mark it FAPI as it is
        await service.update(
            env.provider, client, service.spec_of(client), CLI, policy={"profile": "fapi2"}
        )
    client_id = await fapi_client(env)
    fapi = await service.get(env.provider, client_id)
    weaker = service.spec_of(fapi)
    weaker.id_token_signed_response_alg = "RS256"
    with pytest.raises(ClientSpecError):  # and a FAPI client cannot drift out of it
        await service.update(env.provider, fapi, weaker, CLI)
    with pytest.raises(ClientSpecError):
        await service.create(env.provider, fapi_spec(), CLI, policy={"profile": "fapi3"})
    plain, _ = await service.update(env.provider, fapi, weaker, CLI, policy={"profile": None})
    assert "profile" not in plain.extra


def test_cli_profile_fapi2(run: Any, tmp_path: Any) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(__import__("json").dumps(JWKS))
    # The careless developer's first try: a secret-based client is refused, rule named.
    words = run(
        "client", "create", "--name", "Bank", "--redirect-uri", REDIRECT_URI,
        "--profile", "fapi2", ok=False,
    )  # fmt: skip
    assert "FAPI 2.0 Security Profile" in words and "5.3.2.1" in words
    assert "private_key_jwt" in words
    created = run(
        "client", "create", "--name", "Bank", "--redirect-uri", REDIRECT_URI,
        "--profile", "fapi2", "--token-endpoint-auth-method", "private_key_jwt",
        "--jwks", str(jwks), "--token-endpoint-auth-signing-alg", "ES256",
        "--dpop-bound-access-tokens", "--grant-type", "authorization_code",
        "--grant-type", "refresh_token",
    )  # fmt: skip
    assert created["profile"] == "fapi2"
    client_id = created["client_id"]
    words = run("client", "update", client_id, "--id-token-signed-response-alg", "RS256", ok=False)
    assert "5.4.1" in words and "RS256" in words
    words = run("client", "update", client_id, "--profile", "fapi1", ok=False)
    assert "fapi2" in words
    shown = run("client", "update", client_id, "--profile", "none")
    assert shown["profile"] is None


async def test_admin_api_profile_member(env: Env) -> None:
    from tests.e2e.test_admin_api import ADMIN, admin_token

    token = await admin_token(env)
    body = {
        "client_name": "Bank",
        "redirect_uris": [REDIRECT_URI],
        "profile": "fapi2",
    }
    async with env.client(headers={"Authorization": f"Bearer {token}"}) as http:
        refused = await http.post(f"{ADMIN}/clients", json=body)
        assert refused.status_code == 422, refused.text
        assert "FAPI 2.0 Security Profile" in refused.text
        body |= {
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": JWKS,
            "token_endpoint_auth_signing_alg": "ES256",
            "id_token_signed_response_alg": "ES256",
            "dpop_bound_access_tokens": True,
        }
        created = await http.post(f"{ADMIN}/clients", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["profile"] == "fapi2"
        client_id = created.json()["client_id"]
        dropped = await http.patch(f"{ADMIN}/clients/{client_id}", json={"profile": None})
        assert dropped.status_code == 200, dropped.text
        assert dropped.json()["profile"] is None


async def test_request_objects_are_held_to_fapi_algs(env: Env) -> None:
    from joserfc.jwk import RSAKey

    rsa = RSAKey.generate_key(2048, parameters={"kid": "r1"})
    jwks = {"keys": [CLIENT_KEY.as_dict(private=False), rsa.as_dict(private=False)]}
    client_id = await fapi_client(env, jwks=jwks)
    _, challenge = pkce_pair()
    now = env.clock()
    claims = {
        "iss": client_id,
        "aud": env.settings.issuer,
        "exp": now + 300,
        "nbf": now - 1,
        "jti": secrets.token_urlsafe(8),
        **authorization(client_id, challenge),
    }
    async with env.client() as http:
        for alg, key, kid, status in (("RS256", rsa, "r1", 400), ("ES256", CLIENT_KEY, "c1", 201)):
            request = jose_jwt.encode({"alg": alg, "kid": kid}, claims, key)
            body = {"client_id": client_id, "request": request, **assertion(env, client_id)}
            r = await http.post("/par", data=body)
            assert r.status_code == status, r.text
            if status == 400:
                assert r.json()["error"] == "invalid_request_object"
                assert "RS256" in r.json()["error_description"]


async def test_dpop_proof_with_an_alg_outside_the_profile_is_refused(env: Env) -> None:
    # FAPI 2.0 §5.4.1 holds DPoP proofs to PS256, ES256 or EdDSA too: an RS256 proof is
    # refused at /par and at the token endpoint, naming the rule.
    from joserfc.jwk import RSAKey

    client_id = await fapi_client(env)
    rsa = RSAKey.generate_key(2048)
    _, challenge = pkce_pair()
    async with env.client() as http:
        pushed = await http.post(
            "/par",
            data={**authorization(client_id, challenge), **assertion(env, client_id)},
            headers={"DPoP": proof(rsa, "POST", url_of(env, "/par"), env.clock(), alg="RS256")},
        )
        assert pushed.status_code == 400, pushed.text
        assert pushed.json()["error"] == "invalid_dpop_proof"
        assert "5.4.1" in pushed.json()["error_description"]
        token = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": "x",
                "redirect_uri": REDIRECT_URI,
                "code_verifier": "v" * 43,
                **assertion(env, client_id),
            },
            headers={"DPoP": proof(rsa, "POST", url_of(env, "/token"), env.clock(), alg="RS256")},
        )
        assert token.status_code == 400, token.text
        assert token.json()["error"] == "invalid_dpop_proof"
        assert "RS256 is not allowed for a FAPI 2.0 client" in token.json()["error_description"]
