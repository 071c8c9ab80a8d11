"""The browser's trip to an upstream provider and back (issue 22): what keystead must find
again at ``/federation/{name}/callback`` — the ``state`` and ``nonce`` it sent, the PKCE
``code_verifier``, and what the trip is for (the authorization request to resume, or the
signed-in user linking another sign-in from the account page).

It travels in one cookie, encrypted and authenticated under the key-encryption key (the
verifier must stay secret), valid ``TRIP_TTL`` seconds, ``keystead_upstream``
(``__Host-keystead_upstream`` under https): a name no upstream on the same host uses.
``state`` is compared in constant time (OIDC Core §3.1.2.7 / RFC 6749 §10.12 CSRF).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from starlette.responses import RedirectResponse, Response

from keystead.accounts import federated
from keystead.errors import OAuthError
from keystead.federation import RequestValues
from keystead.protocol.authorization_request import AuthorizationRequest
from keystead.secrets_util import same_text
from keystead.services.connections import redirect_uri
from keystead.store.connections import Connection

if TYPE_CHECKING:
    from keystead.provider import Provider

TRIP_TTL = 600  # seconds to sign in upstream and come back
_AAD = b"keystead-upstream-trip"


@dataclass(frozen=True, slots=True)
class Trip:
    connection_id: str
    name: str
    state: str
    nonce: str
    code_verifier: str
    expires_at: int
    interaction: str | None = None  # the signed interaction to resume (a sign-in)
    link_sub: str | None = None  # linking from the account page: whose account


def cookie_name(provider: Provider) -> str:
    return "__Host-keystead_upstream" if provider.settings.secure_cookies else "keystead_upstream"


def _seal(provider: Provider, trip: Trip) -> str:
    return provider.kek.encrypt(json.dumps(asdict(trip)).encode(), _AAD)


def read(provider: Provider, value: str | None, name: str, state: str) -> Trip:
    """The trip of this browser to the connection ``name``, if ``state`` is the one sent."""
    trip = None
    if value:
        try:
            trip = Trip(**json.loads(provider.kek.decrypt(value, _AAD)))
        except (ValueError, TypeError):  # tampered, another key, another shape
            trip = None
    if trip is None or trip.expires_at <= provider.now():
        raise OAuthError(
            "upstream-trip-missing",
            "No sign-in with an upstream provider was started in this browser, or it took "
            f"longer than {TRIP_TTL} seconds (the keystead_upstream cookie is missing or "
            "expired).",
        )
    if trip.name != name or not same_text(state, trip.state):
        raise OAuthError(
            "upstream-state-mismatch",
            "The state the upstream provider returned is not the one keystead sent from this "
            "browser: a sign-in started elsewhere (or a forged response) is refused.",
        )
    return trip


def clear(response: Response, provider: Provider) -> Response:
    response.delete_cookie(
        cookie_name(provider), path="/", secure=provider.settings.secure_cookies, httponly=True
    )
    return response


async def begin(
    provider: Provider,
    connection: Connection,
    *,
    interaction: str | None = None,
    link_sub: str | None = None,
    login_hint: str | None = None,
) -> Response:
    """Send the browser to the upstream's authorization endpoint with a new state, nonce and
    PKCE challenge (S256, RFC 7636 §4.2), remembering them in the trip cookie."""
    if not connection.enabled:
        raise OAuthError("connection-disabled", f"The connection {connection.name} is disabled.")
    values = RequestValues.new()
    trip = Trip(
        connection.connection_id,
        connection.name,
        state=values.state,
        nonce=values.nonce,
        code_verifier=values.code_verifier,
        expires_at=provider.now() + TRIP_TTL,
        interaction=interaction,
        link_sub=link_sub,
    )
    url = await provider.upstreams.authorization_url(
        connection,
        redirect_uri=redirect_uri(provider.settings, connection),
        state=values.state,
        nonce=values.nonce,
        code_challenge=values.code_challenge,
        login_hint=login_hint,
    )
    provider.events.emit("federation.started", connection=connection.name, link=bool(link_sub))
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        cookie_name(provider),
        _seal(provider, trip),
        max_age=TRIP_TTL,
        path="/",
        httponly=True,
        samesite="lax",  # the upstream's redirect back is a top-level GET: lax sends it
        secure=provider.settings.secure_cookies,
    )
    return response


async def hinted(
    provider: Provider, areq: AuthorizationRequest, interaction: Callable[[], str]
) -> Response | None:
    """``idp_hint=NAME`` (or Keycloak's ``kc_idp_hint``) on an authorization request: the trip
    to that connection without the login page, when the client offers it; an unknown or
    disabled one shows the login page instead (as Keycloak does)."""
    name = areq.params.get("idp_hint") or areq.params.get("kc_idp_hint")
    if not name:
        return None
    for connection in await federated.offered(provider, areq.client):
        if connection.name == name:
            return await begin(
                provider, connection, interaction=interaction(), login_hint=areq.login_hint
            )
    return None
