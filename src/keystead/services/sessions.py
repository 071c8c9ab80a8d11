"""An operator's part in a user's sessions: list them, end one, end them all (a stolen
laptop, a shared computer). The CLI (``keystead user sessions`` / ``user logout``) and the
admin API (/users/{sub}/sessions) call these; each ended session emits ``session.ended`` with
the ``Actor``. The user's own list is the account page's (web/account/sessions.py).

Ending a session signs that browser out; the apps it signed in to keep their tokens (the
user's "Revoke access", or a password change, takes those).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keystead.accounts import sessions
from keystead.protocol import backchannel
from keystead.services.common import Actor, NotFound, audit
from keystead.store.base import Session

if TYPE_CHECKING:
    from keystead.provider import Provider


def session_view(session: Session) -> dict[str, Any]:
    """A session as an operator sees it (never its cookie or the cookie's hash)."""
    return {
        "sid": session.sid,
        "created_at": session.created_at,
        "last_active_at": session.last_active_at,
        "auth_time": session.auth_time,
        "expires_at": session.expires_at,
        "device": sessions.describe_device(session.user_agent),
        "user_agent": session.user_agent,
        "ip": session.ip,
        "amr": list(session.amr),
    }


async def _known(provider: Provider, sub: str) -> None:
    if await provider.store.users.get(sub) is None:
        raise NotFound("sub", f"No user {sub}.")


async def list_sessions(provider: Provider, sub: str) -> list[dict[str, Any]]:
    """The user's live sessions, newest first."""
    await _known(provider, sub)
    return [session_view(s) for s in await sessions.live_sessions(provider, sub)]


async def _ended(provider: Provider, actor: Actor, ended: list[Session]) -> None:
    for session in ended:
        audit(provider, actor, "session.ended", sub=session.sub, sid=session.sid)
    if ended:  # Back-Channel Logout 1.0: the clients of those sessions are told
        sids = [s.sid for s in ended]
        await backchannel.notify(provider, sub=ended[0].sub, sids=sids)


async def end_session(provider: Provider, sub: str, sid: str, actor: Actor) -> dict[str, Any]:
    """End one session of the user; NotFound for an unknown user or a sid not theirs."""
    await _known(provider, sub)
    session = await sessions.end_session(provider, sub, sid)
    if session is None:
        raise NotFound("sid", f"No session {sid} of user {sub}.")
    await _ended(provider, actor, [session])
    return session_view(session)


async def end_all(provider: Provider, sub: str, actor: Actor) -> int:
    """End every session of the user; how many there were."""
    await _known(provider, sub)
    ended = await sessions.end_sessions(provider, sub)
    await _ended(provider, actor, ended)
    return len(ended)
