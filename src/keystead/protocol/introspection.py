"""Token introspection (RFC 7662), with the JWT response of RFC 9701.

Authenticated callers only: a confidential client may introspect the tokens issued to it, an
API (with its own credentials) the tokens whose audience includes it. Anything else is
reported as ``{"active": false}``, exactly like an unknown token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from keystead.errors import OAuthError
from keystead.jose import jwt
from keystead.protocol import client_auth, dpop, pairwise, rar
from keystead.protocol.client_auth import authenticate_client
from keystead.protocol.request import OAuthRequest
from keystead.protocol.tokens import cnf, resolve_access_token
from keystead.secrets_util import matches_hash, sha256_hex

if TYPE_CHECKING:
    from keystead.provider import Provider

PARAMETERS = ("token", "token_type_hint", *client_auth.PARAMETERS)
JWT_MEDIA_TYPE = "application/token-introspection+jwt"
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="keystead"'}


class Caller(NamedTuple):
    client_id: str | None = None  # a client
    audience: str | None = None  # an API's identifier
    name: str = ""


def _unauthenticated(why: str) -> OAuthError:
    return OAuthError("caller-unauthenticated", why, headers=_CHALLENGE)


async def authenticate_caller(req: OAuthRequest, provider: Provider) -> Caller:
    basic = req.basic_credentials()
    if basic is not None:
        api = (await provider.apis()).by_id.get(basic[0])
        if api is not None:
            if api.secret_hash is None or not matches_hash(basic[1], api.secret_hash):
                raise _unauthenticated("The API's credentials are wrong.")
            return Caller(audience=api.identifier, name=api.api_id)
    if basic is None and req.get("client_id") is None and req.get("client_assertion") is None:
        raise _unauthenticated(
            "Introspection needs authentication: HTTP Basic as a confidential client or as an "
            "API (api_id:api_secret)."
        )
    client = await authenticate_client(req, provider, endpoint="/introspect")
    if client.is_public:
        # Identified by client_id in the body, not by HTTP Basic: no Basic challenge
        # (RFC 6749 §5.2, as client_auth.authenticate_client answers).
        raise OAuthError(
            "caller-unauthenticated", "Public clients cannot introspect tokens (RFC 7662 §2.1)."
        )
    return Caller(client_id=client.client_id, name=client.client_id)


async def _refresh_claims(provider: Provider, value: str) -> dict[str, Any] | None:
    found = await provider.store.grants.get_refresh_token(sha256_hex(value))
    if found is None:
        return None
    token, grant = found
    now = provider.now()
    if grant.revoked_at is not None or token.rotated_at is not None or token.expires_at <= now:
        return None
    if token.idle_expires_at <= now:
        return None
    return {
        "active": True,
        "token_type": "refresh_token",
        "client_id": token.client_id,
        "sub": token.sub,
        "scope": token.scope,
        "exp": token.expires_at,
        "iat": token.created_at,
        "iss": provider.settings.issuer,
    }


async def _access_claims(provider: Provider, value: str) -> dict[str, Any] | None:
    token = await resolve_access_token(provider, value)
    if token is None:
        return None
    claims: dict[str, Any] = {
        "active": True,
        "token_type": "Bearer",
        "client_id": token.client_id,
        "sub": token.sub,
        "scope": token.scope,
        "exp": token.exp,
        "iat": token.iat,
        "iss": provider.settings.issuer,
        "aud": token.aud[0] if len(token.aud) == 1 else list(token.aud),
    }
    if token.jti:
        claims["jti"] = token.jti
    if token.act is not None:
        claims["act"] = token.act  # RFC 8693 §4.1: who acts for the subject
    details = rar.granted(token.claims_request)
    if details is not None:
        claims[rar.PARAMETER] = details  # RFC 9396 §9.2
    if token.jkt is not None:  # RFC 9449 §6.2: a DPoP-bound token and its key
        claims["token_type"] = dpop.TOKEN_TYPE
    if token.jkt is not None or token.x5t_s256 is not None:  # RFC 8705 §3.2: its certificate
        claims["cnf"] = cnf(token.jkt, token.x5t_s256)
    return claims


def _may_see(caller: Caller, claims: dict[str, Any]) -> bool:
    if caller.client_id is not None:
        return bool(claims["client_id"] == caller.client_id)
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    access = claims["token_type"] in ("Bearer", dpop.TOKEN_TYPE)
    return access and caller.audience in audiences


async def introspect(req: OAuthRequest, provider: Provider) -> tuple[Caller, dict[str, Any]]:
    req.refuse_duplicates(PARAMETERS)
    caller = await authenticate_caller(req, provider)
    proof = req.headers.get("dpop")
    if proof is not None:  # RFC 9449: a proof sent here is checked like everywhere
        await dpop.verify(provider, proof, htm="POST", path="/introspect")
    value = req.require("token")
    lookups = [_access_claims, _refresh_claims]
    if req.get("token_type_hint") == "refresh_token":
        lookups.reverse()
    for lookup in lookups:
        claims = await lookup(provider, value)
        if claims is not None:
            if not _may_see(caller, claims):
                return caller, {"active": False}
            # OIDC Core §8: the sub the token's client sees (its pairwise value, if so).
            client = await provider.get_client(claims["client_id"])
            claims["sub"] = pairwise.subject(provider, client, claims["sub"])
            return caller, claims
    return caller, {"active": False}


async def as_jwt(provider: Provider, caller: Caller, body: dict[str, Any]) -> str:
    """RFC 9701 §5: the introspection response as a signed JWT."""
    now = provider.now()
    claims = {
        "iss": provider.settings.issuer,
        "aud": caller.audience or caller.client_id,
        "iat": now,
        "token_introspection": body,
    }
    ring = await provider.keyring()
    return jwt.sign(claims, ring, "RS256", now=now, typ="token-introspection+jwt")
