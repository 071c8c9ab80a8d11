"""The one place that decides how a response or an error travels.

JSON at the token-style endpoints; a redirect (or form_post page) in the response mode for
authorization responses and for authorization errors once the redirect_uri is trusted; an
HTML error page before that. Unexpected exceptions become a logged 500 with a correlation id
and never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from keystead import jsonlimits
from keystead.config import Settings
from keystead.errors import OAuthError
from keystead.events import correlation_id as current_correlation_id
from keystead.events import new_correlation_id
from keystead.protocol import jarm, response
from keystead.protocol.response import AuthorizationResponse
from keystead.web import pages

if TYPE_CHECKING:
    from keystead.provider import Provider

log = logging.getLogger("keystead.web")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1
JSON = "application/json"


def raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """Headers as ASGI sends them: lower-case names, latin-1 bytes."""
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def json_body(body: dict[str, Any]) -> bytes:
    """The one JSON serialisation of every JSON answer (compact, as RFC 8259 allows)."""
    return jsonlimits.dumps_compact(body).encode()


# A JSON answer that must not be cached, as the lanes send it (web/fastlane.py).
JSON_NO_STORE_RAW = raw({"Content-Type": JSON, **NO_STORE})
# Starlette's RedirectResponse: what its quoting of the Location leaves as it is.
_LOCATION_SAFE = ":/%#?=@[]!$&'()*+,;"
_REDIRECT_HEAD = [*raw(NO_STORE), (b"content-length", b"0")]


def redirect(location: str, status: int) -> Response:
    """``RedirectResponse(location, status, headers=NO_STORE)`` — the same status, headers
    (in the same order) and Location quoting — with its header list built directly."""
    response = Response(status_code=status)
    quoted = quote(location, safe=_LOCATION_SAFE).encode("latin-1")
    response.raw_headers = [*_REDIRECT_HEAD, (b"location", quoted)]
    return response


def document_head(body: bytes, max_age: int) -> list[tuple[bytes, bytes]]:
    """The headers of a public JSON document (discovery, JWKS): cacheable, any origin
    (web/cors.py's public kind). The static lane sends them as they are; ``document``
    answers the other requests with the same list."""
    return [
        (b"cache-control", f"public, max-age={max_age}".encode()),
        (b"content-length", str(len(body)).encode()),
        (b"content-type", JSON.encode()),
        (b"access-control-allow-origin", b"*"),
    ]


def document(body: bytes, max_age: int) -> Response:
    response = Response(body)
    response.raw_headers = document_head(body, max_age)
    return response


def correlation_id() -> str:
    """The correlation id of this request (set when it arrived: web/observe.py, the fast
    lane), or a new one; events emitted while serving it carry it."""
    return current_correlation_id.get() or new_correlation_id()


def json_response(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(json_body(body), status_code=status, media_type=JSON, headers=headers)


def authorization_response(
    resp: AuthorizationResponse, settings: Settings, *, after_post: bool
) -> Response:
    if resp.response_mode == "form_post":
        nonce = pages.new_nonce()
        return pages.render(
            "form_post.html",
            {
                "action": resp.redirect_uri,
                "params": resp.params,
                "nonce": nonce,
                "static_url": settings.url("/static"),
            },
            form_action=(pages.origin_of(resp.redirect_uri),),
            script_nonce=nonce,
        )
    # 303 after a form POST so the browser does not re-post to the client.
    return redirect(response.location(resp), 303 if after_post else 302)


def error_page(err: OAuthError, settings: Settings, cid: str) -> Response:
    message, advice = err.entry.user_message
    details = None
    if settings.dev_mode:
        details = {
            "error": err.error,
            "catalog_id": err.catalog_id,
            "description": err.description,
            "fixes": err.entry.fixes,
        }
    status = err.status if err.status < 500 else 500
    return pages.render(
        "error.html",
        {
            "title": err.entry.title,
            "message": message,
            "advice": advice,
            "correlation_id": cid,
            "details": details,
            "static_url": settings.url("/static"),
        },
        status=status if status != 401 else 400,
        headers={"X-Correlation-Id": cid},
    )


def errors_base_url(settings: Settings) -> str:
    return settings.url("/errors/")


def error_json(
    err: OAuthError, settings: Settings, cid: str, extra: dict[str, Any] | None = None
) -> Response:
    """The JSON error body; ``extra`` adds members (the admin API's ``errors`` list)."""
    headers = {**NO_STORE, **err.headers, "X-Correlation-Id": cid}
    body = {**err.to_dict(errors_base_url(settings)), **(extra or {})}
    return json_response(body, status=err.status, headers=headers)


def request_context(request: Request) -> dict[str, Any]:
    """What an event may say about the request: no secrets, no bodies."""
    context: dict[str, Any] = {
        "endpoint": request.scope["path"],  # request.url decodes the query as UTF-8
        "method": request.method,
        "ip": request.client.host if request.client else None,
    }
    client_id = request.query_params.get("client_id")
    if client_id:
        context["client_id"] = client_id[:200]
    return context


def render_error(
    err: OAuthError,
    provider: Provider,
    *,
    kind: str,
    cid: str,
    after_post: bool = False,
    context: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    seal: jarm.Seal | None = None,
) -> Response:
    settings = provider.settings
    # Every refused request is an event: `keystead explain <correlation id>` reads it back.
    provider.events.emit(
        "request.refused",
        catalog_id=err.catalog_id,
        error=err.error,
        description=err.description,
        debug=err.debug,
        **(context or {}),
    )
    if err.redirect is not None:
        resp = response.error(err, settings.issuer)
        resp.params["error_uri"] = errors_base_url(settings) + err.catalog_id
        if seal is not None:  # JARM: the error travels signed too
            resp = seal(resp)
        return authorization_response(resp, settings, after_post=after_post)
    if kind == "page":
        return error_page(err, settings, cid)
    return error_json(err, settings, cid, extra)


def internal_error(exc: BaseException, provider: Provider, *, kind: str, cid: str) -> Response:
    log.error("internal error cid=%s", cid, exc_info=exc)
    provider.events.emit("request.failed", exception=type(exc).__name__)
    err = OAuthError(
        "server-error",
        f"An internal error occurred; quote correlation id {cid} to the operator.",
    )
    if kind == "page":
        return error_page(err, provider.settings, cid)
    return error_json(err, provider.settings, cid)


async def guarded(
    request: Request,
    work: Callable[[], Awaitable[Response]],
    *,
    kind: str,
    after_post: bool = False,
    on_error: Callable[[Request, OAuthError], None] | None = None,
) -> Response:
    """Run an endpoint's work; an OAuthError travels as ``kind`` ("json" | "page") says, any
    other exception becomes a logged 500 with a correlation id and never a stack trace."""
    provider: Provider = request.app.state.provider
    cid = correlation_id()  # before the work: the events it emits carry it
    try:
        return await work()
    except OAuthError as err:
        if on_error is not None:
            on_error(request, err)
        return render_error(
            err,
            provider,
            kind=kind,
            cid=cid,
            after_post=after_post,
            context=request_context(request),
            seal=await jarm.error_sealer(err, provider),
        )
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        return internal_error(exc, provider, kind=kind, cid=cid)
