"""Sign-in with an upstream provider end to end (issue 22): node-oidc-provider is the real
upstream (tests/upstream_node), keystead the relying party in between, Authlib the downstream
client that must only ever see keystead's own ``sub``.

JIT sign-in; a returning identity; linking refused without proof when the upstream's email is
unverified; linking after the existing account's password; a trusted verified email linking at
once; unlinking (not the last way to sign in) and linking from the account page; a tampered
upstream ID token, a wrong nonce, an upstream that is down, a forged state; idp_hint; a client
restricted to some connections or to no password.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.jose import JsonWebKey, JsonWebToken

from keystead.services import connections as connection_service
from keystead.services.common import Actor
from tests.e2e.conftest import (
    ISSUER,
    PASSWORD,
    REDIRECT_URI,
    Env,
    form_fields,
    make_env,
    query_of,
)
from tests.e2e.upstream import NopUpstream, make_key, sign_in_upstream_async, upstream_client

pytestmark = pytest.mark.anyio

UP_CLIENT, UP_SECRET = "keystead-broker", "upstream-secret-0123456789"
CALLBACK = f"{ISSUER}/federation/corp/callback"
ACCOUNTS = {
    "ann": {
        "email": "ann@corp.example",
        "email_verified": True,
        "name": "Ann Upstream",
        "given_name": "Ann",
        "family_name": "Upstream",
    },
    # claims alice's address without the upstream having verified it: the takeover attempt
    "mallory": {"email": "alice@example.com", "email_verified": False, "name": "Not Alice"},
    # alice herself at the upstream, address verified there
    "alice-up": {"email": "alice@example.com", "email_verified": True, "name": "Alice"},
}
CLI = Actor("cli")


@pytest.fixture(scope="module")
def upstream() -> Iterator[NopUpstream]:
    client = upstream_client(UP_CLIENT, UP_SECRET, CALLBACK)
    with NopUpstream(clients=[client], accounts=ACCOUNTS) as nop:
        yield nop


@pytest.fixture
async def fed(tmp_path: Path, upstream: NopUpstream) -> AsyncIterator[Env]:
    env = await make_env(tmp_path, allow_private_network_fetch=True)
    yield env
    await env.provider.close()


async def add_connection(env: Env, upstream: NopUpstream, **overrides: Any) -> None:
    spec = connection_service.ConnectionSpec(
        name="corp",
        issuer=upstream.issuer,
        client_id=UP_CLIENT,
        display_name="Corp SSO",
        **overrides,
    )
    await connection_service.create(env.provider, spec, UP_SECRET, CLI)


def browser_for(env: Env) -> httpx.AsyncClient:
    """keystead in process, the upstream over real loopback HTTP; one cookie jar."""
    return httpx.AsyncClient(
        mounts={
            ISSUER: httpx.ASGITransport(app=env.app, client=("203.0.113.7", 40000)),
            "all://": httpx.AsyncHTTPTransport(),
        },
        base_url=ISSUER,
        follow_redirects=False,
        timeout=20,
    )


def rp_for(env: Env, client_id: str, secret: str | None) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=client_id,
        client_secret=secret,
        scope="openid profile email",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        transport=httpx.ASGITransport(app=env.app),
        base_url=ISSUER,
    )


async def password_sign_in(http: httpx.AsyncClient, page: httpx.Response) -> httpx.Response:
    """The login page's password form (after the connection buttons)."""
    for form in re.findall(r"<form.*?</form>", page.text, re.S):
        if 'name="password"' in form:
            fields = {**form_fields(form), "username": "alice", "password": PASSWORD}
            return await http.post("/login", data=fields)
    raise AssertionError(f"no password form: {page.text[:800]}")


def button(page: httpx.Response, name: str) -> dict[str, str]:
    """The fields of the login page's "Continue with ..." form for connection ``name``."""
    for form in re.findall(r"<form.*?</form>", page.text, re.S):
        if f'name="connection" value="{name}"' in form:
            return form_fields(form)
    raise AssertionError(f"no button for {name}: {page.text[:800]}")


async def to_upstream(http: httpx.AsyncClient, authorize_url: str) -> httpx.Response:
    """Open the client's authorization URL and press "Continue with Corp SSO"."""
    page = await http.get(authorize_url)
    assert page.status_code == 200 and "Continue with Corp SSO" in page.text, page.text[:800]
    r = await http.post("/federation/start", data=button(page, "corp"))
    assert r.status_code == 303, r.text[:800]
    return r


