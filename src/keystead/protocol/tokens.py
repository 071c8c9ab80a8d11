"""Access tokens, as two strategies behind one interface.

- ``opaque``: 256-bit random reference tokens, stored only as SHA-256 (the default when no API
  is involved, i.e. tokens for UserInfo only).
- ``jwt``: RFC 9068 JWT access tokens for APIs that ask for them. Tokens of a user grant are
  recorded by the hash of their ``jti`` so revoking the grant deactivates them at
  introspection and UserInfo; client_credentials JWTs are not stored (they simply expire).

``new_access_token`` stores nothing: it returns the token with the records to store, and the
grant writes them with its one store call (the code's consumption, the refresh token's
rotation), so a token response is one write. ``issue_access_token`` also stores them, for
callers with no write of their own (client_credentials, tokens from the authorization
endpoint).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from keystead.jose import jwt
from keystead.protocol import dpop, mtls, pairwise, rar
from keystead.secrets_util import random_token, sha256_hex
from keystead.store.base import AccessToken, AccessTokenStatus, Api, Client, Grant

if TYPE_CHECKING:
    from keystead.provider import Provider

AT_JWT_TYP = "at+jwt"  # RFC 9068 §2.1


class IssuedToken(NamedTuple):
    """An access token and what the caller stores for it (nothing is stored yet). The value
    objects of a token request are named tuples: immutable, and built for a third of a
    frozen dataclass's field-by-field ``__init__``."""

    value: str
    expires_in: int
    scope: str
    record: AccessToken | None  # None: nothing to store (a client_credentials JWT)
    new_grant: Grant | None = None  # the grant row a client_credentials opaque token hangs on


class TokenRequest(NamedTuple):
    """What an access token is issued for."""

    client: Client
    sub: str
    scope: str
    api: Api | None
    grant: Grant | None  # None for client_credentials
    auth_time: int | None = None
    act: dict[str, Any] | None = None  # RFC 8693 §4.1: the actor of a delegated token
    # RFC 9396 §6: this token's authorization_details when not the grant's (narrowed at the
    # token endpoint, or a client_credentials token's own); stored with its record.
    details: tuple[dict[str, Any], ...] | None = None


class ActiveToken(NamedTuple):
    """A resolved, currently valid access token (what introspection and UserInfo see)."""

    client_id: str
    sub: str
    scope: str
    aud: tuple[str, ...]
    exp: int
    iat: int
    jti: str | None
    token_hash: str | None  # the stored record's key, when there is one
    grant_id: str | None
    claims_request: dict[str, Any]  # of the grant's claims request (OIDC Core §5.5)
    act: dict[str, Any] | None = None  # RFC 8693 §4.1 (exchanged tokens)
    jkt: str | None = None  # RFC 9449 §6: bound to this DPoP key (cnf.jkt)
    x5t_s256: str | None = None  # RFC 8705 §3: bound to this certificate (cnf.x5t#S256)
    recorded: bool = True  # a row exists (False: a grant's JWT, stored only once revoked)


def audience(provider: Provider, api: Api | None, scope: str) -> tuple[str, ...]:
    """An access token's aud: its API, plus the issuer when openid was granted (UserInfo)."""
    aud: list[str] = [api.identifier] if api else []
    if api is None or "openid" in scope.split(" "):  # the scope tokens
        aud.append(provider.settings.issuer)
    return tuple(aud)


def _lifetime(provider: Provider, api: Api | None) -> int:
    return api.access_token_ttl if api else provider.settings.access_token_ttl


def _record(
    treq: TokenRequest, grant: Grant, token_hash: str, aud: tuple[str, ...], now: int, ttl: int
) -> AccessToken:
    """The stored record of an opaque token (a JWT is not stored: see ``_issue_jwt``)."""
    return AccessToken(
        token_hash=token_hash,
        grant_id=grant.grant_id,
        client_id=treq.client.client_id,
        sub=treq.sub,
        scope=treq.scope,
        expires_at=now + ttl,
        created_at=now,
        aud=aud,
        jkt=dpop.bound_jkt(),  # RFC 9449 §6: the key the token is bound to
        x5t_s256=mtls.bound_x5t(),  # RFC 8705 §3: the certificate it is bound to
        authorization_details=treq.details,  # RFC 9396 §6 (None: the grant's)
    )


