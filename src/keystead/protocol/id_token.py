"""ID tokens (OIDC Core §2, §3.1.3.6, §3.3.2.11) and id_token_hint checking."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.jose import jwt
from keystead.protocol import pairwise
from keystead.protocol.acr import AMR_PASSWORD, acr_of
from keystead.protocol.encrypted_responses import seal_id_token

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
    code: str | None = None,
    state: str | None = None,
    amr: Sequence[str] = (AMR_PASSWORD,),
    acr: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """``amr`` (RFC 8176) and ``acr`` (protocol/acr.py) describe the session's login; ``acr``
    defaults to the class its methods reach."""
    now = provider.now()
    alg = client.id_token_signed_response_alg
    claims: dict[str, Any] = {
        "iss": provider.settings.issuer,
        "sub": pairwise.subject(provider, client, sub),  # OIDC Core §8
        "aud": client.client_id,
        "azp": client.client_id,
        "exp": now + provider.settings.id_token_ttl,
        "iat": now,
        "auth_time": auth_time,
        "amr": list(amr),
        "acr": acr if acr is not None else acr_of(amr),
    }
    if nonce is not None:
        claims["nonce"] = nonce  # OIDC Core §3.1.3.6: echo the authorization request's nonce
    if sid is not None:
        claims["sid"] = sid
    # OIDC Core §3.3.2.11 (and FAPI's s_hash): left half of the hash, per the signing alg.
    if access_token is not None:
        claims["at_hash"] = jwt.hash_claim(access_token, alg)
    if code is not None:
        claims["c_hash"] = jwt.hash_claim(code, alg)
    if state is not None:
        claims["s_hash"] = jwt.hash_claim(state, alg)
    if extra:
        claims.update({k: v for k, v in extra.items() if k not in claims})
    ring = await provider.keyring()
    return await seal_id_token(provider, client, jwt.sign(claims, ring, alg, now=now))


async def hint_claims(provider: Provider, hint: str) -> dict[str, Any]:
    ring = await provider.keyring()
    try:
        header, claims = jwt.verify(hint, ring)
    except jwt.JoseError as exc:
        raise OAuthError(
            "id-token-hint-invalid",
            f"id_token_hint is not an ID token issued by this server: {exc}",
        ) from exc
    # RFC 8725 §3.11 / RFC 9068 §2.1: keystead's other JWTs (access tokens, introspection
    # answers) carry an explicit typ; an ID token carries none. A token of another kind,
    # signed by the same keys, is never taken for an ID token (RP-Initiated Logout §2).
    typ = header.get("typ")
    if typ is not None and str(typ).lower() not in ("jwt", "application/jwt"):
        raise OAuthError(
            "id-token-hint-invalid",
            f"id_token_hint is a {str(typ)[:40]} token, not an ID token; send the ID token "
            "the client received.",
        )
    aud = claims.get("aud")
    if not (isinstance(aud, str) or (isinstance(aud, list) and aud)):
        raise OAuthError("id-token-hint-invalid", "id_token_hint has no audience (aud).")
    if claims.get("iss") != provider.settings.issuer:
        raise OAuthError("id-token-hint-invalid", "id_token_hint was issued by another issuer.")
    return claims


async def hint_subject(provider: Provider, hint: str) -> str:
    """The sub of an id_token_hint we issued. Expired hints are fine (OIDC Core §3.1.2.1)."""
    sub = (await hint_claims(provider, hint)).get("sub")
    if not isinstance(sub, str):
        raise OAuthError("id-token-hint-invalid", "id_token_hint has no sub claim.")
    return sub
