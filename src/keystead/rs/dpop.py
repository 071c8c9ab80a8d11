"""DPoP proofs at a resource server (RFC 9449 §7): the checks of §4.3 for a request that
presents a DPoP-bound access token, with the API's own in-memory ``jti`` replay cache.

Self-contained (joserfc only), like the rest of ``keystead.rs``: an API imports it without
keystead's server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey

PROOF_ALGORITHMS = ("ES256", "RS256", "PS256", "EdDSA")
_PRIVATE = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_PORTS = {"http": ":80", "https": ":443"}
_KEY_TYPES: dict[str, Any] = {"EC": ECKey, "RSA": RSAKey, "OKP": OKPKey}


class ProofError(Exception):
    """A proof that fails a check; the message names the check."""


def access_token_hash(value: str) -> str:
    """``ath`` (RFC 9449 §4.2): base64url(SHA-256(access token))."""
    digest = hashlib.sha256(value.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _normalized(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    scheme, netloc = parts.scheme.lower(), parts.netloc.lower()
    default = _PORTS.get(scheme)
    if default and netloc.endswith(default):
        netloc = netloc[: -len(default)]
    return scheme, netloc, parts.path or "/"


def _registry(*algs: str) -> jws.JWSRegistry:
    registry = jws.JWSRegistry(algorithms=list(algs))
    registry.max_header_length = 4096  # the header carries the public key (RSA: ~700 bytes)
    return registry


class ProofChecker:
    """Checks proofs; remembers each key's jti while its iat is acceptable (§11.1)."""

    def __init__(
        self,
        *,
        max_age: int = 300,
        clock: Callable[[], float] = time.time,
        algorithms: tuple[str, ...] = PROOF_ALGORITHMS,
        max_cache: int = 100_000,
    ) -> None:
        self.max_age = max_age
        self.algorithms = algorithms
        self._clock = clock
        self._seen: dict[str, float] = {}
        self._max_cache = max_cache

    def check(self, proof: str | None, method: str, url: str, access_token: str) -> str:
        """The RFC 7638 thumbprint of the key that signed ``proof`` for this request."""
        if not proof:
            raise ProofError("the DPoP header is missing")
        if "," in proof:  # several DPoP headers, joined
            raise ProofError("more than one DPoP header was sent")
        header, claims, key = self._signed(proof.strip())
        jti, iat = claims.get("jti"), claims.get("iat")
        if not isinstance(jti, str) or not 0 < len(jti) <= 256:
            raise ProofError("jti must be a unique string")
        if not isinstance(iat, int | float) or isinstance(iat, bool) or not 0 < iat < 1e11:
            raise ProofError("iat must be a number")
        if claims.get("htm") != method:
            raise ProofError(f"htm must be {method}")
        htu = claims.get("htu")
        if not isinstance(htu, str) or _normalized(htu) != _normalized(url):
            raise ProofError("htu must be the URL of this request")
        now = self._clock()
        if abs(now - iat) > self.max_age:
            raise ProofError(f"iat is not within {self.max_age} seconds of the server's time")
        ath = claims.get("ath")
        if ath is None:
            raise ProofError("ath (the access token's hash) is missing")
        if ath != access_token_hash(access_token):
            raise ProofError("ath does not match the access token")
        jkt = key.thumbprint()
        self._remember(f"{jkt}\x00{jti}", iat + self.max_age, now)
        return jkt

    def _signed(self, proof: str) -> tuple[dict[str, Any], dict[str, Any], Any]:
        try:
            obj = jws.extract_compact(proof.encode("ascii"), registry=_registry(*PROOF_ALGORITHMS))
            header = dict(obj.headers())
        except (JoseError, ValueError, UnicodeError) as exc:
            raise ProofError("not a well-formed JWT") from exc
        if header.get("typ") != "dpop+jwt":
            raise ProofError("typ must be dpop+jwt")
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise ProofError(f"alg {alg!r} is not accepted")
        jwk = header.get("jwk")
        if not isinstance(jwk, dict) or any(member in jwk for member in _PRIVATE):
            raise ProofError("jwk must be a public key")
        key_type = _KEY_TYPES.get(str(jwk.get("kty")))
        if key_type is None:
            raise ProofError("jwk must be an EC, RSA or OKP public key")
        try:
            key = key_type.import_key(jwk)
            registry = _registry(alg)
            obj = jws.extract_compact(proof.encode("ascii"), registry=registry)
            if not jws.validate_compact(obj, key, registry=registry):
                raise ProofError("the signature does not verify with the header's jwk")
            claims = json.loads(obj.payload)
        except (JoseError, ValueError, TypeError) as exc:
            raise ProofError("the signature does not verify with the header's jwk") from exc
        if not isinstance(claims, dict):
            raise ProofError("the payload is not a JSON object")
        return header, claims, key

    def _remember(self, key: str, until: float, now: float) -> None:
        if key in self._seen and self._seen[key] > now:
            raise ProofError("its jti was already used")
        if len(self._seen) >= self._max_cache:
            self._seen = {k: v for k, v in self._seen.items() if v > now}
            if len(self._seen) >= self._max_cache:
                raise ProofError("too many proofs to remember; try again shortly")
        self._seen[key] = until
