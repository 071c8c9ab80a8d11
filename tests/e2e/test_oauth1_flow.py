"""OAuth 1.0a (RFC 5849) over HTTP with a real consumer library (Authlib's httpx OAuth 1.0
client): the three-legged flow — temporary credentials, the user's sign-in and approval at
/oauth1/authorize, token credentials, a signed call to /oauth1/userinfo — with HMAC-SHA1,
HMAC-SHA256 and RSA-SHA1; and the attacker's moves, each refused with RFC 5849 §3.2's status:
a tampered signature, a replayed nonce, a stale timestamp, a request token at the resource,
a reused or wrong verifier, an unregistered callback, PLAINTEXT over http, a denied request,
a revoked token."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from authlib.common.encoding import to_bytes
from authlib.integrations.httpx_client import AsyncOAuth1Client
from authlib.oauth1 import ClientAuth
from authlib.oauth1.rfc5849.signature import generate_signature_base_string
from authlib.oauth1.rfc5849.util import escape
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from keystead.services import clients, oauth1
from keystead.services.clients import ClientSpec
from keystead.services.common import CLI
from tests.e2e.conftest import Browser, Env, make_env
from tests.e2e.test_account_page import follow

pytestmark = pytest.mark.anyio

CALLBACK = "https://printer.example.com/oauth1/callback?shop=1"


def _sign_hmac_sha256(client: Any, request: Any) -> str:
    """HMAC-SHA256 for Authlib's client (it ships HMAC-SHA1, RSA-SHA1 and PLAINTEXT): the
    §3.4.2 construction with SHA-256, registered through its documented extension point."""
    base = generate_signature_base_string(request)
    key = escape(client.client_secret or "") + "&" + escape(client.token_secret or "")
    digest = hmac.new(to_bytes(key), to_bytes(base), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


ClientAuth.register_signature_method("HMAC-SHA256", _sign_hmac_sha256)


def rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


async def add_consumer(env: Env, **policy: Any) -> tuple[str, str]:
    spec = ClientSpec(client_name="Photo Printer", redirect_uris=[CALLBACK])
    client, secret = await clients.create(
        env.provider, spec, CLI, policy={"oauth1": True, **policy}
    )
    assert secret is not None
    return client.client_id, secret


def consumer(env: Env, client_id: str, secret: str | None, **kwargs: Any) -> AsyncOAuth1Client:
    kwargs.setdefault("redirect_uri", CALLBACK)
    return AsyncOAuth1Client(
        client_id,
        secret,
        transport=httpx.ASGITransport(app=env.app, client=("198.51.100.9", 5000)),
        base_url=env.settings.issuer,
        **kwargs,
    )


def token_kwargs(token: dict[str, str]) -> dict[str, str]:
    return {"token": token["oauth_token"], "token_secret": token["oauth_token_secret"]}


def catalog_id(r: httpx.Response) -> str:
    return dict(parse_qsl(r.text))["error_uri"].rsplit("/", 1)[1]


def problem(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/x-www-form-urlencoded")
    body = dict(parse_qsl(r.text))
    assert body["oauth_problem_advice"] and r.headers["x-correlation-id"]
    assert "/errors/oauth1-" in body["error_uri"]  # keystead's page for the error
    if status == 401:  # RFC 5849 §3.2 / RFC 2617: the challenge, realm = the issuer
        issuer = body["error_uri"].split("/errors/")[0]
        assert r.headers["www-authenticate"].startswith(f'OAuth realm="{issuer}"')
    return body["oauth_problem"]


async def approve(env: Env, authorize_url: str, decision: str = "approve") -> str:
    """A browser opens the consumer's link: the sign-in first, back to the consent page,
    then the decision; the consumer's callback URL (where keystead sends the browser)."""
    async with env.client() as http:
        browser = Browser(http)
        r = await browser.open(authorize_url)
        assert r.status_code == 303  # not signed in: the account sign-in, then back here
        login = await follow(browser, r)
        page = await follow(browser, await browser.login(login))
        assert page.status_code == 200, page.text[:500]
        assert "Photo Printer" in page.text and "See your email address" in page.text
        done = await browser.submit(page, decision=decision)
        assert done.status_code == 303, done.text[:500]
        location: str = done.headers["location"]
        return location


