"""The backchannel authentication endpoint of OpenID Connect CIBA Core 1.0 (§7): an
authenticated client asks for a user's consent out of band; the user, named by a hint, is
told through a ``Notifier`` and answers on their authentication device (keystead's
development notifier: the account page, web/account/ciba.py). The client then polls the
token endpoint (poll mode) or is pinged when the user has answered (ping mode, §10.2).

Only the SHA-256 of the ``auth_req_id`` is stored. A ping client's
``client_notification_token`` and the ``auth_req_id`` the ping carries are needed in clear
when the user answers: they are kept sealed with the key-encryption key (``ping_enc``),
and move into the outbox job (itself sealed) when the ping is queued.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import TYPE_CHECKING, Any, Protocol

from keystead.errors import OAuthError
from keystead.outbox import new_job
from keystead.protocol import client_auth, rar, rar_tokens, scopes
from keystead.protocol.acr import acr_of
from keystead.protocol.ciba_hints import HINTS, resolve_user
from keystead.protocol.ciba_metadata import GRANT_TYPE, MODE, PING, POLL
from keystead.protocol.client_auth import authenticate_client
from keystead.protocol.request import OAuthRequest
from keystead.secrets_util import random_id, random_token, sha256_hex
from keystead.store.base import Client, Session
from keystead.store.ciba_requests import CibaRequest

if TYPE_CHECKING:
    from keystead.provider import Provider

PATH = "/bc-authorize"
PING_KIND = "ciba_ping"  # the outbox job kind (net/ciba_ping.py)
EXPIRES_IN = 600  # seconds, unless requested_expiry asks otherwise
MIN_EXPIRY, MAX_EXPIRY = 10, 1800
INTERVAL = 5  # §7.3: the client's default too
MAX_BINDING_MESSAGE = 100
MAX_PENDING = 5  # unanswered requests of one client for one user (no flood of the user)
MAX_NOTIFICATION_TOKEN = 1024  # §7.1
# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*\Z")
PARAMETERS = (
    *client_auth.PARAMETERS,
    "scope",
    "client_notification_token",
    "acr_values",
    *HINTS,
    "binding_message",
    "user_code",
    "requested_expiry",
    "request",
    rar.PARAMETER,
)


class Notifier(Protocol):
    """Tells the user's authentication device that a request waits for them (CIBA §7.3:
    the OP "initiates an interactive end-user authentication"). How is the deployment's
    choice; the request names the user (``request.sub``)."""

    async def notify(self, provider: Provider, request: CibaRequest) -> None: ...


class AccountPageNotifier:
    """Development notifier: nothing is sent; the user's account page (/account) lists the
    pending requests with Approve and Deny (web/account/ciba.py)."""

    async def notify(self, provider: Provider, request: CibaRequest) -> None:
        provider.events.emit(
            "ciba.notified", client_id=request.client_id, sub=request.sub, via="account_page"
        )


NOTIFIERS: dict[str, Notifier] = {"account_page": AccountPageNotifier()}


def delivery_mode(client: Client) -> str | None:
    mode = client.extra.get(MODE)
    return mode if mode in (POLL, PING) else None


def _binding_message(value: str | None) -> str | None:
    if value is None:
        return None
    # CIBA §7.1: short, plain text the user compares with what the consumption device shows.
    if not value.strip() or len(value) > MAX_BINDING_MESSAGE:
        raise OAuthError(
            "ciba-binding-message-invalid",
            f"binding_message must be 1-{MAX_BINDING_MESSAGE} characters of plain text.",
        )
    if any(unicodedata.category(c).startswith("C") for c in value):
        raise OAuthError(
            "ciba-binding-message-invalid", "binding_message must not hold control characters."
        )
    return value


def _expires_in(value: str | None) -> int:
    if value is None:
        return EXPIRES_IN
    # CIBA §7.1: requested_expiry is a positive integer (seconds).
    if not value.isascii() or not value.isdigit() or not MIN_EXPIRY <= int(value) <= MAX_EXPIRY:
        raise OAuthError(
            "ciba-requested-expiry-invalid",
            f"requested_expiry must be a whole number of seconds from {MIN_EXPIRY} to "
            f"{MAX_EXPIRY}.",
        )
    return int(value)


def _notification_token(req: OAuthRequest, mode: str) -> str | None:
    token = req.get("client_notification_token")
    if mode != PING:
        return None
    # CIBA §7.1: REQUIRED in ping mode; at most 1024 characters, RFC 6750 §2.1 syntax.
    if not token or len(token) > MAX_NOTIFICATION_TOKEN or not _B64TOKEN.match(token):
        raise OAuthError(
            "ciba-notification-token-invalid",
            "Ping mode needs client_notification_token: a bearer token (RFC 6750 §2.1 "
            f"syntax) of at most {MAX_NOTIFICATION_TOKEN} characters.",
        )
    return token


def _ping_aad(auth_req_id_hash: str) -> bytes:
    return b"keystead-ciba-ping:" + auth_req_id_hash.encode()


def _granted_scope(req: OAuthRequest, client: Client) -> str:
    requested = scopes.parse(req.get("scope"))
    # CIBA §7.1: scope is REQUIRED and MUST include openid (an authentication request).
    if "openid" not in requested:
        raise OAuthError("ciba-openid-scope-missing", "scope must include openid.")
    granted = tuple(s for s in scopes.allowed(requested, client.scope) if not scopes.is_reserved(s))
    if "openid" not in granted:
        raise OAuthError(
            "scope-invalid",
            f"The scope openid may not be granted to this client; it may request: "
            f"{client.scope or 'nothing'}.",
        )
    return scopes.join(granted)


async def _client(req: OAuthRequest, provider: Provider) -> tuple[Client, str]:
    client = await authenticate_client(req, provider, endpoint=PATH)
    if client.token_endpoint_auth_method == "none":
        # CIBA §7.1: the backchannel authentication endpoint is for authenticated clients.
        raise OAuthError("ciba-public-client", "CIBA requests need client authentication.")
    if GRANT_TYPE not in client.grant_types:
        raise OAuthError(
            "grant-type-not-allowed",
            f"This client is not registered for grant_type {GRANT_TYPE}; its grant types are: "
            f"{', '.join(client.grant_types) or 'none'}.",
        )
    mode = delivery_mode(client)
    if mode is None:
        raise OAuthError(
            "ciba-mode-unsupported", "The client has no poll or ping token delivery mode."
        )
    return client, mode


async def backchannel_authentication(req: OAuthRequest, provider: Provider) -> dict[str, Any]:
    """§7.1 request -> §7.3 response (auth_req_id, expires_in, interval)."""
    req.refuse_duplicates(PARAMETERS)
    client, mode = await _client(req, provider)
    if req.get("request") is not None:  # §7.1.1: signed requests are not supported
        raise OAuthError(
            "ciba-request-object-unsupported", "Signed authentication requests are not supported."
        )
    scope = _granted_scope(req, client)
    token = _notification_token(req, mode)
    binding_message = _binding_message(req.get("binding_message"))
    expires_in = _expires_in(req.get("requested_expiry"))
    details = await rar_tokens.for_request(provider, req.get(rar.PARAMETER))  # RFC 9396
    hints = {name: value for name in HINTS if (value := req.get(name)) is not None}
    user = await resolve_user(provider, client, hints)
    now = provider.now()
    waiting = await provider.store.ciba_requests.pending_for(user.sub, now)
    if sum(1 for r in waiting if r.client_id == client.client_id) >= MAX_PENDING:
        raise OAuthError(
            "ciba-too-many-pending",
            f"This client has {MAX_PENDING} requests for this user that are not answered yet; "
            "wait for an answer or for them to expire.",
        )
    # §7.3: auth_req_id has at least 128 bits of entropy (160 recommended): 256 here.
    auth_req_id = random_token()
    auth_req_id_hash = sha256_hex(auth_req_id)
    ping_enc = None
    if token is not None:
        sealed = json.dumps({"auth_req_id": auth_req_id, "client_notification_token": token})
        ping_enc = provider.kek.encrypt(sealed.encode(), _ping_aad(auth_req_id_hash))
    record = CibaRequest(
        auth_req_id_hash,
        random_id(),
        client.client_id,
        user.sub,
        scope,
        now,
        now + expires_in,
        INTERVAL,
        mode,
        acr_values=req.get("acr_values"),
        binding_message=binding_message,
        ping_enc=ping_enc,
        authorization_details=details,
    )
    await provider.store.ciba_requests.add(record)
    provider.events.emit("ciba.requested", client_id=client.client_id, sub=user.sub, mode=mode)
    await NOTIFIERS[provider.settings.ciba_notifier].notify(provider, record)
    return {"auth_req_id": auth_req_id, "expires_in": expires_in, "interval": INTERVAL}


async def answer(
    provider: Provider, request: CibaRequest, session: Session, *, approve: bool
) -> bool:
    """Record the signed-in user's answer to their own pending request: True for the one
    answer that counted. A ping client is pinged through the outbox (§10.2)."""
    store = provider.store.ciba_requests
    now = provider.now()
    jobs = []
    if request.delivery_mode == PING and request.ping_enc is not None:
        # §10.2: the ping tells the client to fetch the result, approved or denied; it is
        # written with the answer, in one transaction (written only if the answer counts).
        data = provider.kek.decrypt(request.ping_enc, _ping_aad(request.auth_req_id_hash))
        payload = {"client_id": request.client_id, **json.loads(data)}
        jobs.append(new_job(provider, PING_KIND, payload))
    if approve:
        done = await store.approve(
            request.request_id,
            session.sub,
            now,
            sid=session.sid,
            auth_time=session.auth_time,
            acr=acr_of(session.amr),
            amr=tuple(session.amr),
            jobs=jobs,
        )
    else:
        done = await store.deny(request.request_id, session.sub, now, jobs=jobs)
    if not done:
        return False
    provider.events.emit(
        "ciba.approved" if approve else "ciba.denied",
        client_id=request.client_id,
        sub=session.sub,
    )
    if jobs:
        provider.events.emit("ciba.ping_queued", client_id=request.client_id)
        provider.wake_outbox()
    return True
