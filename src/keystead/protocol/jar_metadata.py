"""Client registration metadata of request objects (RFC 9101 §10.1 / OIDC Registration §2),
pushed authorization requests (RFC 9126 §6) and signed authorization responses (JARM §3),
and their rules. Kept in Client.extra under their metadata names."""

from __future__ import annotations

from typing import Any

from keystead.jose.client_keys import ASYMMETRIC_ALGS
from keystead.jose.keys import SUPPORTED_ALGS

REQUEST_URIS = "request_uris"
REQUEST_OBJECT_SIGNING_ALG = "request_object_signing_alg"
AUTHORIZATION_SIGNED_RESPONSE_ALG = "authorization_signed_response_alg"
REQUIRE_PAR = "require_pushed_authorization_requests"
NAMES = (REQUEST_URIS, REQUEST_OBJECT_SIGNING_ALG, AUTHORIZATION_SIGNED_RESPONSE_ALG, REQUIRE_PAR)
REQUEST_OBJECT_ALGS: tuple[str, ...] = (*ASYMMETRIC_ALGS, "none")
RESPONSE_ALGS: tuple[str, ...] = tuple(SUPPORTED_ALGS)  # JARM §3: never none
MAX_REQUEST_URIS = 20


def from_body(body: dict[str, Any]) -> dict[str, Any]:
    """The members present in a registration request, as sent (``problem`` checks them)."""
    return {name: body[name] for name in NAMES if body.get(name) is not None}


def _is_url(value: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    return parts.scheme in ("https", "http") and bool(parts.hostname)


def problem(values: dict[str, Any], has_keys: bool) -> tuple[str, str] | None:
    """The first rule broken, as (metadata name, what to change); None when all hold."""
    uris = values.get(REQUEST_URIS)
    if uris is not None:
        if not isinstance(uris, list) or not all(isinstance(u, str) and _is_url(u) for u in uris):
            return REQUEST_URIS, f"{REQUEST_URIS} must be an array of https URLs."
        if len(uris) > MAX_REQUEST_URIS:
            return REQUEST_URIS, f"At most {MAX_REQUEST_URIS} {REQUEST_URIS} may be registered."
    alg = values.get(REQUEST_OBJECT_SIGNING_ALG)
    if alg is not None:
        if alg not in REQUEST_OBJECT_ALGS:
            allowed = ", ".join(REQUEST_OBJECT_ALGS)
            return REQUEST_OBJECT_SIGNING_ALG, f"{REQUEST_OBJECT_SIGNING_ALG} must be {allowed}."
        if alg != "none" and not has_keys:
            return (
                REQUEST_OBJECT_SIGNING_ALG,
                "Signed request objects are checked with the client's keys: give jwks or jwks_uri.",
            )
    response_alg = values.get(AUTHORIZATION_SIGNED_RESPONSE_ALG)
    if response_alg is not None and response_alg not in RESPONSE_ALGS:
        return (
            AUTHORIZATION_SIGNED_RESPONSE_ALG,
            f"{AUTHORIZATION_SIGNED_RESPONSE_ALG} must be one of {', '.join(RESPONSE_ALGS)} "
            "(JARM §3: never none).",
        )
    require = values.get(REQUIRE_PAR)
    if require is not None and not isinstance(require, bool):
        return REQUIRE_PAR, f"{REQUIRE_PAR} must be true or false."
    return None


def stored(values: dict[str, Any]) -> dict[str, Any]:
    """The Client.extra entries (a false require_pushed_authorization_requests is omitted)."""
    out = {k: v for k, v in values.items() if k in NAMES and v not in (None, False, [])}
    if REQUEST_URIS in out:
        out[REQUEST_URIS] = list(dict.fromkeys(out[REQUEST_URIS]))
    return out
