"""Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3,
OIDC Core §9, RFC 7523 §2.2).

Dispatch by table: each registered ``token_endpoint_auth_method`` names one small check, and
the signing algs it accepts (discovery's ``*_auth_signing_alg_values_supported`` come from
here). A client registers exactly one method; presenting any other is ``invalid_client``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from keystead.errors import OAuthError
from keystead.jose.client_keys import ASYMMETRIC_ALGS, HMAC_ALGS
from keystead.protocol import client_assertion, mtls
from keystead.protocol.client_assertion import ASSERTION_TYPE, AssertionContext
from keystead.protocol.request import OAuthRequest
from keystead.secrets_util import matches_hash
from keystead.store.base import Client

if TYPE_CHECKING:
    from keystead.provider import Provider

_BASIC_CHALLENGE = 'Basic realm="keystead"'
PARAMETERS = ("client_id", "client_secret", "client_assertion", "client_assertion_type")


class Credentials(NamedTuple):
    """What the request presents: the method it amounts to, the client it names, and the
    secret or assertion (never logged)."""

    method: str
    client_id: str
    secret: str | None = None
    assertion: str | None = None
    cert: tuple[bytes, ...] | None = None  # RFC 8705: the client certificate chain (DER)


def _assertion(req: OAuthRequest) -> Credentials | None:
    assertion_type, assertion = req.get("client_assertion_type"), req.get("client_assertion")
    if assertion_type is None and assertion is None:
        return None
    if assertion_type != ASSERTION_TYPE or assertion is None:
        raise OAuthError(
            "client-assertion-type-unsupported",
            f"Send client_assertion_type={ASSERTION_TYPE} together with client_assertion "
            "(RFC 7523 §2.2).",
        )
    if req.basic_credentials() is not None or req.get("client_secret") is not None:
        raise OAuthError(
            "client-auth-multiple",
            "The client sent a client_assertion and a client secret; use only one method "
            "(RFC 6749 §2.3).",
        )
    method, named = client_assertion.method_of(assertion)
    # RFC 7523 §3: client_id is optional; when sent it must be the assertion's subject (the
    # claims check compares iss and sub with the client found here).
    client_id = req.get("client_id") or named
    if client_id is None:
        raise OAuthError(
            "client-assertion-malformed",
            "The client_assertion names no client: set its sub and iss to the client_id.",
        )
    return Credentials(method, client_id, assertion=assertion)


def presented(req: OAuthRequest) -> Credentials:
    """The credentials as the request presents them (without checking them)."""
    found = _assertion(req)
    if found is not None:
        return found
    basic = req.basic_credentials()
    body_secret = req.get("client_secret")
    if basic is not None:
        if body_secret is not None:
            raise OAuthError(
                "client-auth-multiple",
                "The client authenticated with both HTTP Basic and client_secret in the body; "
                "use only one method (RFC 6749 §2.3).",
            )
        body_id = req.get("client_id")
        if body_id is not None and body_id != basic[0]:
            raise OAuthError(
                "client-auth-multiple",
                "client_id in the body differs from the client_id in the Authorization header.",
            )
        return Credentials("client_secret_basic", basic[0], secret=basic[1])
    client_id = req.get("client_id")
    if client_id is None:
        raise OAuthError(
            "client-auth-missing",
            "Client authentication is required: send HTTP Basic credentials, a "
            "client_assertion, or client_id (and client_secret if the client has one) in the "
            "body.",
        )
    if body_secret is not None:
        return Credentials("client_secret_post", client_id, secret=body_secret)
    return Credentials("none", client_id)


async def _check_secret(client: Client, creds: Credentials, ctx: AssertionContext) -> None:
    if creds.secret is None or client.client_secret_hash is None:
        raise OAuthError("client-secret-invalid", "Client authentication failed.")
    if not matches_hash(creds.secret, client.client_secret_hash):
        raise OAuthError(
            "client-secret-invalid",
            "Client authentication failed: the client_secret is wrong.",
        )


async def _check_none(client: Client, creds: Credentials, ctx: AssertionContext) -> None:
    return None  # public client: identified, not authenticated; PKCE protects its codes


async def _check_secret_jwt(client: Client, creds: Credentials, ctx: AssertionContext) -> None:
    assert creds.assertion is not None  # presented() derived the method from an assertion
    await client_assertion.check_client_secret_jwt(client, creds.assertion, ctx)


async def _check_private_key_jwt(client: Client, creds: Credentials, ctx: AssertionContext) -> None:
    assert creds.assertion is not None
    await client_assertion.check_private_key_jwt(client, creds.assertion, ctx)


Check = Callable[[Client, Credentials, AssertionContext], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class AuthMethod:
    check: Check
    signing_algs: tuple[str, ...] = ()  # JWS algs of its assertions, if it uses any


CLIENT_AUTH_METHODS: dict[str, AuthMethod] = {
    "client_secret_basic": AuthMethod(_check_secret),
    "client_secret_post": AuthMethod(_check_secret),
    "client_secret_jwt": AuthMethod(_check_secret_jwt, HMAC_ALGS),
    "private_key_jwt": AuthMethod(_check_private_key_jwt, ASYMMETRIC_ALGS),
    "none": AuthMethod(_check_none),
    # RFC 8705 §2.1 (PKI) and §2.2 (self-signed): the client certificate of the request.
    mtls.TLS_CLIENT_AUTH: AuthMethod(mtls.check_tls_client_auth),
    mtls.SELF_SIGNED: AuthMethod(mtls.check_self_signed),
}


def signing_algs() -> list[str]:
    """Every alg some method accepts, for discovery (RFC 8414 §2)."""
    return list(dict.fromkeys(a for m in CLIENT_AUTH_METHODS.values() for a in m.signing_algs))


def tried_basic(req: OAuthRequest) -> bool:
    return (req.authorization or "")[:6].lower() == "basic "


def _with_challenge(req: OAuthRequest, err: OAuthError) -> None:
    """RFC 6749 §5.2: a client that tried the Authorization header gets a 401 with
    ``WWW-Authenticate`` for its scheme; one that sent a client_assertion or credentials in
    the body gets the error without a Basic challenge (it did not use Basic, and a challenge
    makes clients report it instead of the error). A request with no credentials at all is
    told the scheme it may use."""
    sent_any = req.authorization is not None or any(
        req.get(name) is not None for name in PARAMETERS
    )
    headers = {k: v for k, v in err.headers.items() if k.lower() != "www-authenticate"}
    if tried_basic(req) or not sent_any:
        headers["WWW-Authenticate"] = _BASIC_CHALLENGE
    err.headers = headers  # a new dict: the raiser's may be a shared constant


async def authenticate_client(
    req: OAuthRequest, provider: Provider, *, endpoint: str = "/token"
) -> Client:
    """The authenticated client. ``endpoint`` is the path being called: an assertion's aud
    may be the issuer, the token endpoint or that endpoint's URL."""
    try:
        return await _authenticate(req, provider, endpoint)
    except OAuthError as err:
        if err.status == 401:
            _with_challenge(req, err)
        raise


