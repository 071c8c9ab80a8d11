"""Passkeys on the sign-in pages over HTTP: passwordless from the login page
(POST /login/passkey), a passkey as the second factor after the password, a step-up to
acr_values=phr, and the responses a relying party must refuse — each a 400 page that says
why, never a 500. The authenticator is tests/accounts/soft_authenticator.py (real WebAuthn
responses); the passkey is registered through accounts/passkeys.py as the account page does;
the ID tokens are checked by Authlib."""

from __future__ import annotations

import base64
import json
import re
from html import unescape

import httpx
import pytest

from keystead.accounts import passkeys
from keystead.store.factors import PASSKEY
from tests.accounts.soft_authenticator import UP, UV, SoftAuthenticator, b64u
from tests.e2e.conftest import Browser, Env, form_fields
from tests.e2e.test_mfa_login import (
    CODE_FIELD,
    authorize,
    enrol_totp,
    event_names,
    id_token_of,
)

pytestmark = pytest.mark.anyio

RP_ID, ORIGIN = "127.0.0.1", "http://127.0.0.1:8000"  # the e2e issuer's
BUTTON = 'data-passkey="login"'
_OPTIONS = re.compile(r'<script type="application/json" id="passkey-options">(.*?)</script>', re.S)


async def register(env: Env, sub: str, **flags: int) -> SoftAuthenticator:
    user = await env.provider.store.users.get(sub)
    assert user is not None
    authenticator = SoftAuthenticator(RP_ID, ORIGIN, user_handle=sub.encode())
    ceremony = await passkeys.begin_registration(env.provider, user)
    challenge = challenge_of(ceremony.options_json)
    credential = authenticator.register(challenge, **flags)
    await passkeys.finish_registration(env.provider, user, credential, ceremony.state, "Laptop")
    return authenticator


def challenge_of(options_json: str) -> bytes:
    text = json.loads(options_json)["challenge"]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def options_of(page: httpx.Response) -> dict[str, object]:
    match = _OPTIONS.search(page.text)
    assert match, page.text[:800]
    options: dict[str, object] = json.loads(match.group(1))
    return options


def page_challenge(page: httpx.Response) -> bytes:
    return challenge_of(json.dumps(options_of(page)))


def passkey_action(page: httpx.Response) -> str:
    [form] = [f for f in re.findall(r"<form[^>]*>", page.text) if 'id="passkey-form"' in f]
    action = re.search(r'action="([^"]+)"', form)
    assert action, form
    return unescape(action.group(1))


async def send(http: httpx.AsyncClient, page: httpx.Response, credential: str) -> httpx.Response:
    """What passkey.js does: the passkey form posted with the credential's JSON."""
    fields = {k: v for k, v in form_fields(page.text).items() if k != "username"}
    return await http.post(passkey_action(page), data={**fields, "credential": credential})


async def test_passwordless_from_the_login_page(env: Env) -> None:
    sub = await env.add_user()
    authenticator = await register(env, sub)
    client_id, _ = await env.add_client(token_endpoint_auth_method="none", skip_consent=True)
    async with env.client() as http:
        page = await authorize(env, Browser(http), client_id)
        assert page.status_code == 200 and BUTTON in page.text
        assert 'autocomplete="username webauthn"' in page.text
        assert passkey_action(page) == env.settings.issuer + "/login/passkey"
        options = options_of(page)
        assert options["rpId"] == RP_ID and options["userVerification"] == "required"
        assert not options.get("allowCredentials")  # discoverable: no account named
        nonce = re.search(r"script-src 'nonce-([^']+)'", page.headers["content-security-policy"])
        assert nonce and f'nonce="{nonce.group(1)}"' in page.text
        done = await send(http, page, authenticator.assert_(page_challenge(page)))
        claims = await id_token_of(env, client_id, done)
    assert claims["sub"] == sub
    assert claims["acr"] == "phr" and claims["amr"] == ["swk", "user", "mfa"]
    assert claims["auth_time"] == env.clock()
    [factor] = await env.provider.store.factors.list(sub)
    assert factor.kind == PASSKEY and factor.sign_count == authenticator.counter
    assert "mfa.succeeded" in await event_names(env)


