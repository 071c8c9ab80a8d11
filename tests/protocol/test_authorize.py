"""authorize.validate: the ordered checks, and where each error may travel.

Errors before the redirect_uri is trusted carry no ``redirect`` (RFC 6749 §4.1.2.1: never
redirect to an unverified URI); every error after that carries one, in the response mode.
"""

from __future__ import annotations

import pytest

from keystead.errors import OAuthError, RedirectTarget
from keystead.protocol import authorize

pytestmark = pytest.mark.anyio

REDIRECT_URI = "https://rp.example.com/callback"


async def refused(oauth, client, duplicated: tuple[str, ...] = (), **overrides) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        await oauth.validate(client, duplicated, **overrides)
    return caught.value


# --- success ---------------------------------------------------------------------------------


async def test_valid_request_is_returned_as_plain_data(oauth, client) -> None:
    areq = await oauth.validate(client, login_hint="alice")
    assert areq.client == client
    assert areq.redirect_uri == REDIRECT_URI
    assert areq.response_type == "code"
    assert areq.response_mode == "query"
    assert areq.scope == ("openid", "profile", "email")
    assert areq.state == "st-1"
    assert areq.nonce == "n-1"
    assert areq.code_challenge == oauth.challenge
    assert areq.code_challenge_method == "S256"
    assert areq.prompt == frozenset()
    assert areq.max_age is None
    assert areq.login_hint == "alice"
    assert areq.params["client_id"] == "rp"
    assert areq.target == RedirectTarget(REDIRECT_URI, "query", "st-1", "rp")


async def test_state_and_nonce_are_optional(oauth, client) -> None:
    areq = await oauth.validate(client, state=None, nonce=None)
    assert areq.state is None
    assert areq.nonce is None


async def test_empty_parameters_count_as_omitted(oauth, client) -> None:
    # RFC 6749 §3.1: parameters sent without a value are treated as if omitted.
    areq = await oauth.validate(client, state="", prompt="", max_age="")
    assert areq.state is None
    assert areq.prompt == frozenset()
    assert areq.max_age is None


# --- check_client: before the redirect_uri is trusted ----------------------------------------


async def test_missing_client_id_is_not_redirected(oauth, client) -> None:
    err = await refused(oauth, client, client_id=None)
    assert err.catalog_id == "request-missing-parameter"
    assert "client_id" in err.description
    assert err.redirect is None


async def test_unknown_client_is_not_redirected(oauth, client) -> None:
    err = await refused(oauth, client, client_id="nobody")
    assert err.catalog_id == "authorize-client-unknown"
    assert err.status == 400
    assert "nobody" in err.description
    assert err.redirect is None


@pytest.mark.parametrize("name", ["client_id", "redirect_uri"])
async def test_duplicated_client_id_or_redirect_uri_is_not_redirected(oauth, client, name) -> None:
    err = await refused(oauth, client, duplicated=(name,))
    assert err.catalog_id == "request-duplicate-parameter"
    assert name in err.description
    assert err.redirect is None


async def test_unknown_client_is_reported_before_a_missing_redirect_uri(oauth, client) -> None:
    err = await refused(oauth, client, client_id="nobody", redirect_uri=None)
    assert err.catalog_id == "authorize-client-unknown"


# --- check_redirect_uri ----------------------------------------------------------------------


async def test_missing_redirect_uri_is_not_redirected(oauth, client) -> None:
    err = await refused(oauth, client, redirect_uri=None)
    assert err.catalog_id == "redirect-uri-missing"
    assert err.redirect is None


