""" "Try it": the console runs an authorization code flow (PKCE) against a client, as the
signed-in admin, and shows the token response with each JWT decoded and checked (what
``keystead inspect`` prints).

The client must list ``ISSUER/admin/try`` among its redirect URIs (the code must come back
to the console, never to the application). The code is redeemed by the grant's own function,
in process, without the client's authentication — keystead keeps only a hash of a client
secret, and the admin who asked may already change the client at will; each try is an audit
event. ``offline_access`` is not requested: a try leaves no refresh token behind.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.responses import RedirectResponse, Response

from keystead.errors import OAuthError
from keystead.protocol.grants import authorization_code
from keystead.protocol.pkce import s256
from keystead.protocol.request import OAuthRequest
from keystead.secrets_util import random_token, same_text
from keystead.services import clients as service
from keystead.services.common import audit
from keystead.services.inspect import inspect_token
from keystead.store.base import Client
from keystead.web.console.common import Visit, clear_cookie, cookie_name
from keystead.web.console.pages import console_page, when
from keystead.web.console.signin import keep_flow, open_flow

TRY_PATH = "/admin/try"
FLOW = "console_try"


def try_uri(v: Visit) -> str:
    return v.provider.settings.url(TRY_PATH)


def can_try(v: Visit, client: Client) -> bool:
    return "authorization_code" in client.grant_types and try_uri(v) in client.redirect_uris


@console_page
async def start(v: Visit) -> Response:
    """``POST /admin/clients/{client_id}/try``: to /authorize for this client."""
    await v.form()
    client = await service.get(v.provider, v.request.path_params["client_id"])
    if not can_try(v, client):  # the page says what to add
        return v.redirect(f"/admin/clients/{client.client_id}")
    flow = {
        "client_id": client.client_id,
        "state": random_token(16),
        "nonce": random_token(16),
        "verifier": random_token(32),
    }
    scope = " ".join(s for s in client.scope.split() if s != "offline_access") or "openid"
    params = {
        "client_id": client.client_id,
        "response_type": "code",
        "redirect_uri": try_uri(v),
        "scope": scope,
        "state": flow["state"],
        "nonce": flow["nonce"],
        "code_challenge": s256(flow["verifier"]),
        "code_challenge_method": "S256",
    }
    response = RedirectResponse(
        v.provider.settings.url("/authorize") + "?" + urlencode(params), status_code=303
    )
    keep_flow(response, v.provider, flow, FLOW)
    return response


@console_page
async def finish(v: Visit) -> Response:
    """``GET /admin/try``: the authorization response; redeem, decode, show."""
    flow = open_flow(v.provider, v.request, FLOW)
    query = v.request.query_params
    context: dict[str, Any] = {"nav": "clients", "when": when, "error": "", "tokens": []}
    if flow is None or not same_text(query.get("state", ""), flow.get("state", "")):
        context["error"] = "This response does not belong to a try started in this browser."
        return _page(v, context, 400)
    client = await service.get(v.provider, flow["client_id"])
    context["client"] = client
    if "error" in query:
        context["error"] = f"{query['error']}: {query.get('error_description', '')}"
        return _page(v, context, 200)
    req = OAuthRequest(
        method="POST",
        params={
            "grant_type": "authorization_code",
            "code": query.get("code", ""),
            "redirect_uri": try_uri(v),
            "code_verifier": flow["verifier"],
        },
    )
    try:
        result = await authorization_code.handle(req, client, v.provider)
    except OAuthError as exc:
        context["error"] = f"{exc.error}: {exc.description}"
        return _page(v, context, 200)
    audit(v.provider, v.actor, "console.tried", client_id=client.client_id)
    keyring = await v.provider.keyring()
    now = v.provider.now()
    for name in ("id_token", "access_token"):
        token = result.get(name)
        if not isinstance(token, str):
            continue
        shown: dict[str, Any] = {"name": name, "value": token, "jwt": token.count(".") == 2}
        if shown["jwt"]:
            audience = client.client_id if name == "id_token" else None
            shown["inspection"] = inspect_token(
                token, keyring, issuer=v.provider.settings.issuer, now=now, audience=audience
            )
        context["tokens"].append(shown)
    context["response"] = {
        k: val for k, val in result.items() if k not in ("id_token", "access_token")
    }
    return _page(v, context, 200)


def _page(v: Visit, context: dict[str, Any], status: int) -> Response:
    response = v.render("console/try.html", context, status=status)
    clear_cookie(response, v.provider, cookie_name(v.provider, FLOW))
    return response
