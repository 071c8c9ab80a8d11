"""Scopes (RFC 6749 §3.3) and the claims they name (OIDC Core §5.4)."""

from __future__ import annotations

import pytest

from keystead.protocol import scopes


def test_parse_keeps_order_and_drops_repeats() -> None:
    assert scopes.parse("openid email openid profile email") == ("openid", "email", "profile")


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_parse_empty(raw) -> None:
    assert scopes.parse(raw) == ()


def test_parse_ignores_extra_spaces() -> None:
    assert scopes.parse("  openid   email ") == ("openid", "email")


def test_join_is_space_separated() -> None:
    assert scopes.join(("openid", "email")) == "openid email"
    assert scopes.join([]) == ""


@pytest.mark.parametrize("token", ["openid", "read:all", "https://api.example.com/x", "!", "~"])
def test_valid_scope_tokens(token) -> None:
    assert scopes.is_valid_token(token)


@pytest.mark.parametrize("token", ["", '"', "a\\b", "a b", "a\tb", "é", "\x7f"])
def test_invalid_scope_tokens(token) -> None:
    # RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    assert not scopes.is_valid_token(token)


def test_scope_token_with_trailing_newline_is_invalid() -> None:
    assert not scopes.is_valid_token("openid\n")


def test_allowed_keeps_requested_order_and_drops_unregistered() -> None:
    assert scopes.allowed(("email", "admin", "openid"), "openid profile email") == (
        "email",
        "openid",
    )


def test_allowed_with_empty_client_scope() -> None:
    assert scopes.allowed(("openid",), "") == ()


def test_describe_known_and_unknown_scopes() -> None:
    assert scopes.describe("email") == scopes.DESCRIPTIONS["email"]
    assert scopes.describe("read:files") == "Access read:files"


def test_every_supported_scope_has_a_description() -> None:
    assert set(scopes.SCOPES_SUPPORTED) <= set(scopes.DESCRIPTIONS)


def test_standard_scope_claims() -> None:
    # OIDC Core §5.4
    assert set(scopes.SCOPE_CLAIMS["email"]) == {"email", "email_verified"}
    assert {"name", "given_name", "family_name", "preferred_username", "updated_at"} <= set(
        scopes.SCOPE_CLAIMS["profile"]
    )
    assert scopes.OFFLINE_ACCESS not in scopes.SCOPE_CLAIMS