async def _authenticate(req: OAuthRequest, provider: Provider, endpoint: str) -> Client:
    creds = presented(req)
    client = await provider.get_client(creds.client_id)
    if client is None:
        raise OAuthError(
            "client-unknown",
            "Client authentication failed: unknown client_id.",
        )
    registered = client.token_endpoint_auth_method
    if creds.method == "none" and registered in mtls.METHODS:
        # RFC 8705 §2: client_id in the body, the certificate of the TLS connection.
        creds = Credentials(registered, creds.client_id, cert=req.client_cert)
    if creds.method != registered:
        raise OAuthError(
            "client-auth-method-mismatch",
            f"This client is registered for token_endpoint_auth_method={registered} but "
            f"authenticated with {creds.method}.",
        )
    method = CLIENT_AUTH_METHODS.get(registered)
    if method is None:
        raise OAuthError(
            "client-auth-method-mismatch",
            f"token_endpoint_auth_method={registered} is registered for this client but not "
            f"supported by this server; use one of {', '.join(CLIENT_AUTH_METHODS)}.",
        )
    settings = provider.settings
    audiences = (  # where an assertion's aud may point; other methods have none to check
        frozenset((settings.issuer, settings.url("/token"), settings.url(endpoint)))
        if method.signing_algs
        else frozenset()
    )
    await method.check(client, creds, AssertionContext(provider, audiences))
    return client
