"""Verify keystead access tokens in an API (a resource server).

JWT access tokens (RFC 9068) are checked locally against the issuer's JWKS (cached; fetched
again on an unknown kid, at most every ``jwks_min_refresh`` seconds). Opaque tokens are
introspected (RFC 7662) with the API's own credentials; results are cached for at most
``introspection_cache_ttl`` seconds (30 by default) so a revocation takes effect quickly.
Failures are RFC 6750 errors with the ``WWW-Authenticate`` value to send.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jws
from joserfc import jwt as jose_jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from keystead.rs import mtls
from keystead.rs.dpop import ProofChecker, ProofError

ALGORITHMS = ["ES256", "RS256", "PS256", "EdDSA"]


class TokenError(Exception):
    """An RFC 6750 §3.1 error: ``status`` and ``www_authenticate`` say how to answer."""

    def __init__(
        self,
        error: str,
        description: str,
        status: int = 401,
        scope: str | None = None,
        *,
        scheme: str = "Bearer",
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description.replace('"', "'")
        self.status = status
        self.scope = scope
        self.scheme = scheme  # "DPoP" for a request that used (or needs) DPoP (RFC 9449 §7.1)

    def www_authenticate(self, realm: str = "api") -> str:
        value = f'{self.scheme} realm="{realm}"'
        if self.error != "missing_token":
            value += f', error="{self.error}", error_description="{self.description}"'
        if self.scope:
            value += f', scope="{self.scope}"'
        return value


@dataclass(frozen=True)
class AccessTokenInfo:
    sub: str
    client_id: str
    scopes: frozenset[str]
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Cached:
    value: Any
    until: float


class Verifier:
    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        api_id: str | None = None,
        api_secret: str | None = None,
        http: httpx.AsyncClient | None = None,
        introspection_cache_ttl: float = 30.0,
        jwks_min_refresh: float = 30.0,
        leeway: int = 30,
        clock: Callable[[], float] = time.time,
        dpop_max_age: int = 300,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self._credentials = (api_id, api_secret) if api_id and api_secret else None
        # Bounded timeouts: a slow issuer must not hang the API.
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(5.0))
        self._introspection_ttl = introspection_cache_ttl
        self._jwks_min_refresh = jwks_min_refresh
        self._leeway = leeway
        self._clock = clock
        self._metadata: _Cached | None = None
        self._jwks: KeySet | None = None
        self._jwks_fetched_at = float("-inf")
        self._introspected: dict[str, _Cached] = {}
        self.proofs = ProofChecker(max_age=dpop_max_age, clock=clock)

    async def verify(
        self,
        token: str | None,
        required: Iterable[str] = (),
        *,
        client_cert: bytes | str | None = None,
        cert_thumbprint: str | None = None,
    ) -> AccessTokenInfo:
        """A Bearer token: refused if it is bound to a DPoP key (RFC 9449 §7.2), or to a
        client certificate other than the request's (RFC 8705 §3: ``client_cert`` as DER or
        PEM, or its ``cert_thumbprint``)."""
        if not token:
            raise TokenError("missing_token", "No access token.", 401)
        info = await self._token(token)
        if jkt_of(info) is not None:
            raise TokenError(
                "invalid_token",
                "The token is DPoP-bound: send Authorization: DPoP <token> with a proof.",
                scheme="DPoP",
            )
        self._check_cert(info, client_cert, cert_thumbprint)
        return self._scoped(info, required)

    @staticmethod
    def _check_cert(
        info: AccessTokenInfo, client_cert: bytes | str | None, cert_thumbprint: str | None
    ) -> None:
        refused = mtls.mismatch(mtls.x5t_of(info.claims), client_cert, cert_thumbprint)
        if refused is not None:
            raise TokenError("invalid_token", refused)

    async def verify_request(
        self,
        authorization: str | None,
        dpop: str | None,
        method: str,
        url: str,
        required: Iterable[str] = (),
        *,
        client_cert: bytes | str | None = None,
        cert_thumbprint: str | None = None,
    ) -> AccessTokenInfo:
        """A request's token by its ``Authorization`` header: Bearer, or DPoP with the
        request's ``DPoP`` proof (RFC 9449 §7.1: htm, htu, ath, and the token's cnf.jkt);
        a certificate-bound token also needs the request's client certificate (RFC 8705)."""
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() != "dpop":
            token = value.strip() or None if scheme.lower() == "bearer" else None
            return await self.verify(
                token, required, client_cert=client_cert, cert_thumbprint=cert_thumbprint
            )
        token = value.strip()
        if not token:
            raise TokenError("missing_token", "No access token.", 401, scheme="DPoP")
        try:
            proof_jkt = self.proofs.check(dpop, method, url, token)
        except ProofError as exc:
            raise TokenError("invalid_dpop_proof", f"DPoP proof: {exc}.", scheme="DPoP") from None
        info = await self._token(token)
        jkt = jkt_of(info)
        if jkt is None:
            raise TokenError(
                "invalid_token", "The token is not DPoP-bound; send it as Bearer.", scheme="DPoP"
            )
        if jkt != proof_jkt:
            raise TokenError(
                "invalid_token", "The DPoP proof is signed with another key.", scheme="DPoP"
            )
        self._check_cert(info, client_cert, cert_thumbprint)
        return self._scoped(info, required)

    async def _token(self, token: str) -> AccessTokenInfo:
        if token.count(".") == 2:
            return await self._verify_jwt(token)
        return await self._introspect(token)

    def _scoped(self, info: AccessTokenInfo, required: Iterable[str]) -> AccessTokenInfo:
        missing = sorted(set(required) - info.scopes)
        if missing:
            raise TokenError(
                "insufficient_scope",
                f"The token lacks scope {' '.join(missing)}.",
                403,
                scope=" ".join(sorted(set(required))),
            )
        return info

    async def _meta(self) -> dict[str, Any]:
        now = self._clock()
        if self._metadata is None or self._metadata.until <= now:
            url = self.issuer + "/.well-known/openid-configuration"
            response = await self._http.get(url)
            response.raise_for_status()
            self._metadata = _Cached(response.json(), now + 3600)
        value: dict[str, Any] = self._metadata.value
        return value

    async def _keyset(self, kid: str | None) -> KeySet:
        known = self._jwks is not None and any(
            key.kid == kid
            for key in self._jwks.keys  # noqa: SIM118
        )
        now = self._clock()
        if not known and now - self._jwks_fetched_at >= self._jwks_min_refresh:
            response = await self._http.get((await self._meta())["jwks_uri"])
            response.raise_for_status()
            self._jwks = KeySet.import_key_set(response.json())
            self._jwks_fetched_at = now
        if self._jwks is None:
            raise TokenError("invalid_token", "The issuer's keys are not available.")
        return self._jwks

    async def _verify_jwt(self, token: str) -> AccessTokenInfo:
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError) as exc:
            raise TokenError("invalid_token", "The token is not a well-formed JWT.") from exc
        # RFC 9068 §4: reject anything that is not explicitly an access token JWT.
        if str(header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
            raise TokenError("invalid_token", "The JWT is not an access token (typ at+jwt).")
        keys = await self._keyset(header.get("kid"))
        try:
            decoded = jose_jwt.decode(token, keys, algorithms=ALGORITHMS)
        except (JoseError, ValueError) as exc:
            raise TokenError("invalid_token", "The token signature is invalid.") from exc
        claims = decoded.claims
        now = self._clock()
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if claims.get("iss") != self.issuer:
            raise TokenError("invalid_token", "The token is from another issuer.")
        if self.audience not in audiences:
            raise TokenError("invalid_token", "The token is not for this API (aud).")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp + self._leeway <= now:
            raise TokenError("invalid_token", "The token has expired.")
        nbf = claims.get("nbf")
        if isinstance(nbf, int | float) and nbf - self._leeway > now:
            raise TokenError("invalid_token", "The token is not valid yet.")
        return _info(claims)

    async def _introspect(self, token: str) -> AccessTokenInfo:
        if self._credentials is None:
            raise TokenError(
                "invalid_token", "Opaque token, but this API has no introspection credentials."
            )
        key = hashlib.sha256(token.encode()).hexdigest()
        now = self._clock()
        cached = self._introspected.get(key)
        if cached is None or cached.until <= now:
            endpoint = (await self._meta())["introspection_endpoint"]
            response = await self._http.post(
                endpoint,
                data={"token": token, "token_type_hint": "access_token"},
                auth=self._credentials,
            )
            response.raise_for_status()
            body = response.json()
            until = now + self._introspection_ttl
            if body.get("active") and isinstance(body.get("exp"), int):
                until = min(until, body["exp"])
            if len(self._introspected) > 10_000:
                self._introspected.clear()
            self._introspected[key] = cached = _Cached(body, until)
        body = cached.value
        if not body.get("active"):
            raise TokenError("invalid_token", "The token is not active.")
        aud = body.get("aud")
        if self.audience not in (aud if isinstance(aud, list) else [aud]):
            raise TokenError("invalid_token", "The token is not for this API (aud).")
        return _info(body)


def jkt_of(info: AccessTokenInfo) -> str | None:
    """The DPoP key thumbprint a token is bound to (cnf.jkt, RFC 9449 §6), if any."""
    cnf = info.claims.get("cnf")
    jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
    return jkt if isinstance(jkt, str) else None


def _info(claims: dict[str, Any]) -> AccessTokenInfo:
    return AccessTokenInfo(
        sub=str(claims.get("sub", "")),
        client_id=str(claims.get("client_id", "")),
        scopes=frozenset(str(claims.get("scope", "")).split()),
        claims=dict(claims),
    )
