"""Starlette request -> the framework-free OAuthRequest."""

from __future__ import annotations

from urllib.parse import parse_qsl

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
        text = body.decode("utf-8")
        if "%" in text or "+" in text:  # something to decode
            return parse_qsl(text, keep_blank_values=True, errors="strict")
        # Nothing escaped (most token requests): what parse_qsl gives, without its per-field
        # unquoting (a sixth of a client_credentials request).
        return [
            (name, value)
            for name, _, value in (field.partition("=") for field in text.split("&") if field)
        ]
    except (UnicodeDecodeError, ValueError) as exc:
        raise OAuthError(
            "request-invalid-parameter", "The request body is not valid form-urlencoded UTF-8."
        ) from exc


async def oauth_request(request: Request, *, body: bool) -> OAuthRequest:
    pairs = await read_form(request) if body else list(request.query_params.multi_items())
    return from_pairs(
        request.method,
        pairs,
        authorization=request.headers.get("authorization"),
        remote_addr=request.client.host if request.client else None,
        headers={"origin": request.headers.get("origin", "")},
    )
