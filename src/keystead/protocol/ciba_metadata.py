"""CIBA client registration metadata (OpenID CIBA Core 1.0 §4) and its rules.

keystead supports the poll and ping token delivery modes; push (§10.3) is not implemented,
so discovery lists ``["poll", "ping"]`` and a client registering push is refused. Signed
authentication requests (§7.1.1) and the ``user_code`` parameter (§7.1) are not supported
either: discovery omits ``backchannel_authentication_request_signing_alg_values_supported``
and says ``backchannel_user_code_parameter_supported: false``; a client asking for them is
refused at registration rather than failing later.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from keystead.protocol import redirect_uris

GRANT_TYPE = "urn:openid:params:grant-type:ciba"
POLL = "poll"
PING = "ping"
DELIVERY_MODES = (POLL, PING)  # §4; push is not supported
# Metadata names, kept in Client.extra.
MODE = "backchannel_token_delivery_mode"
ENDPOINT = "backchannel_client_notification_endpoint"
USER_CODE = "backchannel_user_code_parameter"
CIBA_METADATA = (MODE, ENDPOINT, USER_CODE)


def problem(
    grant_types: Sequence[str],
    auth_method: str,
    mode: str | None,
    endpoint: str | None,
    user_code: bool,
) -> tuple[str, str] | None:
    """The first rule broken, as (metadata name, what to change); None when all hold."""
    if GRANT_TYPE not in grant_types:
        if mode is not None or endpoint is not None:
            return MODE, f"The CIBA metadata needs the grant type {GRANT_TYPE}."
        return None
    if auth_method == "none":
        # CIBA §7.1: the client authenticates at the backchannel authentication endpoint.
        return "token_endpoint_auth_method", "CIBA needs a confidential client."
    if mode is None:
        # CIBA §4: backchannel_token_delivery_mode is REQUIRED with the CIBA grant type.
        return MODE, f"{MODE} is required with the CIBA grant type: poll or ping."
    if mode not in DELIVERY_MODES:
        return MODE, f"{MODE} must be poll or ping (push is not supported)."
    if mode == PING and endpoint is None:
        # CIBA §4: the notification endpoint is REQUIRED in ping mode.
        return ENDPOINT, f"{ENDPOINT} is required in ping mode."
    if endpoint is not None:
        reason = endpoint_problem(endpoint)
        if reason:
            return ENDPOINT, reason
    if user_code:
        return USER_CODE, "The user_code parameter (CIBA §7.1) is not supported by this server."
    return None


def endpoint_problem(uri: str) -> str | None:
    """CIBA §4: an https URL (http only on a loopback host, for development, as for the
    back-channel logout URI); no fragment."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return f"{ENDPOINT} {uri[:200]} is not a URL."
    if parts.fragment or "#" in uri or not parts.hostname:
        return f"{ENDPOINT} must be an absolute URL without a fragment."
    if parts.scheme != "https" and not (
        parts.scheme == "http" and redirect_uris.is_loopback(parts.hostname)
    ):
        return f"{ENDPOINT} must be an https URL (http only on 127.0.0.1 or localhost)."
    return None
