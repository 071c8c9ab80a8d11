"""sign/verify, cross-checked against an independent implementation (``cryptography``
primitives, with JWK and JWS parsing written out here) and against Authlib's JOSE."""

import base64
import hashlib
import importlib
import json
import warnings
from types import MappingProxyType
from typing import Any

import pytest
from authlib.deprecate import AuthlibDeprecationWarning
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from keystead.jose import fast_jws
from keystead.jose.jwt import JoseError, hash_claim, sign, verify
from keystead.jose.kek import KeyEncryptor
from keystead.jose.keys import SUPPORTED_ALGS, KeyRing, generate_key
from keystead.store.base import StoredKey

NOW = 1_700_000_000
NO_ALG_HEADER = "eyJraWQiOiJ4In0"  # {"kid":"x"}
CLAIMS = {"iss": "https://op.example", "sub": "248289761001", "aud": "rp", "nonce": "n-0S6_WzA2Mj"}


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64int(text: str) -> int:
    return int.from_bytes(b64d(text), "big")


@pytest.fixture(scope="module")
def kek() -> KeyEncryptor:
    return KeyEncryptor(b"j" * 32)


@pytest.fixture(scope="module")
def stored(kek: KeyEncryptor) -> dict[str, StoredKey]:
    return {alg: generate_key(alg, kek, now=NOW) for alg in SUPPORTED_ALGS}


@pytest.fixture(scope="module")
def ring(stored: dict[str, StoredKey], kek: KeyEncryptor) -> KeyRing:
    return KeyRing.load(list(stored.values()), kek)


# --- an independent JWS implementation on cryptography primitives -------------------------


def independent_verify(token: str, jwk: dict[str, Any]) -> dict[str, Any]:
    h, p, s = token.split(".")
    header = json.loads(b64d(h))
    assert header["alg"] == jwk["alg"] and header["kid"] == jwk["kid"]
    msg, sig = f"{h}.{p}".encode(), b64d(s)
    alg = jwk["alg"]
    if jwk["kty"] == "RSA":
        pub = rsa.RSAPublicNumbers(b64int(jwk["e"]), b64int(jwk["n"])).public_key()
        pad: padding.AsymmetricPadding = (
            padding.PKCS1v15()
            if alg == "RS256"  # RFC 7518 §3.5: PSS with MGF1-SHA256 and a 32-byte salt
            else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        )
        pub.verify(sig, msg, pad, hashes.SHA256())
    elif jwk["kty"] == "EC":
        assert jwk["crv"] == "P-256"
        if len(sig) != 64:  # RFC 7518 §3.4: R || S, 32 bytes each
            raise InvalidSignature("ES256 signature must be 64 bytes")
        nums = ec.EllipticCurvePublicNumbers(b64int(jwk["x"]), b64int(jwk["y"]), ec.SECP256R1())
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        nums.public_key().verify(der, msg, ec.ECDSA(hashes.SHA256()))
    else:
        assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and alg == "EdDSA"
        Ed25519PublicKey.from_public_bytes(b64d(jwk["x"])).verify(sig, msg)
    return json.loads(b64d(p))