async def _issue_opaque(provider: Provider, treq: TokenRequest) -> IssuedToken:
    value = random_token()
    now, ttl = provider.now(), _lifetime(provider, treq.api)
    aud = audience(provider, treq.api, treq.scope)
    grant, new_grant = treq.grant, None
    if grant is None:  # a client_credentials opaque token still needs a grant row to hang on
        grant = new_grant = Grant(
            random_token(16), treq.client.client_id, treq.sub, treq.scope, now
        )
    record = _record(treq, grant, sha256_hex(value), aud, now, ttl)
    return IssuedToken(value, ttl, treq.scope, record, new_grant)


async def _issue_jwt(provider: Provider, treq: TokenRequest) -> IssuedToken:
    now, ttl = provider.now(), _lifetime(provider, treq.api)
    aud = audience(provider, treq.api, treq.scope)
    # A grant's JWT is not stored: its jti names the grant (random otherwise), so resolving
    # it reads the grant's state and a revocation, the only row it may ever have.
    jti = random_token(16) if treq.grant is None else f"{treq.grant.grant_id}.{random_token(16)}"
    # RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti (+ scope, auth_time).
    claims: dict[str, Any] = {
        "iss": provider.settings.issuer,
        "exp": now + ttl,
        "aud": aud[0] if len(aud) == 1 else list(aud),
        # OIDC Core §8: a user's sub as the client sees it (a client_credentials token has
        # no grant and names the client).
        "sub": treq.sub
        if treq.grant is None
        else pairwise.subject(provider, treq.client, treq.sub),
        "client_id": treq.client.client_id,
        "iat": now,
        "jti": jti,
        "scope": treq.scope,
    }
    if treq.auth_time is not None:
        claims["auth_time"] = treq.auth_time
    if treq.act is not None:
        claims["act"] = treq.act  # RFC 8693 §4.1
    if treq.details is not None:  # RFC 9396 §9.1: narrowed, or a client's own
        claims[rar.PARAMETER] = list(treq.details)
    elif treq.grant is not None and rar.PARAMETER in treq.grant.claims:
        claims[rar.PARAMETER] = treq.grant.claims[rar.PARAMETER]  # RFC 9396 §9.1
    jkt, x5t = dpop.bound_jkt(), mtls.bound_x5t()
    if jkt is not None or x5t is not None:
        claims["cnf"] = cnf(jkt, x5t)  # RFC 9449 §6.1, RFC 8705 §3.1
    ring = await provider.keyring()
    value = jwt.sign(claims, ring, provider.settings.access_token_alg, now=now, typ=AT_JWT_TYP)
    return IssuedToken(value, ttl, treq.scope, None)


Strategy = Callable[["Provider", TokenRequest], Awaitable[IssuedToken]]
TOKEN_FORMATS: dict[str, Strategy] = {"opaque": _issue_opaque, "jwt": _issue_jwt}


async def new_access_token(provider: Provider, treq: TokenRequest) -> IssuedToken:
    """A new access token in the format its API asks for, not stored: the caller stores
    ``new_grant`` and ``record`` (or calls ``issue_access_token``)."""
    token_format = treq.api.token_format if treq.api else "opaque"
    token = await TOKEN_FORMATS[token_format](provider, treq)
    provider.events.emit(
        "token.issued",
        client_id=treq.client.client_id,
        sub=treq.sub,
        aud=treq.api.identifier if treq.api else None,
        format=token_format,
    )
    return token


async def issue_access_token(provider: Provider, treq: TokenRequest) -> IssuedToken:
    """A new access token, stored at once (a client_credentials opaque token with a grant row
    of its own: two writes, as the store has no call that adds both)."""
    token = await new_access_token(provider, treq)
    if token.new_grant is not None:
        await provider.store.grants.add_grant(token.new_grant)
    if token.record is not None:
        await provider.store.grants.add_access_token(token.record)
    return token


def looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2