@pytest.mark.parametrize(
    ("sent", "says"),
    [
        ("https://rp.example.com/callback/", "differs only by a trailing slash"),
        ("http://rp.example.com/callback", "scheme differs (http instead of https)"),
        ("https://rp.example.com:8443/callback", "port differs"),
        ("https://rp.example.com/other", "origin matches; the path differs"),
        ("https://rp.example.com/callback?x=1", "path matches; the query differs"),
        ("https://evil.example.net/callback", "Registered redirect URIs are on"),
    ],
)
async def test_redirect_uri_mismatch_says_how_it_differs(oauth, client, sent, says) -> None:
    err = await refused(oauth, client, redirect_uri=sent)
    assert err.catalog_id == "redirect-uri-mismatch"
    assert err.redirect is None  # RFC 9700 §4.11: never redirect to an unregistered URI
    assert says in err.description
    assert "https://rp.example.com" in err.description


async def test_redirect_uri_mismatch_discloses_origins_only(oauth, make_client) -> None:
    client = await make_client(redirect_uris=("https://rp.example.com/secret-path/cb",))
    err = await refused(oauth, client, redirect_uri="https://evil.example.net/cb")
    assert "https://rp.example.com" in err.description
    assert "secret-path" not in err.description


async def test_client_without_redirect_uris(oauth, make_client) -> None:
    client = await make_client(redirect_uris=())
    err = await refused(oauth, client)
    assert err.catalog_id == "redirect-uri-mismatch"
    assert "no registered redirect URIs" in err.description
    assert err.redirect is None


async def test_any_registered_redirect_uri_is_accepted_exactly(oauth, make_client) -> None:
    other = "https://rp.example.com/other?tenant=1"
    client = await make_client(redirect_uris=(REDIRECT_URI, other))
    areq = await oauth.validate(client, redirect_uri=other)
    assert areq.redirect_uri == other


async def test_redirect_uri_matching_is_case_sensitive(oauth, client) -> None:
    # RFC 9700 §2.1: simple string comparison, no normalisation.
    err = await refused(oauth, client, redirect_uri="https://rp.example.com/Callback")
    assert err.catalog_id == "redirect-uri-mismatch"


async def test_host_case_difference_is_not_described_as_a_port_difference(oauth, client) -> None:
    err = await refused(oauth, client, redirect_uri="https://RP.example.com/callback")
    assert err.catalog_id == "redirect-uri-mismatch"
    assert "port" not in err.description


async def test_unparseable_redirect_uri_is_an_oauth_error(oauth, client) -> None:
    err = await refused(oauth, client, redirect_uri="https://[::1/callback")
    assert err.catalog_id == "redirect-uri-mismatch"
    assert err.redirect is None


async def test_mismatch_is_described_against_the_closest_registered_uri(oauth, make_client) -> None:
    client = await make_client(
        redirect_uris=("http://rp.example.com/callback", "https://rp.example.com/callback/")
    )
    err = await refused(oauth, client, redirect_uri=REDIRECT_URI)
    assert "trailing slash" in err.description


# --- check_response_type: the first check whose errors are redirected ------------------------


async def test_missing_response_type_is_redirected_by_query(oauth, client) -> None:
    err = await refused(oauth, client, response_type=None)
    assert err.catalog_id == "request-missing-parameter"
    assert err.redirect == RedirectTarget(REDIRECT_URI, "query", "st-1", "rp")


async def test_plain_token_response_type_is_unsupported_and_redirected_by_fragment(
    oauth, client
) -> None:
    err = await refused(oauth, client, response_type="token")
    assert err.catalog_id == "response-type-unsupported"
    assert err.error == "unsupported_response_type"
    assert err.redirect == RedirectTarget(REDIRECT_URI, "fragment", "st-1", "rp")


@pytest.mark.parametrize("response_type", ["id_token", "id_token token"])
async def test_unregistered_token_response_type_is_redirected_by_fragment(
    oauth, client, response_type
) -> None:
    err = await refused(oauth, client, response_type=response_type)
    assert err.error == "unauthorized_client"
    assert err.redirect == RedirectTarget(REDIRECT_URI, "fragment", "st-1", "rp")


@pytest.mark.parametrize("response_type", ["code id_token", "id_token code"])
async def test_hybrid_response_type_defaults_to_fragment(oauth, make_client, response_type) -> None:
    client = await make_client(response_types=("code", "code id_token"))
    areq = await oauth.validate(client, response_type=response_type)
    # Multiple Response Types §2.1: responses that carry tokens never use the query.
    assert areq.response_type == "code id_token"
    assert areq.response_mode == "fragment"


