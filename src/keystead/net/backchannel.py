"""The outbox's handler for back-channel logout jobs (outbox.py, protocol/backchannel.py):
make the Logout Token now and POST it to the client's ``backchannel_logout_uri`` through the
SSRF guard (net/fetch.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keystead.net.fetch import FetchError, SafeFetcher, UnsafeTarget
from keystead.outbox import DeliveryError
from keystead.protocol.backchannel import KIND, logout_token, logout_uri

if TYPE_CHECKING:
    from keystead.provider import Provider

RETRIED_4XX = (408, 429)  # a timeout or a rate limit at the RP: try again later


def fetcher(provider: Provider) -> SafeFetcher:
    return SafeFetcher(allow_private=provider.settings.allow_private_network_fetch)


async def deliver_backchannel(provider: Provider, payload: dict[str, Any]) -> None:
    client = await provider.get_client(payload["client_id"])
    if client is None:
        raise DeliveryError("the client no longer exists", permanent=True)
    uri = logout_uri(client)
    if uri is None:
        raise DeliveryError("the client no longer has a backchannel_logout_uri", permanent=True)
    try:
        token = await logout_token(provider, client, sub=payload["sub"], sid=payload.get("sid"))
    except (KeyError, ValueError) as exc:  # no signing key for the client's alg (yet)
        raise DeliveryError(f"the logout token cannot be signed: {exc}") from None
    try:
        # Back-Channel Logout §2.5: POST, application/x-www-form-urlencoded, logout_token.
        status = await fetcher(provider).post_form(uri, {"logout_token": token})
    except UnsafeTarget as exc:
        raise DeliveryError(str(exc), permanent=True) from None
    except FetchError as exc:  # no answer: DNS, connection, timeout
        raise DeliveryError(str(exc)) from None
    # §2.8: 200 on success (204 accepted too); 400 when the token was refused.
    if status in (200, 204):
        return
    reason = f"{uri} answered HTTP {status}"
    raise DeliveryError(reason, permanent=400 <= status < 500 and status not in RETRIED_4XX)


HANDLERS = {KIND: deliver_backchannel}