async def upstream_round_trip(
    http: httpx.AsyncClient, start: httpx.Response, login: str
) -> httpx.Response:
    """Sign in at the upstream as ``login``; open keystead's callback with its answer."""
    back = await sign_in_upstream_async(http, start.headers["location"], login)
    assert back.startswith(CALLBACK + "?"), back
    assert "iss" in query_of(back)  # node-oidc-provider sends RFC 9207's iss
    return await http.get(back)


async def flow(
    env: Env, client_id: str, secret: str | None, http: httpx.AsyncClient, login: str
) -> tuple[AsyncOAuth2Client, httpx.Response, str, str]:
    rp = rp_for(env, client_id, secret)
    verifier = "v" * 43
    url, state = rp.create_authorization_url(
        f"{ISSUER}/authorize", code_verifier=verifier, nonce="downstream-nonce"
    )
    start = await to_upstream(http, url)
    return rp, await upstream_round_trip(http, start, login), verifier, state


async def finish_downstream(
    env: Env, rp: AsyncOAuth2Client, done: httpx.Response, verifier: str
) -> dict[str, Any]:
    """The downstream client gets its code and tokens; the ID token is keystead's."""
    assert done.status_code in (302, 303), done.text[:800]
    location = done.headers["location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    token = await rp.fetch_token(
        f"{ISSUER}/token", authorization_response=location, code_verifier=verifier
    )
    async with env.client() as http:
        jwks = (await http.get("/jwks")).json()
    claims = JsonWebToken(["ES256", "RS256", "EdDSA"]).decode(
        token["id_token"], JsonWebKey.import_key_set(jwks)
    )
    assert claims["iss"] == ISSUER and claims["nonce"] == "downstream-nonce"
    assert "fed" in claims["amr"]
    return dict(claims)


async def first_party(env: Env) -> tuple[str, str | None]:
    return await env.add_client(skip_consent=True)


async def policy_client(env: Env, **policy: Any) -> str:
    from keystead.services import clients
    from keystead.services.clients import ClientSpec

    spec = ClientSpec(client_name="Policy App", redirect_uris=[REDIRECT_URI], skip_consent=True)
    client, _ = await clients.create(env.provider, spec, CLI, policy=policy)
    return client.client_id


async def events(env: Env, name: str) -> list[dict[str, Any]]:
    await env.provider.recorder.flush()
    found = await env.provider.store.events.recent(1000)
    return [e.data for e in sorted(found, key=lambda e: e.event_id) if e.name == name]


# --- just in time, and back again ---


async def test_jit_user_then_the_same_user_again(fed: Env, upstream: NopUpstream) -> None:
    await add_connection(fed, upstream)
    client_id, secret = await first_party(fed)
    async with browser_for(fed) as http:
        rp, done, verifier, _ = await flow(fed, client_id, secret, http, "ann")
        claims = await finish_downstream(fed, rp, done, verifier)
        info = (await rp.get(f"{ISSUER}/userinfo")).json()
    sub = claims["sub"]
    assert sub != "ann"  # keystead's own sub, never the upstream's
    assert info["email"] == "ann@corp.example" and info["email_verified"] is True
    assert info["name"] == "Ann Upstream"
    user = await fed.provider.store.users.get(sub)
    assert user is not None and user.password_hash.startswith("!")  # no password to guess
    [identity] = await fed.provider.store.federated_identities.for_user(sub)
    assert identity.upstream_sub == "ann"
    async with browser_for(fed) as http:  # another browser, the same upstream identity
        rp, done, verifier, _ = await flow(fed, client_id, secret, http, "ann")
        again = await finish_downstream(fed, rp, done, verifier)
    assert again["sub"] == sub
    assert len(await fed.provider.store.users.get_by_email("ann@corp.example")) == 1


async def test_no_jit_refuses_an_unknown_identity(fed: Env, upstream: NopUpstream) -> None:
    await add_connection(fed, upstream, jit=False)
    client_id, secret = await first_party(fed)
    async with browser_for(fed) as http:
        _, page, _, _ = await flow(fed, client_id, secret, http, "ann")
    assert page.status_code == 200 and "no account here" in page.text
    assert 'name="password"' in page.text  # the login page again, no session
    assert await fed.provider.store.users.get_by_email("ann@corp.example") == []


# --- linking without takeover ---


