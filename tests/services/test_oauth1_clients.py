"""An OAuth 1.0a consumer's secret (services/clients.py): kept sealed with the KEK as well as
hashed, because HMAC-SHA1 needs it in clear (RFC 5849 §3.4.2); a new one on rotation, and on
enabling OAuth 1.0a for a client whose secret was only hashed; the RSA key row is checked."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from keystead.protocol.client_assertion import open_secret
from keystead.provider import Provider
from keystead.secrets_util import sha256_hex
from keystead.services import clients
from keystead.services.clients import ClientSpec, ClientSpecError, spec_of
from keystead.services.common import CLI

pytestmark = pytest.mark.anyio


def spec() -> ClientSpec:
    return ClientSpec(client_name="Printer", redirect_uris=["https://p.example/cb"])


async def test_oauth1_secret_sealed_and_rotated(provider: Provider) -> None:
    client, secret = await clients.create(provider, spec(), CLI, policy={"oauth1": True})
    assert secret and client.client_secret_hash == sha256_hex(secret)
    assert open_secret(provider.kek, client) == secret
    rotated, new = await clients.rotate_secret(provider, client.client_id, CLI)
    assert new != secret and open_secret(provider.kek, rotated) == new
    # an unrelated update keeps the sealed secret
    kept, none = await clients.update(provider, rotated, spec_of(rotated), CLI)
    assert none is None and open_secret(provider.kek, kept) == new


async def test_enabling_oauth1_needs_a_secret_in_clear(provider: Provider) -> None:
    client, secret = await clients.create(provider, spec(), CLI)
    assert secret and open_secret(provider.kek, client) is None  # hashed only
    enabled, new = await clients.update(
        provider, client, spec_of(client), CLI, policy={"oauth1": True}
    )
    assert new is not None and new != secret  # printed once, the old one could not be kept
    assert open_secret(provider.kek, enabled) == new
    disabled, none = await clients.update(
        provider, enabled, spec_of(enabled), CLI, policy={"oauth1": False}
    )
    assert none is None and open_secret(provider.kek, disabled) is None


async def test_rsa_key_row_checked(provider: Provider) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = ec_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    for bad in (pem, "junk", 42):
        with pytest.raises(ClientSpecError) as exc:
            await clients.create(
                provider, spec(), CLI, policy={"oauth1": True, "oauth1_rsa_public_key": bad}
            )
        assert exc.value.field == "oauth1_rsa_public_key"
