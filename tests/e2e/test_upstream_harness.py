"""The federation test harness on its own (tests/e2e/upstream.py): node-oidc-provider as a real
upstream OpenID Provider driven by Authlib and httpx through code + PKCE + state + nonce, with
its ID tokens verified by joserfc against its JWKS, key rotation by restart, and the mischief
that the negative federation tests rely on; then the GitHub stand-in's OAuth app flow.
node and npm are required (npm ci from tests/upstream_node/package-lock.json); never skipped."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from tests.e2e.conftest import query_of
from tests.e2e.upstream import (
    GitHubStandIn,
    NopUpstream,
    make_key,
    sign_in_upstream,
    sign_in_upstream_async,
    upstream_client,
)

pytestmark = pytest.mark.timeout(180)

CALLBACK = "http://127.0.0.1:9/federation/callback"  # never fetched: read off the redirect
ACCOUNTS = {
    "ada": {
        "sub": "ada-upstream-1",
        "email": "ada@example.com",
        "email_verified": True,
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
    },
    "bob": {"email": "bob@example.com", "email_verified": False, "name": "Bob"},
}
BASIC = upstream_client("ks-basic", "basic secret", CALLBACK)
POST = upstream_client("ks-post", "post secret", CALLBACK, "client_secret_post")


@pytest.fixture(scope="module")
def upstream() -> Iterator[NopUpstream]:
    with NopUpstream(clients=[BASIC, POST], accounts=ACCOUNTS, keys=[make_key("k1")]) as up:
        yield up


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def verify_id_token(up: NopUpstream, id_token: str, client_id: str) -> dict[str, Any]:
    token = jwt.decode(id_token, KeySet.import_key_set(up.jwks()))  # signature checked here
    claims: dict[str, Any] = token.claims
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": up.issuer},
        aud={"essential": True, "value": client_id},
        exp={"essential": True},
        iat={"essential": True},
    ).validate(claims)
    return claims


def authlib_sign_in(
    up: NopUpstream, login: str, client: dict[str, Any] = BASIC
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Authlib as the relying party: returns (token response, verified claims, nonce)."""
    meta = up.metadata
    rp = OAuth2Client(
        client["client_id"],
        client["client_secret"],
        scope="openid email profile",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
        token_endpoint_auth_method=client["token_endpoint_auth_method"],
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = rp.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    with httpx.Client() as browser:
        back = sign_in_upstream(browser, url, login)
    assert back.startswith(CALLBACK + "?")
    assert query_of(back)["state"] == state
    assert query_of(back)["iss"] == up.issuer  # RFC 9207, oidc-provider sends it
    token = rp.fetch_token(
        meta["token_endpoint"], authorization_response=back, code_verifier=verifier, state=state
    )
    rp.close()
    claims = verify_id_token(up, token["id_token"], client["client_id"])
    assert claims["nonce"] == nonce
    return dict(token), claims, nonce


def test_authlib_signs_in_with_code_pkce_and_verifies_the_id_token(upstream: NopUpstream) -> None:
    meta = upstream.metadata
    assert meta["issuer"] == upstream.issuer
    assert meta["code_challenge_methods_supported"] == ["S256"]
    token, claims, _ = authlib_sign_in(upstream, "ada")
    assert claims["sub"] == "ada-upstream-1"
    assert claims["email"] == "ada@example.com" and claims["email_verified"] is True
    assert claims["given_name"] == "Ada"
    assert token["token_type"].lower() == "bearer"
    userinfo = httpx.get(
        meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"}
    ).json()
    assert userinfo["sub"] == "ada-upstream-1" and userinfo["email_verified"] is True


def test_client_secret_post_and_an_unverified_email(upstream: NopUpstream) -> None:
    _, claims, _ = authlib_sign_in(upstream, "bob", POST)
    assert claims["sub"] == "bob"  # sub defaults to the login
    assert claims["email"] == "bob@example.com" and claims["email_verified"] is False
    assert '"event":"grant.success"' in upstream.logs()  # its events are captured


def code_for(
    up: NopUpstream, login: str, challenge: str | None, client: dict[str, Any] = BASIC
) -> str:
    params = {
        "client_id": client["client_id"],
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "openid email",
        "state": "st",
        "nonce": "n-0S6",
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    url = up.metadata["authorization_endpoint"] + "?" + httpx.QueryParams(params).__str__()
    with httpx.Client() as browser:
        back = sign_in_upstream(browser, url, login)
    return back


def exchange(up: NopUpstream, code: str, verifier: str) -> httpx.Response:
    return httpx.post(
        up.metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(BASIC["client_id"], BASIC["client_secret"]),
    )


def test_pkce_is_required_and_checked(upstream: NopUpstream) -> None:
    refused = query_of(code_for(upstream, "ada", None))
    assert refused["error"] == "invalid_request" and refused["state"] == "st"
    verifier, challenge = pkce()
    code = query_of(code_for(upstream, "ada", challenge))["code"]
    wrong = exchange(upstream, code, pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    code = query_of(code_for(upstream, "ada", challenge))["code"]
    ok = exchange(upstream, code, verifier)
    assert ok.status_code == 200, ok.text
    assert verify_id_token(upstream, ok.json()["id_token"], "ks-basic")["nonce"] == "n-0S6"


def test_an_unknown_login_gets_the_form_again(upstream: NopUpstream) -> None:
    with pytest.raises(AssertionError, match="401"):
        code_for(upstream, "mallory", pkce()[1])


def test_the_upstream_session_skips_the_form_the_second_time(upstream: NopUpstream) -> None:
    url = upstream.metadata["authorization_endpoint"] + "?" + str(httpx.QueryParams({
        "client_id": "ks-basic", "redirect_uri": CALLBACK, "response_type": "code",
        "scope": "openid", "code_challenge": pkce()[1], "code_challenge_method": "S256",
    }))  # fmt: skip
    with httpx.Client() as browser:
        assert "code" in query_of(sign_in_upstream(browser, url, "ada"))
        first = browser.get(url)  # the session and the grant are there: straight back
        assert first.is_redirect and first.headers["location"].startswith(CALLBACK)


@pytest.mark.anyio
async def test_the_async_browser() -> None:
    with NopUpstream(clients=[BASIC], accounts=ACCOUNTS) as up:
        url = up.metadata["authorization_endpoint"] + "?" + str(httpx.QueryParams({
            "client_id": "ks-basic", "redirect_uri": CALLBACK, "response_type": "code",
            "scope": "openid", "state": "a", "code_challenge": pkce()[1],
            "code_challenge_method": "S256",
        }))  # fmt: skip
        async with httpx.AsyncClient() as browser:
            back = await sign_in_upstream_async(browser, url, "ada")
        assert query_of(back)["state"] == "a" and query_of(back)["code"]


def test_restart_with_other_keys_rotates_the_jwks() -> None:
    with NopUpstream(clients=[BASIC], accounts=ACCOUNTS, keys=[make_key("old")]) as up:
        issuer = up.issuer
        assert [k["kid"] for k in up.jwks()["keys"]] == ["old"]
        _, claims, _ = authlib_sign_in(up, "ada")
        up.restart(keys=[make_key("new"), make_key("next", "ES256")])
        assert up.issuer == issuer
        assert [k["kid"] for k in up.jwks()["keys"]] == ["new", "next"]
        assert all("d" not in k for k in up.jwks()["keys"])  # only public halves published
        token, _, _ = authlib_sign_in(up, "ada")
        header = jwt.decode(token["id_token"], KeySet.import_key_set(up.jwks())).header
        assert header["kid"] == "new" and header["alg"] == "RS256"


def test_claims_only_through_userinfo_when_asked() -> None:
    with NopUpstream(clients=[BASIC], accounts=ACCOUNTS, id_token_claims=False) as up:
        token, claims, _ = authlib_sign_in(up, "ada")
        assert "email" not in claims and claims["sub"] == "ada-upstream-1"
        userinfo = httpx.get(
            up.metadata["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {token['access_token']}"},
        ).json()
        assert userinfo["email"] == "ada@example.com"


def test_mischief_for_the_negative_tests(upstream: NopUpstream) -> None:
    verifier, challenge = pkce()
    try:
        upstream.mischief(id_token_claims={"nonce": "not the one sent"})
        ok = exchange(upstream, query_of(code_for(upstream, "ada", challenge))["code"], verifier)
        assert verify_id_token(upstream, ok.json()["id_token"], "ks-basic")["nonce"] == (
            "not the one sent"
        )  # validly signed, wrong nonce
        upstream.mischief(id_token_signature="tamper")
        bad = exchange(upstream, query_of(code_for(upstream, "ada", challenge))["code"], verifier)
        with pytest.raises(BadSignatureError):
            verify_id_token(upstream, bad.json()["id_token"], "ks-basic")
        upstream.mischief(token_error="invalid_grant")
        err = exchange(upstream, query_of(code_for(upstream, "ada", challenge))["code"], verifier)
        assert err.status_code == 400 and err.json()["error"] == "invalid_grant"
    finally:
        upstream.mischief()
    good = exchange(upstream, query_of(code_for(upstream, "ada", challenge))["code"], verifier)
    assert verify_id_token(upstream, good.json()["id_token"], "ks-basic")["nonce"] == "n-0S6"


# -- the GitHub stand-in --------------------------------------------------------------------

GH_CALLBACK = "http://127.0.0.1:9/federation/github/callback"


@pytest.fixture
def github() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(
        client_id="gh-id", client_secret="gh-secret", redirect_uri=GH_CALLBACK
    ) as gh:
        yield gh


def gh_authorize(gh: GitHubStandIn, challenge: str, **extra: str) -> dict[str, str]:
    params = {
        "client_id": "gh-id",
        "redirect_uri": GH_CALLBACK,
        "scope": "read:user user:email",
        "state": "gh-state",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    response = httpx.get(gh.authorize_url, params=params)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(GH_CALLBACK + "?")
    return query_of(location)


def test_github_code_token_user_and_emails(github: GitHubStandIn) -> None:
    verifier, challenge = pkce()
    back = gh_authorize(github, challenge)
    assert back["state"] == "gh-state"
    token = httpx.post(
        github.token_url,
        data={
            "client_id": "gh-id",
            "client_secret": "gh-secret",
            "code": back["code"],
            "redirect_uri": GH_CALLBACK,
            "code_verifier": verifier,
        },
        headers={"Accept": "application/json"},
    )
    body = token.json()
    assert body["token_type"] == "bearer" and body["scope"] == "read:user,user:email"
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    user = httpx.get(github.api_url + "/user", headers=bearer).json()
    assert (user["id"], user["login"], user["name"]) == (1, "octocat", "The Octocat")
    assert user["email"] == "octocat@example.com" and user["avatar_url"].startswith("http")
    emails = httpx.get(github.api_url + "/user/emails", headers=bearer).json()
    assert emails == [
        {"email": "octocat@example.com", "primary": True, "verified": True, "visibility": "public"}
    ]
    again = httpx.post(
        github.token_url,
        data={"code": back["code"], "code_verifier": verifier},
        auth=("gh-id", "gh-secret"),
        headers={"Accept": "application/json"},
    )
    assert again.json()["error"] == "bad_verification_code"  # codes are single use


def test_github_basic_auth_json_body_and_form_answer(github: GitHubStandIn) -> None:
    verifier, challenge = pkce()
    back = gh_authorize(github, challenge, login="mona", scope="user:email")
    answer = httpx.post(
        github.token_url,
        json={"code": back["code"], "code_verifier": verifier},
        auth=("gh-id", "gh-secret"),
    )
    assert answer.headers["content-type"].startswith("application/x-www-form-urlencoded")
    fields = dict(httpx.QueryParams(answer.text))
    assert fields["token_type"] == "bearer" and fields["scope"] == "user:email"
    bearer = {"Authorization": f"token {fields['access_token']}"}
    user = httpx.get(github.api_url + "/user", headers=bearer).json()
    assert user["login"] == "mona" and user["email"] is None  # no public email
    primary = [e for e in httpx.get(github.api_url + "/user/emails", headers=bearer).json()
               if e["primary"]]  # fmt: skip
    assert primary == [
        {"email": "mona@example.com", "primary": True, "verified": False, "visibility": "private"}
    ]


def test_github_refusals(github: GitHubStandIn) -> None:
    verifier, challenge = pkce()
    accept = {"Accept": "application/json"}
    code = gh_authorize(github, challenge)["code"]
    mismatch = httpx.post(
        github.token_url,
        data={"code": code, "code_verifier": pkce()[0]},
        auth=("gh-id", "gh-secret"),
        headers=accept,
    )
    assert mismatch.status_code == 200 and mismatch.json()["error"] == "bad_verification_code"
    missing = httpx.post(
        github.token_url,
        data={"code": gh_authorize(github, challenge)["code"]},
        auth=("gh-id", "gh-secret"),
        headers=accept,
    )
    assert missing.json()["error"] == "bad_verification_code"
    wrong_secret = httpx.post(
        github.token_url,
        data={"code": gh_authorize(github, challenge)["code"], "code_verifier": verifier},
        auth=("gh-id", "not the secret"),
        headers=accept,
    )
    assert wrong_secret.json()["error"] == "incorrect_client_credentials"
    github.deny = True
    denied = gh_authorize(github, challenge)
    assert denied["error"] == "access_denied" and denied["state"] == "gh-state"
    assert "code" not in denied
    github.deny = False
    elsewhere = gh_authorize(github, challenge, redirect_uri="http://127.0.0.1:9/evil")
    assert elsewhere["error"] == "redirect_uri_mismatch"  # sent to the registered callback
    code = gh_authorize(github, challenge, scope="read:user")["code"]
    token = httpx.post(
        github.token_url,
        data={"code": code, "code_verifier": verifier},
        auth=("gh-id", "gh-secret"),
        headers=accept,
    ).json()["access_token"]
    no_scope = httpx.get(
        github.api_url + "/user/emails", headers={"Authorization": f"Bearer {token}"}
    )
    assert no_scope.status_code == 404
    unknown = httpx.get(github.api_url + "/user", headers={"Authorization": "Bearer gho_forged"})
    assert unknown.status_code == 401 and unknown.json()["message"] == "Bad credentials"
