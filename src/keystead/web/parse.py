"""Starlette request -> the framework-free OAuthRequest."""

from __future__ import annotations

from urllib.parse import unquote_plus

from starlette.requests import Request

from keystead.errors import OAuthError
from keystead.protocol.request import OAuthRequest, from_pairs

MAX_BODY = 64 * 1024


async def read_form(request: Request) -> list[tuple[str, str]]:
    content_type = request.headers.get("content-type", "")
    check_form_type(content_type)
    return parse_form(await request.body())


def check_form_type(content_type: str) -> None:
    if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise OAuthError(
            "request-content-type",
            "The request body must be sent with Content-Type: application/x-www-form-urlencoded.",
        )


def parse_form(body: bytes) -> list[tuple[str, str]]:
    if len(body) > MAX_BODY:
        raise OAuthError("request-invalid-parameter", "The request body is too large.")
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


def _pairs(text: str, *, errors: str) -> list[tuple[str, str]]:
    """What ``parse_qsl(text, keep_blank_values=True, errors=errors)`` gives, with only the
    names and values that hold an escape unquoted (parse_qsl's per-field unquoting was a
    sixth of a client_credentials request)."""
    pairs = []
    for field in text.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name, errors=errors)
        if "%" in value or "+" in value:
            value = unquote_plus(value, errors=errors)
        pairs.append((name, value))
    return pairs


async def oauth_request(request: Request, *, body: bool) -> OAuthRequest:
    pairs = await read_form(request) if body else parse_query(request.scope["query_string"])
    return from_pairs(
        request.method,
        pairs,
        authorization=request.headers.get("authorization"),
        remote_addr=request.client.host if request.client else None,
        headers={"origin": request.headers.get("origin", "")},
    )