async def test_a_device_bound_passkey_is_hwk(env: Env) -> None:
    sub = await env.add_user()
    authenticator = await register(env, sub, flags=UP | UV)  # not backup eligible
    client_id, _ = await env.add_client(token_endpoint_auth_method="none", skip_consent=True)
    async with env.client() as http:
        page = await authorize(env, Browser(http), client_id)
        credential = authenticator.assert_(page_challenge(page), flags=UP | UV)
        claims = await id_token_of(env, client_id, await send(http, page, credential))
    assert claims["acr"] == "phr" and claims["amr"] == ["hwk", "user", "mfa"]


async def test_a_passkey_as_the_second_factor(env: Env) -> None:
    sub = await env.add_user()
    authenticator = await register(env, sub)
    client_id, _ = await env.add_client(token_endpoint_auth_method="none", skip_consent=True)
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(await authorize(env, browser, client_id))
        assert page.status_code == 200 and "Use your passkey" in page.text
        assert CODE_FIELD not in page.text  # no authenticator app: the passkey only
        assert "keystead_session" not in http.cookies  # no session before the second factor
        assert passkey_action(page) == env.settings.issuer + "/login/factor"
        options = options_of(page)
        allowed = options["allowCredentials"]
        assert isinstance(allowed, list)
        assert [c["id"] for c in allowed] == [b64u(authenticator.credential_id)]
        done = await send(http, page, authenticator.assert_(page_challenge(page)))
        claims = await id_token_of(env, client_id, done)
    assert claims["acr"] == "phr" and claims["amr"] == ["pwd", "swk", "user", "mfa"]


async def test_step_up_to_phr_asks_for_the_passkey_only(env: Env) -> None:
    sub = await env.add_user()
    app = await enrol_totp(env, sub)
    authenticator = await register(env, sub)
    client_id, _ = await env.add_client(token_endpoint_auth_method="none", skip_consent=True)
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(await authorize(env, browser, client_id))
        # both second factors offered after the password
        assert CODE_FIELD in page.text and "Use your passkey" in page.text
        done = await browser.submit(page, code=app.at(env.clock()))
        first = await id_token_of(env, client_id, done)
        assert first["acr"] == "2" and first["amr"] == ["pwd", "otp", "mfa"]
        env.clock.now += 5
        page = await authorize(env, browser, client_id, acr_values="phr")
        assert page.status_code == 200 and "asks for a stronger sign-in" in page.text
        assert CODE_FIELD not in page.text and 'name="password"' not in page.text
        assert "Use your passkey" in page.text
        done = await send(http, page, authenticator.assert_(page_challenge(page)))
        claims = await id_token_of(env, client_id, done)
        assert claims["acr"] == "phr" and claims["sid"] == first["sid"]
        assert claims["amr"] == ["pwd", "otp", "swk", "user", "mfa"]
        assert claims["auth_time"] == env.clock()
        again = await authorize(env, browser, client_id, acr_values="phr")
        assert again.status_code in (302, 303)


async def test_step_up_of_a_password_session(env: Env) -> None:
    sub = await env.add_user()
    client_id, _ = await env.add_client(token_endpoint_auth_method="none", skip_consent=True)
    async with env.client() as http:
        browser = Browser(http)
        done = await browser.login(await authorize(env, browser, client_id))
        first = await id_token_of(env, client_id, done)
        assert first["acr"] == "1"
        authenticator = await register(env, sub)  # added later (the account page)
        page = await authorize(env, browser, client_id, acr_values="phr")
        assert CODE_FIELD not in page.text and "Use your passkey" in page.text
        done = await send(http, page, authenticator.assert_(page_challenge(page)))
        claims = await id_token_of(env, client_id, done)
    assert claims["acr"] == "phr" and claims["sid"] == first["sid"]
    assert claims["amr"] == ["pwd", "swk", "user", "mfa"]


