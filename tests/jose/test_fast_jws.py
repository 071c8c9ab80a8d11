"""The hand-written ES256 signer must produce tokens every real verifier accepts."""

from __future__ import annotations

import json

import pytest
from authlib.jose import JsonWebKey, JsonWebToken
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import ECKey, KeySet

from keystead.jose.fast_jws import sign_es256

CLAIMS = {
    "iss": "https://id.example.com",
    "sub": "client:x",
    "scope": "a b",
    "exp": 2_000_000_000,
    "unicode": "ünï",
}


@pytest.mark.parametrize("typ", [None, "at+jwt"])
def test_verified_by_joserfc_and_authlib(typ: str | None) -> None:
    key = ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)
    for _ in range(20):  # different random nonces, some with short r or s
        token = sign_es256(CLAIMS, key.private_key, "k1", typ)
        decoded = joserfc_jwt.decode(token, KeySet([key]), algorithms=["ES256"])
        assert decoded.claims == CLAIMS
        assert decoded.header == {"alg": "ES256", "kid": "k1", **({"typ": typ} if typ else {})}
        public = JsonWebKey.import_key(key.as_dict(private=False))
        assert JsonWebToken(["ES256"]).decode(token, public) == CLAIMS


def test_tampering_is_detected() -> None:
    key = ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)
    head, payload, sig = sign_es256(CLAIMS, key.private_key, "k1").split(".")
    other = sign_es256({**CLAIMS, "sub": "admin"}, key.private_key, "k1").split(".")[1]
    with pytest.raises(Exception):  # noqa: B017
        joserfc_jwt.decode(f"{head}.{other}.{sig}", KeySet([key]), algorithms=["ES256"])
    assert json.loads(__import__("base64").urlsafe_b64decode(head + "==")) == {
        "alg": "ES256",
        "kid": "k1",
    }


def test_refuses_other_curves() -> None:
    key = ECKey.generate_key("P-384", private=True)
    with pytest.raises(ValueError):
        sign_es256(CLAIMS, key.private_key, "k")
