"""Signed and encrypted responses for the clients that registered them (OIDC Core §5.3.2,
§10.1, §10.2; OIDC Registration §2): ID tokens encrypted to the client (a nested JWT: signed
first, then encrypted, ``cty`` "JWT"), UserInfo answered as a signed JWT
(``userinfo_signed_response_alg``) and/or encrypted (``userinfo_encrypted_response_*``).

A client without these metadata pays one dict lookup per response.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.jose import jwt
from keystead.jose.client_keys import ClientKey
from keystead.jose.jwe import DEFAULT_ENC, encrypt, encryption_keys, key_for
from keystead.net.fetch import FetchError
from keystead.protocol.response_metadata import (
    ID_TOKEN_ALG,
    ID_TOKEN_ENC,
    USERINFO_ALG,
    USERINFO_ENC,
    USERINFO_SIGNED,
)

if TYPE_CHECKING:
    from keystead.provider import Provider
    from keystead.store.base import Client

JWT_MEDIA_TYPE = "application/jwt"  # OIDC Core §5.3.2


async def _keys(provider: Provider, client: Client, *, refresh: bool) -> list[ClientKey]:
    jwks = client.extra.get("jwks")
    if jwks is not None:
        return encryption_keys(jwks)
    uri = client.extra.get("jwks_uri")
    if not isinstance(uri, str):
        return []
    return await provider.client_enc_jwks.keys(client.client_id, uri, refresh=refresh)


async def encryption_key(provider: Provider, client: Client, alg: str) -> ClientKey:
    """``client``'s public key to encrypt a response to with ``alg`` (OIDC Core §10.2)."""
    try:
        key = key_for(await _keys(provider, client, refresh=False), alg)
        if key is None and client.extra.get("jwks") is None:  # a key rotated in: refetch once
            key = key_for(await _keys(provider, client, refresh=True), alg)
    except FetchError as exc:
        raise OAuthError(
            "response-encryption-key",
            f"The client's jwks_uri could not be fetched to encrypt the response: {exc}",
        ) from None
    if key is None:
        raise OAuthError(
            "response-encryption-key",
            f"The client's JWK Set has no public key for {alg} to encrypt the response to.",
        )
    return key


async def encrypt_for(
    provider: Provider, client: Client, plaintext: str, alg: str, enc: str, cty: str | None
) -> str:
    """``plaintext`` encrypted to ``client``'s key for ``alg`` (OIDC Core §10.2)."""
    key = await encryption_key(provider, client, alg)
    return encrypt(plaintext, key, alg, enc, cty=cty)


async def seal_id_token(provider: Provider, client: Client, signed: str) -> str:
    """The signed ID token, encrypted when the client registered
    id_token_encrypted_response_alg (OIDC Core §10.2: sign, then encrypt)."""
    alg = client.extra.get(ID_TOKEN_ALG)
    if alg is None:
        return signed
    enc = client.extra.get(ID_TOKEN_ENC) or DEFAULT_ENC
    return await encrypt_for(provider, client, signed, alg, enc, "JWT")


async def userinfo_jwt(
    provider: Provider, client: Client | None, claims: dict[str, Any]
) -> str | None:
    """The UserInfo response as a JWT (signed, encrypted, or both, in that order), or None
    for plain JSON (the default)."""
    if client is None:
        return None
    signing_alg = client.extra.get(USERINFO_SIGNED)
    encryption_alg = client.extra.get(USERINFO_ALG)
    if signing_alg is None and encryption_alg is None:
        return None
    cty: str | None = None
    if signing_alg is not None:
        # OIDC Core §5.3.2: a signed response SHOULD contain iss and aud (the client).
        body = {**claims, "iss": provider.settings.issuer, "aud": client.client_id}
        payload = jwt.sign(body, await provider.keyring(), signing_alg, now=provider.now())
        cty = "JWT"
    else:
        payload = json.dumps(claims, separators=(",", ":"))
    if encryption_alg is not None:
        enc = client.extra.get(USERINFO_ENC) or DEFAULT_ENC
        payload = await encrypt_for(provider, client, payload, encryption_alg, enc, cty)
    return payload
