"""Second factors over HTTP (issue 20): a code after the password, replays and throttling,
recovery codes, step-up for acr_values without the password again, prompt=none, and the
client's require_mfa — checked in ID tokens by Authlib."""

from __future__ import annotations

import dataclasses

import httpx
import pyotp
import pytest
from authlib.jose import JsonWebKey, JsonWebToken

from keystead.accounts import second_factor, totp
from keystead.store.factors import TOTP, Factor
from tests.e2e.conftest import REDIRECT_URI, Browser, Env, query_of
from tests.e2e.test_code_flow import authlib_client

pytestmark = pytest.mark.anyio

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
CODE_FIELD = 'autocomplete="one-time-code" inputmode="numeric"'


async def enrol_totp(env: Env, sub: str) -> pyotp.TOTP:
    sealed = totp.seal(env.provider.kek, sub, SECRET)
    await env.provider.store.factors.add(
        Factor("f-" + sub, sub, TOTP, "Phone", env.clock(), secret_enc=sealed)
    )
    return pyotp.TOTP(SECRET)


async def event_names(env: Env) -> list[str]:
    await env.provider.recorder.flush()
    return [e.name for e in await env.provider.store.events.recent(1000)]


async def authorize(env: Env, browser: Browser, client_id: str, **extra: str) -> httpx.Response:
    rp = authlib_client(env, client_id, None)
    url, _ = rp.create_authorization_url(
        env.settings.issuer + "/authorize", code_verifier="v" * 50, nonce="n-1", **extra
    )
    await rp.aclose()
    return await browser.open(url)


async def id_token_of(env: Env, client_id: str, done: httpx.Response) -> dict[str, object]:
    assert done.status_code in (302, 303), done.text[:400]
    rp = authlib_client(env, client_id, None)
    token = await rp.fetch_token(
        env.settings.issuer + "/token",
        authorization_response=done.headers["location"],
        code_verifier="v" * 50,
    )
    await rp.aclose()
    async with env.client() as http:
        jwks = (await http.get("/jwks")).json()
    claims = JsonWebToken(["ES256", "RS256", "EdDSA"]).decode(
        token["id_token"], JsonWebKey.import_key_set(jwks)
    )
    return dict(claims)


async def test_a_code_after_the_password(env: Env) -> None:
    sub = await env.add_user()
    app = await enrol_totp(env, sub)
    client_id, _ = await env.add_client(token_endpoint_auth_method="none", skip_consent=True)
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(await authorize(env, browser, client_id))
        assert page.status_code == 200 and CODE_FIELD in page.text
        assert "keystead_session" not in http.cookies  # no session before the second factor
        wrong = await browser.submit(
            page, code="000000" if app.at(env.clock()) != "000000" else "1"
        )
        assert wrong.status_code == 400 and "That code is not right" in wrong.text
        done = await browser.submit(wrong, code=app.at(env.clock()))
        claims = await id_token_of(env, client_id, done)
    assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["acr"] == "2"
    assert claims["auth_time"] == env.clock()
    names = await event_names(env)
    assert "mfa.failed" in names and "mfa.succeeded" in names


async def test_a_code_counts_once(env: Env) -> None:
    sub = await env.add_user()
    app = await enrol_totp(env, sub)
    client_id, _ = await env.add_client(token_endpoint_auth_method="none", skip_consent=True)
    code = app.at(env.clock())
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(await authorize(env, browser, client_id))
        assert (await browser.submit(page, code=code)).status_code == 303
    async with env.client() as http:  # another browser, the same code in its 30 s
        browser = Browser(http)
        page = await browser.login(await authorize(env, browser, client_id))
        again = await browser.submit(page, code=code)
        assert again.status_code == 400 and "already used" in again.text
        env.clock.now += 30
        assert (await browser.submit(again, code=app.at(env.clock()))).status_code == 303


