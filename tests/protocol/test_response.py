"""Authorization responses in their response mode, with iss (RFC 9207)."""

from __future__ import annotations

import random
import urllib.parse
from urllib.parse import parse_qsl, urlsplit

import pytest

from keystead.errors import OAuthError, RedirectTarget
from keystead.protocol import response

ISSUER = "https://id.example.com"


def test_default_response_mode() -> None:
    # Multiple Response Types §2.1: query for code and none, fragment once tokens are returned.
    assert response.default_response_mode("code") == "query"
    assert response.default_response_mode("none") == "query"
    assert response.default_response_mode("code id_token") == "fragment"
    assert response.default_response_mode("id_token token") == "fragment"


def test_success_adds_state_and_iss() -> None:
    target = RedirectTarget("https://rp.example.com/cb", "query", "st-1")
    resp = response.success(target, ISSUER, {"code": "abc"})
    assert resp.params == {"code": "abc", "state": "st-1", "iss": ISSUER}
    assert resp.redirect_uri == "https://rp.example.com/cb"
    assert resp.response_mode == "query"


def test_success_without_state_has_no_state() -> None:
    resp = response.success(RedirectTarget("https://rp/cb", "query", None), ISSUER, {"code": "c"})
    assert "state" not in resp.params
    assert resp.params["iss"] == ISSUER


def test_success_does_not_change_the_given_params() -> None:
    params = {"code": "c"}
    response.success(RedirectTarget("https://rp/cb", "query", "s"), ISSUER, params)
    assert params == {"code": "c"}


def test_query_location() -> None:
    resp = response.success(
        RedirectTarget("https://rp.example.com/cb", "query", "a b&c"), ISSUER, {"code": "x/y"}
    )
    url = urlsplit(response.location(resp))
    assert (url.scheme, url.netloc, url.path, url.fragment) == (
        "https",
        "rp.example.com",
        "/cb",
        "",
    )
    assert dict(parse_qsl(url.query)) == {"code": "x/y", "state": "a b&c", "iss": ISSUER}


def test_query_keeps_the_registered_query_component() -> None:
    # RFC 6749 §3.1.2: the query component of the redirect URI is retained.
    resp = response.success(
        RedirectTarget("https://rp.example.com/cb?tenant=7&x=1", "query", None),
        ISSUER,
        {"code": "c"},
    )
    query = urlsplit(response.location(resp)).query
    assert query.startswith("tenant=7&x=1&")
    assert parse_qsl(query) == [("tenant", "7"), ("x", "1"), ("code", "c"), ("iss", ISSUER)]


def test_fragment_location() -> None:
    resp = response.success(
        RedirectTarget("https://rp.example.com/cb?tenant=7", "fragment", "s"),
        ISSUER,
        {"code": "c"},
    )
    url = urlsplit(response.location(resp))
    assert url.query == "tenant=7"
    assert dict(parse_qsl(url.fragment)) == {"code": "c", "state": "s", "iss": ISSUER}


def test_form_post_location_is_the_bare_redirect_uri() -> None:
    resp = response.success(
        RedirectTarget("https://rp.example.com/cb", "form_post", "s"), ISSUER, {"code": "c"}
    )
    assert response.location(resp) == "https://rp.example.com/cb"
    assert resp.params == {"code": "c", "state": "s", "iss": ISSUER}


def test_error_response_carries_error_state_and_iss() -> None:
    err = OAuthError("consent-required", "Ask the user.")
    err.redirect = RedirectTarget("https://rp.example.com/cb", "fragment", "st-9")
    resp = response.error(err, ISSUER)
    assert resp.response_mode == "fragment"
    assert resp.params == {
        "error": "consent_required",
        "error_description": "Ask the user.",
        "state": "st-9",
        "iss": ISSUER,
    }
    assert "error=consent_required" in urlsplit(response.location(resp)).fragment


def test_error_response_needs_a_trusted_redirect() -> None:
    with pytest.raises(AssertionError):
        response.error(OAuthError("authorize-client-unknown", "x"), ISSUER)


def test_response_modes_table() -> None:
    assert set(response.RESPONSE_MODES) == {"query", "fragment", "form_post"} | {
        "jwt",
        "query.jwt",
        "fragment.jwt",
        "form_post.jwt",
    }  # JARM (protocol/jarm.py)


def test_urlencode_is_urllibs() -> None:
    """The quick path (values with nothing to quote left as they are) gives urllib's text."""
    pieces = ["a", "Z", "0", "-", "_", ".", "~", " ", "+", "/", ":", "?", "&", "=", "%", "é", "\n"]
    rng = random.Random(3)
    for _ in range(3000):
        params: dict[str, object] = {}
        for _ in range(rng.randint(0, 4)):
            name = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 5)))
            value = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
            params[name] = value if rng.random() < 0.9 else rng.choice([1, None, True])
        assert response.urlencode(params) == urllib.parse.urlencode(params), params
