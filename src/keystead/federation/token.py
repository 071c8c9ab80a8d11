"""The calls keystead makes to an upstream as its client: the authorization request's URL,
the token request with client_secret_basic or client_secret_post (RFC 6749 §2.3.1, §4.1.3),
and authenticated GETs of JSON (UserInfo, GitHub's API)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote, urlencode

from keystead.federation.upstream import UpstreamError
from keystead.net.fetch import FetchError, SafeFetcher
from keystead.store.connections import Connection

MAX_ECHO = 200  # characters of an upstream's error_description kept in a detail


def with_query(endpoint: str, params: dict[str, str]) -> str:
    """``endpoint`` with ``params`` added to its query (RFC 6749 §3.1: a query the endpoint
    has MUST be kept)."""
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)


def basic_credentials(client_id: str, client_secret: str) -> str:
    # RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined by ":" and base64'd.
    pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


def _said(body: Any) -> str:
    """The OAuth error of an upstream's answer, for a detail (RFC 6749 §5.2 members)."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return "no OAuth error in the body"
    text = f"error={body['error'][:MAX_ECHO]}"
    description = body.get("error_description")
    if isinstance(description, str):
        text += f" ({description[:MAX_ECHO]})"
    return text


async def token_request(
    fetcher: SafeFetcher,
    url: str,
    connection: Connection,
    client_secret: str,
    form: dict[str, str],
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST the token request; its JSON answer with an access_token, or UpstreamError."""
    sent = dict(headers or {})
    body = dict(form)
    if connection.auth_method == "client_secret_post":
        body |= {"client_id": connection.client_id, "client_secret": client_secret}
    else:
        sent["Authorization"] = basic_credentials(connection.client_id, client_secret)
    try:
        status, answer = await fetcher.exchange("POST", url, headers=sent, form=body)
    except FetchError as exc:
        raise UpstreamError("upstream-unreachable", str(exc)) from None
    if status >= 500:
        raise UpstreamError("upstream-unreachable", f"{url} answered HTTP {status}.")
    # GitHub answers its errors with a 200: the error member decides.
    if status != 200 or not isinstance(answer, dict) or "error" in answer:
        raise UpstreamError(
            "upstream-token-error",
            f"the token endpoint {url} answered HTTP {status}: {_said(answer)}.",
        )
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise UpstreamError(
            "upstream-token-error", f"the token endpoint {url} sent no access_token."
        )
    token_type = answer.get("token_type")
    # RFC 6749 §5.1 / RFC 6750: keystead can only use Bearer tokens (case-insensitive).
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise UpstreamError(
            "upstream-token-error", f"the token endpoint {url} sent token_type {token_type!r}."
        )
    return answer


async def get_json(
    fetcher: SafeFetcher, url: str, access_token: str, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """GET ``url`` with the access token (RFC 6750 §2.1); 5xx and no answer are
    upstream-unreachable, any other status is the caller's to judge."""
    sent = {"Authorization": f"Bearer {access_token}", **(headers or {})}
    try:
        status, body = await fetcher.exchange("GET", url, headers=sent)
    except FetchError as exc:
        raise UpstreamError("upstream-unreachable", str(exc)) from None
    if status >= 500:
        raise UpstreamError("upstream-unreachable", f"{url} answered HTTP {status}.")
    return status, body
