"""RP-Initiated Logout: /logout (GET, POST) and the confirmation form."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from keystead.accounts.sessions import load_session
from keystead.protocol import backchannel
from keystead.protocol.logout import LogoutRequest, needs_confirmation, validate_logout
from keystead.protocol.request import from_pairs
from keystead.secrets_util import random_token, sha256_hex
from keystead.web import frontchannel, pages, render
from keystead.web.authorize import (
    _guard,
    _provider,
    _set_cookie,
    _signer,
    check_csrf,
    csrf_cookie_name,
    session_cookie_name,
)
from keystead.web.interaction import Interaction
from keystead.web.parse import oauth_request, read_form


async def _end_session(request: Request, lreq: LogoutRequest) -> Response:
    provider = _provider(request)
    cookie_name = session_cookie_name(provider)
    cookie = request.cookies.get(cookie_name)
    framed: list[str] = []
    if cookie:
        session = await provider.store.sessions.get(sha256_hex(cookie))
        if session is not None:  # Front-Channel Logout 1.0: the clients' pages, framed
            framed = await frontchannel.frames(provider, session)
        if session is not None:  # queued before the session goes: a crash loses no token
            await backchannel.notify(provider, sub=session.sub, sids=[session.sid])
        await provider.store.sessions.delete(sha256_hex(cookie))
        if session is not None:
            provider.events.emit(
                "session.ended",
                sub=session.sub,
                sid=session.sid,
                client_id=lreq.client.client_id if lreq.client else None,
            )
    location = lreq.location()
    response: Response
    if framed:
        response = frontchannel.frames_page(provider, framed, location)
    elif location is not None:
        response = render.redirect(location, 303)
    else:
        response = pages.render(
            "message.html",
            {
                "title": "You are signed out",
                "message": "You have been signed out of this identity provider.",
                "static_url": provider.settings.url("/static"),
            },
        )
    response.delete_cookie(
        cookie_name,
        path="/",
        secure=provider.settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return response


def _confirm_page(request: Request, lreq: LogoutRequest, sid: str) -> Response:
    provider = _provider(request)
    csrf = request.cookies.get(csrf_cookie_name(provider)) or random_token(24)
    token = _signer(request).dump(
        Interaction(lreq.pairs, provider.now(), csrf, sid=sid, purpose="logout")
    )
    action = ["'self'"]
    if lreq.post_logout_redirect_uri:
        action.append(pages.origin_of(lreq.post_logout_redirect_uri))
    response = pages.render(
        "logout.html",
        {
            "client_name": lreq.client.client_name if lreq.client else None,
            "action": provider.settings.url("/logout/confirm"),
            "interaction": token,
            "csrf_token": csrf,
            "static_url": provider.settings.url("/static"),
        },
        form_action=tuple(action),
    )
    if not request.cookies.get(csrf_cookie_name(provider)):
        _set_cookie(response, provider, csrf_cookie_name(provider), csrf)
    return response


async def logout(request: Request) -> Response:
    async def run() -> Response:
        provider = _provider(request)
        req = await oauth_request(request, body=request.method == "POST")
        lreq = await validate_logout(req, provider)
        session = await load_session(provider, request.cookies.get(session_cookie_name(provider)))
        if needs_confirmation(lreq, session, provider):
            assert session is not None
            return _confirm_page(request, lreq, session.sid)
        return await _end_session(request, lreq)

    return await _guard(request, run, after_post=request.method == "POST")


async def confirm(request: Request) -> Response:
    async def run() -> Response:
        provider = _provider(request)
        form = dict(await read_form(request))
        interaction = _signer(request).load(
            form.get("interaction", ""), provider.now(), purpose="logout"
        )
        check_csrf(request.cookies.get(csrf_cookie_name(provider)) or "", form, interaction)
        lreq = await validate_logout(from_pairs("GET", interaction.pairs), provider)
        if form.get("decision") != "logout":
            return pages.render(
                "message.html",
                {
                    "title": "You are still signed in",
                    "message": "You chose to stay signed in. You can close this page.",
                    "static_url": provider.settings.url("/static"),
                },
            )
        return await _end_session(request, lreq)

    return await _guard(request, run, after_post=True)
