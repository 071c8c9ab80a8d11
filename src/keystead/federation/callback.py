"""The upstream's redirect back to keystead (RFC 6749 §4.1.2): which answers to trust before
the code is redeemed — the state keystead sent (§10.12, CSRF), the issuer the answer names
when the upstream says it names one (RFC 9207, mix-up defence), then error or code."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from keystead.federation.upstream import UpstreamError

MAX_ECHO = 200


def error_response(params: Mapping[str, str]) -> UpstreamError:
    """The upstream redirected back with error=... (RFC 6749 §4.1.2.1): as an UpstreamError
    whose detail keeps its error, error_description and error_uri (cut)."""
    parts = [f"error={params.get('error', '')[:100]}"]
    for name in ("error_description", "error_uri"):
        if params.get(name):
            parts.append(f"{name}={params[name][:MAX_ECHO]}")
    return UpstreamError("upstream-error-response", "the upstream answered " + " ".join(parts))


def check_callback(
    params: Mapping[str, str], *, state: str, document: Mapping[str, Any] | None
) -> str:
    """The authorization code of the callback's query ``params``, once the state is the one
    keystead sent with this browser's request and (``document``: the upstream's discovery
    document; None for GitHub) its ``iss`` is the upstream's. Raises UpstreamError."""
    got = params.get("state")
    # RFC 6749 §10.12: the state binds the answer to this browser's request (CSRF).
    if not got or not hmac.compare_digest(got.encode(), state.encode()):
        raise UpstreamError(
            "upstream-callback-invalid",
            "the callback has no state"
            if not got
            else "the callback's state is not this browser's",
        )
    if document is not None:
        iss = params.get("iss")
        # RFC 9207 §2.4: an iss that is not the upstream's is refused; when the upstream
        # promises one (authorization_response_iss_parameter_supported), a missing one too.
        if iss is not None and iss != document.get("issuer"):
            raise UpstreamError(
                "upstream-callback-invalid",
                f"the callback's iss {iss[:MAX_ECHO]!r} is not the upstream's "
                f"{document.get('issuer')!r} (RFC 9207: another provider's answer?)",
            )
        if iss is None and document.get("authorization_response_iss_parameter_supported") is True:
            raise UpstreamError(
                "upstream-callback-invalid",
                "the callback has no iss although the upstream sends one (RFC 9207 §2.4)",
            )
    if params.get("error"):
        raise error_response(params)
    code = params.get("code")
    if not code:
        raise UpstreamError("upstream-callback-invalid", "the callback has neither code nor error")
    return code
