"""Clients' JWK Sets: public signing keys only."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc.jwk import ECKey, RSAKey

from keystead.jose.client_keys import InvalidJwks, parse_jwks


def test_public_keys_are_accepted() -> None:
    key = ECKey.generate_key("P-256", private=True)
    assert len(parse_jwks({"keys": [key.as_dict(private=False)]}, strict=True)) == 1


@pytest.mark.filterwarnings("ignore:Key size should be")
@pytest.mark.parametrize(
    ("keys", "words"),
    [
        (lambda: [ECKey.generate_key("P-256", private=True).as_dict(private=True)], "private"),
        (lambda: [{"kty": "oct", "k": "c2VjcmV0"}], "private or symmetric"),
        (lambda: [RSAKey.generate_key(1024, private=True).as_dict(private=False)], "2048"),
        (lambda: [ECKey.generate_key("P-384", private=True).as_dict(private=False)], "P-384"),
        (lambda: [], "no keys"),
        (lambda: "x", "JWK Set"),
    ],
)
def test_unusable_sets_are_refused(keys: Any, words: str) -> None:
    with pytest.raises(InvalidJwks, match=words):
        parse_jwks({"keys": keys()}, strict=True)


def test_not_a_set() -> None:
    with pytest.raises(InvalidJwks, match="JWK Set"):
        parse_jwks([], strict=True)


def test_fetched_sets_skip_what_cannot_sign() -> None:
    sig = ECKey.generate_key("P-256", private=True).as_dict(private=False)
    enc = {**RSAKey.generate_key(2048, private=True).as_dict(private=False), "use": "enc"}
    assert len(parse_jwks({"keys": [sig, enc]}, strict=False)) == 1
    with pytest.raises(InvalidJwks):  # private material is refused even when fetched
        parse_jwks(
            {"keys": [ECKey.generate_key("P-256", private=True).as_dict(private=True)]},
            strict=False,
        )
