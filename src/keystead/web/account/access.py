"""The account page's changes to "Where you're signed in" and "Apps with access": sign out
one other browser, or every other one; revoke an app's access (its grants revoked: refresh and
access tokens stop at once; its consent forgotten: the next sign-in asks again).

Each needs the CSRF token and a fresh sign-in; a sid or client_id not the user's changes
nothing (another user's session is as unknown as a made-up one).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from keystead.accounts import sessions
from keystead.protocol import backchannel
from keystead.web.account.common import Visit
from keystead.web.account.security import _post
from keystead.web.account.sessions import apps_of


async def _end(v: Visit, form: dict[str, str]) -> Response:
    sid = form.get("sid", "")
    if sid == v.session.sid:
        return v.back()  # this browser signs out with the page's "Sign out"
    ended = await sessions.end_session(v.provider, v.user.sub, sid)
    if ended is None:
        return v.back()  # gone already, or never the user's
    v.provider.events.emit("session.ended", sub=v.user.sub, sid=sid, by="user")
    await backchannel.notify(v.provider, sub=v.user.sub, sids=[sid])
    return v.back("session_ended")


async def end_session(request: Request) -> Response:
    """``POST /account/sessions/end``: sign out one other browser (form field ``sid``)."""
    return await _post(request, _end)


async def _end_others(v: Visit, form: dict[str, str]) -> Response:
    ended = await sessions.end_sessions(v.provider, v.user.sub, keep=v.session.session_hash)
    for session in ended:
        v.provider.events.emit("session.ended", sub=v.user.sub, sid=session.sid, by="user")
    if ended:
        sids = [s.sid for s in ended]
        await backchannel.notify(v.provider, sub=v.user.sub, sids=sids)
    return v.back("others_ended")


async def end_others(request: Request) -> Response:
    """``POST /account/sessions/end-others``: sign out everywhere but this browser."""
    return await _post(request, _end_others)


async def _revoke(v: Visit, form: dict[str, str]) -> Response:
    provider, sub = v.provider, v.user.sub
    client_id = form.get("client_id", "")
    app = (await apps_of(provider, sub)).get(client_id)
    if app is None:
        return v.back()  # no access to revoke
    now = provider.now()
    for grant_id in app.grant_ids:  # RFC 7009 §2.1: its refresh and access tokens with it
        await provider.store.grants.revoke_grant(grant_id, now)
    await provider.store.consents.delete(sub, client_id)  # the next sign-in asks again
    provider.events.emit(
        "app.access_revoked", sub=sub, client_id=client_id, grants=len(app.grant_ids)
    )
    await backchannel.notify(provider, sub=sub, sids=None, client_ids=[client_id])
    return v.back("revoked")


async def revoke_app(request: Request) -> Response:
    """``POST /account/apps/revoke``: take back everything given to one app (``client_id``)."""
    return await _post(request, _revoke)