async def _resolve_jwt(provider: Provider, value: str) -> ActiveToken | None:
    ring = await provider.keyring()
    try:
        header, claims = jwt.verify(value, ring, algs=[provider.settings.access_token_alg])
    except jwt.JoseError:
        return None
    now = provider.now()
    if (
        header.get("typ") != AT_JWT_TYP
        or claims.get("iss") != provider.settings.issuer
        or not isinstance(claims.get("exp"), int)
        or claims["exp"] <= now
    ):
        return None
    jti = claims.get("jti")
    token_hash = sha256_hex(jti) if isinstance(jti, str) else None
    grant_id = None
    claims_request: dict[str, Any] = {}
    sub = str(claims.get("sub"))
    recorded = True
    if isinstance(jti, str) and "." in jti:  # a grant's JWT (see _issue_jwt)
        assert token_hash is not None
        grant_id = jti.rpartition(".")[0]
        state = await provider.store.grants.get_jwt_status(grant_id, token_hash)
        if state is None or state.revoked_at is not None or state.grant_revoked_at is not None:
            return None  # revoked, or its grant revoked or gone
        claims_request, sub, recorded = state.claims, state.sub, False
        if rar.PARAMETER in claims:  # RFC 9396 §9.2: this token's own (narrowed or not)
            claims_request = {**state.claims, rar.PARAMETER: claims[rar.PARAMETER]}
    elif token_hash is not None:  # issued before grant JWTs were stateless, or a client's
        status = await provider.store.grants.get_access_token_status(token_hash)
        if status is not None:
            if status.revoked_at is not None or status.grant_revoked_at is not None:
                return None
            grant_id = status.grant_id
            claims_request = _claims_of(status)
            sub = status.sub  # the local sub (the token's may be pairwise, OIDC Core §8)
        else:
            token_hash = None  # not recorded (client_credentials): valid until it expires,
            # while its client exists (a deleted client's tokens end with it; the client
            # comes from the provider's cache, as at the token endpoint)
            if await provider.get_client(str(claims.get("client_id"))) is None:
                return None
            if rar.PARAMETER in claims:  # RFC 9396 §9.2: a client_credentials token's own
                claims_request = {rar.PARAMETER: claims[rar.PARAMETER]}
    aud = claims.get("aud")
    return ActiveToken(
        client_id=str(claims.get("client_id")),
        sub=sub,
        scope=str(claims.get("scope", "")),
        aud=tuple(aud) if isinstance(aud, list) else (str(aud),),
        exp=int(claims["exp"]),
        iat=int(claims.get("iat", 0)),
        jti=jti,
        token_hash=token_hash,
        grant_id=grant_id,
        claims_request=claims_request,
        act=claims.get("act") if isinstance(claims.get("act"), dict) else None,
        jkt=_cnf_member(claims, "jkt"),
        x5t_s256=_cnf_member(claims, mtls.CNF),
        recorded=recorded,
    )


def cnf(jkt: str | None, x5t_s256: str | None) -> dict[str, str]:
    """The confirmation claim of a bound token: its DPoP key and/or its certificate."""
    members = {"jkt": jkt, mtls.CNF: x5t_s256}
    return {name: value for name, value in members.items() if value is not None}


def _cnf_member(claims: dict[str, Any], name: str) -> str | None:
    confirmation = claims.get("cnf")
    value = confirmation.get(name) if isinstance(confirmation, dict) else None
    return value if isinstance(value, str) else None


def _claims_of(status: AccessTokenStatus) -> dict[str, Any]:
    """The grant's claims request, with this token's own authorization_details (RFC 9396 §6)
    when it has them."""
    if status.authorization_details is None:
        return status.claims
    return {**status.claims, rar.PARAMETER: list(status.authorization_details)}


async def resolve_access_token(provider: Provider, value: str) -> ActiveToken | None:
    """The token if it is ours, unexpired and not revoked (nor its grant)."""
    if looks_like_jwt(value):
        return await _resolve_jwt(provider, value)
    token_hash = sha256_hex(value)
    status = await provider.store.grants.get_access_token_status(token_hash)
    if status is None:
        return None
    if (
        status.revoked_at is not None
        or status.grant_revoked_at is not None
        or status.expires_at <= provider.now()
    ):
        return None
    return ActiveToken(
        client_id=status.client_id,
        sub=status.sub,
        scope=status.scope,
        aud=status.aud or (provider.settings.issuer,),
        exp=status.expires_at,
        iat=status.created_at,
        jti=None,
        token_hash=token_hash,
        grant_id=status.grant_id,
        claims_request=_claims_of(status),
        act=exchange_act(status.claims),
        jkt=status.jkt,
        x5t_s256=status.x5t_s256,
    )


def exchange_act(grant_claims: dict[str, Any]) -> dict[str, Any] | None:
    """The ``act`` of an exchanged token's grant (protocol/grants/token_exchange.py keeps it
    next to the claims request, whose members are only userinfo and id_token)."""
    act = grant_claims.get("act")
    return act if isinstance(act, dict) else None