async def test_unverified_upstream_email_never_links(fed: Env, upstream: NopUpstream) -> None:
    await add_connection(fed, upstream, link_by_verified_email=True)
    alice = await fed.add_user(email_verified=True)
    client_id, secret = await first_party(fed)
    async with browser_for(fed) as http:
        _, page, _, _ = await flow(fed, client_id, secret, http, "mallory")
        assert page.status_code == 200 and "You have an account here" in page.text
        assert "did not confirm that this address is yours" in page.text
        assert "alice" not in page.text.lower().split("you have an account here")[1][:300]
        wrong = await http.post(
            "/federation/link", data={**form_fields(page.text), "password": "guess"}
        )
        assert wrong.status_code == 400 and "Incorrect password" in wrong.text
    assert await fed.provider.store.federated_identities.for_user(alice) == []
    assert await events(fed, "federation.link_offered")


async def test_link_after_the_existing_password(fed: Env, upstream: NopUpstream) -> None:
    await add_connection(fed, upstream)  # verified emails not trusted: proof needed
    alice = await fed.add_user(email_verified=True)
    client_id, secret = await first_party(fed)
    async with browser_for(fed) as http:
        rp, page, verifier, _ = await flow(fed, client_id, secret, http, "alice-up")
        assert "You have an account here" in page.text and "a•" in page.text
        done = await http.post(
            "/federation/link", data={**form_fields(page.text), "password": PASSWORD}
        )
        claims = await finish_downstream(fed, rp, done, verifier)
    assert claims["sub"] == alice
    [identity] = await fed.provider.store.federated_identities.for_user(alice)
    assert identity.upstream_sub == "alice-up"
    async with browser_for(fed) as http:  # linked: straight through next time
        rp, done, verifier, _ = await flow(fed, client_id, secret, http, "alice-up")
        assert (await finish_downstream(fed, rp, done, verifier))["sub"] == alice


async def test_trusted_verified_email_links_at_once(fed: Env, upstream: NopUpstream) -> None:
    await add_connection(fed, upstream, link_by_verified_email=True)
    alice = await fed.add_user(email_verified=True)
    client_id, secret = await first_party(fed)
    async with browser_for(fed) as http:
        rp, done, verifier, _ = await flow(fed, client_id, secret, http, "alice-up")
        assert (await finish_downstream(fed, rp, done, verifier))["sub"] == alice


async def test_link_and_unlink_on_the_account_page(fed: Env, upstream: NopUpstream) -> None:
    await add_connection(fed, upstream)
    alice = await fed.add_user()
    async with browser_for(fed) as http:
        login = await follow(http, await http.get("/account"))
        account = await follow(http, await password_sign_in(http, login))
        assert "Sign-in with other providers" in account.text and "None linked." in account.text
        r = await http.post("/account/connections/link", data=button(account, "corp"))
        assert r.status_code == 303
        back = await sign_in_upstream_async(http, r.headers["location"], "ann")
        done = await http.get(back)
        assert done.status_code == 303 and done.headers["location"].endswith("/account?done=linked")
        page = await http.get("/account?done=linked")
        assert "Corp SSO" in page.text and "ann@corp.example" in page.text
        [identity] = await fed.provider.store.federated_identities.for_user(alice)
        fields = next(
            form_fields(f)
            for f in re.findall(r"<form.*?</form>", page.text, re.S)
            if "connections/unlink" in f
        )
        gone = await http.post("/account/connections/unlink", data=fields)
        assert gone.status_code == 303 and "unlinked" in gone.headers["location"]
    assert await fed.provider.store.federated_identities.for_user(alice) == []
    assert identity.connection_id == fields["connection_id"]


async def test_the_last_way_to_sign_in_stays(fed: Env, upstream: NopUpstream) -> None:
    await add_connection(fed, upstream)
    async with browser_for(fed) as http:
        start = await http.get("/account")
        login = await follow(http, start)
        r = await http.post("/federation/start", data=button(login, "corp"))
        account = await follow(http, await upstream_round_trip(http, r, "ann"))
        assert "Your account has no password" in account.text
        fields = next(
            form_fields(f)
            for f in re.findall(r"<form.*?</form>", account.text, re.S)
            if "connections/unlink" in f
        )
        refused = await http.post("/account/connections/unlink", data=fields)
    assert refused.status_code == 400 and "only way you can sign in" in refused.text


# --- the attacker's and the network's failures ---


