"""RFC 6238 TOTP: the RFC's own test vectors, pyotp (what authenticator apps compute) and the
skew window."""

from __future__ import annotations

import base64

import pyotp
import pytest

from keystead.accounts import totp
from keystead.jose.kek import KeyEncryptor

# RFC 6238 Appendix B: the SHA-1 seed "12345678901234567890", 8-digit codes; ours are the
# last 6 digits of the same truncated value.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("time", "eight_digits"), RFC_VECTORS)
def test_rfc_6238_vectors(time: int, eight_digits: str) -> None:
    assert totp.code_at(RFC_SECRET, totp.step_of(time)) == eight_digits[-6:]


def test_codes_agree_with_pyotp() -> None:
    secret = totp.new_secret()
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) == 20
    app = pyotp.TOTP(secret)
    for now in (0, 29, 30, 1_700_000_000, 1_800_000_015):
        assert totp.code_at(secret, totp.step_of(now)) == app.at(now)


def test_one_step_of_skew_either_side_and_no_more() -> None:
    secret = totp.new_secret()
    app = pyotp.TOTP(secret)
    now = 1_800_000_000
    step = totp.step_of(now)
    assert totp.matching_step(secret, app.at(now), now) == step
    assert totp.matching_step(secret, app.at(now - 30), now) == step - 1
    assert totp.matching_step(secret, app.at(now + 30), now) == step + 1
    assert totp.matching_step(secret, app.at(now - 60), now) is None
    assert totp.matching_step(secret, app.at(now + 60), now) is None


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "12 34 5x"])
def test_malformed_codes_never_match(typed: str) -> None:
    assert totp.matching_step(totp.new_secret(), typed, 1_800_000_000) is None


def test_spaces_and_dashes_inside_a_code_are_ignored() -> None:
    secret = totp.new_secret()
    code = pyotp.TOTP(secret).at(1_800_000_000)
    assert totp.matching_step(secret, f" {code[:3]} {code[3:]} ", 1_800_000_000) is not None
    assert totp.matching_step(secret, f"{code[:3]}-{code[3:]}", 1_800_000_000) is not None


def test_imported_secrets_are_normalised_or_refused() -> None:
    assert totp.normalize_secret("jbsw y3dp ehpk 3pxp") == "JBSWY3DPEHPK3PXP"
    assert totp.normalize_secret("JBSWY3DPEHPK3PXP====") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(ValueError, match="base32"):
        totp.normalize_secret("not base32 at all!")
    with pytest.raises(ValueError, match="80 bits"):
        totp.normalize_secret("JBSWY3DP")


def test_the_provisioning_uri_and_qr_code() -> None:
    secret = "JBSWY3DPEHPK3PXP" * 2
    uri = totp.provisioning_uri(secret, "alice@example.com", "keystead test")
    assert uri.startswith("otpauth://totp/keystead%20test:alice@example.com?")
    parsed = pyotp.parse_uri(uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert (parsed.secret, parsed.issuer, parsed.name) == (
        secret, "keystead test", "alice@example.com",
    )  # fmt: skip
    assert totp.qr_data_uri(uri).startswith("data:image/svg+xml")


def test_secrets_are_sealed_to_their_user() -> None:
    kek = KeyEncryptor(b"k" * 32)
    sealed = totp.seal(kek, "sub-1", "JBSWY3DPEHPK3PXP")
    assert "JBSWY3DP" not in sealed
    assert totp.unseal(kek, "sub-1", sealed) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(ValueError):
        totp.unseal(kek, "sub-2", sealed)  # a row moved to another user does not decrypt
