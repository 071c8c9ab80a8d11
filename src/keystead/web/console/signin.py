"""The console's sign-in: ``/admin/signin`` starts an authorization code flow with PKCE
(RFC 7636) through keystead's own ``/authorize``; ``/admin/callback`` checks ``state``,
redeems the code at the token endpoint's function (in process: the same checks as over
HTTP), verifies the ID token (signature, ``iss``, ``aud``, ``nonce``, ``acr``) and opens the
console session of an admin. ``/admin/signout`` ends the console session.

The flow's secrets (state, nonce, code_verifier) travel in a sealed cookie scoped to /admin
with ``SameSite=Lax``: the callback is a top-level GET that may follow an upstream
provider's redirect; the session cookie itself is ``SameSite=Strict``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keystead.accounts.console_app import (
    CALLBACK_PATH,
    CONSOLE_CLIENT_ID,
    CONSOLE_PATH,
    ensure_anchor,
    sign_in_url,
)
from keystead.errors import OAuthError
from keystead.jose.jwt import JoseError, verify
from keystead.protocol.acr import ACR_MFA, ACR_VALUES
from keystead.protocol.pkce import s256
from keystead.protocol.request import OAuthRequest
from keystead.protocol.token import token_endpoint
from keystead.secrets_util import random_token, same_text
from keystead.web.console.common import (
    ConsoleSession,
    Visit,
    clear_cookie,
    cookie_name,
    not_admin,
    refused,
    set_cookie,
)
from keystead.web.console.pages import console_page

if TYPE_CHECKING:
    from keystead.provider import Provider

FLOW_AAD = b"keystead-console-flow"
FLOW_TTL = 600


def _flow_cookie(provider: Provider, name: str = "console_flow") -> str:
    return cookie_name(provider, name)


def keep_flow(
    response: Response, provider: Provider, flow: dict[str, str], name: str = "console_flow"
) -> None:
    """The flow's secrets in a sealed cookie (AAD: the cookie's name) for FLOW_TTL."""
    cookie = _flow_cookie(provider, name)
    sealed = provider.kek.encrypt(json.dumps(flow).encode(), FLOW_AAD + cookie.encode())
    set_cookie(response, provider, cookie, sealed, max_age=FLOW_TTL, samesite="lax")


async def start(request: Request) -> Response:
    """``GET /admin/signin``: to /authorize with a fresh state, nonce and code_verifier."""
    provider: Provider = request.app.state.provider
    await ensure_anchor(provider.store, provider.settings, provider.now())
    flow = {"state": random_token(16), "nonce": random_token(16), "verifier": random_token(32)}
    target = sign_in_url(
        provider.settings,
        state=flow["state"],
        nonce=flow["nonce"],
        code_challenge=s256(flow["verifier"]),
    )
    response = RedirectResponse(target, status_code=303)
    keep_flow(response, provider, flow)
    return response


def open_flow(
    provider: Provider, request: Request, name: str = "console_flow"
) -> dict[str, str] | None:
    cookie = _flow_cookie(provider, name)
    sealed = request.cookies.get(cookie)
    if not sealed:
        return None
    try:
        flow = json.loads(provider.kek.decrypt(sealed, FLOW_AAD + cookie.encode()))
    except (ValueError, TypeError):
        return None
    return flow if isinstance(flow, dict) else None


def _failed(provider: Provider, message: str, status: int = 400) -> Response:
    response = refused(provider, "Sign-in to the console failed", message, status=status)
    clear_cookie(response, provider, _flow_cookie(provider))
    return response


async def _redeem(provider: Provider, code: str, verifier: str) -> dict[str, Any]:
    req = OAuthRequest(
        method="POST",
        params={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": provider.settings.url(CALLBACK_PATH),
            "client_id": CONSOLE_CLIENT_ID,
            "code_verifier": verifier,
        },
    )
    return await token_endpoint(req, provider)


def _check_id_token(provider: Provider, claims: dict[str, Any], nonce: str) -> str | None:
    """What is wrong with the ID token's claims (OIDC Core §3.1.3.7), or None."""
    if claims.get("iss") != provider.settings.issuer:
        return "the ID token's issuer is not this server."
    aud = claims.get("aud")
    if aud != CONSOLE_CLIENT_ID and not (isinstance(aud, list) and CONSOLE_CLIENT_ID in aud):
        return "the ID token was not issued to the console."
    if not same_text(str(claims.get("nonce", "")), nonce):
        return "the ID token's nonce does not match this sign-in."
    if not isinstance(claims.get("sub"), str):
        return "the ID token names no user."
    return None


async def callback(request: Request) -> Response:
    """``GET /admin/callback``: the authorization response (RFC 6749 §4.1.2)."""
    provider: Provider = request.app.state.provider
    flow = open_flow(provider, request)
    query = request.query_params
    if flow is None:
        return _failed(
            provider, "This sign-in expired or was started in another browser; open /admin again."
        )
    # RFC 6749 §10.12: the state binds the response to this browser's request.
    if not same_text(query.get("state", ""), flow.get("state", "")):
        return _failed(provider, "The response does not belong to this sign-in (state).")
    if query.get("iss") not in (None, provider.settings.issuer):  # RFC 9207 §2.4
        return _failed(provider, "The response came from another issuer.")
    if "error" in query:
        words = query.get("error_description") or query["error"]
        return _failed(provider, f"keystead refused the sign-in: {words}", 403)
    try:
        tokens = await _redeem(provider, query.get("code", ""), flow["verifier"])
        _, claims = verify(str(tokens.get("id_token", "")), await provider.keyring())
    except (OAuthError, JoseError) as exc:
        return _failed(provider, f"The code could not be redeemed: {exc}")
    problem = _check_id_token(provider, claims, flow["nonce"])
    if problem is not None:
        return _failed(provider, f"The sign-in cannot be trusted: {problem}")
    acr = str(claims.get("acr", "1"))
    if provider.settings.admin_require_mfa and (
        acr not in ACR_VALUES or ACR_VALUES.index(acr) < ACR_VALUES.index(ACR_MFA)
    ):
        return _failed(
            provider,
            "The admin console needs a sign-in with a second factor "
            "(KEYSTEAD_ADMIN_REQUIRE_MFA): add an authenticator app or a passkey on your "
            "account page, then sign in again.",
            403,
        )
    sub = claims["sub"]
    user = await provider.store.users.get(sub)
    if user is None or not user.admin:
        provider.events.emit("console.refused", sub=sub)
        response = not_admin(provider)
        clear_cookie(response, provider, _flow_cookie(provider))
        return response
    sid = claims.get("sid")
    session = ConsoleSession.new(provider, sub, sid if isinstance(sid, str) else None, acr)
    provider.events.emit("console.signed_in", sub=sub, acr=acr)
    response = RedirectResponse(provider.settings.url(CONSOLE_PATH), status_code=303)
    set_cookie(
        response,
        provider,
        cookie_name(provider),
        session.seal(provider),
        max_age=provider.settings.admin_session_ttl,
    )
    clear_cookie(response, provider, _flow_cookie(provider))
    return response


@console_page
async def sign_out(v: Visit) -> Response:
    """``POST /admin/signout``: the console session ends (keystead's own session stays)."""
    await v.form()
    v.provider.events.emit("console.signed_out", sub=v.user.sub)
    response = refused(
        v.provider, "Signed out", "You are signed out of the admin console.", status=200
    )
    clear_cookie(response, v.provider, cookie_name(v.provider))
    return response
