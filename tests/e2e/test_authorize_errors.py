"""Authorization endpoint failures: what an attacker or a misconfigured client would try."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.e2e.conftest import REDIRECT_URI, Browser, Env, fragment_of, pkce_pair, query_of

pytestmark = pytest.mark.anyio


def auth_url(client_id: str, **extra: str) -> str:
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile",
        "state": "st-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return "/authorize?" + urlencode({k: v for k, v in params.items() if v != "<omit>"})


async def test_unknown_client_gets_an_error_page_not_a_redirect(env: Env) -> None:
    async with env.client() as http:
        r = await http.get(auth_url("no-such-client"))
    assert r.status_code == 400
    assert "location" not in r.headers
    assert "text/html" in r.headers["content-type"]
    assert "Correlation id" in r.text


@pytest.mark.parametrize(
    "uri, hint",
    [
        ("https://evil.example.com/callback", "Registered redirect URIs are on"),
        ("https://rp.example.com/callback/", "trailing slash"),
        ("http://rp.example.com/callback", "scheme differs"),
        ("https://rp.example.com:8443/callback", "port differs"),
        ("https://rp.example.com/other", "path differs"),
    ],
)
async def test_mismatched_redirect_uri_is_never_redirected(env: Env, uri: str, hint: str) -> None:
    client_id, _ = await env.add_client()
    env.provider.settings.dev_mode = True  # show developer details on the page
    async with env.client() as http:
        r = await http.get(auth_url(client_id, redirect_uri=uri))
    assert r.status_code == 400
    assert "location" not in r.headers
    assert "redirect_uri is not registered" in r.text
    assert hint in r.text


async def test_missing_redirect_uri_is_an_error_page(env: Env) -> None:
    client_id, _ = await env.add_client()
    async with env.client() as http:
        r = await http.get(auth_url(client_id, redirect_uri="<omit>"))
    assert r.status_code == 400 and "location" not in r.headers


async def test_duplicated_client_id_is_an_error_page(env: Env) -> None:
    client_id, _ = await env.add_client()
    async with env.client() as http:
        r = await http.get(auth_url(client_id) + f"&client_id={client_id}")
    assert r.status_code == 400 and "location" not in r.headers


async def redirected_error(env: Env, url: str) -> dict[str, str]:
    async with env.client() as http:
        r = await http.get(url)
    assert r.status_code == 302, r.text[:300]
    location = r.headers["location"]
    assert location.startswith(REDIRECT_URI)
    params = query_of(location) or fragment_of(location)
    assert params["iss"] == env.settings.issuer
    return params


async def test_missing_pkce_is_redirected_with_state_and_iss(env: Env) -> None:
    client_id, _ = await env.add_client()
    params = await redirected_error(
        env, auth_url(client_id, code_challenge="<omit>", code_challenge_method="<omit>")
    )
    assert params["error"] == "invalid_request"
    assert "code_challenge" in params["error_description"]
    assert params["state"] == "st-123"


async def test_plain_pkce_is_refused(env: Env) -> None:
    client_id, _ = await env.add_client()
    verifier = "a" * 43
    params = await redirected_error(
        env, auth_url(client_id, code_challenge=verifier, code_challenge_method="plain")
    )
    assert params["error"] == "invalid_request"
    assert "S256" in params["error_description"]
    params = await redirected_error(env, auth_url(client_id, code_challenge_method="<omit>"))
    assert "defaults to plain" in params["error_description"]


async def test_public_client_cannot_skip_pkce_even_if_registered_without(env: Env) -> None:
    client_id, _ = await env.add_client(token_endpoint_auth_method="none")
    params = await redirected_error(
        env, auth_url(client_id, code_challenge="<omit>", code_challenge_method="<omit>")
    )
    assert params["error"] == "invalid_request"


async def test_duplicated_parameter_named_in_error(env: Env) -> None:
    client_id, _ = await env.add_client()
    params = await redirected_error(env, auth_url(client_id) + "&scope=email")
    assert params["error"] == "invalid_request"
    assert "scope" in params["error_description"]


async def test_unknown_response_type(env: Env) -> None:
    client_id, _ = await env.add_client()
    params = await redirected_error(env, auth_url(client_id, response_type="bogus"))
    assert params["error"] == "unsupported_response_type"


async def test_hybrid_without_nonce_is_invalid_request_in_the_fragment(env: Env) -> None:
    client_id, _ = await env.add_client(response_types=["code", "code id_token"])
    async with env.client() as http:
        r = await http.get(auth_url(client_id, response_type="code id_token"))
    params = fragment_of(r.headers["location"])  # the type's default mode (fragment)
    assert params["error"] == "invalid_request" and "nonce" in params["error_description"]
    assert params["state"] == "st-123" and params["iss"] == env.settings.issuer


async def test_response_type_not_registered_for_client(env: Env) -> None:
    client_id, _ = await env.add_client(response_types=["code"])
    async with env.client() as http:
        r = await http.get(auth_url(client_id, response_type="code id_token", nonce="n"))
    params = fragment_of(r.headers["location"])
    assert params["error"] == "unauthorized_client"
    assert "code id_token" in params["error_description"]


async def test_bad_request_objects_refused_on_a_page(env: Env) -> None:
    # RFC 9101 (tests/e2e/test_par_jar_jarm.py has the rest): nothing in an unverified
    # request object is trusted, so its refusal is a page, never a redirect.
    client_id, _ = await env.add_client()
    env.provider.settings.dev_mode = True
    async with env.client() as http:
        r = await http.get(auth_url(client_id, request="eyJ.x.y"))
        assert r.status_code == 400 and "location" not in r.headers
        assert "request-object-malformed" in r.text
        r = await http.get(auth_url(client_id, request_uri="urn:x"))
        assert r.status_code == 400 and "request-uri-not-registered" in r.text


async def test_prompt_none_without_session_is_login_required(env: Env) -> None:
    client_id, _ = await env.add_client()
    params = await redirected_error(env, auth_url(client_id, prompt="none"))
    assert params["error"] == "login_required"
    assert params["state"] == "st-123"


async def test_prompt_none_combined_is_invalid(env: Env) -> None:
    client_id, _ = await env.add_client()
    params = await redirected_error(env, auth_url(client_id, prompt="none login"))
    assert params["error"] == "invalid_request"


async def test_scopes_not_allowed_are_dropped_not_failed(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client(scope="openid email")
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(
            await browser.open(auth_url(client_id, scope="openid profile email"))
        )
        assert "profile" not in page.text.split("<ul")[1].split("</ul>")[0]
        done = await browser.consent(page)
    assert done.status_code == 303


async def test_deny_returns_access_denied(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(await browser.open(auth_url(client_id)))
        r = await browser.consent(page, "deny")
    assert r.status_code == 303
    params = query_of(r.headers["location"])
    assert params["error"] == "access_denied" and params["state"] == "st-123"
    assert params["iss"] == env.settings.issuer


async def test_error_in_form_post_mode_is_posted(env: Env) -> None:
    client_id, _ = await env.add_client()
    async with env.client() as http:
        r = await http.get(auth_url(client_id, response_mode="form_post", prompt="none"))
    assert r.status_code == 200
    assert f'action="{REDIRECT_URI}"' in r.text
    assert 'name="error" value="login_required"' in r.text
    assert 'name="state" value="st-123"' in r.text
    assert "<button" in r.text  # works without JavaScript


async def test_query_mode_refused_for_token_responses(env: Env) -> None:
    client_id, _ = await env.add_client()
    params = await redirected_error(env, auth_url(client_id, response_mode="bogus"))
    assert params["error"] == "invalid_request"
    assert "response_mode" in params["error_description"]


async def test_reserved_admin_scope_is_never_granted_to_a_user(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client(scope="openid keystead:admin")
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(
            await browser.open(auth_url(client_id, scope="openid keystead:admin"))
        )
        assert "keystead:admin" not in page.text  # not even shown on the consent page
        done = await browser.consent(page)
    assert done.status_code == 303
    only_admin = await redirected_error(env, auth_url(client_id, scope="keystead:admin"))
    assert only_admin["error"] == "invalid_scope"
