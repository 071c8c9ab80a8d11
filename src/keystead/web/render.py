"""The one place that decides how a response or an error travels.

JSON at the token-style endpoints; a redirect (or form_post page) in the response mode for
authorization responses and for authorization errors once the redirect_uri is trusted; an
HTML error page before that. Unexpected exceptions become a logged 500 with a correlation id
and never a stack trace.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from starlette.responses import RedirectResponse, Response

from keystead.config import Settings
from keystead.errors import OAuthError
from keystead.protocol import response
from keystead.protocol.response import AuthorizationResponse
from keystead.web import pages

log = logging.getLogger("keystead.web")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def correlation_id() -> str:
    return secrets.token_hex(8)


def json_response(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


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
    return RedirectResponse(
        response.location(resp), status_code=303 if after_post else 302, headers=NO_STORE
    )


_USER_MESSAGES = {
    "interaction-invalid": (
        "This sign-in page is no longer valid.",
        "Go back to the application and start signing in again.",
    ),
    "csrf-invalid": (
        "Your browser sent a form we could not verify.",
        "Reload the page and try again. Make sure cookies are allowed for this site.",
    ),
    "server-error": (
        "Something went wrong on our side.",
        "Please try again in a moment.",
    ),
}
_DEFAULT_USER_MESSAGE = (
    "The application sent a sign-in request that cannot be processed.",
    "Go back to the application and try again. If this keeps happening, contact the "
    "application's owner and mention the correlation id below.",
)


def error_page(err: OAuthError, settings: Settings, cid: str) -> Response:
    message, advice = _USER_MESSAGES.get(err.catalog_id, _DEFAULT_USER_MESSAGE)
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


def error_json(err: OAuthError, cid: str) -> Response:
    headers = {**NO_STORE, **err.headers, "X-Correlation-Id": cid}
    return json_response(err.to_dict(), status=err.status, headers=headers)


def render_error(
    err: OAuthError, settings: Settings, *, kind: str, cid: str, after_post: bool = False
) -> Response:
    log.info(
        "refused %s: %s (%s) cid=%s debug=%s",
        kind,
        err.error,
        err.catalog_id,
        cid,
        err.debug,
    )
    if err.redirect is not None:
        return authorization_response(
            response.error(err, settings.issuer), settings, after_post=after_post
        )
    if kind == "page":
        return error_page(err, settings, cid)
    return error_json(err, cid)


def internal_error(exc: BaseException, settings: Settings, *, kind: str, cid: str) -> Response:
    log.error("internal error cid=%s", cid, exc_info=exc)
    err = OAuthError(
        "server-error",
        f"An internal error occurred; quote correlation id {cid} to the operator.",
    )
    if kind == "page":
        return error_page(err, settings, cid)
    return error_json(err, cid)