def independent_sign(header: dict[str, Any], payload: bytes, private_jwk: dict[str, Any]) -> str:
    signing_input = f"{b64e(json.dumps(header).encode())}.{b64e(payload)}".encode()
    alg = header["alg"]
    if private_jwk["kty"] == "RSA":
        pub = rsa.RSAPublicNumbers(b64int(private_jwk["e"]), b64int(private_jwk["n"]))
        priv = rsa.RSAPrivateNumbers(
            *(b64int(private_jwk[m]) for m in ("p", "q", "d", "dp", "dq", "qi")), public_numbers=pub
        ).private_key()
        pad: padding.AsymmetricPadding = (
            padding.PKCS1v15()
            if alg == "RS256"
            else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        )
        sig = priv.sign(signing_input, pad, hashes.SHA256())
    elif private_jwk["kty"] == "EC":
        ec_priv = ec.derive_private_key(b64int(private_jwk["d"]), ec.SECP256R1())
        r, s = decode_dss_signature(ec_priv.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        sig = Ed25519PrivateKey.from_private_bytes(b64d(private_jwk["d"])).sign(signing_input)
    return f"{signing_input.decode()}.{b64e(sig)}"


def private_jwk(key: StoredKey, kek: KeyEncryptor) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(kek.decrypt(key.private_jwk_enc, key.kid.encode()))
    return result


# --- sign / verify -------------------------------------------------------------------------


@pytest.mark.parametrize("alg", SUPPORTED_ALGS)
def test_round_trip(ring: KeyRing, stored: dict[str, StoredKey], alg: str) -> None:
    token = sign(CLAIMS, ring, alg, now=NOW, typ="JWT")
    header, claims = verify(token, ring)
    assert header == {"alg": alg, "kid": stored[alg].kid, "typ": "JWT"}
    assert claims == CLAIMS
    assert verify(token, ring, algs=[alg])[1] == CLAIMS


def test_header_without_typ(ring: KeyRing) -> None:
    token = sign(CLAIMS, ring, "ES256", now=NOW)
    assert json.loads(b64d(token.split(".")[0])) == {
        "alg": "ES256",
        "kid": ring.signing_key("ES256", NOW)[0],
    }
    assert "typ" not in verify(token, ring)[0]
    assert (
        json.loads(b64d(sign(CLAIMS, ring, "ES256", now=NOW, typ="at+jwt").split(".")[0]))["typ"]
        == "at+jwt"
    )


def test_sign_does_not_mutate_claims(ring: KeyRing) -> None:
    claims = dict(CLAIMS)
    sign(claims, ring, "EdDSA", now=NOW)
    assert claims == CLAIMS


@pytest.mark.parametrize("alg", SUPPORTED_ALGS)
def test_sign_picks_the_signer(ring: KeyRing, alg: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The choice of signer lives in sign: ES256 takes the direct signer, the rest joserfc."""
    fast: list[str] = []
    direct = fast_jws.sign_p256

    def counting(*args: Any, **kwargs: Any) -> str:
        fast.append(alg)
        return direct(*args, **kwargs)

    monkeypatch.setattr(fast_jws, "sign_p256", counting)
    token = sign(MappingProxyType(CLAIMS), ring, alg, now=NOW, typ="at+jwt")  # any Mapping
    assert fast == (["ES256"] if alg == "ES256" else [])
    header, claims = verify(token, ring, algs=[alg])
    assert header == {"alg": alg, "kid": ring.signing_key(alg, NOW)[0], "typ": "at+jwt"}
    assert claims == CLAIMS


def test_sign_without_active_key(ring: KeyRing) -> None:
    with pytest.raises(KeyError, match="no active signing key"):
        sign(CLAIMS, ring, "ES256", now=NOW - 1)


def test_no_warnings(ring: KeyRing) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for alg in SUPPORTED_ALGS:
            verify(sign(CLAIMS, ring, alg, now=NOW), ring)


@pytest.mark.parametrize("alg", SUPPORTED_ALGS)
def test_our_tokens_verify_independently(
    ring: KeyRing, stored: dict[str, StoredKey], alg: str
) -> None:
    token = sign(CLAIMS, ring, alg, now=NOW, typ="JWT")
    jwks = {k["kid"]: k for k in ring.jwks(NOW)["keys"]}
    assert independent_verify(token, jwks[stored[alg].kid]) == CLAIMS


@pytest.mark.parametrize("alg", SUPPORTED_ALGS)
def test_independent_tokens_verify_with_us(
    ring: KeyRing, stored: dict[str, StoredKey], kek: KeyEncryptor, alg: str
) -> None:
    header = {"typ": "JWT", "alg": alg, "kid": stored[alg].kid}
    token = independent_sign(header, json.dumps(CLAIMS).encode(), private_jwk(stored[alg], kek))
    assert verify(token, ring) == (header, CLAIMS)


@pytest.mark.parametrize("alg", SUPPORTED_ALGS)
def test_authlib_verifies_our_tokens(ring: KeyRing, alg: str) -> None:
    with warnings.catch_warnings():
        # authlib.jose announces its own deprecation (in favour of joserfc) on import
        warnings.simplefilter("ignore", AuthlibDeprecationWarning)
        authlib_jose = importlib.import_module("authlib.jose")
    token = sign(CLAIMS, ring, alg, now=NOW)
    key_set = authlib_jose.JsonWebKey.import_key_set(ring.jwks(NOW))
    claims = authlib_jose.JsonWebToken([alg]).decode(token, key_set)
    assert dict(claims) == CLAIMS


# --- refusals ------------------------------------------------------------------------------


def flip(segment: str, index: int) -> str:
    raw = bytearray(b64d(segment))
    raw[index] ^= 0x01
    return b64e(bytes(raw))


@pytest.mark.parametrize("alg", SUPPORTED_ALGS)
def test_tampered_token(ring: KeyRing, alg: str) -> None:
    h, p, s = sign(CLAIMS, ring, alg, now=NOW).split(".")
    other_payload = b64e(json.dumps({**CLAIMS, "sub": "admin"}).encode())
    for bad in (f"{h}.{other_payload}.{s}", f"{h}.{p}.{flip(s, 10)}", f"{h}.{p}.{s[:-8]}"):
        with pytest.raises(JoseError, match="bad signature"):
            verify(bad, ring)
        with pytest.raises(InvalidSignature):
            independent_verify(
                bad, {k["kid"]: k for k in ring.jwks(NOW)["keys"]}[ring.signing_key(alg, NOW)[0]]
            )


def test_unknown_kid(ring: KeyRing, kek: KeyEncryptor) -> None:
    stranger = KeyRing.load([generate_key("ES256", kek, now=NOW)], kek)
    token = sign(CLAIMS, stranger, "ES256", now=NOW)
    with pytest.raises(JoseError, match="unknown kid"):
        verify(token, ring)


def test_alg_not_allowed(ring: KeyRing) -> None:
    token = sign(CLAIMS, ring, "RS256", now=NOW)
    with pytest.raises(JoseError, match="alg 'RS256' not allowed"):
        verify(token, ring, algs=["ES256", "EdDSA"])
    with pytest.raises(JoseError, match="not allowed"):
        verify(token, ring, algs=[])


def forge(header: dict[str, Any], payload: Any = CLAIMS, signature: bytes = b"sig") -> str:
    return ".".join(
        (b64e(json.dumps(header).encode()), b64e(json.dumps(payload).encode()), b64e(signature))
    )


def test_alg_none_refused(ring: KeyRing, stored: dict[str, StoredKey]) -> None:
    kid = stored["RS256"].kid
    for token in (
        forge({"alg": "none", "kid": kid}, signature=b""),
        forge({"alg": "none", "kid": kid}),
    ):
        with pytest.raises(JoseError, match="alg 'none' not allowed"):
            verify(token, ring)
        with pytest.raises(JoseError, match="not allowed"):
            verify(token, ring, algs=["none"])


def test_hs256_key_confusion_refused(ring: KeyRing, stored: dict[str, StoredKey]) -> None:
    with pytest.raises(JoseError, match="alg 'HS256' not allowed"):
        verify(forge({"alg": "HS256", "kid": stored["RS256"].kid}), ring)
    with pytest.raises(JoseError, match="does not match key"):
        verify(forge({"alg": "HS256", "kid": stored["RS256"].kid}), ring, algs=["HS256"])


def test_alg_must_match_key(ring: KeyRing, stored: dict[str, StoredKey], kek: KeyEncryptor) -> None:
    # A valid PS256 signature made with the RS256 key: refused, each key has one alg.
    header = {"alg": "PS256", "kid": stored["RS256"].kid}
    token = independent_sign(header, b"{}", private_jwk(stored["RS256"], kek))
    with pytest.raises(JoseError, match="does not match key"):
        verify(token, ring)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d.e",
        "!!!.###.$$$",
        "é.é.é",
        f"{b64e(b'not json')}.{b64e(b'{}')}.c2ln",
        f"{b64e(b'[1,2]')}.{b64e(b'{}')}.c2ln",
        f"{NO_ALG_HEADER}.e30.c2ln",
    ],
)
def test_malformed(ring: KeyRing, token: str) -> None:
    with pytest.raises(JoseError, match="malformed"):
        verify(token, ring)


def test_missing_kid(ring: KeyRing) -> None:
    with pytest.raises(JoseError, match="no kid"):
        verify(forge({"alg": "ES256"}), ring)


def test_unknown_critical_header(
    ring: KeyRing, stored: dict[str, StoredKey], kek: KeyEncryptor
) -> None:
    header = {"alg": "ES256", "kid": stored["ES256"].kid, "crit": ["exp"], "exp": 1}
    token = independent_sign(header, b"{}", private_jwk(stored["ES256"], kek))
    with pytest.raises(JoseError, match="invalid JWS"):
        verify(token, ring)


@pytest.mark.parametrize("payload", [b"[1, 2]", b"not json", b'"a string"'])
def test_signed_payload_not_an_object(
    ring: KeyRing, stored: dict[str, StoredKey], kek: KeyEncryptor, payload: bytes
) -> None:
    header = {"alg": "EdDSA", "kid": stored["EdDSA"].kid}
    token = independent_sign(header, payload, private_jwk(stored["EdDSA"], kek))
    with pytest.raises(JoseError, match="malformed JWS: the payload"):
        verify(token, ring)


# --- hash claims -----------------------------------------------------------------------------


def expected_hash(value: str, hash_name: str) -> str:
    digest = hashlib.new(hash_name, value.encode("ascii")).digest()
    return b64e(digest[: len(digest) // 2])


def test_hash_claim_oidc_core_example() -> None:
    # OIDC Core Appendix A.4: c_hash of this code with RS256
    code = "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"
    assert hash_claim(code, "RS256") == "LDktKdoQak3Pk0cnXxCltA"


@pytest.mark.parametrize(
    ("alg", "hash_name", "length"),
    [
        ("RS256", "sha256", 22),
        ("PS256", "sha256", 22),
        ("ES256", "sha256", 22),
        ("EdDSA", "sha512", 43),
        ("RS384", "sha384", 32),
        ("ES512", "sha512", 43),
    ],
)
def test_hash_claim(alg: str, hash_name: str, length: int) -> None:
    value = "jHkWEdUXMU1BwAsC4vtUsZwnNwxxE6ZGnsBmsCMUdCc"
    assert hash_claim(value, alg) == expected_hash(value, hash_name)
    assert len(hash_claim(value, alg)) == length


def test_hash_claim_unknown_alg() -> None:
    with pytest.raises(ValueError):
        hash_claim("x", "none")
