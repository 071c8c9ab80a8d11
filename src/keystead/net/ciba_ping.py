"""The outbox's handler for CIBA pings (outbox.py, protocol/ciba.py): once the user has
answered, POST ``{"auth_req_id": ...}`` with ``Authorization: Bearer
<client_notification_token>`` to the client's ``backchannel_client_notification_endpoint``
(CIBA Core 1.0 §10.2) through the SSRF guard (net/fetch.py). The job's payload, sealed by the
outbox with the key-encryption key, carries the auth_req_id and the token in clear."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keystead.net.fetch import FetchError, SafeFetcher, UnsafeTarget
from keystead.outbox import DeliveryError
from keystead.protocol.ciba import PING_KIND
from keystead.protocol.ciba_metadata import ENDPOINT

if TYPE_CHECKING:
    from keystead.provider import Provider

RETRIED_4XX = (408, 429)  # a timeout or a rate limit at the client: try again later


async def deliver_ping(provider: Provider, payload: dict[str, Any]) -> None:
    client = await provider.get_client(payload["client_id"])
    if client is None:
        raise DeliveryError("the client no longer exists", permanent=True)
    uri = client.extra.get(ENDPOINT)
    if not isinstance(uri, str):
        raise DeliveryError(f"the client no longer has a {ENDPOINT}", permanent=True)
    fetcher = SafeFetcher(allow_private=provider.settings.allow_private_network_fetch)
    try:
        # CIBA §10.2: POST, application/json, the auth_req_id; the client authenticates
        # keystead by the bearer token it chose (client_notification_token).
        status = await fetcher.post_json(
            uri,
            {"auth_req_id": payload["auth_req_id"]},
            bearer=payload["client_notification_token"],
        )
    except UnsafeTarget as exc:
        raise DeliveryError(str(exc), permanent=True) from None
    except FetchError as exc:  # no answer: DNS, connection, timeout
        raise DeliveryError(str(exc)) from None
    # §10.2: the client answers 204 No Content (200 accepted too).
    if status in (200, 204):
        provider.events.emit("ciba.pinged", client_id=client.client_id)
        return
    reason = f"{uri} answered HTTP {status}"
    raise DeliveryError(reason, permanent=400 <= status < 500 and status not in RETRIED_4XX)


HANDLERS = {PING_KIND: deliver_ping}
