"""The CIBA grant (OpenID CIBA Core 1.0 §10.1, §11): the client polls with its auth_req_id
until the user has answered on their authentication device (or, in ping mode, calls once
pinged); once approved, the auth_req_id is exchanged for tokens once.

Poll and ping clients may both call: §7.3 gives an ``interval`` to both modes (the working
group's reading: a ping client may also poll), and a ping client whose ping was lost still gets
its tokens by polling. Push mode is not supported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.protocol.ciba import delivery_mode
from keystead.protocol.ciba_metadata import GRANT_TYPE
from keystead.protocol.grants.common import issue_approved
from keystead.protocol.request import OAuthRequest
from keystead.secrets_util import sha256_hex
from keystead.store.base import Client
from keystead.store.ciba_requests import APPROVED, DENIED, CibaRequest

if TYPE_CHECKING:
    from keystead.provider import Provider

__all__ = ["GRANT_TYPE", "PARAMETERS", "SLOW_DOWN_STEP", "handle"]

PARAMETERS = ("auth_req_id",)
SLOW_DOWN_STEP = 5  # CIBA §11: slow_down raises the interval by at least 5 seconds


def _check(request: CibaRequest, client: Client, now: int) -> None:
    if request.client_id != client.client_id:
        raise OAuthError(
            "ciba-auth-req-id-client-mismatch", "The auth_req_id belongs to another client."
        )
    if request.consumed_at is not None:
        raise OAuthError(
            "ciba-auth-req-id-used", "The auth_req_id was already exchanged for tokens."
        )
    if request.expires_at <= now:
        raise OAuthError(
            "ciba-expired",
            "The auth_req_id expired before the user answered; make a new request.",
        )
    if request.status == DENIED:
        raise OAuthError("ciba-access-denied", "The user denied the request.")


async def _pending(provider: Provider, request: CibaRequest, now: int) -> OAuthError:
    # CIBA §11: polling faster than the interval is answered slow_down, and the interval
    # grows by 5 seconds for this and all later polls.
    if request.last_polled_at is not None and now - request.last_polled_at < request.interval:
        interval = request.interval + SLOW_DOWN_STEP
        await provider.store.ciba_requests.slow_down(request.auth_req_id_hash, interval)
        return OAuthError(
            "ciba-slow-down", f"Polled too fast; poll at most every {interval} seconds."
        )
    return OAuthError("ciba-authorization-pending", "The user has not answered yet.")


async def handle(req: OAuthRequest, client: Client, provider: Provider) -> dict[str, Any]:
    if delivery_mode(client) is None:  # §10.1: a push client never calls (and none exists)
        raise OAuthError(
            "ciba-mode-unsupported", "The client has no poll or ping token delivery mode."
        )
    auth_req_id_hash = sha256_hex(req.require("auth_req_id"))
    now = provider.now()
    request = await provider.store.ciba_requests.poll(auth_req_id_hash, now)
    if request is None:
        raise OAuthError("ciba-auth-req-id-unknown", "The auth_req_id is unknown.")
    _check(request, client, now)
    if request.status != APPROVED:
        raise await _pending(provider, request, now)
    # §10.1 with RFC 6749 §4.1.2: single use, one conditional UPDATE; the loser of a race
    # finds it consumed.
    if not await provider.store.ciba_requests.consume(auth_req_id_hash, now):
        raise OAuthError(
            "ciba-auth-req-id-used", "The auth_req_id was already exchanged for tokens."
        )
    body = await issue_approved(
        provider,
        client,
        sub=request.sub,
        scope=request.scope,
        auth_time=request.auth_time,
        sid=request.sid,
        acr=request.acr,
        amr=request.amr,
        details=request.authorization_details,  # RFC 9396: as the user approved them
    )
    provider.events.emit("ciba.tokens_issued", client_id=client.client_id, sub=request.sub)
    return body
