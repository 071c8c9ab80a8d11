"""Mutual TLS (RFC 8705): the two client authentication methods (rows of client_auth's
table) and certificate-bound access and refresh tokens.

The client certificate reaches protocol/ as ``OAuthRequest.client_cert`` (the DER chain, leaf
first), set by web/mtls.py from the TLS connection or a trusted proxy's header; a request
without one costs nothing here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

from keystead.errors import OAuthError
from keystead.protocol import mtls_certs, mtls_chain
from keystead.protocol.client_assertion import client_keys
from keystead.protocol.mtls_certs import SUBJECT_NAMES

if TYPE_CHECKING:
    from keystead.protocol.client_assertion import AssertionContext
    from keystead.protocol.request import OAuthRequest
    from keystead.provider import Provider
    from keystead.store.base import Client

TLS_CLIENT_AUTH = "tls_client_auth"
SELF_SIGNED = "self_signed_tls_client_auth"
METHODS = (TLS_CLIENT_AUTH, SELF_SIGNED)
BOUND = "tls_client_certificate_bound_access_tokens"  # RFC 8705 §3.4 client metadata
CNF = "x5t#S256"  # RFC 8705 §3.1


class Credentials(Protocol):
    """What client_auth's Credentials carry for these methods (no import: it imports us)."""

    @property
    def method(self) -> str: ...

    @property
    def cert(self) -> tuple[bytes, ...] | None: ...


def _leaf(creds: Credentials) -> bytes:
    if not creds.cert:
        raise OAuthError(
            "mtls-certificate-missing",
            f"This client is registered for token_endpoint_auth_method={creds.method}: send "
            "the request over mutual TLS with its client certificate (RFC 8705 §2).",
        )
    return creds.cert[0]


async def check_tls_client_auth(client: Client, creds: Credentials, ctx: AssertionContext) -> None:
    """RFC 8705 §2.1: a certificate of a trusted CA naming the registered subject."""
    der = _leaf(creds)
    cert = mtls_certs.load(der)
    provider = ctx.provider
    ca_file = provider.settings.mtls_ca_file
    if ca_file is not None:  # else the TLS layer (uvicorn, the proxy) verified the chain
        mtls_chain.check_chain(creds.cert or (), ca_file, provider.now())
    else:
        mtls_certs.check_validity(cert, provider.now())
    registered = [(n, client.extra[n]) for n in SUBJECT_NAMES if client.extra.get(n)]
    if len(registered) != 1:  # §2.1.2: exactly one; registration refuses anything else
        raise OAuthError(
            "mtls-subject-mismatch",
            "This tls_client_auth client has no single registered certificate subject: "
            f"register exactly one of {', '.join(SUBJECT_NAMES)}.",
        )
    mtls_certs.check_subject(*registered[0], cert)


async def check_self_signed(client: Client, creds: Credentials, ctx: AssertionContext) -> None:
    """RFC 8705 §2.2: the certificate's public key is one of the client's registered keys
    (jwks or jwks_uri, through the client JWKS cache)."""
    cert = mtls_certs.load(_leaf(creds))
    mtls_certs.check_validity(cert, ctx.provider.now())
    wanted = mtls_certs.public_key_der(cert)
    for refresh in (False, True):  # a key not known yet: refetch jwks_uri once (rate-limited)
        keys = await client_keys(client, ctx.provider, refresh=refresh)
        if any(mtls_certs.key_der(key.public_key) == wanted for key in keys):
            return
        if "jwks_uri" not in client.extra:
            break
    raise OAuthError(
        "mtls-key-mismatch",
        "The client certificate's public key (certificate x5t#S256 "
        f"{mtls_certs.thumbprint(creds.cert[0] if creds.cert else b'')}) is not one of the "
        "keys in the client's registered jwks / jwks_uri (RFC 8705 §2.2).",
    )


# --- certificate-bound tokens (§3, §4) ---

_BOUND: ContextVar[tuple[str, bool] | None] = ContextVar("keystead_mtls_binding", default=None)


def required(client: Client) -> bool:
    """The client registered tls_client_certificate_bound_access_tokens (§3.4)."""
    return client.extra.get(BOUND) is True


def bound_x5t() -> str | None:
    """The certificate thumbprint the access token being issued is bound to, if any."""
    binding = _BOUND.get()
    return None if binding is None else binding[0]


def refresh_x5t() -> str | None:
    """§4: a public client's refresh token is bound to the certificate too."""
    binding = _BOUND.get()
    return binding[0] if binding is not None and binding[1] else None


Handler = Callable[["OAuthRequest", "Client", "Provider"], Awaitable[dict[str, Any]]]


def bound_handler(req: OAuthRequest, client: Client, handle: Handler) -> Handler:
    """``handle`` issuing tokens bound to the request's certificate (§3.1)."""
    if not req.client_cert:
        raise OAuthError(
            "mtls-certificate-missing",
            f"This client is registered with {BOUND}: request tokens over mutual TLS with "
            "its client certificate, at the mtls_endpoint_aliases of discovery (RFC 8705 §3).",
        )
    x5t = mtls_certs.thumbprint(req.client_cert[0])

    async def bound(req: OAuthRequest, client: Client, provider: Provider) -> dict[str, Any]:
        reset = _BOUND.set((x5t, client.is_public))
        try:
            return await handle(req, client, provider)
        finally:
            _BOUND.reset(reset)

    return bound


def check_refresh(x5t: str | None, req: OAuthRequest) -> None:
    """§4: a refresh token bound to a certificate is refreshed with that certificate."""
    if x5t is None:
        return
    if not req.client_cert or mtls_certs.thumbprint(req.client_cert[0]) != x5t:
        raise OAuthError(
            "mtls-refresh-bound",
            "The refresh token is bound to a client certificate (RFC 8705 §4): refresh over "
            "mutual TLS with the certificate it was issued to"
            + ("; this request has no certificate." if not req.client_cert else "."),
        )


def check_presented(x5t: str | None, req: OAuthRequest) -> str | None:
    """§3: a bound access token is accepted only with its certificate. Returns the
    description of the refusal (None: accepted), for the caller's WWW-Authenticate."""
    if x5t is None:
        return None
    if not req.client_cert:
        return (
            "The access token is bound to a client certificate (cnf.x5t#S256, RFC 8705 §3) "
            "and the request came without one: send it over mutual TLS with that certificate."
        )
    presented = mtls_certs.thumbprint(req.client_cert[0])
    if presented != x5t:
        return (
            "The access token is bound to another client certificate: its cnf.x5t#S256 is "
            f"{x5t}, the presented certificate's is {presented} (RFC 8705 §3)."
        )
    return None