async def three_legs(env: Env, c: AsyncOAuth1Client) -> tuple[dict[str, str], str]:
    temporary = await c.fetch_request_token("/oauth1/request_token")
    assert temporary["oauth_callback_confirmed"] == "true"
    url = c.create_authorization_url("/oauth1/authorize", temporary["oauth_token"])
    back = await approve(env, url)
    assert back.startswith("https://printer.example.com/oauth1/callback?shop=1&")
    params = c.parse_authorization_response(back)
    assert params["oauth_token"] == temporary["oauth_token"] and params["oauth_verifier"]
    token = await c.fetch_access_token("/oauth1/access_token", params["oauth_verifier"])
    assert set(token) == {"oauth_token", "oauth_token_secret"}
    return token, params["oauth_verifier"]


@pytest.mark.parametrize("method", ["HMAC-SHA1", "HMAC-SHA256", "RSA-SHA1"])
async def test_three_legged_flow(env: Env, method: str) -> None:
    sub = await env.add_user()
    private = None
    policy: dict[str, Any] = {}
    if method == "RSA-SHA1":
        private, public = rsa_pair()
        policy["oauth1_rsa_public_key"] = public
    client_id, secret = await add_consumer(env, **policy)
    async with consumer(env, client_id, secret, signature_method=method, rsa_key=private) as c:
        await three_legs(env, c)
        r = await c.get("/oauth1/userinfo", params={"fields": "all the things"})
        assert r.status_code == 200, r.text
        claims = r.json()
        assert claims["sub"] == sub and claims["email"] == "alice@example.com"
        assert claims["name"] == "Alice" and r.headers["cache-control"] == "no-store"
        # POST with a form body: the body's parameters are signed too (§3.4.1.3.1)
        r = await c.post("/oauth1/userinfo", data={"a": "1 2", "b": "é&="})
        assert r.status_code == 200, r.text
    listed = await oauth1.list_tokens(env.provider, sub)
    assert [t["client_id"] for t in listed] == [client_id]


async def test_signature_nonce_and_timestamp_attacks(env: Env) -> None:
    await env.add_user()
    client_id, secret = await add_consumer(env)
    async with consumer(env, client_id, secret) as c:
        token, _ = await three_legs(env, c)
        # A wrong consumer secret: 401 signature_invalid.
        async with consumer(env, client_id, "not-the-secret") as wrong:
            assert problem(await wrong.post("/oauth1/request_token"), 401) == "signature_invalid"
        # A tampered request: the signature covered another query.
        good = await c.get("/oauth1/userinfo", params={"amount": "1"})
        assert good.status_code == 200
        async with env.client() as raw:
            auth = good.request.headers["authorization"]
            tampered = await raw.get(
                "/oauth1/userinfo?amount=1000", headers={"authorization": auth}
            )
            assert problem(tampered, 401) == "signature_invalid"
            # The same signed request again: the nonce is remembered.
            replay = await raw.get("/oauth1/userinfo?amount=1", headers={"authorization": auth})
            assert problem(replay, 401) == "nonce_used"
            # Signed for another host: the base string URI is the issuer's, not Host's.
            other = await raw.get(
                "/oauth1/userinfo?amount=1",
                headers={"authorization": auth, "host": "evil.example"},
            )
            assert problem(other, 401) in ("signature_invalid", "nonce_used")
        # Signed for the URL under another host name (a proxy's, an attacker's): keystead
        # builds the base string URI from its issuer, never from Host (§3.4.1.2).
        async with consumer(env, client_id, secret, **token_kwargs(token)) as elsewhere:
            elsewhere.base_url = httpx.URL("https://evil.example")
            r = await elsewhere.get("/oauth1/userinfo")
            assert r.request.headers["host"] == "evil.example"
            assert problem(r, 401) == "signature_invalid"
            assert env.settings.issuer in r.headers["www-authenticate"]
        # A stale timestamp: keystead's clock is 10 minutes ahead of the consumer's.
        env.clock.now += 600
        assert problem(await c.get("/oauth1/userinfo"), 401) == "timestamp_refused"
        env.clock.now -= 600
        assert (await c.get("/oauth1/userinfo")).status_code == 200


