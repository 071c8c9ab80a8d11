"""Pairwise subject identifiers (OIDC Core §8.1) and the rules of the response metadata
(OIDC Registration §2): unit tests on the memory store."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc.jwk import ECKey, RSAKey

from keystead.jose import jwt
from keystead.protocol import pairwise, response_metadata
from keystead.protocol.backchannel import logout_token
from keystead.protocol.client_metadata import ClientSpec, MetadataError, validate
from keystead.protocol.id_token import make_id_token
from keystead.provider import Provider
from tests.protocol.conftest import REDIRECT_URI, MakeClient

pytestmark = pytest.mark.anyio
PAIRWISE = {pairwise.SUBJECT_TYPE: "pairwise", pairwise.SECTOR: "rp.example.com"}


def test_compute_is_stable_and_per_sector() -> None:
    key = b"k" * 32
    a = pairwise.compute(key, "rp.example.com", "user-1")
    assert a == pairwise.compute(key, "rp.example.com", "user-1")
    assert a != pairwise.compute(key, "other.example.com", "user-1")
    assert a != pairwise.compute(key, "rp.example.com", "user-2")
    assert a != pairwise.compute(b"j" * 32, "rp.example.com", "user-1")
    # no ambiguity between (sector, sub) splits
    assert pairwise.compute(key, "ab", "c") != pairwise.compute(key, "a", "bc")
    assert len(a) == 43 and "=" not in a  # base64url of 32 bytes


async def test_public_client_sees_the_local_sub(
    provider: Provider, make_client: MakeClient
) -> None:
    client = await make_client()
    assert pairwise.subject(provider, client, "user-1") == "user-1"
    assert pairwise.subject(provider, None, "user-1") == "user-1"


async def test_pairwise_sub_and_hint_matching(provider: Provider, make_client: MakeClient) -> None:
    one = await make_client("one", extra=dict(PAIRWISE))
    two = await make_client("two", extra=dict(PAIRWISE))
    other = await make_client("other", extra={**PAIRWISE, pairwise.SECTOR: "other.example.com"})
    sub = pairwise.subject(provider, one, "user-1")
    assert sub != "user-1"
    assert pairwise.subject(provider, two, "user-1") == sub  # same sector, same sub
    assert pairwise.subject(provider, other, "user-1") != sub
    assert pairwise.matches(provider, one, sub, "user-1")
    assert not pairwise.matches(provider, one, sub, "user-2")
    assert not pairwise.matches(provider, other, sub, "user-1")
    # client_credentials subjects name the client, not a user: never mapped
    assert pairwise.subject(provider, one, "client:one") == "client:one"


async def test_id_token_and_logout_token_carry_the_pairwise_sub(
    provider: Provider, make_client: MakeClient
) -> None:
    client = await make_client(
        extra={**PAIRWISE, "backchannel_logout_uri": "https://rp.example.com/bc"}
    )
    expected = pairwise.subject(provider, client, "user-1")
    ring = await provider.keyring()
    token = await make_id_token(provider, client, sub="user-1", auth_time=1, nonce=None, sid="s")
    assert jwt.verify(token, ring)[1]["sub"] == expected
    logout = await logout_token(provider, client, sub="user-1", sid="s")
    assert jwt.verify(logout, ring)[1]["sub"] == expected


def spec(**fields: Any) -> ClientSpec:
    s = ClientSpec(client_name="RP", redirect_uris=[REDIRECT_URI])
    for k, v in fields.items():
        setattr(s, k, v)
    return s


def refused(s: ClientSpec) -> MetadataError:
    with pytest.raises(MetadataError) as info:
        validate(s)
    return info.value


def rsa_jwks(use: str | None = "enc") -> dict[str, Any]:
    key = RSAKey.generate_key(2048).as_dict(private=False)
    if use:
        key["use"] = use
    return {"keys": [key]}


def ec_jwks() -> dict[str, Any]:
    return {"keys": [{**ECKey.generate_key("P-256").as_dict(private=False), "use": "enc"}]}


def test_subject_type_rules() -> None:
    assert refused(spec(subject_type="secret")).field == "subject_type"
    validate(spec(subject_type="pairwise"))  # one redirect host: its sector
    two_hosts = spec(
        subject_type="pairwise",
        redirect_uris=[REDIRECT_URI, "https://other.example.com/cb"],
    )
    assert refused(two_hosts).field == "sector_identifier_uri"
    two_hosts.sector_identifier_uri = "https://rp.example.com/sector.json"
    validate(two_hosts)
    assert refused(spec(sector_identifier_uri="ftp://x/y")).field == "sector_identifier_uri"


def test_encryption_metadata_rules() -> None:
    enc_only = refused(spec(id_token_encrypted_response_enc="A256GCM"))
    assert enc_only.field == "id_token_encrypted_response_enc"
    assert "id_token_encrypted_response_alg" in enc_only.message
    assert (
        refused(spec(id_token_encrypted_response_alg="RSA1_5", jwks=rsa_jwks())).field
        == "id_token_encrypted_response_alg"
    )
    no_keys = refused(spec(id_token_encrypted_response_alg="RSA-OAEP-256"))
    assert "jwks" in no_keys.message
    wrong_kind = refused(spec(userinfo_encrypted_response_alg="RSA-OAEP-256", jwks=ec_jwks()))
    assert wrong_kind.field == "userinfo_encrypted_response_alg"
    assert (
        refused(
            spec(
                id_token_encrypted_response_alg="ECDH-ES",
                id_token_encrypted_response_enc="A512GCM",
                jwks=ec_jwks(),
            )
        ).field
        == "id_token_encrypted_response_enc"
    )
    assert refused(spec(userinfo_signed_response_alg="HS256")).field == (
        "userinfo_signed_response_alg"
    )
    validate(spec(id_token_encrypted_response_alg="RSA-OAEP-256", jwks=rsa_jwks()))
    validate(spec(id_token_encrypted_response_alg="RSA-OAEP-256", jwks=rsa_jwks(use=None)))
    validate(spec(userinfo_encrypted_response_alg="ECDH-ES+A256KW", jwks=ec_jwks()))
    validate(
        spec(
            id_token_encrypted_response_alg="RSA-OAEP-256",
            jwks_uri="https://rp.example.com/jwks",
        )
    )


def test_kept_values() -> None:
    kept = response_metadata.with_defaults(
        {"id_token_encrypted_response_alg": "RSA-OAEP-256", "subject_type": "public"}
    )
    # the default enc (A128CBC-HS256, OIDC Registration §2) is applied when encrypting
    assert kept == {"id_token_encrypted_response_alg": "RSA-OAEP-256"}