async def test_tampered_token_wrong_nonce_forged_state(fed: Env, upstream: NopUpstream) -> None:
    await add_connection(fed, upstream)
    client_id, secret = await first_party(fed)
    try:
        for mischief, catalog_id in (
            ({"id_token_signature": "tamper"}, "upstream-id-token-invalid"),
            ({"id_token_claims": {"nonce": "not-the-one-sent"}}, "upstream-nonce-mismatch"),
            ({"token_error": "invalid_grant"}, "upstream-token-error"),
        ):
            upstream.mischief(**mischief)
            async with browser_for(fed) as http:
                _, page, _, _ = await flow(fed, client_id, secret, http, "ann")
                assert page.status_code == 502, page.text[:500]
                assert 'name="password"' in page.text and "login-error" in page.text
                assert "keystead_session" not in http.cookies
            failed = await events(fed, "federation.failed")
            assert failed[-1]["catalog_id"] == catalog_id, failed[-1]
    finally:
        upstream.mischief()
    assert await fed.provider.store.users.get_by_email("ann@corp.example") == []
    async with browser_for(fed) as http:
        rp = rp_for(fed, client_id, secret)
        url, _ = rp.create_authorization_url(f"{ISSUER}/authorize", code_verifier="v" * 43)
        start = await to_upstream(http, url)
        back = await sign_in_upstream_async(http, start.headers["location"], "ann")
        forged = re.sub(r"state=[^&]+", "state=forged", back)
        r = await http.get(forged)
        assert r.status_code == 400 and "does not match" in r.text
        http.cookies.clear()
        r = await http.get(back)  # the right state, but not this browser's trip
        assert r.status_code == 400 and "took too long or was started elsewhere" in r.text


async def test_upstream_down(fed: Env, tmp_path: Path) -> None:
    client = upstream_client(UP_CLIENT, UP_SECRET, CALLBACK)
    with NopUpstream(clients=[client], accounts=ACCOUNTS) as short_lived:
        await add_connection(fed, short_lived)
        client_id, secret = await first_party(fed)
        async with browser_for(fed) as http:
            rp = rp_for(fed, client_id, secret)
            url, _ = rp.create_authorization_url(f"{ISSUER}/authorize", code_verifier="v" * 43)
            start = await to_upstream(http, url)
            back = await sign_in_upstream_async(http, start.headers["location"], "ann")
            short_lived.stop()  # gone before keystead redeems the code
            page = await http.get(back)
    assert page.status_code == 502 and 'name="password"' in page.text
    failed = await events(fed, "federation.failed")
    assert failed[-1]["catalog_id"] == "upstream-unreachable"


async def test_upstream_key_rotation(fed: Env) -> None:
    """The upstream signs with a new key after a restart: keystead, holding the old JWKS,
    meets an unknown kid, fetches the JWKS again and accepts the ID token."""
    client = upstream_client(UP_CLIENT, UP_SECRET, CALLBACK)
    with NopUpstream(clients=[client], accounts=ACCOUNTS, keys=[make_key("k1")]) as nop:
        await add_connection(fed, nop)
        client_id, secret = await first_party(fed)
        async with browser_for(fed) as http:
            rp, done, verifier, _ = await flow(fed, client_id, secret, http, "ann")
            first = await finish_downstream(fed, rp, done, verifier)
        nop.restart(keys=[make_key("k2")])  # same issuer, a new signing key
        # (a refetch on an unknown kid waits until the cached JWKS is a minute old: here 0 s)
        fed.provider.upstreams.jwks.min_refetch = 0
        fetches = fed.provider.upstreams.jwks.fetches
        assert [k["kid"] for k in nop.jwks()["keys"]] == ["k2"]
        async with browser_for(fed) as http:
            rp, done, verifier, _ = await flow(fed, client_id, secret, http, "ann")
            again = await finish_downstream(fed, rp, done, verifier)
    assert again["sub"] == first["sub"]
    assert fed.provider.upstreams.jwks.fetches == fetches + 1  # one refetch, for kid k2


# --- which client offers what ---