async def test_unregistered_response_type_is_unauthorized_client(oauth, make_client) -> None:
    client = await make_client(response_types=("code id_token",))
    err = await refused(oauth, client, response_type="code")
    assert err.catalog_id == "response-type-not-allowed"
    assert err.error == "unauthorized_client"
    assert "code id_token" in err.description
    assert err.redirect == RedirectTarget(REDIRECT_URI, "query", "st-1", "rp")


async def test_error_redirect_without_state(oauth, client) -> None:
    err = await refused(oauth, client, response_type="token", state=None)
    assert err.redirect == RedirectTarget(REDIRECT_URI, "fragment", None, "rp")


# --- check_response_mode ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["query", "fragment", "form_post"])
async def test_response_mode_is_honoured_for_code(oauth, client, mode) -> None:
    areq = await oauth.validate(client, response_mode=mode)
    assert areq.response_mode == mode
    assert areq.target.response_mode == mode


async def test_unknown_response_mode_is_redirected_in_the_default_mode(oauth, client) -> None:
    err = await refused(oauth, client, response_mode="web_message")
    assert err.catalog_id == "response-mode-unsupported"
    assert err.redirect == RedirectTarget(REDIRECT_URI, "query", "st-1", "rp")


async def test_later_errors_travel_in_the_requested_response_mode(oauth, client) -> None:
    err = await refused(oauth, client, response_mode="form_post", scope="unknown-scope")
    assert err.catalog_id == "scope-invalid"
    assert err.redirect == RedirectTarget(REDIRECT_URI, "form_post", "st-1", "rp")


async def test_response_type_errors_honour_a_valid_response_mode(oauth, client) -> None:
    err = await refused(oauth, client, response_type="token", response_mode="form_post")
    assert err.redirect is not None
    assert err.redirect.response_mode == "form_post"


# --- check_duplicates ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["state", "scope", "code_challenge", "response_type"])
async def test_duplicated_parameters_are_refused_and_redirected(oauth, client, name) -> None:
    err = await refused(oauth, client, duplicated=(name,))
    assert err.catalog_id == "request-duplicate-parameter"
    assert name in err.description
    assert err.redirect is not None
    assert err.redirect.redirect_uri == REDIRECT_URI


# --- check_request_objects -------------------------------------------------------------------


async def test_request_object_is_refused_and_redirected(oauth, client) -> None:
    err = await refused(oauth, client, request="eyJhbGciOiJub25lIn0.e30.")
    assert err.catalog_id == "request-object-unsupported"
    assert err.error == "request_not_supported"
    assert err.redirect is not None


async def test_request_uri_is_refused_and_redirected(oauth, client) -> None:
    err = await refused(oauth, client, request_uri="urn:ietf:params:oauth:request_uri:x")
    assert err.catalog_id == "request-uri-unsupported"
    assert err.error == "request_uri_not_supported"
    assert err.redirect is not None


# --- check_scope -----------------------------------------------------------------------------


async def test_scopes_the_client_may_not_have_are_dropped(oauth, make_client) -> None:
    # RFC 6749 §3.3: the server may grant fewer scopes than requested.
    client = await make_client(scope="openid email")
    areq = await oauth.validate(client, scope="profile openid admin email")
    assert areq.scope == ("openid", "email")


async def test_repeated_scope_tokens_are_kept_once(oauth, client) -> None:
    areq = await oauth.validate(client, scope="openid email openid email")
    assert areq.scope == ("openid", "email")


async def test_no_scope_is_not_an_error(oauth, client) -> None:
    areq = await oauth.validate(client, scope=None)
    assert areq.scope == ()


