"""ID tokens (OIDC Core §2, §3.1.3.6)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keystead.jose import jwt

if TYPE_CHECKING:
    from keystead.provider import Provider
    from keystead.store.base import Client


async def make_id_token(
    provider: Provider,
    client: Client,
    *,
    sub: str,
    auth_time: int,
    nonce: str | None,
    sid: str | None,
    access_token: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    now = provider.now()
    alg = client.id_token_signed_response_alg
    claims: dict[str, Any] = {
        "iss": provider.settings.issuer,
        "sub": sub,
        "aud": client.client_id,
        "exp": now + provider.settings.id_token_ttl,
        "iat": now,
        "auth_time": auth_time,
    }
    if nonce is not None:
        claims["nonce"] = nonce  # OIDC Core §3.1.3.6: echo the authorization request's nonce
    if sid is not None:
        claims["sid"] = sid
    if access_token is not None:
        claims["at_hash"] = jwt.hash_claim(access_token, alg)
    claims["amr"] = ["pwd"]
    if extra:
        claims.update(extra)
    ring = await provider.keyring()
    return jwt.sign(claims, ring, alg, now=now)