async def test_refusals_are_pages_that_say_why(env: Env) -> None:
    sub = await env.add_user()
    authenticator = await register(env, sub)
    stranger = SoftAuthenticator(RP_ID, ORIGIN, user_handle=b"nobody")
    client_id, _ = await env.add_client(token_endpoint_auth_method="none", skip_consent=True)
    async with env.client() as http:
        browser = Browser(http)

        async def refused(page: httpx.Response, credential: str, words: str) -> httpx.Response:
            answer = await send(http, page, credential)
            assert answer.status_code == 400, answer.text[:600]
            assert words in answer.text and BUTTON in answer.text  # the login page again
            assert "keystead_session" not in http.cookies
            return answer

        page = await authorize(env, browser, client_id)
        # unknown credential: the same words whether or not any account exists
        page = await refused(page, stranger.assert_(page_challenge(page)), "not registered here")
        # a response made for another page's challenge
        other = await authorize(env, browser, client_id)
        page = await refused(
            page, authenticator.assert_(page_challenge(other)), "another challenge"
        )
        # tampered authenticator data: the signature covers other bytes
        challenge = page_challenge(page)
        signed = authenticator.auth_data(flags=UP | UV, counter=authenticator.counter + 1)
        tampered = authenticator.assert_(challenge, signed_auth_data=signed)
        page = await refused(page, tampered, "tampered")
        # garbage in the credential field
        page = await refused(page, "{not json", "passkey")

        good = authenticator.assert_(page_challenge(page))
        fields = {k: v for k, v in form_fields(page.text).items() if k != "username"}
        done = await http.post(passkey_action(page), data={**fields, "credential": good})
        assert done.status_code == 303
        # replayed: the same POST again (its challenge state is used)
        http.cookies.delete("keystead_session")
        again = await http.post(passkey_action(page), data={**fields, "credential": good})
        assert again.status_code == 400 and "already used" in again.text
        # the same response with a fresh challenge state: made for another challenge
        fresh = await authorize(env, browser, client_id)
        replay = await send(http, fresh, good)
        assert replay.status_code == 400 and "another challenge" in replay.text
    await env.provider.recorder.flush()
    failed = [e for e in await env.provider.store.events.recent(1000) if e.name == "mfa.failed"]
    assert len(failed) == 6
    subs = {e.data.get("sub") for e in failed}
    assert subs == {None, sub}  # the owner when the credential names one


async def test_a_passkey_of_another_account_is_no_second_factor(env: Env) -> None:
    alice = await env.add_user()
    bob = await env.add_user("bob")
    await register(env, alice)
    bobs = await register(env, bob)
    client_id, _ = await env.add_client(token_endpoint_auth_method="none", skip_consent=True)
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(await authorize(env, browser, client_id))  # alice
        answer = await send(http, page, bobs.assert_(page_challenge(page)))
        assert answer.status_code == 400 and "not registered here" in answer.text
        assert "Use your passkey" in answer.text and "keystead_session" not in http.cookies


async def test_a_forged_state_or_csrf_is_refused(env: Env) -> None:
    sub = await env.add_user()
    authenticator = await register(env, sub)
    client_id, _ = await env.add_client(token_endpoint_auth_method="none", skip_consent=True)
    async with env.client() as http:
        page = await authorize(env, Browser(http), client_id)
        credential = authenticator.assert_(page_challenge(page))
        fields = {k: v for k, v in form_fields(page.text).items() if k != "username"}
        bad_state = {
            **fields,
            "passkey_state": "x" + fields["passkey_state"],
            "credential": credential,
        }
        answer = await http.post("/login/passkey", data=bad_state)
        assert answer.status_code == 400 and "altered" in answer.text
        bad_csrf = {**fields, "csrf_token": "nope", "credential": credential}
        answer = await http.post("/login/passkey", data=bad_csrf)
        assert answer.status_code == 400 and "keystead_session" not in http.cookies
