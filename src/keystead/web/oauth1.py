"""The OAuth 1.0a endpoints (RFC 5849): parse -> oauth1/ -> render.

``POST /oauth1/request_token`` (§2.1), ``POST /oauth1/access_token`` (§2.3) and
``GET /oauth1/userinfo`` (a protected resource). The request URL signed over is the
issuer's URL of the endpoint (§3.4.1.2 from the configured issuer, never the Host header);
the form body counts only when it is ``application/x-www-form-urlencoded`` (§3.4.1.3.1).

Answers are form-encoded (§2.1, §2.3); userinfo's is JSON. Errors carry the §3.2 status
(400 or 401), a form-encoded ``oauth_problem`` / ``oauth_problem_advice`` body (the Problem
Reporting extension) with keystead's ``error_uri``, and on a 401 ``WWW-Authenticate: OAuth
realm="<issuer>"`` (§3.5.1).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from keystead.errors import OAuthError
from keystead.oauth1 import flow
from keystead.oauth1.params import SignedRequest
from keystead.web import render
from keystead.web.parse import body_of, parse_form, parse_query

if TYPE_CHECKING:
    from keystead.provider import Provider

REQUEST_TOKEN_PATH = "/oauth1/request_token"
AUTHORIZE_PATH = "/oauth1/authorize"
ACCESS_TOKEN_PATH = "/oauth1/access_token"
USERINFO_PATH = "/oauth1/userinfo"
FORM = "application/x-www-form-urlencoded"


async def signed_request(request: Request, path: str) -> SignedRequest:
    provider: Provider = request.app.state.provider
    settings = provider.settings
    form: list[tuple[str, str]] = []
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method == "POST" and content_type == FORM:  # RFC 5849 §3.4.1.3.1
        form = parse_form(await body_of(request))
    return SignedRequest(
        method=request.method,
        url=settings.url(path),  # RFC 5849 §3.4.1.2: keystead's own name, not Host
        query=parse_query(request.scope["query_string"]),
        form=form,
        authorization=request.headers.get("authorization"),
        secure=settings.issuer.startswith("https://"),
    )


def form_response(body: dict[str, str], status: int = 200, **headers: str) -> Response:
    return Response(
        urlencode(body), status_code=status, media_type=FORM, headers={**render.NO_STORE, **headers}
    )


def error_response(err: OAuthError, request: Request) -> Response:
    provider: Provider = request.app.state.provider
    cid = render.correlation_id()
    provider.events.emit(
        "request.refused",
        catalog_id=err.catalog_id,
        error=err.error,
        description=err.description,
        debug=err.debug,
        **render.request_context(request),
    )
    body = {
        "oauth_problem": err.error,
        "oauth_problem_advice": err.description,
        "error_uri": render.errors_base_url(provider.settings) + err.catalog_id,
    }
    headers = {"X-Correlation-Id": cid}
    if err.status == 401:  # RFC 5849 §3.2 with RFC 2617 §1.2: the challenge
        realm = provider.settings.issuer.replace('"', "")
        headers["WWW-Authenticate"] = f'OAuth realm="{realm}", oauth_problem="{err.error}"'
    return form_response(body, err.status, **headers)


async def _guarded(request: Request, work: Callable[[], Awaitable[Response]]) -> Response:
    provider: Provider = request.app.state.provider
    cid = render.correlation_id()
    try:
        return await work()
    except OAuthError as err:
        return error_response(err, request)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        return render.internal_error(exc, provider, kind="json", cid=cid)


async def request_token(request: Request) -> Response:
    """RFC 5849 §2.1: temporary credentials."""

    async def work() -> Response:
        req = await signed_request(request, REQUEST_TOKEN_PATH)
        return form_response(await flow.request_token(req, request.app.state.provider))

    return await _guarded(request, work)


async def access_token(request: Request) -> Response:
    """RFC 5849 §2.3: token credentials."""

    async def work() -> Response:
        req = await signed_request(request, ACCESS_TOKEN_PATH)
        return form_response(await flow.access_token(req, request.app.state.provider))

    return await _guarded(request, work)


async def userinfo(request: Request) -> Response:
    """The protected resource: the approving user's claims, for token credentials only."""

    async def work() -> Response:
        req = await signed_request(request, USERINFO_PATH)
        claims: dict[str, Any] = await flow.userinfo(req, request.app.state.provider)
        return render.json_response(claims, headers=render.NO_STORE)

    return await _guarded(request, work)
