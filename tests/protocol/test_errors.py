"""The one error type and its catalog."""

from __future__ import annotations

import re

import pytest

from keystead.errors import CATALOG, OAuthError, safe_description

# RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E
ALLOWED = re.compile(r"^[\x20-\x21\x23-\x5b\x5d-\x7e]*$")
# RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; OIDC Core §3.1.2.6; RFC 9101 §6.3 / OIDC Core §6.2
RFC_ERRORS = {
    "invalid_request",
    "unauthorized_client",
    "access_denied",
    "unsupported_response_type",
    "invalid_scope",
    "invalid_target",
    "server_error",
    "temporarily_unavailable",
    "invalid_client",
    "invalid_grant",
    "unsupported_grant_type",
    "invalid_token",
    "insufficient_scope",
    "login_required",
    "consent_required",
    "interaction_required",
    "account_selection_required",
    "request_not_supported",
    "request_uri_not_supported",
    # OIDC Core §3.1.2.6, RFC 9101 §6.3, RFC 9126 §2.3 (request objects, request_uri)
    "invalid_request_object",
    "invalid_request_uri",
    # RFC 8628 §3.5 (device authorization grant)
    "authorization_pending",
    "slow_down",
    "expired_token",
    # CIBA Core 1.0 §13 (backchannel authentication endpoint)
    "unknown_user_id",
    "expired_login_hint_token",
    "invalid_binding_message",
    # RFC 7591 §3.2.2 (dynamic client registration)
    "invalid_redirect_uri",
    "invalid_client_metadata",
    "invalid_software_statement",
    # RFC 9396 §5 (Rich Authorization Requests)
    "invalid_authorization_details",
    # RFC 9449 §5, §7.1, §8 (DPoP)
    "invalid_dpop_proof",
    "use_dpop_nonce",
    # RFC 5849 §3.2 (OAuth 1.0a), as the OAuth Problem Reporting extension names them
    "parameter_absent",
    "parameter_rejected",
    "version_rejected",
    "signature_method_rejected",
    "signature_invalid",
    "timestamp_refused",
    "nonce_used",
    "consumer_key_unknown",
    "consumer_key_rejected",
    "token_rejected",
    "token_expired",
    "token_used",
    "token_revoked",
    "permission_denied",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain text", "plain text"),
        ("café naïve", "cafe naive"),
        ('say "hi"', "say 'hi'"),
        ("C:\\path", "C:/path"),
        ("line one\nline two", "line one line two"),
        ("tab\there", "tab'here"),
        ("del\x7f", "del'"),
    ],
)
def test_safe_description_maps_to_allowed_characters(text, expected) -> None:
    assert safe_description(text) == expected


def test_safe_description_drops_unmappable_characters() -> None:
    assert safe_description("key 🔑 ok") == "key  ok"


def test_safe_description_output_is_always_in_the_rfc_charset() -> None:
    every_char = "".join(chr(c) for c in range(0x3000) if not 0xD800 <= c <= 0xDFFF)
    assert ALLOWED.match(safe_description(every_char))


def test_description_is_sanitised_on_construction() -> None:
    err = OAuthError("request-invalid-parameter", 'bad "value"\nnext')
    assert err.description == "bad 'value' next"
    assert ALLOWED.match(err.to_dict()["error_description"])


def test_oauth_error_takes_code_and_status_from_the_catalog() -> None:
    err = OAuthError("client-secret-invalid", "nope", debug="hash mismatch", headers={"X": "1"})
    assert (err.error, err.status, err.catalog_id) == (
        "invalid_client",
        401,
        "client-secret-invalid",
    )
    assert err.entry is CATALOG["client-secret-invalid"]
    assert err.headers == {"X": "1"}
    assert err.redirect is None


def test_debug_detail_is_never_in_the_body() -> None:
    err = OAuthError("server-error", "Internal error.", debug="stack trace with secrets")
    assert err.to_dict() == {"error": "server_error", "error_description": "Internal error."}
    assert "secrets" not in str(err)


def test_headers_default_to_a_fresh_dict() -> None:
    a = OAuthError("server-error", "x")
    b = OAuthError("server-error", "y")
    a.headers["X"] = "1"
    assert b.headers == {}


def test_unknown_catalog_id_raises_key_error() -> None:
    with pytest.raises(KeyError):
        OAuthError("no-such-entry", "whatever")


@pytest.mark.parametrize("entry", list(CATALOG.values()), ids=list(CATALOG))
def test_every_catalog_entry_is_complete(entry) -> None:
    assert entry.causes
    assert entry.fixes
    assert entry.title
    assert entry.error in RFC_ERRORS
    assert 400 <= entry.status <= 599


def test_catalog_ids_are_unique_and_match_their_keys() -> None:
    assert all(key == entry.id for key, entry in CATALOG.items())


def test_invalid_client_is_401_and_invalid_grant_is_400() -> None:
    # RFC 6749 §5.2
    statuses = {(e.error, e.status) for e in CATALOG.values()}
    assert ("invalid_client", 400) not in statuses
    assert {s for err, s in statuses if err == "invalid_grant"} == {400}


def test_echoed_values_are_cut() -> None:
    """Issue 18 #2: a 60 KB grant_type was echoed whole into the answer, the log and the
    events table; a long value is cut, the words around it kept."""
    from keystead.errors import DESCRIPTION_LIMIT, ECHO_LIMIT

    err = OAuthError("grant-type-unsupported", f"grant_type {'g' * 60_000} is not supported.")
    assert err.description.startswith("grant_type " + "g" * ECHO_LIMIT + "...(59900 more")
    assert err.description.endswith("is not supported.")
    uri = "https://rp.example.com/a/reasonably/long/callback/path?with=query"
    assert OAuthError("request-invalid-parameter", f"{uri} x").description == f"{uri} x"
    many = OAuthError("request-invalid-parameter", "word " * 5_000).description
    assert len(many) <= DESCRIPTION_LIMIT + 3
