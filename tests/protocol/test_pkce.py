"""PKCE (RFC 7636), S256 only (RFC 9700 §2.1.1)."""

from __future__ import annotations

import pytest

from keystead.errors import OAuthError
from keystead.protocol import pkce

# RFC 7636 Appendix B
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def catalog_id(fn, *args) -> str:
    with pytest.raises(OAuthError) as caught:
        fn(*args)
    return caught.value.catalog_id


def test_s256_known_answer_rfc7636_appendix_b() -> None:
    assert pkce.s256(VERIFIER) == CHALLENGE


def test_only_s256_is_supported() -> None:
    assert pkce.METHODS_SUPPORTED == ("S256",)


# --- authorization request: check_challenge --------------------------------------------------


def test_s256_challenge_is_accepted() -> None:
    pkce.check_challenge(CHALLENGE, "S256", True)


def test_no_challenge_is_fine_when_not_required() -> None:
    pkce.check_challenge(None, None, False)


def test_no_challenge_when_required() -> None:
    assert catalog_id(pkce.check_challenge, None, None, True) == "pkce-required"


def test_method_without_challenge_is_invalid() -> None:
    assert catalog_id(pkce.check_challenge, None, "S256", False) == "request-invalid-parameter"


def test_plain_is_refused() -> None:
    assert catalog_id(pkce.check_challenge, VERIFIER, "plain", True) == "pkce-method-unsupported"


def test_missing_method_defaults_to_plain_and_is_refused() -> None:
    # RFC 7636 §4.3: no code_challenge_method means plain.
    assert catalog_id(pkce.check_challenge, CHALLENGE, None, True) == "pkce-method-unsupported"


def test_method_is_case_sensitive() -> None:
    assert catalog_id(pkce.check_challenge, CHALLENGE, "s256", True) == "pkce-method-unsupported"


@pytest.mark.parametrize(
    "challenge",
    [CHALLENGE[:-1], CHALLENGE + "A", CHALLENGE[:-1] + "=", CHALLENGE[:-1] + "+", "x", "!" * 43],
)
def test_malformed_challenge_is_refused(challenge) -> None:
    assert catalog_id(pkce.check_challenge, challenge, "S256", True) == (
        "request-invalid-parameter"
    )


def test_challenge_with_trailing_newline_is_refused() -> None:
    assert catalog_id(pkce.check_challenge, CHALLENGE + "\n", "S256", True) == (
        "request-invalid-parameter"
    )


# --- token request: check_verifier -----------------------------------------------------------


def test_matching_verifier_is_accepted() -> None:
    pkce.check_verifier(CHALLENGE, VERIFIER)


def test_no_challenge_and_no_verifier_is_fine() -> None:
    pkce.check_verifier(None, None)


def test_verifier_without_challenge_is_a_downgrade() -> None:
    # RFC 9700 §2.1.1: a code_verifier for a code issued without a challenge is refused.
    assert catalog_id(pkce.check_verifier, None, VERIFIER) == "pkce-downgrade"


def test_missing_verifier() -> None:
    assert catalog_id(pkce.check_verifier, CHALLENGE, None) == "pkce-verifier-missing"


def test_wrong_verifier() -> None:
    other = VERIFIER[:-1] + "j"
    assert catalog_id(pkce.check_verifier, CHALLENGE, other) == "pkce-verifier-mismatch"


def test_plain_verifier_equal_to_challenge_is_refused() -> None:
    # A client doing "plain" sends the challenge itself as verifier: no match under S256.
    assert catalog_id(pkce.check_verifier, CHALLENGE, CHALLENGE) == "pkce-verifier-mismatch"


@pytest.mark.parametrize("length", [43, 128])
def test_verifier_length_bounds_accepted(length) -> None:
    verifier = ("aZ09-._~" * 20)[:length]
    pkce.check_verifier(pkce.s256(verifier), verifier)


@pytest.mark.parametrize("length", [42, 129])
def test_verifier_length_bounds_refused(length) -> None:
    # RFC 7636 §4.1: 43 to 128 characters; refused even if its hash matches.
    verifier = ("aZ09-._~" * 20)[:length]
    assert catalog_id(pkce.check_verifier, pkce.s256(verifier), verifier) == (
        "pkce-verifier-mismatch"
    )


@pytest.mark.parametrize("bad", ["+", "/", "=", " ", "é", "!"])
def test_verifier_charset_refused(bad) -> None:
    verifier = VERIFIER[:-1] + bad
    assert catalog_id(pkce.check_verifier, CHALLENGE, verifier) == "pkce-verifier-mismatch"


def test_verifier_with_trailing_newline_is_refused() -> None:
    verifier = VERIFIER + "\n"
    assert catalog_id(pkce.check_verifier, pkce.s256(verifier), verifier) == (
        "pkce-verifier-mismatch"
    )