async def test_no_grantable_scope_is_invalid_scope(oauth, make_client) -> None:
    client = await make_client(scope="openid")
    err = await refused(oauth, client, scope="admin payments")
    assert err.catalog_id == "scope-invalid"
    assert err.error == "invalid_scope"
    assert "admin payments" in err.description
    assert err.redirect == RedirectTarget(REDIRECT_URI, "query", "st-1", "rp")


@pytest.mark.parametrize("scope", ['openid "email"', "openid a\\b", "openid\temail"])
async def test_scope_with_forbidden_characters_is_refused(oauth, client, scope) -> None:
    err = await refused(oauth, client, scope=scope)
    assert err.catalog_id == "request-invalid-parameter"
    assert err.redirect is not None


# --- check_pkce ------------------------------------------------------------------------------


async def test_missing_challenge_is_pkce_required(oauth, client) -> None:
    err = await refused(oauth, client, code_challenge=None, code_challenge_method=None)
    assert err.catalog_id == "pkce-required"
    assert err.redirect is not None


async def test_public_client_needs_pkce_even_when_exempted(oauth, make_client) -> None:
    client = await make_client(
        "spa", secret=None, token_endpoint_auth_method="none", require_pkce=False
    )
    err = await refused(oauth, client, code_challenge=None, code_challenge_method=None)
    assert err.catalog_id == "pkce-required"


async def test_exempted_confidential_client_may_omit_pkce(oauth, make_client) -> None:
    client = await make_client(require_pkce=False)
    areq = await oauth.validate(client, code_challenge=None, code_challenge_method=None)
    assert areq.code_challenge is None
    assert areq.code_challenge_method is None


@pytest.mark.parametrize("method", ["plain", None])
async def test_plain_pkce_is_refused(oauth, client, method) -> None:
    err = await refused(oauth, client, code_challenge_method=method)
    assert err.catalog_id == "pkce-method-unsupported"
    assert err.redirect is not None


# --- check_prompt ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("none", {"none"}),
        ("login", {"login"}),
        ("login consent", {"login", "consent"}),
        ("select_account  consent", {"select_account", "consent"}),
    ],
)
async def test_prompt_is_parsed_into_a_set(oauth, client, raw, parsed) -> None:
    areq = await oauth.validate(client, prompt=raw)
    assert areq.prompt == frozenset(parsed)


@pytest.mark.parametrize("raw", ["none login", "consent none", "bogus", "login create"])
async def test_invalid_prompt_is_refused_and_redirected(oauth, client, raw) -> None:
    err = await refused(oauth, client, prompt=raw)
    assert err.catalog_id == "prompt-invalid"
    assert err.redirect is not None


# --- check_max_age ---------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "value"), [("0", 0), ("3600", 3600), ("007", 7)])
async def test_max_age_is_parsed(oauth, client, raw, value) -> None:
    areq = await oauth.validate(client, max_age=raw)
    assert areq.max_age == value


@pytest.mark.parametrize("raw", ["-1", "+5", "1.5", "1e3", "ten", " 5"])
async def test_invalid_max_age_is_refused_and_redirected(oauth, client, raw) -> None:
    err = await refused(oauth, client, max_age=raw)
    assert err.catalog_id == "request-invalid-parameter"
    assert "max_age" in err.description
    assert err.redirect is not None


async def test_non_ascii_digit_max_age_is_an_oauth_error(oauth, client) -> None:
    err = await refused(oauth, client, max_age="²")
    assert err.catalog_id == "request-invalid-parameter"


async def test_overlong_max_age_is_an_oauth_error(oauth, client) -> None:
    err = await refused(oauth, client, max_age="9" * 5000)
    assert err.catalog_id == "request-invalid-parameter"


# --- the ordered list ------------------------------------------------------------------------


def test_redirect_is_trusted_only_after_client_and_redirect_uri() -> None:
    trusted_from = authorize.CHECKS[authorize.REDIRECT_TRUSTED_AFTER :]
    assert authorize.CHECKS[: authorize.REDIRECT_TRUSTED_AFTER] == (
        authorize.check_client,
        authorize.check_redirect_uri,
    )
    assert authorize.check_response_type in trusted_from
