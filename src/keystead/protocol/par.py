"""Pushed Authorization Requests (RFC 9126).

The client authenticates as at the token endpoint and pushes the parameters of an
authorization request (or a request object, RFC 9101); they are validated by the same ordered
checks as at the authorization endpoint — errors come back as JSON (RFC 9126 §2.3), never as
a redirect — and kept under the hash of a fresh ``request_uri``, bound to the client, for
``expires_in`` seconds, to be used once at /authorize.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.protocol import fapi, jar, par_dpop
from keystead.protocol.authorize import validate
from keystead.protocol.client_auth import authenticate_client
from keystead.protocol.request import OAuthRequest, from_pairs
from keystead.secrets_util import random_token, sha256_hex
from keystead.store.pushed_requests import PushedRequest

if TYPE_CHECKING:
    from keystead.provider import Provider

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"  # RFC 9126 §2.2
PATH = "/par"
REQUIRE = "require_pushed_authorization_requests"  # client metadata, RFC 9126 §6


async def push(req: OAuthRequest, provider: Provider) -> dict[str, Any]:
    """The /par answer: ``{"request_uri", "expires_in"}`` (RFC 9126 §2.2)."""
    client = await authenticate_client(req, provider, endpoint=PATH)
    # RFC 9126 §2.1: request_uri must not be pushed.
    if req.get("request_uri") is not None:
        raise OAuthError(
            "par-request-uri-at-par",
            "request_uri cannot be sent to the pushed authorization request endpoint "
            "(RFC 9126 §2.1); push the parameters or a request object instead.",
        )
    sent = req.get("client_id")
    if sent is not None and sent != client.client_id:
        raise OAuthError(
            "par-client-mismatch",
            f"client_id {sent} is not the authenticated client {client.client_id}.",
        )
    request = req.get("request")
    if request is not None:
        effective = await jar.from_object(req, client, request, provider)
    else:
        given = req.pairs or tuple(req.params.items())
        pairs = [(k, v) for k, v in given if not k.startswith("client_assertion")]
        pairs = [(k, v) for k, v in pairs if k not in ("client_id", "client_secret")]
        effective = from_pairs(req.method, [("client_id", client.client_id), *pairs])
    effective = await par_dpop.bind(req, effective, provider, client)  # RFC 9449 §10.1
    try:
        await validate(effective, provider)
    except OAuthError as err:
        err.redirect = None  # RFC 9126 §2.3: the error is the /par response, as JSON
        raise
    request_uri = REQUEST_URI_PREFIX + random_token(32)
    now = provider.now()
    ttl = fapi.par_ttl(client, provider.settings.par_ttl)  # FAPI 2.0 §5.3.2.2: < 600 s
    if request is not None:  # no longer than the pushed request object is valid
        ttl = max(1, min(ttl, jar.expires_in(request, now) or ttl))
    await provider.store.pushed_requests.add(
        PushedRequest(
            sha256_hex(request_uri),
            client.client_id,
            {"pairs": [list(p) for p in effective.pairs]},
            now,
            now + ttl,
        )
    )
    provider.events.emit("par.pushed", client_id=client.client_id)
    return {"request_uri": request_uri, "expires_in": ttl}


async def take(req: OAuthRequest, client_id: str, provider: Provider) -> OAuthRequest:
    """The pushed request named by ``request_uri``, used up (single use, RFC 9126 §4)."""
    request_uri = req.get("request_uri") or ""
    key = sha256_hex(request_uri)
    store = provider.store.pushed_requests
    now = provider.now()
    found = await store.get(key)
    if found is None:
        raise OAuthError(
            "par-request-uri-unknown",
            "request_uri names no pushed request here (never issued, or purged); push the "
            "request to /par again.",
        )
    # RFC 9126 §4: the request_uri is bound to the client that pushed it.
    if found.client_id != client_id:
        provider.events.emit("par.wrong_client", client_id=client_id)
        raise OAuthError(
            "par-request-uri-client",
            f"request_uri was pushed by another client, not by {client_id}.",
        )
    if found.used_at is not None:
        provider.events.emit("par.reused", client_id=client_id)
        raise OAuthError(
            "par-request-uri-used",
            "request_uri was already used: a pushed request is single use (RFC 9126 §2.2); "
            "push a new one for every authorization.",
        )
    if found.expires_at <= now:
        raise OAuthError(
            "par-request-uri-expired",
            f"request_uri expired {now - found.expires_at} s ago (expires_in was "
            f"{found.expires_at - found.created_at} s); push the request again.",
        )
    taken = await store.take(key, now)  # atomic: one caller only, even across processes
    if taken is None:
        provider.events.emit("par.reused", client_id=client_id)
        raise OAuthError(
            "par-request-uri-used",
            "request_uri was already used by a concurrent request (RFC 9126 §2.2).",
        )
    pairs = [(str(k), str(v)) for k, v in taken.params.get("pairs", [])]
    return from_pairs(
        req.method,
        pairs,
        authorization=req.authorization,
        remote_addr=req.remote_addr,
        headers=req.headers,
    )
