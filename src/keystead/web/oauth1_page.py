"""``/oauth1/authorize``: the resource owner's authorization (RFC 5849 §2.2).

GET with ``oauth_token`` shows which consumer asks and what it gets; the user approves or
denies (POST, CSRF double submit as the account pages). Approval sends the browser to the
callback with ``oauth_token`` and ``oauth_verifier``; denial with ``oauth_problem=
permission_denied``; an ``oob`` consumer's verifier is shown on the page instead.

A browser without a session goes through keystead's own sign-in first (the account client's
``/authorize`` flow: throttling, second factors, passkeys) and comes back here with its
``oauth_token`` (the return travels in the sign-in's ``state``: accounts/account_app.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from keystead.oauth1 import flow
from keystead.protocol import scopes
from keystead.web import pages, render
from keystead.web.account.common import Visit, check_csrf, visit
from keystead.web.oauth1 import AUTHORIZE_PATH
from keystead.web.parse import read_form

if TYPE_CHECKING:
    from keystead.provider import Provider


def _page(v: Visit, template: str, context: dict[str, object], origin: str = "") -> Response:
    base = {
        "static_url": v.provider.settings.url("/static"),
        "csrf_token": v.csrf,
        "username": v.user.username,
        "account_url": v.url("/account"),
    }
    # Chromium applies form-action to the redirect after the POST: allow the callback's origin.
    action = ("'self'", origin) if origin else ("'self'",)
    return v.finish(pages.render(template, {**base, **context}, form_action=action))


async def _show(v: Visit, item: flow.Pending) -> Response:
    client = item.client
    callback = item.cred.callback
    origin = "" if callback == flow.OOB else pages.origin_of(callback)
    context: dict[str, object] = {
        "action": v.url(AUTHORIZE_PATH),
        "client_name": client.client_name or client.client_id,
        "oauth_token": item.token,
        "items": [scopes.describe(s) for s in flow.SCOPE],
        "callback_origin": origin,
    }
    return _page(v, "oauth1_authorize.html", context, origin)


async def _decide(v: Visit, request: Request) -> Response:
    form = dict(await read_form(request))
    check_csrf(v, form)
    item = await flow.pending(v.provider, form.get("oauth_token", ""))
    if form.get("decision") == "approve":
        target, verifier = await flow.approve(v.provider, item, v.user.sub)
        if target is None:  # RFC 5849 §2.1 oob: the user carries the verifier over
            message = f"Enter this code in the application: {verifier}"
            return _page(v, "message.html", {"title": "Access granted", "message": message})
    else:
        target = await flow.deny(v.provider, item, v.user.sub)
        if target is None:
            message = "You denied the application's request."
            return _page(v, "message.html", {"title": "Request denied", "message": message})
    return v.finish(render.redirect(target, 303))


async def authorize_page(request: Request) -> Response:
    async def run() -> Response:
        provider: Provider = request.app.state.provider
        if request.method == "GET":
            token = request.query_params.get("oauth_token", "")
            item = await flow.pending(provider, token)  # a bad link fails before any sign-in
            # Not signed in: the account sign-in first, then back here with this token.
            v = await visit(request, then=f"oauth1:{token}")
            return v if isinstance(v, Response) else await _show(v, item)
        v = await visit(request)
        if isinstance(v, Response):
            return v
        return await _decide(v, request)

    return await render.guarded(request, run, kind="page", after_post=request.method == "POST")