async def test_token_and_verifier_attacks(env: Env) -> None:
    await env.add_user()
    client_id, secret = await add_consumer(env)
    async with consumer(env, client_id, secret) as c:
        temporary = await c.fetch_request_token("/oauth1/request_token")
        # A request token at the resource: never token credentials.
        async with consumer(
            env,
            client_id,
            secret,
            token=temporary["oauth_token"],
            token_secret=temporary["oauth_token_secret"],
        ) as early:
            assert problem(await early.get("/oauth1/userinfo"), 401) == "token_rejected"
            # Before the user approved: no verifier is right.
            early.auth.verifier = "guess"
            r = await early.post("/oauth1/access_token")
            assert problem(r, 401) == "token_rejected"
            assert catalog_id(r) == "oauth1-verifier-invalid"
        url = c.create_authorization_url("/oauth1/authorize", temporary["oauth_token"])
        params = c.parse_authorization_response(await approve(env, url))
        async with consumer(
            env,
            client_id,
            secret,
            token=temporary["oauth_token"],
            token_secret=temporary["oauth_token_secret"],
        ) as attacker:
            attacker.auth.verifier = "not-the-verifier"
            r = await attacker.post("/oauth1/access_token")
            assert problem(r, 401) == "token_rejected"
            assert catalog_id(r) == "oauth1-verifier-invalid"
        token = await c.fetch_access_token("/oauth1/access_token", params["oauth_verifier"])
        # The verifier again (a new nonce): the temporary credentials were exchanged once.
        async with consumer(
            env,
            client_id,
            secret,
            token=temporary["oauth_token"],
            token_secret=temporary["oauth_token_secret"],
            verifier=params["oauth_verifier"],
        ) as replay:
            assert problem(await replay.post("/oauth1/access_token"), 401) == "token_used"
        # Another consumer's token credentials: refused.
        other_id, other_secret = await add_consumer(env)
        async with consumer(
            env,
            other_id,
            other_secret,
            token=token["oauth_token"],
            token_secret=token["oauth_token_secret"],
        ) as thief:
            assert problem(await thief.get("/oauth1/userinfo"), 401) == "token_rejected"


async def test_callback_plaintext_and_parameters(env: Env) -> None:
    client_id, secret = await add_consumer(env)
    async with consumer(env, client_id, secret, redirect_uri="https://evil.example/cb") as c:
        assert problem(await c.post("/oauth1/request_token"), 400) == "parameter_rejected"
    async with consumer(env, client_id, secret, redirect_uri="oob") as c:
        assert problem(await c.post("/oauth1/request_token"), 400) == "parameter_rejected"
    async with consumer(env, client_id, secret, redirect_uri=None) as c:
        assert problem(await c.post("/oauth1/request_token"), 400) == "parameter_absent"
    # PLAINTEXT sends the secrets: refused over http (§3.4.4).
    async with consumer(env, client_id, secret, signature_method="PLAINTEXT") as c:
        r = await c.post("/oauth1/request_token")
        assert problem(r, 400) == "signature_method_rejected"
        assert "https" in dict(parse_qsl(r.text))["oauth_problem_advice"]
    # An unknown consumer, a client not enabled for OAuth 1.0a, an unknown method.
    async with consumer(env, "nobody", "x") as c:
        assert problem(await c.post("/oauth1/request_token"), 401) == "consumer_key_unknown"
    plain_id, plain_secret = await env.add_client()
    async with consumer(env, plain_id, plain_secret) as c:
        assert problem(await c.post("/oauth1/request_token"), 401) == "consumer_key_rejected"
    async with env.client() as raw:
        header = (
            f'OAuth oauth_consumer_key="{client_id}", oauth_signature_method="MD5", '
            'oauth_signature="x", oauth_timestamp="1", oauth_nonce="n"'
        )
        r = await raw.post("/oauth1/request_token", headers={"authorization": header})
        assert problem(r, 400) == "signature_method_rejected"
        r = await raw.post("/oauth1/request_token")
        assert problem(r, 400) == "parameter_absent"
        twice = header.replace('oauth_signature_method="MD5"', 'oauth_nonce="m"')
        r = await raw.post("/oauth1/request_token", headers={"authorization": twice})
        assert problem(r, 400) == "parameter_rejected"


