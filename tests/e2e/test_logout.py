"""RP-Initiated Logout 1.0: end the SSO session, confirm when the RP cannot prove it is the
session's, exact post_logout_redirect_uri matching, never an open redirect."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import pytest

from keystead.jose import jwt
from tests.e2e.conftest import Browser, Env, form_action, form_fields, fragment_of
from tests.e2e.test_authorize_errors import auth_url
from tests.e2e.test_response_types import front_channel, hybrid_client, url_for

pytestmark = pytest.mark.anyio
AFTER = "https://rp.example.com/signed-out"


async def signed_in(env: Env, http: object, client_id: str) -> str:
    return (await front_channel(env, url_for(client_id, "id_token"), http))["id_token"]  # type: ignore[arg-type]


async def test_logout_with_hint_ends_the_session_and_redirects(env: Env) -> None:
    await env.add_user()
    client_id, _ = await hybrid_client(env, post_logout_redirect_uris=[AFTER])
    async with env.client() as http:
        hint = await signed_in(env, http, client_id)
        r = await http.get(
            "/logout?"
            + urlencode({"id_token_hint": hint, "post_logout_redirect_uri": AFTER, "state": "bye"})
        )
        assert r.status_code == 303
        assert r.headers["location"] == AFTER + "?state=bye"
        cleared = r.headers["set-cookie"]
        assert "keystead_session=" in cleared and "Max-Age=0" in cleared
        # the session is gone: prompt=none now fails
        silent = await http.get(url_for(client_id, "id_token", prompt="none"))
        assert fragment_of(silent.headers["location"])["error"] == "login_required"


async def test_logout_without_hint_asks_to_confirm(env: Env) -> None:
    await env.add_user()
    client_id, _ = await hybrid_client(env, post_logout_redirect_uris=[AFTER])
    async with env.client() as http:
        await signed_in(env, http, client_id)
        page = await http.get(
            "/logout?" + urlencode({"client_id": client_id, "post_logout_redirect_uri": AFTER})
        )
        assert page.status_code == 200 and "Sign out?" in page.text
        assert page.headers["x-frame-options"] == "DENY"
        fields = form_fields(page.text)
        no_csrf = await http.post(
            form_action(page.text), data={**fields, "csrf_token": "x", "decision": "logout"}
        )
        assert no_csrf.status_code == 400
        stay = await http.post(form_action(page.text), data={**fields, "decision": "stay"})
        assert "still signed in" in stay.text
        done = await http.post(form_action(page.text), data={**fields, "decision": "logout"})
        assert done.status_code == 303 and done.headers["location"] == AFTER


async def test_unregistered_post_logout_redirect_uri_is_never_followed(env: Env) -> None:
    await env.add_user()
    client_id, _ = await hybrid_client(env, post_logout_redirect_uris=[AFTER])
    async with env.client() as http:
        hint = await signed_in(env, http, client_id)
        for uri in ("https://evil.example.com/", AFTER + "/", AFTER + "?x=1"):
            r = await http.get(
                "/logout?" + urlencode({"id_token_hint": hint, "post_logout_redirect_uri": uri})
            )
            assert r.status_code == 400 and "location" not in r.headers
        no_client = await http.get("/logout?" + urlencode({"post_logout_redirect_uri": AFTER}))
        assert no_client.status_code == 400 and "location" not in no_client.headers
        bad_hint = await http.get("/logout?" + urlencode({"id_token_hint": hint + "x"}))
        assert bad_hint.status_code == 400


async def test_hint_of_another_user_asks_to_confirm(env: Env) -> None:
    await env.add_user("alice")
    await env.add_user("bob")
    client_id, _ = await hybrid_client(env, post_logout_redirect_uris=[AFTER])
    async with env.client() as http:
        bob_hint = (await front_channel(env, url_for(client_id, "id_token"), http, "bob"))[
            "id_token"
        ]
    async with env.client() as http:
        await signed_in(env, http, client_id)  # alice
        page = await http.get("/logout?" + urlencode({"id_token_hint": bob_hint}))
        assert "Sign out?" in page.text


async def test_logout_without_session_just_says_so(env: Env) -> None:
    async with env.client() as http:
        r = await http.get("/logout")
    assert r.status_code == 200 and "signed out" in r.text


async def test_a_token_of_another_kind_is_not_an_id_token_hint(env: Env) -> None:
    """Issue 18 #7: an access token (RFC 9068, typ at+jwt) signed by the same keys, even one
    whose audience is the client, must not log the user out without confirmation."""
    await env.add_user()
    client_id, _ = await hybrid_client(env, post_logout_redirect_uris=[AFTER])
    async with env.client() as http:
        hint = await signed_in(env, http, client_id)
        claims = json.loads(base64.urlsafe_b64decode(hint.split(".")[1] + "=="))
        ring = await env.provider.keyring()
        for typ in ("at+jwt", "token-introspection+jwt", "logout+jwt"):
            forged = jwt.sign(
                {**claims, "client_id": client_id}, ring, "ES256", now=env.clock(), typ=typ
            )
            r = await http.get("/logout?" + urlencode({"id_token_hint": forged}))
            assert r.status_code == 400, r.text
            assert "keystead_session=" not in r.headers.get("set-cookie", "")
        # still signed in: prompt=none succeeds
        silent = await http.get(url_for(client_id, "id_token", prompt="none"))
        assert "id_token" in fragment_of(silent.headers["location"])


async def test_a_consent_pages_state_cannot_confirm_a_logout(env: Env) -> None:
    """The consent page's signed state names the session (sid) like a logout confirmation's
    does; posted to /logout/confirm it is refused, and the user stays signed in."""
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        browser = Browser(http)
        consent = await browser.login(await browser.open(auth_url(client_id)))
        assert 'name="decision"' in consent.text
        fields = form_fields(consent.text)
        r = await http.post("/logout/confirm", data={**fields, "decision": "logout"})
        assert r.status_code == 400, r.text
        assert "Max-Age=0" not in r.headers.get("set-cookie", "")
        approved = await browser.consent(consent)  # the consent page still works
        assert approved.status_code in (302, 303) and "code=" in approved.headers["location"]