async def test_wrong_codes_are_throttled(env: Env) -> None:
    sub = await env.add_user()
    app = await enrol_totp(env, sub)
    client_id, _ = await env.add_client(token_endpoint_auth_method="none", skip_consent=True)
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(await authorize(env, browser, client_id))
        for _ in range(env.settings.login_account_threshold + 1):
            page = await browser.submit(page, code="12345x")
        assert page.status_code == 429 and int(page.headers["retry-after"]) > 0
        right = await browser.submit(page, code=app.at(env.clock()))
        assert right.status_code == 429  # even the right code waits
        env.clock.now += int(page.headers["retry-after"])
        assert (await browser.submit(page, code=app.at(env.clock()))).status_code == 303


async def test_a_recovery_code_works_once(env: Env) -> None:
    sub = await env.add_user()
    await enrol_totp(env, sub)
    codes = await second_factor.set_recovery_codes(env.provider, sub)
    assert len(codes) == 10 and len(set(codes)) == 10
    client_id, _ = await env.add_client(token_endpoint_auth_method="none", skip_consent=True)
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(await authorize(env, browser, client_id))
        done = await browser.submit(page, code=codes[3].upper())
        assert (await id_token_of(env, client_id, done))["acr"] == "2"
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(await authorize(env, browser, client_id))
        again = await browser.submit(page, code=codes[3])
        assert again.status_code == 400
    left = await env.provider.store.factors.recovery_codes(sub)
    assert left.left == 9 and left.last_used_at == env.clock()
    names = await event_names(env)
    assert "mfa.recovery_code_used" in names


async def test_step_up_asks_only_for_the_missing_factor(env: Env) -> None:
    sub = await env.add_user()
    client_id, _ = await env.add_client(token_endpoint_auth_method="none", skip_consent=True)
    async with env.client() as http:
        browser = Browser(http)
        done = await browser.login(await authorize(env, browser, client_id))
        first = await id_token_of(env, client_id, done)
        assert first["amr"] == ["pwd"] and first["acr"] == "1"
        app = await enrol_totp(env, sub)  # enrolled later (the account page)
        # prompt=none cannot add a factor: interaction_required, back at the client.
        silent = await authorize(env, browser, client_id, acr_values="2", prompt="none")
        assert query_of(silent.headers["location"])["error"] == "interaction_required"
        env.clock.now += 5
        page = await authorize(env, browser, client_id, acr_values="2")
        assert CODE_FIELD in page.text and 'name="password"' not in page.text
        assert "asks for a stronger sign-in" in page.text
        done = await browser.submit(page, code=app.at(env.clock()))
        claims = await id_token_of(env, client_id, done)
        assert claims["acr"] == "2" and claims["amr"] == ["pwd", "otp", "mfa"]
        assert claims["auth_time"] == env.clock()  # the latest factor's time
        assert claims["sid"] == first["sid"]  # the same session, stepped up
        # Stepped up once: a second request for "2" goes straight through.
        again = await authorize(env, browser, client_id, acr_values="2")
        assert again.status_code in (302, 303)


async def test_a_voluntary_acr_the_user_cannot_meet_is_reported_not_forced(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client(token_endpoint_auth_method="none", skip_consent=True)
    async with env.client() as http:
        browser = Browser(http)
        done = await browser.login(await authorize(env, browser, client_id, acr_values="phr 2"))
        assert (await id_token_of(env, client_id, done))["acr"] == "1"


async def test_an_essential_acr_or_require_mfa_without_a_factor_is_access_denied(
    env: Env,
) -> None:
    await env.add_user()
    client_id, _ = await env.add_client(token_endpoint_auth_method="none", skip_consent=True)
    client = await env.provider.store.clients.get(client_id)
    assert client is not None
    strict = client.extra | {"require_mfa": True}
    await env.provider.store.clients.update(dataclasses.replace(client, extra=strict))
    env.provider.forget_client(client_id)
    async with env.client() as http:
        browser = Browser(http)
        done = await browser.login(await authorize(env, browser, client_id))
        assert done.status_code == 303
        params = query_of(done.headers["location"])
        assert done.headers["location"].startswith(REDIRECT_URI)
        assert params["error"] == "access_denied"
        assert "second factor" in params["error_description"]
