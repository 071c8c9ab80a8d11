"""The account page's "Where you're signed in" and "Apps with access": the user's sessions
(device, address, when) with a sign-out for each other one and for all others, and the
clients holding a grant or a consent of theirs, each with "Revoke access" (its grants revoked:
refresh and access tokens stop at once; its consent forgotten: the next sign-in asks again).

Each change needs the CSRF token and a fresh sign-in; a sid or client_id not the user's
changes nothing (another user's session is as unknown as a made-up one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from keystead.accounts import sessions
from keystead.accounts.account_app import ACCOUNT_CLIENT_ID
from keystead.protocol import scopes
from keystead.web.account.common import Visit
from keystead.web.account.overview import when
from keystead.web.account.security import _post

if TYPE_CHECKING:
    from keystead.provider import Provider


async def session_rows(v: Visit) -> list[dict[str, Any]]:
    """The user's live sessions, newest first, this one marked."""
    return [
        {
            "sid": s.sid,
            "device": sessions.describe_device(s.user_agent),
            "user_agent": s.user_agent or "",
            "ip": s.ip or "unknown",
            "signed_in": when(s.created_at),
            "last_seen": when(s.last_active_at),
            "current": s.session_hash == v.session.session_hash,
        }
        for s in await sessions.live_sessions(v.provider, v.user.sub)
    ]


@dataclass(slots=True)
class _App:
    client_id: str
    scope: set[str]
    granted_at: int
    grant_ids: list[str]


async def _apps(provider: Provider, sub: str) -> dict[str, _App]:
    """By client: the user's grants still usable and remembered consents."""
    now = provider.now()
    apps: dict[str, _App] = {}
    for grant in await provider.store.grants.list_for(sub):
        if grant.expires_at is not None and grant.expires_at <= now:
            continue
        app = apps.setdefault(grant.client_id, _App(grant.client_id, set(), 0, []))
        app.scope.update(scopes.parse(grant.scope))
        app.granted_at = max(app.granted_at, grant.created_at)
        app.grant_ids.append(grant.grant_id)
    for consent in await provider.store.consents.list_for(sub):
        app = apps.setdefault(consent.client_id, _App(consent.client_id, set(), 0, []))
        app.scope.update(scopes.parse(consent.scope))
        app.granted_at = max(app.granted_at, consent.updated_at)
    apps.pop(ACCOUNT_CLIENT_ID, None)  # this page itself
    return apps


async def app_rows(v: Visit) -> list[dict[str, Any]]:
    """The apps with access, most recently granted first."""
    rows = []
    apps = sorted((await _apps(v.provider, v.user.sub)).values(), key=lambda a: -a.granted_at)
    for app in apps:
        client = await v.provider.get_client(app.client_id)
        rows.append(
            {
                "client_id": app.client_id,
                "name": client.client_name if client and client.client_name else app.client_id,
                "scopes": sorted(app.scope),
                "granted": when(app.granted_at),
                "active": bool(app.grant_ids),
            }
        )
    return rows


# --- the changes ---


async def _end(v: Visit, form: dict[str, str]) -> Response:
    sid = form.get("sid", "")
    if sid == v.session.sid:
        return v.back()  # this browser signs out with the page's "Sign out"
    ended = await sessions.end_session(v.provider, v.user.sub, sid)
    if ended is None:
        return v.back()  # gone already, or never the user's
    v.provider.events.emit("session.ended", sub=v.user.sub, sid=sid, by="user")
    # back-channel logout: notify here (sub, sids=[sid])
    return v.back("session_ended")


async def end_session(request: Request) -> Response:
    """``POST /account/sessions/end``: sign out one other browser (form field ``sid``)."""
    return await _post(request, _end)


async def _end_others(v: Visit, form: dict[str, str]) -> Response:
    ended = await sessions.end_sessions(v.provider, v.user.sub, keep=v.session.session_hash)
    for session in ended:
        v.provider.events.emit("session.ended", sub=v.user.sub, sid=session.sid, by="user")
    # back-channel logout: notify here (sub, sids=[s.sid for s in ended])
    return v.back("others_ended")


async def end_others(request: Request) -> Response:
    """``POST /account/sessions/end-others``: sign out everywhere but this browser."""
    return await _post(request, _end_others)


async def _revoke(v: Visit, form: dict[str, str]) -> Response:
    provider, sub = v.provider, v.user.sub
    client_id = form.get("client_id", "")
    app = (await _apps(provider, sub)).get(client_id)
    if app is None:
        return v.back()  # no access to revoke
    now = provider.now()
    for grant_id in app.grant_ids:  # RFC 7009 §2.1: its refresh and access tokens with it
        await provider.store.grants.revoke_grant(grant_id, now)
    await provider.store.consents.delete(sub, client_id)  # the next sign-in asks again
    provider.events.emit(
        "app.access_revoked", sub=sub, client_id=client_id, grants=len(app.grant_ids)
    )
    # back-channel logout: notify here (sub, client_id: its sessions with this app end)
    return v.back("revoked")


async def revoke_app(request: Request) -> Response:
    """``POST /account/apps/revoke``: take back everything given to one app (``client_id``)."""
    return await _post(request, _revoke)
