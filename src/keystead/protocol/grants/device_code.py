"""The device_code grant (RFC 8628 §3.4-3.5): the device polls with its device code until
the user has answered at ``/device``; once approved, the code is exchanged for tokens once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.protocol.device_authorization import GRANT_TYPE
from keystead.protocol.grants.common import issue_approved
from keystead.protocol.request import OAuthRequest
from keystead.secrets_util import sha256_hex
from keystead.store.base import Client
from keystead.store.device_codes import APPROVED, DENIED, DeviceCode

if TYPE_CHECKING:
    from keystead.provider import Provider

__all__ = ["GRANT_TYPE", "PARAMETERS", "SLOW_DOWN_STEP", "handle"]

PARAMETERS = ("device_code",)
SLOW_DOWN_STEP = 5  # RFC 8628 §3.5: slow_down raises the interval by 5 seconds


def _check(code: DeviceCode, client: Client, now: int) -> None:
    if code.client_id != client.client_id:
        raise OAuthError(
            "device-code-client-mismatch", "The device code belongs to another client."
        )
    if code.expires_at <= now:
        raise OAuthError(
            "device-code-expired",
            "The device code expired before the user answered; start a new device authorization.",
        )
    if code.consumed_at is not None:
        raise OAuthError("device-code-used", "The device code was already exchanged for tokens.")
    if code.status == DENIED:
        raise OAuthError("device-access-denied", "The user denied the request.")


async def _pending(provider: Provider, code: DeviceCode, now: int) -> OAuthError:
    # RFC 8628 §3.5: polling faster than the interval is answered slow_down, and the
    # interval grows by 5 seconds for this and all later polls.
    if code.last_polled_at is not None and now - code.last_polled_at < code.interval:
        interval = code.interval + SLOW_DOWN_STEP
        await provider.store.device_codes.slow_down(code.device_code_hash, interval)
        return OAuthError(
            "device-slow-down", f"Polled too fast; poll at most every {interval} seconds."
        )
    return OAuthError("device-authorization-pending", "The user has not answered yet.")


async def handle(req: OAuthRequest, client: Client, provider: Provider) -> dict[str, Any]:
    device_code_hash = sha256_hex(req.require("device_code"))
    now = provider.now()
    code = await provider.store.device_codes.poll(device_code_hash, now)
    if code is None:
        raise OAuthError("device-code-unknown", "The device code is unknown.")
    _check(code, client, now)
    if code.status != APPROVED or code.sub is None:
        raise await _pending(provider, code, now)
    # Single use (RFC 6749 §4.1.2 applied to the device code): one conditional UPDATE; the
    # loser of a race finds it consumed.
    if not await provider.store.device_codes.consume(device_code_hash, now):
        raise OAuthError("device-code-used", "The device code was already exchanged for tokens.")
    return await issue_approved(
        provider,
        client,
        sub=code.sub,
        scope=code.scope,
        auth_time=code.auth_time,
        sid=code.sid,
        acr=code.acr,
        amr=code.amr,
        details=code.authorization_details,  # RFC 9396: as the user approved them
    )