async def test_idp_hint_and_client_policies(fed: Env, upstream: NopUpstream) -> None:
    await add_connection(fed, upstream)
    hinted = await policy_client(fed)
    only_other = await policy_client(fed, connections=["other"])
    upstream_only = await policy_client(fed, password_login=False)
    async with browser_for(fed) as http:
        base = {
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "scope": "openid",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        }
        r = await http.get("/authorize", params={**base, "client_id": hinted, "idp_hint": "corp"})
        assert r.status_code == 303 and r.headers["location"].startswith(upstream.issuer)
        r = await http.get(
            "/authorize", params={**base, "client_id": only_other, "idp_hint": "corp"}
        )
        assert r.status_code == 200 and "Continue with" not in r.text  # not offered to it
        page = await http.get("/authorize", params={**base, "client_id": upstream_only})
        assert "Continue with Corp SSO" in page.text and 'name="password"' not in page.text
        fields = button(page, "corp")
        refused = await http.post("/login", data={**fields, "username": "a", "password": "b"})
        assert refused.status_code == 400 and "does not accept passwords" in refused.text
        other = await http.get("/authorize", params={**base, "client_id": only_other})
        forced = await http.post(
            "/federation/start", data={**form_fields(other.text), "connection": "corp"}
        )
        assert forced.status_code == 400 and "not available for this application" in forced.text


async def follow(http: httpx.AsyncClient, r: httpx.Response) -> httpx.Response:
    while r.status_code in (302, 303):
        r = await http.get(r.headers["location"])
    return r


def test_client_policy_flags(run: Any) -> None:
    """keystead client create/update --connection / --all-connections / --no-password-login."""
    base = ("client", "create", "--name", "App", "--redirect-uri", "https://app.example/cb")
    plain = run(*base)
    assert plain["connections"] is None and plain["password_login"] is True
    strict = run(*base, "--connection", "corp", "--connection", "github", "--no-password-login")
    assert strict["connections"] == ["corp", "github"] and strict["password_login"] is False
    client_id = strict["client_id"]
    assert run("client", "update", client_id, "--name", "Renamed")["connections"] == [
        "corp",
        "github",
    ]
    back = run("client", "update", client_id, "--all-connections", "--password-login")
    assert back["connections"] is None and back["password_login"] is True
    refused = run("client", "update", client_id, "--connection", "Not A Name", ok=False)
    assert "--connection" in refused and "no connection name" in refused


async def test_link_proven_by_mail(upstream: NopUpstream, tmp_path: Path) -> None:
    """The owner of the existing account proves it by a link mailed to its verified address
    (opened in another browser); the next "Continue with" signs in to that account."""
    from keystead.mail.deliver import HANDLERS
    from keystead.outbox import Sender
    from tests.mail.smtp_sink import SmtpSink

    with SmtpSink() as sink:
        env = await make_env(
            tmp_path,
            allow_private_network_fetch=True,
            smtp_url=sink.url,
            mail_from="keystead <id@example.com>",
        )
        try:
            await add_connection(env, upstream)
            alice = await env.add_user(email_verified=True)
            client_id, secret = await first_party(env)
            async with browser_for(env) as http:
                _, page, _, _ = await flow(env, client_id, secret, http, "alice-up")
                assert 'id="mail-link"' in page.text
                mail_form = next(
                    form_fields(f)
                    for f in re.findall(r"<form.*?</form>", page.text, re.S)
                    if "/federation/link/mail" in f
                )
                sent = await http.post("/federation/link/mail", data=mail_form)
                assert sent.status_code == 200 and "Check your mail" in sent.text
            assert await env.provider.store.federated_identities.for_user(alice) == []
            assert await Sender(env.provider, HANDLERS).run_once() == 1
            [message] = await sink.wait_for(1)
            assert message["To"] == "alice@example.com"
            body = message.get_body(("plain",))
            assert body is not None and "Corp SSO" in body.get_content()
            match = re.search(
                r"http://127\.0\.0\.1:8000/federation/link/confirm\?token=[\w-]+",
                body.get_content(),
            )
            assert match, body.get_content()
            async with env.client() as phone:  # the mail opened in another browser
                confirm = await phone.get(match.group(0))
                assert confirm.status_code == 200
                assert await env.provider.store.federated_identities.for_user(alice) == []
                done = await phone.post("/federation/link/confirm", data=form_fields(confirm.text))
                assert done.status_code == 200 and "is linked to your account" in done.text
                again = await phone.post("/federation/link/confirm", data=form_fields(confirm.text))
                assert again.status_code == 400 and "already used" in again.text
            [identity] = await env.provider.store.federated_identities.for_user(alice)
            assert identity.upstream_sub == "alice-up"
            async with browser_for(env) as http:
                rp, done, verifier, _ = await flow(env, client_id, secret, http, "alice-up")
                assert (await finish_downstream(env, rp, done, verifier))["sub"] == alice
        finally:
            await env.provider.close()
