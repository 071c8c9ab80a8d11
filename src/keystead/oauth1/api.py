"""An API asks keystead about an OAuth 1.0a-signed request it received (``POST /oauth1/verify``).

An API holds neither consumer nor token secrets, so it cannot check an RFC 5849 signature
itself. It authenticates as at the introspection endpoint (HTTP Basic ``api_id:api_secret``,
protocol/introspection.py) and forwards what the signature covers (§3.4.1): the request's
``method``, its full ``url`` as the API's clients address it (the API's configured public
base URL, path and query — never built from its Host header, §3.4.1.2), the signed request's
``authorization`` header and its form ``body`` (only an ``application/x-www-form-urlencoded``
body, §3.4.1.3.1). keystead checks it exactly as for its own /oauth1/userinfo
(``flow.protected_resource``: signature, timestamp window, nonce in the one shared replay
cache, token credentials not revoked, never temporary credentials) and answers:

- ``{"active": true, "client_id", "sub", "scope", "token_id", "claims"}``: the consumer, the
  approving user and the claims the user approved for the consumer (what the consumer itself
  reads at /oauth1/userinfo, nothing more);
- ``{"active": false, "status", "oauth_problem", "oauth_problem_advice", "error_uri"}``: a
  refusal with RFC 5849 §3.2's status (400 or 401), for the API to forward to the consumer.

A caller that is not a registered API with a secret is refused with an ordinary error (401),
as introspection refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from keystead.errors import OAuthError
from keystead.oauth1 import flow
from keystead.oauth1.params import SignedRequest
from keystead.protocol import client_auth, introspection
from keystead.protocol.request import OAuthRequest

if TYPE_CHECKING:
    from keystead.provider import Provider

PATH = "/oauth1/verify"
PARAMETERS = ("method", "url", "authorization", "body", *client_auth.PARAMETERS)
MAX_URL = 8192  # characters: what HTTP servers accept as a request line, about


@dataclass(frozen=True, slots=True)
class Outcome:
    """The API that asked, and the verified request or the §3.2 refusal to forward."""

    api_id: str
    resource: flow.Resource | None = None
    refusal: OAuthError | None = None


def _invalid(description: str) -> OAuthError:
    return OAuthError("oauth1-verify-request-invalid", description)


def signed_request(req: OAuthRequest) -> SignedRequest:
    """The API's description of the request it received, as the signature covers it."""
    method = req.require("method", ": the signed request's HTTP method")
    if not method.isascii() or not method.isalpha() or len(method) > 16:
        raise _invalid(f"method {method[:20]!r} is not an HTTP method.")
    url = req.require("url", ": the signed request's full URL (scheme, host, path, query)")
    parts = urlsplit(url) if len(url) <= MAX_URL else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise _invalid(
            "url must be the absolute http(s) URL the consumer signed: the API's public "
            "base URL, the path and the query (RFC 5849 §3.4.1.2)."
        )
    if parts.fragment:
        raise _invalid("url must not carry a fragment: a request never sends one.")
    try:
        query = parse_qsl(parts.query, keep_blank_values=True, errors="replace")
        form = parse_qsl(req.get("body") or "", keep_blank_values=True, errors="strict")
    except ValueError as exc:
        raise _invalid("body is not application/x-www-form-urlencoded text.") from exc
    return SignedRequest(
        method=method.upper(),
        url=urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
        query=query,
        form=form,
        authorization=req.get("authorization") or None,
        # RFC 5849 §3.4.4: PLAINTEXT only where the consumer talked to the API over TLS.
        secure=parts.scheme == "https",
    )


async def verify_for_api(req: OAuthRequest, provider: Provider) -> Outcome:
    req.refuse_duplicates(PARAMETERS)
    caller = await introspection.authenticate_caller(req, provider)
    if caller.audience is None:
        raise OAuthError(
            "oauth1-verify-caller-rejected",
            f"{caller.name} is a client; only a registered API (HTTP Basic api_id:api_secret, "
            "keystead api create --with-secret) may verify OAuth 1.0a requests.",
        )
    signed = signed_request(req)
    try:
        resource = await flow.protected_resource(signed, provider)
    except OAuthError as err:
        provider.events.emit("oauth1.api_refused", api_id=caller.name, catalog_id=err.catalog_id)
        return Outcome(caller.name, refusal=err)
    provider.events.emit(
        "oauth1.api_verified",
        api_id=caller.name,
        client_id=resource.client_id,
        sub=resource.sub,
        token_id=resource.token_id,
    )
    return Outcome(caller.name, resource=resource)
