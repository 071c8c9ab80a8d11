"""Which browser origins may call the token, UserInfo and revocation endpoints (CORS).

A client's origins are those of its http(s) redirect URIs plus its explicit
``allowed_origins`` (kept in ``Client.extra``). web/cors.py answers preflights for the union
of every client's origins (a preflight carries no client_id); the real request is checked
here against its own client's origins, before any side effect: a refused token request does
not burn the code (OAuth 2.0 for Browser-Based Applications §6.3.2, RFC 9700 §2.1).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn, Protocol
from urllib.parse import urlsplit

from keystead.config import Settings
from keystead.errors import OAuthError
from keystead.events import Events
from keystead.protocol.redirect_uris import is_loopback
from keystead.protocol.request import OAuthRequest
from keystead.store.base import Client


class OriginContext(Protocol):
    """What the checks below need of the Provider, which satisfies it. provider.py caches
    ``union_of`` and so imports this module: naming only these three members keeps the
    import one way (no provider.py <-> protocol/origins.py cycle, even for type checking)."""

    settings: Settings
    events: Events

    async def get_client(self, client_id: str) -> Client | None: ...


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(uri: str) -> str | None:
    """The ASCII serialization of a URI's origin (scheme://host[:port], lowercase, default
    port omitted) as browsers send it in ``Origin``; None for non-http(s) URIs."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def parse_origin(value: str) -> str:
    """Validate an explicit ``allowed_origins`` entry; ValueError says what to change."""
    parts = urlsplit(value)
    origin = origin_of(value)
    if origin is None or parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError(
            f"allowed origin {value} must be scheme://host[:port], e.g. https://app.example.com."
        )
    if parts.path not in ("", "/"):
        raise ValueError(f"allowed origin {value} must not have a path; use {origin}.")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(
            f"allowed origin {value} uses http on a non-loopback host; use https (http is only "
            "allowed on 127.0.0.1, [::1] and localhost for development)."
        )
    return origin


def client_origins(client: Client) -> frozenset[str]:
    derived = (origin_of(uri) for uri in client.redirect_uris)
    explicit = client.extra.get("allowed_origins") or ()
    return frozenset(o for o in (*derived, *explicit) if o)


def union_of(clients: Iterable[Client]) -> frozenset[str]:
    return frozenset(o for client in clients for o in client_origins(client))


def _cross_origin(req: OAuthRequest, provider: OriginContext) -> str | None:
    """The request's Origin, unless it is not a CORS request (no browser, or same origin)."""
    origin = req.headers.get("origin")
    if not origin or origin == origin_of(provider.settings.issuer):
        return None
    return origin


def check_origin(req: OAuthRequest, client: Client, provider: OriginContext) -> None:
    """Refuse a browser request from an origin that is not one of this client's."""
    origin = _cross_origin(req, provider)
    if origin is not None and origin not in client_origins(client):
        _refuse(origin, client.client_id, provider)


async def check_origin_of(req: OAuthRequest, client_id: str, provider: OriginContext) -> None:
    """The same, for a client known only by id (UserInfo: the access token's client)."""
    origin = _cross_origin(req, provider)
    if origin is None:
        return
    client = await provider.get_client(client_id)
    if client is None or origin not in client_origins(client):
        _refuse(origin, client_id, provider)


def _refuse(origin: str, client_id: str, provider: OriginContext) -> NoReturn:
    reason = (
        f"Origin {origin[:200]} is not the origin of any of client {client_id}'s "
        "redirect URIs, nor one of its allowed_origins."
    )
    provider.events.emit(
        "cors.origin_refused", origin=origin[:200], client_id=client_id, reason=reason
    )
    raise OAuthError(
        "origin-not-allowed",
        reason + " Register it with `keystead client create --allowed-origin ...`, or call "
        "from the origin the client redirects to.",
    )