async def test_plaintext_over_https_and_oob(tmp_path: Any) -> None:
    env = await make_env(tmp_path, issuer="https://id.example.com", dev_mode=True)
    try:
        client_id, secret = await add_consumer(env, oauth1_oob=True)
        async with consumer(env, client_id, "wrong", redirect_uri="oob") as c:
            r = await c.post("/oauth1/request_token")
            advice = dict(parse_qsl(r.text))["oauth_problem_advice"]
            # development mode: the base string keystead computed, to compare with the client's
            assert problem(r, 401) == "signature_invalid"
            assert "base string: POST&https%3A%2F%2Fid.example.com%2Foauth1%2Frequest_token&" in (
                advice
            )
        async with consumer(
            env, client_id, secret, signature_method="PLAINTEXT", redirect_uri="oob"
        ) as c:
            temporary = await c.fetch_request_token("/oauth1/request_token")
            assert temporary["oauth_token"] and temporary["oauth_token_secret"]
            # oob (§2.1): no redirect; the page shows the verifier the user types in.
            await env.add_user()
            async with env.client() as http:
                browser = Browser(http)
                url = c.create_authorization_url("/oauth1/authorize", temporary["oauth_token"])
                login = await follow(browser, await browser.open(url))
                page = await follow(browser, await browser.login(login))
                assert "a code to enter in the application" in page.text
                shown = await browser.submit(page, decision="approve")
                assert shown.status_code == 200 and "Access granted" in shown.text
                verifier = shown.text.split("Enter this code in the application: ")[1][:32]
            await c.fetch_access_token("/oauth1/access_token", verifier)
            r = await c.get("/oauth1/userinfo")
            assert r.status_code == 200 and r.json()["preferred_username"] == "alice"
    finally:
        await env.provider.close()


async def test_denied_then_refused(env: Env) -> None:
    await env.add_user()
    client_id, secret = await add_consumer(env)
    async with consumer(env, client_id, secret) as c:
        temporary = await c.fetch_request_token("/oauth1/request_token")
        url = c.create_authorization_url("/oauth1/authorize", temporary["oauth_token"])
        back = await approve(env, url, decision="deny")
        query = dict(parse_qsl(urlsplit(back).query))
        assert query == {
            "shop": "1",
            "oauth_token": temporary["oauth_token"],
            "oauth_problem": "permission_denied",
        }
        c.auth.verifier = "anything"
        assert problem(await c.post("/oauth1/access_token"), 401) == "permission_denied"
    async with env.client() as http:  # the link is spent
        r = await Browser(http).open(url)
        assert r.status_code == 400 and "not valid" in r.text


async def test_revoked_token_refused(env: Env) -> None:
    sub = await env.add_user()
    client_id, secret = await add_consumer(env)
    async with consumer(env, client_id, secret) as c:
        await three_legs(env, c)
        assert (await c.get("/oauth1/userinfo")).status_code == 200
        [listed] = await oauth1.list_tokens(env.provider, sub)
        revoked = await oauth1.revoke(env.provider, listed["token_id"], CLI)
        assert revoked["revoked_at"] == env.clock()
        assert problem(await c.get("/oauth1/userinfo"), 401) == "token_revoked"


async def test_secret_rotation_keeps_hmac_working(env: Env) -> None:
    await env.add_user()
    client_id, old = await add_consumer(env)
    _, new = await clients.rotate_secret(env.provider, client_id, CLI)
    async with consumer(env, client_id, old) as c:
        assert problem(await c.post("/oauth1/request_token"), 401) == "signature_invalid"
    async with consumer(env, client_id, new) as c:
        assert (await c.fetch_request_token("/oauth1/request_token"))["oauth_token"]


async def test_deleting_the_consumer_takes_its_tokens(env: Env) -> None:
    sub = await env.add_user()
    client_id, secret = await add_consumer(env)
    async with consumer(env, client_id, secret) as c:
        await three_legs(env, c)
        await clients.delete(env.provider, client_id, CLI)
        assert await env.provider.store.oauth1.tokens_of(sub) == []  # ON DELETE CASCADE
        assert problem(await c.get("/oauth1/userinfo"), 401) == "consumer_key_unknown"


async def test_temporary_credentials_expire(env: Env) -> None:
    await env.add_user()
    client_id, secret = await add_consumer(env)
    async with consumer(env, client_id, secret) as c:
        temporary = await c.fetch_request_token("/oauth1/request_token")
        url = c.create_authorization_url("/oauth1/authorize", temporary["oauth_token"])
        env.clock.now += env.settings.oauth1_request_token_ttl  # 10 minutes by default
        async with env.client() as http:
            r = await Browser(http).open(url)
            assert r.status_code == 400 and "not valid" in r.text  # before any sign-in
        c.auth.verifier = "anything"
        r = await c.post("/oauth1/access_token")
        assert problem(r, 401) == "token_expired"
