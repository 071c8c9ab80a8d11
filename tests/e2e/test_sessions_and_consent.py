"""SSO session, remembered consent, prompt handling, the login form's defences."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import REDIRECT_URI, Browser, Env, form_fields, pkce_pair, query_of
from tests.e2e.test_authorize_errors import auth_url
from tests.e2e.test_token import redeem

pytestmark = pytest.mark.anyio


async def sign_in(env: Env, browser: Browser, client_id: str, **extra: str) -> dict[str, str]:
    page = await browser.login(await browser.open(auth_url(client_id, **extra)))
    done = await browser.consent(page)
    assert done.status_code == 303, done.text[:300]
    return query_of(done.headers["location"])


async def test_second_authorization_skips_login_and_consent(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        browser = Browser(http)
        await sign_in(env, browser, client_id)
        again = await browser.open(auth_url(client_id))
        assert again.status_code == 302
        assert "code" in query_of(again.headers["location"])
        # prompt=none now succeeds silently
        silent = await browser.open(auth_url(client_id, prompt="none"))
        assert "code" in query_of(silent.headers["location"])
        # a wider scope than consented needs consent again; prompt=none says so
        wider = await browser.open(auth_url(client_id, scope="openid profile email", prompt="none"))
        assert query_of(wider.headers["location"])["error"] == "consent_required"


async def test_prompt_consent_forces_the_page(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        browser = Browser(http)
        await sign_in(env, browser, client_id)
        page = await browser.open(auth_url(client_id, prompt="consent"))
        assert page.status_code == 200 and 'name="decision"' in page.text


async def test_prompt_login_forces_the_form_once(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        browser = Browser(http)
        await sign_in(env, browser, client_id)
        env.clock.now += 5
        page = await browser.open(auth_url(client_id, prompt="login"))
        assert 'name="password"' in page.text
        done = await browser.login(page)  # consent remembered: straight back
        assert done.status_code == 303 and "code" in query_of(done.headers["location"])


async def test_max_age_requires_a_fresh_login(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        browser = Browser(http)
        await sign_in(env, browser, client_id)
        env.clock.now += 120
        assert (await browser.open(auth_url(client_id, max_age="600"))).status_code == 302
        page = await browser.open(auth_url(client_id, max_age="60"))
        assert 'name="password"' in page.text


async def test_max_age_zero_forces_a_fresh_login(env: Env) -> None:
    """OIDC Core §3.1.2.1: max_age=0 is equivalent to prompt=login, even for a session signed
    in this very second (the fake clock does not move here)."""
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        browser = Browser(http)
        await sign_in(env, browser, client_id)
        page = await browser.open(auth_url(client_id, max_age="0"))
        assert 'name="password"' in page.text
        done = await browser.login(page)  # consent remembered: straight back, no second form
        assert done.status_code == 303 and "code" in query_of(done.headers["location"])
        silent = await browser.open(auth_url(client_id, max_age="0", prompt="none"))
        assert query_of(silent.headers["location"])["error"] == "login_required"


async def test_session_idle_timeout(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        browser = Browser(http)
        await sign_in(env, browser, client_id)
        env.clock.now += env.settings.session_idle_ttl + 1
        page = await browser.open(auth_url(client_id))
        assert 'name="password"' in page.text


async def test_offline_access_only_with_consent_given_now(env: Env) -> None:
    await env.add_user()
    client_id, secret = await env.add_client()
    verifier, challenge = pkce_pair()
    scope = {"scope": "openid offline_access", "code_challenge": challenge}
    async with env.client() as http:
        browser = Browser(http)
        # first consent in this request: offline_access granted
        first = await sign_in(env, browser, client_id, **scope)
        body = await redeem(env, first["code"], client_id, secret, expect=200, verifier=verifier)
        assert "offline_access" in body["scope"]
        # consent remembered, not shown: offline_access silently dropped (OIDC Core §11)
        again = await browser.open(auth_url(client_id, **scope))
        code = query_of(again.headers["location"])["code"]
        body = await redeem(env, code, client_id, secret, expect=200, verifier=verifier)
        assert body["scope"] == "openid"


async def test_skip_consent_client(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client(skip_consent=True)
    async with env.client() as http:
        browser = Browser(http)
        done = await browser.login(await browser.open(auth_url(client_id)))
        assert done.status_code == 303


async def test_login_page_defences(env: Env) -> None:
    client_id, _ = await env.add_client()
    async with env.client() as http:
        page = await http.get(auth_url(client_id, login_hint="carol"))
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert 'autocomplete="username webauthn"' in page.text  # passwords and passkeys
    assert 'autocomplete="current-password"' in page.text
    assert 'name="viewport"' in page.text
    assert 'value="carol"' in page.text  # login_hint prefills the username
    fields = form_fields(page.text)
    assert fields["csrf_token"]
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


async def test_login_without_csrf_cookie_is_refused(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        page = await http.get(auth_url(client_id))
    async with env.client() as other:  # a different browser: no CSRF cookie
        data = form_fields(page.text)
        data.update(username="alice", password="correct horse battery staple")
        r = await other.post("/login", data=data)
    assert r.status_code == 400
    assert "set-cookie" not in r.headers or "keystead_session" not in r.headers["set-cookie"]


@pytest.mark.parametrize("token", ["é" * 22, "\u2603", ""])
async def test_login_with_a_hostile_csrf_token_is_refused_not_a_500(env: Env, token: str) -> None:
    """The fuzz found a 500: compare_digest refuses str with non-ASCII characters."""
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        page = await http.get(auth_url(client_id))
        data = form_fields(page.text)
        data.update(username="alice", password="correct horse battery staple", csrf_token=token)
        r = await http.post("/login", data=data)
    assert r.status_code == 400, r.text
    assert "keystead_session" not in r.headers.get("set-cookie", "")
    assert "The form could not be verified" in r.text  # csrf-invalid's page


async def test_tampered_interaction_is_refused(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.open(auth_url(client_id))
        fields = form_fields(page.text)
        head, payload, sig = fields["interaction"].split(".")
        r = await http.post(
            "/login",
            data={
                **fields,
                "interaction": f"{head}.{payload}x.{sig}",
                "username": "alice",
                "password": "correct horse battery staple",
            },
        )
    assert r.status_code == 400 and "location" not in r.headers


async def test_wrong_password_and_unknown_user_look_the_same(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.open(auth_url(client_id))
        wrong = await browser.login(page, "alice", "not the password")
        unknown = await browser.login(page, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 200
    assert "Incorrect username or password." in wrong.text
    assert "Incorrect username or password." in unknown.text


async def test_failed_logins_are_throttled_per_account(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.open(auth_url(client_id))
        for _ in range(env.settings.login_account_threshold):
            r = await browser.login(page, "alice", "wrong password!")
            assert r.status_code == 200
        throttled = await browser.login(page, "alice", "correct horse battery staple")
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) >= 1
        env.clock.now += 2  # the delay has passed: the right password works again
        ok = await browser.login(page, "alice")
        assert ok.status_code == 200 and 'name="decision"' in ok.text


async def test_consent_form_bound_to_the_session(env: Env) -> None:
    await env.add_user()
    await env.add_user("mallory")
    client_id, _ = await env.add_client()
    async with env.client() as http:
        browser = Browser(http)
        alice_consent = await browser.login(await browser.open(auth_url(client_id)))
    async with env.client() as http:
        browser = Browser(http)
        await browser.login(await browser.open(auth_url(client_id)), "mallory")
        r = await browser.consent(alice_consent)  # another session's consent form
    assert r.status_code == 400 and "location" not in r.headers


async def test_form_post_success(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(
            await browser.open(auth_url(client_id, response_mode="form_post"))
        )
        r = await browser.consent(page)
    assert r.status_code == 200
    assert f'action="{REDIRECT_URI}"' in r.text
    fields = form_fields(r.text)
    assert fields["code"] and fields["state"] == "st-123" and fields["iss"]
    csp = r.headers["content-security-policy"]
    assert "form-action https://rp.example.com" in csp and "script-src 'nonce-" in csp
