"""A tiny relying party for the development quickstart (`keystead serve --demo` only).

It is a real client of keystead over HTTP: /demo starts an authorization code + PKCE flow,
/demo/callback redeems the code at the token endpoint with httpx and shows what came back.
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keystead.config import Settings
from keystead.protocol.pkce import s256
from keystead.services.demo import DemoData
from keystead.web import pages


def _demo(request: Request) -> tuple[Settings, DemoData, dict[str, str]]:
    """The settings, the demo client and the pending flows (state -> code_verifier,
    process-local) that ``build_app(..., demo=...)`` put in the app's state."""
    state = request.app.state
    return state.provider.settings, state.demo, state.demo_pending


async def start(request: Request) -> Response:
    settings, demo, pending = _demo(request)
    state, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(48)
    if len(pending) > 1000:
        pending.clear()
    pending[state] = verifier
    query = urlencode(
        {
            "response_type": "code",
            "client_id": demo.client_id,
            "redirect_uri": demo.redirect_uri,
            "scope": "openid profile email",
            "state": state,
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
        }
    )
    return RedirectResponse(settings.url("/authorize") + "?" + query, status_code=302)


async def callback(request: Request) -> Response:
    settings, demo, pending = _demo(request)
    params = request.query_params
    verifier = pending.pop(params.get("state", ""), None)
    result: dict[str, object] = {"authorization_response": dict(params)}
    if params.get("code") and verifier:
        import httpx  # only the demo calls out: not loaded by a serving process otherwise

        async with httpx.AsyncClient(timeout=10) as http:
            token = await http.post(
                settings.url("/token"),
                data={
                    "grant_type": "authorization_code",
                    "code": params["code"],
                    "redirect_uri": demo.redirect_uri,
                    "code_verifier": verifier,
                },
                auth=(demo.client_id, demo.client_secret),
            )
            body = token.json()
            result["token_response"] = {
                k: v for k, v in body.items() if k not in ("access_token", "id_token")
            }
            if "access_token" in body:
                info = await http.get(
                    settings.url("/userinfo"),
                    headers={"Authorization": f"Bearer {body['access_token']}"},
                )
                result["userinfo"] = info.json()
    elif params.get("code"):
        result["note"] = "unknown state: start again at /demo"
    return pages.render(
        "demo.html",
        {
            "static_url": settings.url("/static"),
            "start": settings.url("/demo"),
            "result": json.dumps(result, indent=2, sort_keys=True),
        },
    )
