"""The edge's one reader of requests: the body (bounded while it is read), form and query
parameters, and the framework-free ``OAuthRequest`` — for the lanes (web/fastlane.py) and
for endpoints that take a Starlette ``Request`` alike."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import unquote_plus, unquote_to_bytes

from starlette.requests import Request
from starlette.types import Receive

from keystead import jsonlimits
from keystead.errors import OAuthError
from keystead.protocol.request import OAuthRequest, from_pairs
from keystead.web.mtls import client_cert

MAX_BODY = 64 * 1024  # the default of Settings.max_body_bytes


def _too_large(limit: int) -> OAuthError:
    return OAuthError(
        "request-too-large",
        f"The request body is too large: more than {limit} bytes; send only the parameters "
        "this endpoint takes.",
    )


async def read_body(receive: Receive, limit: int = MAX_BODY) -> bytes:
    """The whole body from ASGI ``receive``, refused (413) as soon as it passes ``limit``
    bytes: nothing larger is ever held in memory. Every body keystead reads comes here."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            raise OAuthError("request-invalid-parameter", "The request body is incomplete.")
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def body_of(request: Request) -> bytes:
    """A Starlette request's body through ``read_body`` with the configured limit; kept on
    the request as Starlette's own ``request.body()`` keeps it, so a second read returns the
    same bytes."""
    cached: bytes | None = getattr(request, "_body", None)
    if cached is None:
        limit = request.app.state.provider.settings.max_body_bytes
        cached = await read_body(request.receive, limit)
        request._body = cached  # what Request.body() caches: later reads see these bytes
    return cached


async def read_form(request: Request) -> list[tuple[str, str]]:
    check_form_type(request.headers.get("content-type", ""))
    return parse_form(await body_of(request))


class BodyError(ValueError):
    """A request body that is not the JSON asked for; the message says why."""


async def read_json(request: Request) -> Any:
    """The JSON body of a request (the admin API, registration), or BodyError."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise BodyError("Send the body as JSON with Content-Type: application/json.")
    body = await body_of(request)
    try:
        return jsonlimits.loads(body)
    except jsonlimits.JsonTooDeep as exc:
        raise OAuthError("request-too-large", f"The request body is refused: {exc}") from None
    except ValueError:  # also bytes that are not UTF-8
        raise BodyError("The body is not valid JSON.") from None


_FORM_TYPE = "application/x-www-form-urlencoded"


def check_form_type(content_type: str) -> None:
    if content_type == _FORM_TYPE:  # as clients send it: nothing to normalise
        return
    if content_type.split(";")[0].strip().lower() != _FORM_TYPE:
        raise OAuthError(
            "request-content-type",
            "The request body must be sent with Content-Type: application/x-www-form-urlencoded.",
        )


def parse_form(body: bytes) -> list[tuple[str, str]]:
    try:
        return _pairs(body.decode("utf-8"), errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise OAuthError(
            "request-invalid-parameter", "The request body is not valid form-urlencoded UTF-8."
        ) from exc


def parse_query(query_string: bytes) -> list[tuple[str, str]]:
    """The query's parameters, as Starlette's ``request.query_params.multi_items()`` reads
    them (latin-1 bytes, percent-escapes as UTF-8 with replacement characters)."""
    return _pairs(query_string.decode("latin-1"), errors="replace")


def _unquote(field: str, errors: str) -> str:
    """``unquote_plus(field, errors=errors)``, remembered for short fields: the escaped
    values of a client's requests (its redirect_uri, scope, resource) come again with every
    request, and ``unquote_to_bytes`` is a Python loop of ~4,000 instructions per escape.
    Random values (codes, tokens, verifiers) are base64url: they never come here."""
    if len(field) <= _REMEMBERED_LENGTH:
        return _unquote_remembered(field, errors)
    return _unquote_once(field, errors)


_REMEMBERED_LENGTH = 512  # x 1024 fields: at most ~1 MB


@functools.lru_cache(maxsize=1024)
def _unquote_remembered(field: str, errors: str) -> str:
    return _unquote_once(field, errors)


def _unquote_once(field: str, errors: str) -> str:
    """An ASCII field (every field of a form body or query as browsers and clients send
    them) is one run for ``unquote``, which then decodes ``unquote_to_bytes`` of it: done
    here directly, without its split and calls."""
    if field.isascii():
        return unquote_to_bytes(field.replace("+", " ")).decode("utf-8", errors)
    return unquote_plus(field, errors=errors)


def _pairs(text: str, *, errors: str) -> list[tuple[str, str]]:
    """What ``parse_qsl(text, keep_blank_values=True, errors=errors)`` gives, with only the
    names and values that hold an escape unquoted (parse_qsl unquotes every field)."""
    pairs = []
    for field in text.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "%" in name or "+" in name:
            name = _unquote(name, errors)
        if "%" in value or "+" in value:
            value = _unquote(value, errors)
        pairs.append((name, value))
    return pairs


def build_request(
    method: str,
    pairs: list[tuple[str, str]],
    *,
    authorization: str | None,
    client: tuple[str, int] | None,
    origin: str,
    dpop: str | None = None,
    client_cert: tuple[bytes, ...] | None = None,
) -> OAuthRequest:
    """The ``OAuthRequest`` a protocol function takes: parameters, client credentials from
    the Authorization header, the caller's address, the ``Origin`` it was sent from and its
    ``DPoP`` proof (RFC 9449; several headers joined by commas, which the proof check
    refuses) and the client certificate of a mutual-TLS request (RFC 8705, web/mtls.py)."""
    return from_pairs(
        method,
        pairs,
        authorization=authorization,
        remote_addr=client[0] if client else None,
        headers={"origin": origin} if dpop is None else {"origin": origin, "dpop": dpop},
        client_cert=client_cert,
    )


async def oauth_request(request: Request, *, body: bool) -> OAuthRequest:
    pairs = await read_form(request) if body else parse_query(request.scope["query_string"])
    headers = request.headers
    return build_request(
        request.method,
        pairs,
        authorization=headers.get("authorization"),
        client=request.scope.get("client"),
        origin=headers.get("origin", ""),
        dpop=None if headers.get("dpop") is None else ",".join(headers.getlist("dpop")),
        client_cert=client_cert(request.scope, request.app.state.provider.settings),
    )
