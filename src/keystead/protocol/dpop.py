"""DPoP: proof of possession of a key for tokens (RFC 9449).

A client signs a short proof JWT for each request with a key pair of its own and sends it in
the ``DPoP`` header. ``verify`` checks a proof for one request (§4.3); the token endpoint
binds what it issues to the proof's key (``cnf.jkt``, the key's RFC 7638 thumbprint) and a
protected resource refuses a bound token without a proof of that key (§7).

Requests without a ``DPoP`` header pay nothing here: the callers look at the header (one
dict lookup) before they call in. During a token request with a proof, the key to bind is
held in a context variable that the token strategies (protocol/tokens.py) and the refresh
tokens (protocol/refresh.py) read, so no grant needs a parameter of its own for it.

Nonces (§8) are stateless: a nonce is the current time window sealed with the data key
(jose/kek.py), so every instance sharing the key accepts every other's nonces.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from keystead.errors import OAuthError
from keystead.jose import proof as jws_proof
from keystead.jose.client_keys import ASYMMETRIC_ALGS, InvalidJwks, parse_jwks
from keystead.jose.jwt import JoseError
from keystead.protocol import fapi
from keystead.secrets_util import sha256_hex

if TYPE_CHECKING:
    from keystead.protocol.request import OAuthRequest
    from keystead.provider import Provider
    from keystead.store.base import Client

PROOF_TYP = "dpop+jwt"  # RFC 9449 §4.2
SIGNING_ALGS: tuple[str, ...] = ASYMMETRIC_ALGS  # asymmetric only (§4.2: no none, no MAC)
TOKEN_TYPE = "DPoP"  # §5: token_type of a bound access token
MAX_JTI = 256
MAX_PROOF = 8192  # bytes: a proof carries one public key, never more
_NONCE_AAD = b"dpop-nonce"
_PORTS = {"http": ":80", "https": ":443"}


class Proof(NamedTuple):
    jkt: str  # RFC 7638 SHA-256 thumbprint of the proof's key
    jti: str
    iat: int
    alg: str = "ES256"


class Binding(NamedTuple):
    jkt: str
    bind_refresh: bool  # §5: refresh tokens of public clients are bound to the key


_BOUND: ContextVar[Binding | None] = ContextVar("keystead_dpop_binding", default=None)


def bound_jkt() -> str | None:
    """The key the access token being issued is bound to (None: a Bearer token)."""
    binding = _BOUND.get()
    return None if binding is None else binding.jkt


def refresh_jkt() -> str | None:
    """The key a refresh token being issued is bound to (public clients only, §5)."""
    binding = _BOUND.get()
    return binding.jkt if binding is not None and binding.bind_refresh else None


def access_token_hash(value: str) -> str:
    """``ath`` (§4.2): base64url of the SHA-256 of the access token's ASCII."""
    digest = hashlib.sha256(value.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# --- nonces (§8) ---


def new_nonce(provider: Provider) -> str:
    window = provider.now() // provider.settings.dpop_nonce_ttl
    return provider.kek.encrypt(str(window).encode(), _NONCE_AAD)


def _nonce_ok(provider: Provider, nonce: Any) -> bool:
    if not isinstance(nonce, str) or len(nonce) > 200:
        return False
    try:
        window = int(provider.kek.decrypt(nonce, _NONCE_AAD))
    except ValueError:
        return False
    current = provider.now() // provider.settings.dpop_nonce_ttl
    return window in (current, current - 1)  # the last window's nonces stay good a while


# --- errors ---


def _challenge(error: str, description: str) -> str:
    # RFC 9449 §7.1: the DPoP authentication scheme, with the algs a proof may use.
    return (
        f'DPoP algs="{" ".join(SIGNING_ALGS)}", error="{error}", error_description="{description}"'
    )


def _invalid(check: str, resource: bool) -> OAuthError:
    description = f"DPoP proof: {check}."
    if resource:
        return OAuthError(
            "dpop-proof-invalid-resource",
            description,
            headers={"WWW-Authenticate": _challenge("invalid_dpop_proof", description)},
        )
    return OAuthError("dpop-proof-invalid", description)


def nonce_error(provider: Provider, resource: bool, why: str) -> OAuthError:
    # RFC 9449 §8 (token endpoint) and §9 (resource): use_dpop_nonce with a fresh nonce.
    description = f"DPoP proof: {why}; sign it again with the nonce of the DPoP-Nonce header."
    headers = {"DPoP-Nonce": new_nonce(provider)}
    if resource:
        headers["WWW-Authenticate"] = _challenge("use_dpop_nonce", description)
        return OAuthError("dpop-nonce-required-resource", description, headers=headers)
    return OAuthError("dpop-nonce-required", description, headers=headers)


def token_bound_error(description: str) -> OAuthError:
    return OAuthError(
        "dpop-token-bound",
        description,
        headers={"WWW-Authenticate": _challenge("invalid_token", description)},
    )


# --- the proof (§4.3) ---


def _normalized(url: str) -> tuple[str, str, str] | None:
    """(scheme, authority, path) of ``url``, without query and fragment (§4.3 check 9),
    scheme and host lower-cased and a default port dropped (RFC 3986 §6.2.2, §6.2.3)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme, netloc = parts.scheme.lower(), parts.netloc.lower()
    default = _PORTS.get(scheme)
    if default and netloc.endswith(default):
        netloc = netloc[: -len(default)]
    return scheme, netloc, parts.path or "/"


def _signed(value: str, resource: bool) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The proof's header and claims once its form, typ, alg, jwk and signature are good;
    and the key's thumbprint."""
    # RFC 9449 §4.3 check 1: exactly one DPoP header (several arrive joined by commas).
    if "," in value:
        raise _invalid("more than one DPoP header was sent", resource)
    if len(value) > MAX_PROOF:
        raise _invalid(f"the proof is longer than {MAX_PROOF} characters", resource)
    # Check 2: a well-formed JWT.
    try:
        header, claims = jws_proof.peek(value.strip())
    except (JoseError, RecursionError):
        raise _invalid("not a well-formed JWT", resource) from None
    # Check 4: typ is dpop+jwt.
    if header.get("typ") != PROOF_TYP:
        raise _invalid(f"typ must be {PROOF_TYP}", resource)
    # Check 5: an asymmetric alg we support (never none, never a MAC).
    alg = header.get("alg")
    if alg not in SIGNING_ALGS:
        algs = ", ".join(SIGNING_ALGS)
        raise _invalid(f"alg {alg!r} is not accepted; use one of {algs}", resource)
    # Check 7: jwk is a public key (no private parts).
    jwk = header.get("jwk")
    if not isinstance(jwk, Mapping):
        raise _invalid("the header has no jwk (the public key that signed the proof)", resource)
    try:
        keys = parse_jwks({"keys": [jwk]}, strict=True)
    except InvalidJwks as exc:
        raise _invalid(str(exc).replace("jwks key 0", "jwk").rstrip("."), resource) from None
    # Check 6: the signature verifies with that key.
    try:
        key = keys[0]
        if key.get("alg") not in (None, alg):
            raise JoseError("the jwk's alg is not the header's")
        jws_proof.verify(value.strip(), key, alg)
    except JoseError:
        raise _invalid("the signature does not verify with the header's jwk", resource) from None
    return header, claims, keys[0].thumbprint()


async def verify(
    provider: Provider,
    value: str,
    *,
    htm: str,
    path: str,
    access_token: str | None = None,
    resource: bool = False,
) -> Proof:
    """Check the proof ``value`` for a request of method ``htm`` to the endpoint at ``path``
    under the issuer (RFC 9449 §4.3); at a protected resource (``resource``) with the access
    token it comes with. Its jti is then remembered, across instances, while its iat is
    acceptable: a second use is refused."""
    header, claims, jkt = _signed(value, resource)
    # Check 3: the required claims, of the right types.
    jti, iat = claims.get("jti"), claims.get("iat")
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI:
        raise _invalid(f"jti must be a unique string of 1 to {MAX_JTI} characters", resource)
    if not isinstance(iat, int | float) or isinstance(iat, bool) or not 0 < iat < 1e11:
        raise _invalid("iat must be a number (seconds since the epoch)", resource)
    iat = int(iat)  # RFC 7519 NumericDate: fractions allowed, whole seconds suffice
    # Check 8: htm is the request's method.
    if claims.get("htm") != htm:
        raise _invalid(f"htm must be {htm}, the method of this request", resource)
    # Check 9: htu is this endpoint's URL, ignoring query and fragment. Built from the
    # issuer, never from the Host header.
    expected = provider.settings.url(path)
    htu = claims.get("htu")
    if not isinstance(htu, str) or _normalized(htu) != _normalized(expected):
        raise _invalid(f"htu must be {expected}, the URL of this endpoint", resource)
    # Check 10: the server-provided nonce, when required.
    if provider.settings.dpop_require_nonce:
        nonce = claims.get("nonce")
        if nonce is None:
            raise nonce_error(provider, resource, "a nonce is required")
        if not _nonce_ok(provider, nonce):
            raise nonce_error(provider, resource, "the nonce is unknown or outdated")
    # Check 11: created recently (iat within the window, either way for clock skew).
    now, window = provider.now(), provider.settings.dpop_proof_max_age
    if abs(now - iat) > window:
        raise _invalid(f"iat is not within {window} seconds of the server's time", resource)
    # Check 12 (resource access, §7): ath hashes the access token sent with the proof.
    if access_token is not None:
        ath = claims.get("ath")
        if ath is None:
            raise _invalid("ath (the access token's hash) is missing", resource)
        if ath != access_token_hash(access_token):
            raise _invalid("ath does not match the access token", resource)
    # §11.1: a jti is used once, for as long as the proof's iat is acceptable.
    key = "dpop:" + sha256_hex(f"{jkt}\x00{jti}")
    if not await provider.store.markers.add(key, iat + window + 1, now):
        provider.events.emit("dpop.replayed", jkt=jkt)
        raise _invalid("its jti was already used; sign a new proof for every request", resource)
    return Proof(jkt, jti, iat, str(header["alg"]))


def check_client_alg(client: Client, proof: Proof) -> None:
    """A FAPI 2.0 client's proofs are signed with the profile's algs, like its other JWTs."""
    if fapi.is_fapi2(client) and proof.alg not in fapi.SIGNING_ALGS:
        raise _invalid(
            f"alg {proof.alg} is not allowed for a FAPI 2.0 client (FAPI 2.0 Security Profile "
            f"§5.4.1: {', '.join(fapi.SIGNING_ALGS)} only); sign the proof with one of them",
            False,
        )


# --- the token endpoint (§5) ---


def required(client: Client) -> bool:
    """The client registered ``dpop_bound_access_tokens`` (§5.2): no token without a proof."""
    return client.extra.get("dpop_bound_access_tokens") is True


Handler = Callable[["OAuthRequest", "Client", "Provider"], Awaitable[dict[str, Any]]]


async def token_request(
    req: OAuthRequest, client: Client, provider: Provider, handle: Handler
) -> dict[str, Any]:
    """Run the grant ``handle`` with the proof of ``req``: what it issues is bound to the
    proof's key and the response says ``token_type: DPoP`` (§5)."""
    value = req.headers.get("dpop")
    if value is None:
        raise OAuthError(
            "dpop-required",
            "This client is registered with dpop_bound_access_tokens: send a DPoP proof "
            "(RFC 9449 §5.2)"
            + (
                "; FAPI 2.0 Security Profile §5.3.2.1: sender-constrained tokens only."
                if fapi.is_fapi2(client)
                else "."
            ),
        )
    proof = await verify(provider, value, htm="POST", path="/token")
    check_client_alg(client, proof)
    reset = _BOUND.set(Binding(proof.jkt, client.is_public))
    try:
        result = await handle(req, client, provider)
    finally:
        _BOUND.reset(reset)
    if "access_token" in result:
        result["token_type"] = TOKEN_TYPE
    provider.events.emit("dpop.bound", client_id=client.client_id, jkt=proof.jkt)
    return result


def check_bound(jkt: str | None, what: str) -> None:
    """A code (dpop_jkt, §10) or refresh token (§5) bound to a key: the request's proof must
    be of that key."""
    if jkt is None:
        return
    current = bound_jkt()
    if current is None:
        raise OAuthError(
            "dpop-required", f"The {what} is bound to a DPoP key: send a DPoP proof of that key."
        )
    if current != jkt:
        raise OAuthError(
            "dpop-key-mismatch", f"The {what} is bound to another DPoP key than the proof's."
        )


def code_jkt(params: Mapping[str, str]) -> str | None:
    """``dpop_jkt`` of an authorization request (§10): the thumbprint to bind the code to."""
    value = params.get("dpop_jkt")
    return value or None


# --- protected resources (§7) ---


def scheme_of(authorization: str | None) -> str | None:
    """The access token of an ``Authorization: DPoP <token>`` header, else None."""
    if authorization is None or authorization[:5].lower() != "dpop ":
        return None
    return authorization[5:].strip() or None


async def resource_proof(
    req: OAuthRequest, provider: Provider, access_token: str, path: str
) -> str:
    """The key of the proof that came with ``Authorization: DPoP`` (§7.1)."""
    value = req.headers.get("dpop")
    if value is None:
        raise _invalid("the DPoP header is missing (required with Authorization: DPoP)", True)
    proof = await verify(
        provider, value, htm=req.method, path=path, access_token=access_token, resource=True
    )
    return proof.jkt


def check_presented(token_jkt: str | None, proof_jkt: str | None) -> None:
    """§7.1/§7.2: a bound token needs a proof of its key; the DPoP scheme needs a bound token."""
    if token_jkt is None:
        if proof_jkt is not None:
            raise token_bound_error(
                "The access token is not DPoP-bound; send it with Authorization: Bearer."
            )
        return
    if proof_jkt is None:
        raise token_bound_error(
            "The access token is DPoP-bound: send Authorization: DPoP <token> with a proof, "
            "not Bearer."
        )
    if proof_jkt != token_jkt:
        raise token_bound_error("The DPoP proof is signed with another key than the token's.")
